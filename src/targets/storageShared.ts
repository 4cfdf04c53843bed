import { privateLinkFix, resourceIdOr } from '../advice/commands';
import { comment, idOr } from '../advice/shell';
import type { CloudName } from '../catalog/clouds';
import type { FixContext, ForbiddenCode } from './kind';

/**
 * What Storage's services share — blobs, queues and tables live in one storage account, take one audience, answer
 * with one family of error codes and are reached (or blocked) by one network rule set. Each storage kind
 * (storageBlob, storageQueue, storageTable) takes these from here and adds only what is its own: its host suffix,
 * its scope, its probe and the shape of its error body (XML for blobs and queues, JSON for tables — the codes are
 * the same either way, and `x-ms-error-code` carries them on all three).
 */

/** A Storage data service: the first label of its host suffix (`<account>.<service>.core.windows.net`). */
export type StorageService = 'blob' | 'queue' | 'table';

/** Storage takes one audience in every cloud (shared/reference/azure-identity-facts.md §2; services-and-hosts.md §1). */
export const STORAGE_AUDIENCES: Readonly<Record<CloudName, readonly [string, ...string[]]>> = {
  AzurePublicCloud: ['https://storage.azure.com/', 'https://storage.azure.com'],
  AzureChinaCloud: ['https://storage.azure.com/', 'https://storage.azure.com'],
  AzureUSGovernment: ['https://storage.azure.com/', 'https://storage.azure.com'],
};

/** The service's hosts in each cloud: one account label under `<service>.core.<cloud suffix>` (PE-DNS, services-and-hosts.md §1). */
export function storageHosts(service: StorageService): { suffixes: Readonly<Record<CloudName, string>>; shape: 'one-label-under' } {
  return {
    suffixes: {
      AzurePublicCloud: `${service}.core.windows.net`,
      AzureChinaCloud: `${service}.core.chinacloudapi.cn`,
      AzureUSGovernment: `${service}.core.usgovcloudapi.net`,
    },
    shape: 'one-label-under',
  };
}

const ACCOUNT = /^[a-z0-9]{3,24}$/;
/** The storage account of a service URL: its host's first label. */
export const accountName = (accountUrl: string): string => new URL(accountUrl).hostname.split('.')[0]!;
/** The storage account name as a shell word (a placeholder when the host's first label is not an account name). */
export const accountArg = (accountUrl: string): string => idOr(accountName(accountUrl), (v) => ACCOUNT.test(v), 'account-name');
/** An az command printing the account's ARM id. */
export const accountLookupId = (accountUrl: string): string => `az storage account show --name ${accountArg(accountUrl)} --query id -o tsv`;

/** The account in prose, and the az command listing account names (the kind module's `resource` minus `lookup`). */
export const accountResource = {
  text: (t: { accountUrl: string }) => `the account ${accountName(t.accountUrl)}`,
  listNames: 'az storage account list --query "[].name" -o tsv',
} as const;

/**
 * Storage's 403 codes (`x-ms-error-code`, the same in the XML `<Code>` of blobs and queues and in the JSON
 * `odata.error.code` of tables): the error dialect every storage kind speaks.
 */
