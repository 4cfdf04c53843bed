import { z } from 'zod';
import { privateLinkFix, resourceIdOr } from '../../advice/commands';
import { ROLES } from '../../catalog/roles';
import { comment, idOr, oneLine } from '../../advice/shell';
import { baseFields, httpsUrl } from '../fields';
import type { TargetKind } from '../kind';

/**
 * An Azure OpenAI resource: the probe lists its models (GET /openai/models, Models - List) with the official `openai`
 * client in its Azure mode — a read the service serves with Microsoft Entra tokens, that needs the data action
 * Microsoft.CognitiveServices/accounts/OpenAI/models/read and consumes no tokens. It never calls a deployment: every
 * call on a deployment (completions, embeddings, …) is billed inference.
 */

/** The GA data-plane version that documents Models - List (https://learn.microsoft.com/rest/api/azureopenai/models/list). */
export const DEFAULT_API_VERSION = '2024-10-21';

// Regional endpoints (https://<region>.api.cognitive.microsoft.com, .azure.cn, .microsoft.us) take keys only: Microsoft
// Entra authentication needs the resource's custom subdomain (MicrosoftDocs/azure-ai-docs articles/ai-services/authentication.md;
// observed answer to a token there: {"error":{"code":"BadRequest","message":"Please provide an authentication key."}},
// Azure/azure-sdk-for-net#12813). The schema refuses them, naming the field, instead of sending a token that cannot work.
const REGIONAL = /\.api\.cognitive\.(microsoft\.com|azure\.cn|microsoft\.us)$/i;
const SUBDOMAIN = /^[a-z0-9][a-z0-9-]{0,62}$/i;

const endpointField = httpsUrl('https://<custom-subdomain>.openai.azure.com')
  .refine((v) => !REGIONAL.test(hostOf(v)), {
    message:
      'a regional endpoint (<region>.api.cognitive.microsoft.com) accepts only keys: Microsoft Entra authentication needs the resource\'s custom subdomain endpoint, like https://<custom-subdomain>.openai.azure.com',
  })
  .refine((v) => bareOrigin(v), {
    message: 'expected the resource endpoint without a path or query, like https://<custom-subdomain>.openai.azure.com (the client adds /openai itself)',
  });

export const AzureOpenAITargetSchema = z.object({
  ...baseFields,
  kind: z.literal('azureOpenAI'),
  endpoint: endpointField,
  /** The deployment the workload calls: named in fixes; never called (every call on a deployment is billed). */
  deployment: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected a deployment name (letters, digits, ".", "_" or "-", max 64)')
    .optional(),
  apiVersion: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/, `expected a data-plane api-version like ${DEFAULT_API_VERSION} (or YYYY-MM-DD-preview)`)
    .optional(),
});
export type AzureOpenAITarget = z.infer<typeof AzureOpenAITargetSchema>;

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}
/** Nothing after the host but an optional "/": the client appends /openai/… to it. (Not a URL at all: httpsUrl says so.) */
function bareOrigin(url: string): boolean {
  try {
    const u = new URL(url);
    return u.pathname === '/' && !u.search && !u.hash;
  } catch {
    return true;
  }
}

