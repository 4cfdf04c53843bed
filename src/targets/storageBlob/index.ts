import { z } from 'zod';
import { privateLinkFix, resourceIdOr } from '../../advice/commands';
import { ROLES } from '../../catalog/roles';
import { comment, idOr, sh } from '../../advice/shell';
import { baseFields, httpsUrl } from '../fields';
import type { TargetKind } from '../kind';

/** A blob container (or one blob in it): the probe reads blob properties or pulls one page of the listing. */
export const StorageBlobTargetSchema = z.object({
  ...baseFields,
  kind: z.literal('storageBlob'),
  accountUrl: httpsUrl('https://<account>.blob.core.windows.net'),
  container: z
    .string()
    .regex(/^(\$root|[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9])$/, 'expected a container name (3-63 lowercase letters, digits, "-")'),
  blobName: z.string().min(1).max(1024).optional(),
});
export type StorageBlobTarget = z.infer<typeof StorageBlobTargetSchema>;

const ACCOUNT = /^[a-z0-9]{3,24}$/;
export const accountName = (accountUrl: string): string => new URL(accountUrl).hostname.split('.')[0]!;
/** The storage account name as a shell word. */
export const accountArg = (accountUrl: string): string => idOr(accountName(accountUrl), (v) => ACCOUNT.test(v), 'account-name');
const containerScope = (t: StorageBlobTarget) => `/blobServices/default/containers/${t.container}`;

const lookupId = (t: StorageBlobTarget) => `az storage account show --name ${accountArg(t.accountUrl)} --query id -o tsv`;

export const storageBlob: TargetKind<StorageBlobTarget, typeof StorageBlobTargetSchema> = {
  kind: 'storageBlob',
  schema: StorageBlobTargetSchema,
  nouns: { service: 'Storage', short: 'Storage', target: 'Storage blob', hosts: 'Blob Storage', resource: 'storage account', sibling: 'container' },
  componentType: 'datastore',
  // Storage takes one audience in every cloud (shared/reference/azure-identity-facts.md §2).
  audiences: {
    AzurePublicCloud: ['https://storage.azure.com/', 'https://storage.azure.com'],
    AzureChinaCloud: ['https://storage.azure.com/', 'https://storage.azure.com'],
    AzureUSGovernment: ['https://storage.azure.com/', 'https://storage.azure.com'],
  },
  hosts: {
    suffixes: { AzurePublicCloud: 'blob.core.windows.net', AzureChinaCloud: 'blob.core.chinacloudapi.cn', AzureUSGovernment: 'blob.core.usgovcloudapi.net' },
    shape: 'one-label-under',
  },
  urlField: 'accountUrl',
  endpoint: (t) => t.accountUrl,
  // BlobClient.getProperties / ContainerClient.listBlobsFlat both need blobs/read.
  operation: {
    description: 'read blobs',
    plane: 'data',
    permission: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
    leastRole: ROLES.storageBlobDataReader,
  },
  scopes: { grant: containerScope, touched: containerScope },
  object: (t) => (t.blobName ? 'blob' : 'container'),
  resource: {
    lookup: lookupId,
    text: (t) => `the account ${accountName(t.accountUrl)}`,
    listNames: 'az storage account list --query "[].name" -o tsv',
  },
  // `x-ms-error-code` of a 403.
  forbidden: {
    // https://learn.microsoft.com/rest/api/storageservices/blob-service-error-codes ; azure-identity-facts.md §3
    AuthorizationPermissionMismatch: { cause: 'role_missing', meaning: 'the token is valid, but no data role grants the data action' },
    // https://learn.microsoft.com/rest/api/storageservices/sas-error-codes ("This request is not authorized to perform this
    // operation."); in practice what both firewall rules and disabled public access return (azure-identity-facts.md §3) —
    // the code alone does not say which.
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
  },
  fixes: {
    resource_not_found: ({ target: t }) => [
      t.blobName
        ? `az storage blob list --account-name ${accountArg(t.accountUrl)} --container-name ${sh(t.container)} --auth-mode login --query "[].name" -o tsv`
        : `az storage container list --account-name ${accountArg(t.accountUrl)} --auth-mode login --query "[].name" -o tsv`,
      comment(`fix "container"/"blobName" of target "${t.name}", or create what is missing`),
    ],
    network_blocked: ({ target: t }, row) => {
      const rule = `az storage account network-rule add --account-name ${accountArg(t.accountUrl)} --subnet <workload-subnet-id>   ${comment('or --ip-address <workload-outbound-ip>')}`;
      if (row?.network === 'rule') return [rule, comment('never set the default action to Allow')];
      return [
        `az storage account show --name ${accountArg(t.accountUrl)} --query "{publicNetworkAccess:publicNetworkAccess, defaultAction:networkRuleSet.defaultAction}" -o json`,
        `${rule}   ${comment('if publicNetworkAccess is Enabled and a rule leaves this host out')}`,
        ...privateLinkFix(resourceIdOr(t.resourceId, lookupId(t)), 'blob', 'privatelink.blob.core.windows.net'),
      ];
    },
    resource_disabled: ({ target: t }) => [
      `az storage account show --name ${accountArg(t.accountUrl)} --query "{status:statusOfPrimary, provisioning:provisioningState}" -o json`,
      comment('a disabled account comes back when its subscription is re-enabled (billing, or a support case)'),
    ],
  },
  causes: [
    'authorized', 'wrong_audience', 'wrong_tenant', 'token_expired', 'role_missing', 'network_blocked', 'propagation_pending',
    'grant_ineffective', 'resource_disabled', 'forbidden_other', 'resource_not_found', 'throttled', 'target_unreachable', 'target_error',
  ],
  loadProbe: async () => (await import('./probe')).probeStorageBlob,
};