export const STORAGE_FORBIDDEN: Readonly<Record<string, ForbiddenCode>> = {
  // https://learn.microsoft.com/rest/api/storageservices/blob-service-error-codes ; azure-identity-facts.md §3.
  // Queues: observed 403 XML AuthorizationPermissionMismatch (Azure/azure-sdk-for-net#13747, #15279; services-and-hosts.md §4).
  // Tables: observed 403 {"odata.error":{"code":"AuthorizationPermissionMismatch",…}} (microsoft/AzureStorageExplorer#5553, #5894; §5).
  AuthorizationPermissionMismatch: { cause: 'role_missing', meaning: 'the token is valid, but no data role grants the data action' },
  // https://learn.microsoft.com/rest/api/storageservices/sas-error-codes ("This request is not authorized to perform this
  // operation."); in practice what both firewall rules and disabled public access return (azure-identity-facts.md §3) —
  // the code alone does not say which. Tables: observed as {"odata.error":{"code":"AuthorizationFailure",…}} behind a
  // network rule (microsoft/AzureStorageExplorer#8869; services-and-hosts.md §5).
  AuthorizationFailure: { cause: 'network_blocked', meaning: 'the account\'s network settings refuse this caller (a firewall / virtual-network rule, or public network access disabled)', network: 'either' },
  // https://learn.microsoft.com/rest/api/storageservices/sas-error-codes : "This request is not authorized to perform this
  // operation using this source IP {SourceIP}." — a shared access signature's IP range, not a network rule or a role.
  AuthorizationSourceIPMismatch: { cause: 'forbidden_other', meaning: 'a shared access signature (SAS) restricted to an IP range was used from an address outside it — the request did not use this identity\'s token' },
  // common-rest-api-error-codes: "The specified account is disabled."
  AccountIsDisabled: { cause: 'resource_disabled', meaning: 'the storage account is disabled' },
  // https://learn.microsoft.com/azure/storage/common/shared-key-authorization-prevent : "Key based authentication is not permitted on this storage account."
  KeyBasedAuthenticationNotPermitted: {
    cause: 'forbidden_other',
    meaning: 'the account refuses Shared Key authorization, and the request was not sent with a Microsoft Entra token',
    fix: () => [comment('call Storage with a Microsoft Entra token (the SDK with a TokenCredential; az … --auth-mode login), not an account key or key-signed SAS')],
  },
};

type StorageContext = Omit<FixContext, 'target'> & { target: { accountUrl: string; resourceId?: string } };

/** The fixes every storage kind gives alike: the account's network rules (by its service's private-link zone) and a disabled account. */
export function storageFixes(service: StorageService) {
  return {
    network_blocked: ({ target: t }: StorageContext, row: ForbiddenCode | undefined): string[] => {
      const rule = `az storage account network-rule add --account-name ${accountArg(t.accountUrl)} --subnet <workload-subnet-id>   ${comment('or --ip-address <workload-outbound-ip>')}`;
      if (row?.network === 'rule') return [rule, comment('never set the default action to Allow')];
      return [
        `az storage account show --name ${accountArg(t.accountUrl)} --query "{publicNetworkAccess:publicNetworkAccess, defaultAction:networkRuleSet.defaultAction}" -o json`,
        `${rule}   ${comment('if publicNetworkAccess is Enabled and a rule leaves this host out')}`,
        // Each service of the account has its own private endpoint group id and private DNS zone (PE-DNS).
        ...privateLinkFix(resourceIdOr(t.resourceId, accountLookupId(t.accountUrl)), service, `privatelink.${service}.core.windows.net`),
      ];
    },
    resource_disabled: ({ target: t }: StorageContext): string[] => [
      `az storage account show --name ${accountArg(t.accountUrl)} --query "{status:statusOfPrimary, provisioning:provisioningState}" -o json`,
      comment('a disabled account comes back when its subscription is re-enabled (billing, or a support case)'),
    ],
  };
}

/** The causes a storage kind's world can stage and its checks can produce (the same for blobs, queues and tables). */
export const STORAGE_CAUSES = [
  'authorized', 'wrong_audience', 'wrong_tenant', 'token_expired', 'role_missing', 'network_blocked', 'propagation_pending',
  'grant_ineffective', 'resource_disabled', 'forbidden_other', 'resource_not_found', 'throttled', 'target_unreachable', 'target_error',
] as const;

/**
 * The members of a storage kind module that follow from its service alone: its audiences and hosts, its URL field,
 * the account as its resource, Storage's error dialect and causes. A kind spreads them and adds its own schema, nouns,
 * operation, scopes, probe and fixes.
 */
export function storageKindCommon(service: StorageService) {
  return {
    componentType: 'datastore' as const,
    audiences: STORAGE_AUDIENCES,
    hosts: storageHosts(service),
    urlField: 'accountUrl',
    endpoint: (t: { accountUrl: string }) => t.accountUrl,
    resource: { lookup: (t: { accountUrl: string }) => accountLookupId(t.accountUrl), ...accountResource },
    // `x-ms-error-code` of a 403 (also the XML <Code> of blobs and queues, the JSON odata.error.code of tables).
    forbidden: STORAGE_FORBIDDEN,
    causes: STORAGE_CAUSES,
  };
}
