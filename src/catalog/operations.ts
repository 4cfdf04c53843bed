import { ROLES, type BuiltInRole } from './roles';
import type { TargetKind } from './clouds';

/**
 * What each probe does, the permission it exercises and the least built-in role that grants it.
 * The probes are read-only on purpose: a diagnosis must never need more than a workload reader would.
 */
export interface Operation {
  /** Human wording, e.g. "read secret". */
  description: string;
  plane: 'data' | 'control';
  /** The action (control plane) or data action (data plane) the service checks. */
  permission: string;
  leastRole: BuiltInRole;
}

export const OPERATIONS: Record<TargetKind, Operation> = {
  // SecretClient.getSecret → GET /secrets/{name}; Key Vault checks this data action on RBAC vaults.
  keyVaultSecret: {
    description: 'read the secret',
    plane: 'data',
    permission: 'Microsoft.KeyVault/vaults/secrets/getSecret/action',
    leastRole: ROLES.keyVaultSecretsUser,
  },
  // BlobClient.getProperties / ContainerClient.listBlobsFlat both need blobs/read.
  storageBlob: {
    description: 'read blobs',
    plane: 'data',
    permission: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
    leastRole: ROLES.storageBlobDataReader,
  },
  // roleAssignments.listForScope: Reader's */read covers it.
  armResource: {
    description: 'read role assignments at the scope',
    plane: 'control',
    permission: 'Microsoft.Authorization/roleAssignments/read',
    leastRole: ROLES.reader,
  },
};
