import { z } from 'zod';
import { privateLinkFix, resourceIdOr } from '../../advice/commands';
import { ROLES } from '../../catalog/roles';
import { comment, idOr, oneLine, sh } from '../../advice/shell';
import { baseFields, httpsUrl } from '../fields';
import type { TargetKind } from '../kind';
import type { CallFailure } from '../../wire/callFailure';
import type { Cause } from '../../verdict';

/**
 * An App Configuration store: the probe reads one key-value (`key`, optionally under `label`) with
 * AppConfigurationClient.getConfigurationSetting, or — no key, or a key filter with `*` / `,` — pulls the first page of
 * listConfigurationSettings. Only metadata is asked for ($select): a setting's value never crosses the wire.
 */
export const AppConfigurationTargetSchema = z.object({
  ...baseFields,
  kind: z.literal('appConfiguration'),
  endpoint: httpsUrl('https://<store>.azconfig.io'),
  // Keys: any characters but `%`, not `.` or `..` (App Configuration "Keys and values" docs). A path segment `.`/`..`
  // would be folded away by URL parsing and read another key, so it is refused too; control characters never belong.
  key: z
    .string()
    .min(1)
    .max(1024)
    // eslint-disable-next-line no-control-regex
    .refine((k) => !/[%\u0000-\u001f\u007f]/.test(k) && !k.split('/').some((s) => s === '.' || s === '..'), 'expected an App Configuration key (no "%", no control characters, no "." or ".." segment); "*" and "," make it a key filter')
    .optional(),
  // `\0` is the REST API's "no label" (label=%00); otherwise the same characters a key may hold, minus those that would
  // end the query string the SDK writes the label into unencoded.
  label: z
    .string()
    .max(256)
    // eslint-disable-next-line no-control-regex
    .refine((l) => l === '\0' || !/[%&#?\u0000-\u001f\u007f]/.test(l), 'expected an App Configuration label (no "%", "&", "#", "?" or control characters; "\\0" means no label)')
    .optional(),
});
export type AppConfigurationTarget = z.infer<typeof AppConfigurationTargetSchema>;

/** A key with an unescaped `*` or `,` is a key filter (App Configuration REST "Filtering"): the probe lists instead of getting. */
export const isKeyFilter = (key: string): boolean => /(^|[^\\])[*,]/.test(key);

const STORE = /^[A-Za-z0-9-]{5,50}$/;
export const storeName = (endpoint: string): string => new URL(endpoint).hostname.split('.')[0]!;
/** The store name as a shell word (a placeholder when the host's first label is not a store name). */
export const storeArg = (endpoint: string): string => idOr(storeName(endpoint), (v) => STORE.test(v), 'store-name');

const lookupId = (t: AppConfigurationTarget) => `az appconfig show --name ${storeArg(t.endpoint)} --query id -o tsv`;

/**
 * The `error_description` of a `WWW-Authenticate: HMAC-SHA256, Bearer error="invalid_token", error_description="…"`
 * challenge: App Configuration names the failed token check only there (its 401 has no body).
 */
export function challengeDescription(wwwAuthenticate: string | undefined): string | undefined {
  return /error_description="([^"]*)"/.exec(wwwAuthenticate ?? '')?.[1];
}

/** App Configuration's answers without a service code (see TargetKind.uncoded). */
function uncoded(f: CallFailure): Cause | undefined {
  // https://learn.microsoft.com/azure/azure-app-configuration/rest-api-authorization-azure-ad ("Errors": HTTP/1.1 403
  // Forbidden — the principal lacks the permissions the operation needs); observed with an empty body
  // (Content-Length: 0): Azure/AppConfiguration#410, hashicorp/terraform-provider-azurerm#16980. Network refusals carry a
  // problem+json type (the `forbidden` table below), so a 403 without one is the missing data role.
  if (f.httpStatus === 403 && !f.errorCode) return 'role_missing';
  // https://learn.microsoft.com/azure/azure-app-configuration/rest-api-authentication-azure-ad ("Errors"):
  // error_description="The access token is from the wrong issuer. It must match the AD tenant associated with the
  // subscription to which the configuration store belongs. …". An expired token or a wrong audience gets only
  // "Authorization token failed validation": the shared reading tells those apart by the token's claims.
  if (f.httpStatus === 401 && /wrong issuer/i.test(challengeDescription(f.wwwAuthenticate) ?? '')) return 'wrong_tenant';
  return undefined;
}

