import type { Cause } from '../verdict';

/**
 * What each documented 403 code means: the one table classification reads (by code, never by message, except the
 * network split below where the code is shared). Sources beside each row; shared/reference/azure-identity-facts.md §3
 * collects the common ones.
 */
export interface ForbiddenCode {
  cause: Cause;
  /** What the code means, in a sentence that goes into the explanation. */
  meaning: string;
  /** For network refusals: which rule blocked (decides the fix). */
  network?: 'private_only' | 'rule' | 'either';
}

/** Key Vault: `error.innererror.code` of a 403 `Forbidden`. */
export const KEY_VAULT_403: Readonly<Record<string, ForbiddenCode>> = {
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
};

/** Storage: `x-ms-error-code` of a 403. */
export const STORAGE_403: Readonly<Record<string, ForbiddenCode>> = {
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
  KeyBasedAuthenticationNotPermitted: { cause: 'forbidden_other', meaning: 'the account refuses Shared Key authorization, and the request was not sent with a Microsoft Entra token' },
};

/** ARM: `error.code` of a 403. */
export const ARM_403: Readonly<Record<string, ForbiddenCode>> = {
  // https://learn.microsoft.com/azure/role-based-access-control/troubleshooting ("does not have authorization to perform action")
  AuthorizationFailed: { cause: 'role_missing', meaning: 'no role assignment grants the action at this scope' },
  // same page: "LinkedAuthorizationFailed" — authorized on one scope, not on a linked one
  LinkedAuthorizationFailed: { cause: 'role_missing', meaning: 'the action is allowed at one scope but not on a linked scope it touches' },
  // https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/error-policy-requestdisallowedbypolicy (a write refused by Azure Policy)
  RequestDisallowedByPolicy: { cause: 'forbidden_other', meaning: 'an Azure Policy assignment refuses the request (policy, not a role)' },
  // https://learn.microsoft.com/azure/cost-management-billing/manage/subscription-disabled ("ReadOnlyDisabledSubscription")
  ReadOnlyDisabledSubscription: { cause: 'resource_disabled', meaning: 'the subscription is disabled and read-only until it is re-enabled' },
};

const BY_KIND = { keyVaultSecret: KEY_VAULT_403, storageBlob: STORAGE_403, armResource: ARM_403 } as const;

/** The table row for a 403, by the code the service answered (inner code first for Key Vault). */
export function forbiddenCode(kind: keyof typeof BY_KIND, errorCode: string | undefined, innerErrorCode: string | undefined): ForbiddenCode | undefined {
  const table = BY_KIND[kind];
  for (const code of [innerErrorCode, errorCode]) if (code && Object.hasOwn(table, code)) return table[code];
  return undefined;
}
