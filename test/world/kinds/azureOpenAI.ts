import { OTHER_TENANT_ID, RG_APP, TENANT_ID, USER_IDENTITY } from '../scenario';
import type { World } from '../index';
import type { OpenAiAccount } from '../openai';
import { ago, DAY, json, type KindWorld } from './types';

const accountId = (name: string) => `${RG_APP}/providers/Microsoft.CognitiveServices/accounts/${name}`;
const NAMES = {
  ok: 'coai-ok', tenant: 'coai-tenant', norole: 'coai-norole', firewall: 'coai-firewall', young: 'coai-young', cond: 'coai-cond',
  vnet: 'coai-vnet', language: 'coai-language', throttled: 'coai-throttled', down: 'coai-down',
} as const;

function account(world: World, name: string, extra: Partial<OpenAiAccount> = {}): void {
  (world.state.openAiAccounts ??= []).push({ name, resourceId: accountId(name), tenantId: TENANT_ID, kind: 'OpenAI', deployments: ['chat'], ...extra });
  world.state.arm.resources.push(accountId(name));
}

/** Azure OpenAI (test/world/openai.ts): one resource per cause, each answering as the real service does. */
export const azureOpenAI: KindWorld = {
  kind: 'azureOpenAI',
  simulator: 'test/world/openai.ts',
  stage(world) {
    const oid = USER_IDENTITY.principalId;
    account(world, NAMES.ok);
    // A resource in another tenant: the service answers its one generic 401, naming no check.
    account(world, NAMES.tenant, { tenantId: OTHER_TENANT_ID });
    account(world, NAMES.norole);
    account(world, NAMES.firewall, { network: 'firewall' });
    account(world, NAMES.young);
    account(world, NAMES.cond);
    account(world, NAMES.vnet, { network: 'vnetEndpoint' });
    // An AI services account of another kind: no /openai API behind its subdomain.
    account(world, NAMES.language, { kind: 'TextAnalytics' });
    // What Azure OpenAI sends with a 429 (the message as widely quoted; retry-after and the x-ratelimit headers as the
    // openai client reads them).
    account(world, NAMES.throttled, {
      fault: {
        status: 429,
        headers: { 'retry-after': '7', 'retry-after-ms': '7000', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '7s', 'content-type': 'application/json' },
        body: JSON.stringify({ error: { code: '429', message: 'Requests to the Models_List Operation under Azure OpenAI API version 2024-10-21 have exceeded call rate limit of your current OpenAI S0 pricing tier. Please retry after 7 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.' } }),
      },
    });
    account(world, NAMES.down, { fault: { status: 503, ...json({ error: { code: 'ServiceUnavailable', message: 'The service is temporarily unable to process your request. Please try again later.' } }) } });
    for (const name of [NAMES.ok, NAMES.tenant, NAMES.firewall, NAMES.vnet, NAMES.language, NAMES.throttled, NAMES.down]) {
      world.grant(oid, 'cognitiveServicesOpenAIUser', accountId(name), { createdOn: ago(DAY) });
    }
    // The trap: a control-plane role on the account (it manages keys and deployments), no data action.
    world.grant(oid, 'cognitiveServicesContributor', accountId(NAMES.norole), { createdOn: ago(DAY) });
    world.grant(oid, 'cognitiveServicesOpenAIUser', accountId(NAMES.young), { createdOn: ago(60), propagationDelaySeconds: 3600 });
    world.grant(oid, 'cognitiveServicesOpenAIUser', accountId(NAMES.cond), { createdOn: ago(2 * DAY), condition: "@Request[Microsoft.CognitiveServices/accounts/OpenAI/deployments:name] StringEquals 'other'" });
  },
  cases(world) {
    const t = (name: string, accountName: string, extra: Record<string, unknown> = {}) =>
      ({ name, kind: 'azureOpenAI' as const, endpoint: world.openAiUrl(accountName), resourceId: accountId(accountName), ...extra });
    return {
      authorized: t('oai-c-authorized', NAMES.ok),
      wrong_audience: t('oai-c-wrong-audience', NAMES.ok, { audience: 'https://vault.azure.net' }),
      token_rejected: t('oai-c-token-rejected', NAMES.tenant),
      role_missing: t('oai-c-role-missing', NAMES.norole, { deployment: 'chat' }),
      network_blocked: t('oai-c-network', NAMES.firewall),
      propagation_pending: t('oai-c-propagation', NAMES.young),
      grant_ineffective: t('oai-c-grant-ineffective', NAMES.cond),
      forbidden_other: t('oai-c-forbidden-other', NAMES.vnet),
      resource_not_found: t('oai-c-not-found', NAMES.language, { endpoint: world.openAiUrl(NAMES.language, 'cognitiveservices.azure.com') }),
      throttled: t('oai-c-throttled', NAMES.throttled),
      target_unreachable: { name: 'oai-c-unreachable', kind: 'azureOpenAI', endpoint: world.openAiUrl('nxdomain-coai') },
      target_error: t('oai-c-error', NAMES.down),
    };
  },
  adHoc: (url) => ({ name: 'adhoc', kind: 'azureOpenAI', endpoint: url }),
};