export const appConfiguration: TargetKind<AppConfigurationTarget, typeof AppConfigurationTargetSchema> = {
  kind: 'appConfiguration',
  schema: AppConfigurationTargetSchema,
  nouns: {
    service: 'App Configuration',
    short: 'App Configuration',
    target: 'App Configuration setting',
    hosts: 'App Configuration',
    resource: 'configuration store',
    sibling: 'key-value',
  },
  componentType: 'datastore',
  // https://learn.microsoft.com/azure/azure-app-configuration/concept-enable-rbac ("audience"); @azure/app-configuration
  // 1.12.1 KnownAppConfigAudience and internal/helpers.js getScope. The service still accepts the legacy
  // https://azconfig.io (Azure/AppConfiguration#567); no legacy audience is documented for the sovereign clouds.
  audiences: {
    AzurePublicCloud: ['https://appconfig.azure.com', 'https://azconfig.io'],
    AzureChinaCloud: ['https://appconfig.azure.cn'],
    AzureUSGovernment: ['https://appconfig.azure.us'],
  },
  // Private-endpoint DNS docs: azconfig.io (public), azconfig.azure.us (Gov). China is not listed there; the SDK's
  // getScope recognises azconfig.azure.cn (shared/reference/services-and-hosts.md §1, "unconfirmed").
  hosts: {
    suffixes: { AzurePublicCloud: 'azconfig.io', AzureChinaCloud: 'azconfig.azure.cn', AzureUSGovernment: 'azconfig.azure.us' },
    shape: 'one-label-under',
  },
  urlField: 'endpoint',
  endpoint: (t) => t.endpoint,
  // GET /kv/{key} and GET /kv both need keyValues/read ("Microsoft Entra authorization - REST API reference": "allows
  // read access to App Configuration key-value resources, such as /kv and /labels"); App Configuration Data Reader's
  // configurationStores/*/read covers it. Reader, Contributor and the control-plane App Configuration roles do not.
  operation: {
    description: 'read key-values',
    plane: 'data',
    permission: 'Microsoft.AppConfiguration/configurationStores/keyValues/read',
    leastRole: ROLES.appConfigurationDataReader,
  },
  // App Configuration authorizes per store: there is no finer scope (a key-value is no ARM resource to grant on).
  scopes: { grant: () => '', touched: () => '' },
  object: (t) => (t.key !== undefined && !isKeyFilter(t.key) ? `key-value${t.label !== undefined ? ' under that label' : ' without a label'}` : 'store'),
  resource: {
    lookup: lookupId,
    text: (t) => `the configuration store ${storeName(t.endpoint)}`,
    listNames: 'az appconfig list --query "[].name" -o tsv',
  },
  // The last segment of a 403's problem+json `type` (https://azconfig.io/errors/<code>), as the probe reports it.
  forbidden: {
    // https://learn.microsoft.com/azure/azure-app-configuration/network-access-errors ("IP address rejected"):
    // 403 application/problem+json, type https://azconfig.io/errors/ip-address-rejected — public network access is
    // disabled and the request did not come through an approved private endpoint (App Configuration has no IP rules).
    'ip-address-rejected': {
      cause: 'network_blocked',
      meaning: 'public network access to the store is disabled: only requests through an approved private endpoint are accepted',
      network: 'private_only',
    },
    // Same page ("Rejected by network security perimeter"): type https://azconfig.io/errors/nsp-rejected.
    'nsp-rejected': {
      cause: 'network_blocked',
      meaning: 'the store\'s public access is governed by a network security perimeter, and no inbound access rule of its profile admits this request',
      network: 'rule',
    },
  },
  uncoded,
  explain: {
    // The shared wording compares the token's tenant with EXPECTED_TENANT_ID; here the store named the mismatch itself.
    wrong_tenant: (ctx) =>
      `App Configuration refused the token: "${oneLine(challengeDescription(ctx.evidence.wwwAuthenticate) ?? ctx.evidence.message ?? 'wrong issuer')}" The token was issued by tenant ${ctx.claims?.tid ?? '(unknown)'}, but the store belongs to a subscription of another tenant. A managed identity lives in one tenant and cannot get tokens for another: use an identity of the store's tenant.`,
    // The shared wording leads with the error code, which a bare 5xx from App Configuration does not have.
    target_error: (ctx) =>
      ctx.evidence.transport
        ? `App Configuration sent an answer that could not be used: ${oneLine(ctx.evidence.transport.detail ?? 'unreadable')}. Not an identity problem.`
        : `App Configuration answered ${ctx.evidence.errorCode ? `${ctx.evidence.errorCode}: ` : ''}${oneLine(ctx.evidence.message ?? 'an error')}${ctx.evidence.retryAfter ? ` and asked to retry after ${ctx.evidence.retryAfter} (retry-after-ms)` : ''}. Not an identity problem; if it persists, quote the request id in a support case.`,
  },
  fixes: {
    resource_not_found: ({ target: t }) => [
      `az appconfig kv list --endpoint ${sh(t.endpoint)} --auth-mode login --key ${sh(t.key ?? '*')} --label '*' --fields key label -o table`,
      comment(`the key may exist under another label: fix "key"/"label" of target "${t.name}", or create the key-value`),
    ],
    network_blocked: ({ target: t }, row) => {
      if (row?.network === 'rule') {
        return [
          `az network perimeter association list -g <perimeter-resource-group> --perimeter-name <perimeter-name> -o table   ${comment('find the profile the store is associated with')}`,
          `az network perimeter profile access-rule create -g <perimeter-resource-group> --perimeter-name <perimeter-name> --profile-name <profile-name> -n <rule-name> --address-prefixes "[<workload-outbound-ip>/32]"`,
          comment('or run this check from inside the perimeter; never switch the association to an all-access mode'),
        ];
      }
      return privateLinkFix(resourceIdOr(t.resourceId, lookupId(t)), 'configurationStores', 'privatelink.azconfig.io');
    },
  },
  // Not resource_disabled (key-values cannot be disabled) nor access_policy_missing (Azure RBAC only). A locked
  // key-value still reads; 403s beyond the table fall back to forbidden_other without a case of their own.
  causes: [
    'authorized', 'wrong_audience', 'wrong_tenant', 'token_expired', 'role_missing', 'network_blocked', 'propagation_pending',
    'grant_ineffective', 'resource_not_found', 'throttled', 'target_unreachable', 'target_error',
  ],
  loadProbe: async () => (await import('./probe')).probeAppConfiguration,
};
