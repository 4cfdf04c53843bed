import { z } from 'zod';
import { assignee, privateLinkFix, resourceIdOr } from '../../advice/commands';
import { ROLES } from '../../catalog/roles';
import { comment, idOr } from '../../advice/shell';
import { baseFields, httpsUrl } from '../fields';
import type { TargetKind } from '../kind';

/** A Key Vault secret: the probe reads it with SecretClient.getSecret, the call a workload makes. */
export const KeyVaultSecretTargetSchema = z.object({
  ...baseFields,
  kind: z.literal('keyVaultSecret'),
  vaultUrl: httpsUrl('https://<vault>.vault.azure.net'),
  secretName: z.string().regex(/^[0-9A-Za-z-]{1,127}$/, 'expected a Key Vault secret name (letters, digits, "-")'),
});
export type KeyVaultSecretTarget = z.infer<typeof KeyVaultSecretTargetSchema>;

const VAULT = /^[A-Za-z0-9-]{3,24}$/;
export const vaultName = (vaultUrl: string): string => new URL(vaultUrl).hostname.split('.')[0]!;
/** The vault name as a shell word (a placeholder when the host's first label is not a vault name). */
export const vaultArg = (vaultUrl: string): string => idOr(vaultName(vaultUrl), (v) => VAULT.test(v), 'vault-name');

const lookupId = (t: KeyVaultSecretTarget) => `az keyvault show --name ${vaultArg(t.vaultUrl)} --query id -o tsv`;

export const keyVaultSecret: TargetKind<KeyVaultSecretTarget, typeof KeyVaultSecretTargetSchema> = {
  kind: 'keyVaultSecret',
  schema: KeyVaultSecretTargetSchema,
  nouns: { service: 'Key Vault', short: 'Key Vault', target: 'Key Vault secret', hosts: 'Key Vault', resource: 'vault', sibling: 'secret' },
  componentType: 'datastore',
  // shared/reference/azure-identity-facts.md §2
  audiences: {
    AzurePublicCloud: ['https://vault.azure.net', 'https://vault.azure.net/'],
    AzureChinaCloud: ['https://vault.azure.cn', 'https://vault.azure.cn/'],
    AzureUSGovernment: ['https://vault.usgovcloudapi.net', 'https://vault.usgovcloudapi.net/'],
  },
  hosts: {
    suffixes: { AzurePublicCloud: 'vault.azure.net', AzureChinaCloud: 'vault.azure.cn', AzureUSGovernment: 'vault.usgovcloudapi.net' },
    shape: 'one-label-under',
  },
  urlField: 'vaultUrl',
  endpoint: (t) => t.vaultUrl,
  // SecretClient.getSecret → GET /secrets/{name}; Key Vault checks this data action on RBAC vaults.
  operation: {
    description: 'read the secret',
    plane: 'data',
    permission: 'Microsoft.KeyVault/vaults/secrets/getSecret/action',
    leastRole: ROLES.keyVaultSecretsUser,
  },
  // Granted on the vault; Key Vault RBAC can also be granted per secret, so one secret is what the read touches.
  scopes: { grant: () => '', touched: (t) => `/secrets/${t.secretName}` },
  object: () => 'secret',
  resource: {
    lookup: lookupId,
    text: (t) => `the vault ${vaultName(t.vaultUrl)}`,
    listNames: 'az keyvault list --query "[].name" -o tsv',
  },
  // `error.innererror.code` of a 403 `Forbidden`.
  forbidden: {
    // https://learn.microsoft.com/azure/key-vault/general/rbac-guide ("DeniedWithNoValidRBAC"); azure-identity-facts.md §3
    ForbiddenByRbac: { cause: 'role_missing', meaning: 'the vault uses Azure RBAC and no role assignment grants the data action' },
    // https://learn.microsoft.com/azure/key-vault/general/troubleshooting-access-issues ("does not have secrets get permission")
    AccessDenied: { cause: 'access_policy_missing', meaning: 'the vault uses access policies and none gives this principal the permission' },
    // azure-identity-facts.md §3: an access policy that requires a compound (on-behalf-of) identity
    ForbiddenByPolicy: { cause: 'access_policy_missing', meaning: 'an access policy exists but requires a compound (on-behalf-of) identity this call does not present' },
    // observed: microsoft/AzureTRE#3789 — 403 Forbidden "Client address is not authorized and caller is not a trusted service." InnerError ForbiddenByFirewall
    ForbiddenByFirewall: { cause: 'network_blocked', meaning: 'the vault firewall does not allow this client address or network', network: 'rule' },
    // observed: microsoft/multimodal-ai#171, Azure/secrets-store-csi-driver-provider-azure#873 — 403 Forbidden "Public network
    // access is disabled and request is not from a trusted service nor via an approved private link." InnerError ForbiddenByConnection
    ForbiddenByConnection: { cause: 'network_blocked', meaning: 'public network access is disabled: only approved private links (or trusted services) reach the vault', network: 'private_only' },
    // Azure/azure-sdk-for-js#24756: 403 Forbidden "Operation get is not allowed on a disabled secret." innerError SecretDisabled
    SecretDisabled: { cause: 'resource_disabled', meaning: 'the secret (its current version) is disabled: Key Vault refuses to return a disabled secret' },
  },
  fixes: {
    resource_not_found: ({ target: t }) => [
      `az keyvault secret list --vault-name ${vaultArg(t.vaultUrl)} --query "[].name" -o tsv`,
      comment(`create it, or point "secretName" of target "${t.name}" at a secret that exists`),
    ],
    access_policy_missing: (ctx, _row) => {
      const v = vaultArg(ctx.target.vaultUrl);
      const policy = `az keyvault set-policy --name ${v} --object-id ${assignee(ctx)} --secret-permissions get`;
      const rbac = `az keyvault update --name ${v} --enable-rbac-authorization true   # then Key Vault Secrets User applies`;
      return ctx.evidence.roles?.assignments.some((a) => a.coversOperation) ? [rbac, `${policy}   # or this instead`] : [policy, `${rbac}   # or move the vault to RBAC instead`];
    },
    network_blocked: ({ target: t }, row) => {
      if (row?.network === 'private_only') return privateLinkFix(resourceIdOr(t.resourceId, lookupId(t)), 'vault', 'privatelink.vaultcore.azure.net');
      return [
        `az keyvault network-rule add --name ${vaultArg(t.vaultUrl)} --subnet <workload-subnet-id>   ${comment('or --ip-address <workload-outbound-ip>/32')}`,
        comment('never open the firewall to all networks'),
      ];
    },
    resource_disabled: ({ target: t }) => [
      `az keyvault secret set-attributes --vault-name ${vaultArg(t.vaultUrl)} --name ${idOr(t.secretName, (v) => /^[0-9A-Za-z-]{1,127}$/.test(v), 'secret-name')} --enabled true`,
      comment('or point the workload at an enabled version'),
    ],
  },
  causes: [
    'authorized', 'wrong_audience', 'wrong_tenant', 'token_expired', 'role_missing', 'access_policy_missing', 'network_blocked',
    'propagation_pending', 'grant_ineffective', 'resource_disabled', 'resource_not_found', 'throttled', 'target_unreachable', 'target_error',
  ],
  loadProbe: async () => (await import('./probe')).probeKeyVaultSecret,
};