/** The custom subdomain: the first label of the endpoint's host. */
export const subdomain = (endpoint: string): string => hostOf(endpoint).split('.')[0] ?? '';
const subdomainArg = (endpoint: string): string => idOr(subdomain(endpoint), (v) => SUBDOMAIN.test(v), 'custom-subdomain');
/** The account name, from the resource id when configured (the subdomain may differ from it). */
const accountArg = (t: AzureOpenAITarget): string => {
  const fromId = t.resourceId?.match(/\/providers\/Microsoft\.CognitiveServices\/accounts\/([^/]+)$/i)?.[1];
  return idOr(fromId, (v) => /^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$/.test(v), 'account-name');
};
// Inside a --query string: only a validated subdomain goes in, else a placeholder.
const lookupId = (t: AzureOpenAITarget) => `az cognitiveservices account list --query "[?properties.customSubDomainName=='${subdomainArg(t.endpoint)}'].id" -o tsv`;
const groupArg = (t: AzureOpenAITarget): string =>
  idOr(t.resourceId?.match(/\/resourceGroups\/([^/]+)\//i)?.[1], (v) => /^[-\w._()]{1,90}$/.test(v), 'resource-group');

export const azureOpenAI: TargetKind<AzureOpenAITarget, typeof AzureOpenAITargetSchema> = {
  kind: 'azureOpenAI',
  schema: AzureOpenAITargetSchema,
  nouns: { service: 'Azure OpenAI', short: 'Azure OpenAI', target: 'Azure OpenAI resource', hosts: 'Azure OpenAI', resource: 'Azure OpenAI resource', sibling: 'resource' },
  componentType: 'component',
  // Scope https://cognitiveservices.azure.com/.default (Azure-Samples/azure-openai-assistant-javascript; its 401 names it:
  // "audience is incorrect (https://cognitiveservices.azure.com)", Azure-Samples/azure-search-openai-demo#458). US Gov:
  // https://cognitiveservices.azure.us (Azure/azure-sdk-for-net AzureOpenAIAudience). China: by the same pattern —
  // unconfirmed (shared/reference/services-and-hosts.md §6.1).
  audiences: {
    AzurePublicCloud: ['https://cognitiveservices.azure.com', 'https://cognitiveservices.azure.com/'],
    AzureChinaCloud: ['https://cognitiveservices.azure.cn', 'https://cognitiveservices.azure.cn/'],
    AzureUSGovernment: ['https://cognitiveservices.azure.us', 'https://cognitiveservices.azure.us/'],
  },
  // A resource's custom subdomain lives under openai.azure.com (kind OpenAI) or cognitiveservices.azure.com (AI services
  // accounts serve the same /openai API): Private Endpoint DNS zone values (MicrosoftDocs/azure-docs
  // articles/private-link/private-endpoint-dns.md). That table lists cognitiveservices.azure.us for US Gov and nothing
  // for China: openai.azure.us, openai.azure.cn and cognitiveservices.azure.cn follow the pattern — unconfirmed.
  hosts: {
    suffixes: { AzurePublicCloud: 'openai.azure.com', AzureChinaCloud: 'openai.azure.cn', AzureUSGovernment: 'openai.azure.us' },
    shape: 'one-label-under',
    alsoSuffixes: {
      AzurePublicCloud: ['cognitiveservices.azure.com'],
      AzureChinaCloud: ['cognitiveservices.azure.cn'],
      AzureUSGovernment: ['cognitiveservices.azure.us'],
    },
  },
  urlField: 'endpoint',
  endpoint: (t) => t.endpoint.replace(/\/+$/, ''),
  // GET /openai/models: "Gets information about models" (Azure resource provider operations, Microsoft.CognitiveServices);
  // Cognitive Services OpenAI User grants it through Microsoft.CognitiveServices/accounts/OpenAI/*/read.
  operation: {
    description: 'list the models',
    plane: 'data',
    permission: 'Microsoft.CognitiveServices/accounts/OpenAI/models/read',
    leastRole: ROLES.cognitiveServicesOpenAIUser,
  },
  // Granted on the account; the models list touches nothing below it.
  scopes: { grant: () => '', touched: () => '' },
  object: () => 'Azure OpenAI API',
  resource: {
    lookup: lookupId,
    text: (t) => `the Azure OpenAI resource ${subdomain(t.endpoint)}`,
    listNames: 'az cognitiveservices account list --query "[?kind==\'OpenAI\' || kind==\'AIServices\'].properties.customSubDomainName" -o tsv',
  },
  // A 403's `error.code`, then its `policy-id` header (read as the inner code by the probe: the body's code is just "403").
  forbidden: {
    // observed: Azure-Samples/azure-sql-db-chatbot#3 — 403 {"error":{"code":"403","message":"Access denied due to Virtual
    // Network/Firewall rules."}} with header policy-id: ThrowExceptionDueToTrafficDenied (also Azure-Samples/azure-search-openai-demo#1494);
    // https://learn.microsoft.com/azure/ai-services/cognitive-services-virtual-networks — the same refusal whether a rule
    // leaves this caller out or public network access is disabled.
    ThrowExceptionDueToTrafficDenied: {
      cause: 'network_blocked',
      meaning: 'the resource\'s network settings refuse this caller (a firewall / virtual-network rule, or public network access disabled)',
      network: 'either',
    },
  },
  // A 401's `error.code` that is not authentication.
  unauthorized: {
    // observed: 401 {"error":{"code":"PermissionDenied","message":"The principal `<oid>` lacks the required data action
    // `Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action` to perform `POST
    // /openai/deployments/{deployment-id}/chat/completions` operation."}} (shared/reference/services-and-hosts.md §6.4;
    // older wording "Principal does not have access to API/Operation.", MicrosoftDocs/azure-docs#114370). The token was
    // accepted: the principal is named; only its role is missing.
    PermissionDenied: {
      cause: 'role_missing',
      meaning: 'the token was accepted, but no role assignment grants the data action (Azure OpenAI answers this with 401, not 403)',
    },
  },
  explain: {
    token_rejected: (ctx) =>
      `Azure OpenAI answered 401${ctx.evidence.message ? ` ("${oneLine(ctx.evidence.message).slice(0, 300)}")` : ''} without saying which check failed${
        ctx.claims ? `, and the token's claims look right (audience ${ctx.evidence.tokenAudience ?? 'unknown'}, not expired)` : ' (the token\'s claims could not be read)'
      }. What remains: a token from a tenant other than the resource's — a managed identity cannot cross tenants — or an endpoint that is not the resource's own custom subdomain.`,
    propagation_pending: (ctx) =>
      `A role that covers the operation is assigned, but Azure OpenAI still answers 401 PermissionDenied (its way of saying a data action is missing): the grant has not propagated yet. ${ctx.propagation?.advice ?? 'Role assignments take up to 10 minutes to take effect. Wait and re-run; do not grant a broader role.'}`,
    resource_not_found: (ctx) =>
      `${ctx.target.endpoint} answered 404 to GET /openai/models: this resource serves no Azure OpenAI API there — a Cognitive Services account of another kind, or an endpoint that points at something else. The token was accepted; no role change will help.`,
  },
  fixes: {
    token_rejected: ({ target: t }) => [
      `az account show --subscription ${idOr(t.resourceId?.split('/')[2], (v) => /^[0-9a-f-]{36}$/i.test(v), 'subscription-id')} --query tenantId -o tsv   ${comment('the resource\'s tenant: the token\'s tid must be this one')}`,
      `az cognitiveservices account show --ids ${resourceIdOr(t.resourceId, lookupId(t))} --query properties.endpoint -o tsv   ${comment(`"endpoint" of target "${t.name}" must be this custom-subdomain endpoint`)}`,
    ],
    resource_not_found: ({ target: t }) => [
      `az cognitiveservices account show --ids ${resourceIdOr(t.resourceId, lookupId(t))} --query "{kind:kind, endpoint:properties.endpoint}" -o json`,
      comment(`point "endpoint" of target "${t.name}" at an Azure OpenAI (or AI services) resource's endpoint`),
      ...(t.deployment ? [`az cognitiveservices account deployment list -g ${groupArg(t)} -n ${accountArg(t)} --query "[].name" -o tsv   ${comment('the deployments the workload can call')}`] : []),
    ],
    network_blocked: ({ target: t }) => [
      `az cognitiveservices account show --ids ${resourceIdOr(t.resourceId, lookupId(t))} --query "{publicNetworkAccess:properties.publicNetworkAccess, defaultAction:properties.networkAcls.defaultAction}" -o json`,
      `az cognitiveservices account network-rule add -g ${groupArg(t)} -n ${accountArg(t)} --subnet <workload-subnet-id>   ${comment('or --ip-address <workload-outbound-ip>; if publicNetworkAccess is Enabled')}`,
      ...privateLinkFix(resourceIdOr(t.resourceId, lookupId(t)), 'account', 'privatelink.openai.azure.com'),
    ],
  },
  causes: [
    'authorized', 'wrong_audience', 'token_rejected', 'role_missing', 'network_blocked', 'propagation_pending', 'grant_ineffective',
    'forbidden_other', 'resource_not_found', 'throttled', 'target_unreachable', 'target_error',
  ],
  loadProbe: async () => (await import('./probe')).probeAzureOpenAI,
};
