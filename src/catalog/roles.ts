/**
 * Built-in Azure roles this tool reasons about: one table, GUIDs from the official role docs only
 * (shared/reference/azure-identity-facts.md §5). The simulated world, the fix lines and infra/ all read it.
 */
export type Plane = 'data' | 'control';

export interface BuiltInRole {
  name: string;
  id: string;
  plane: Plane;
  actions: readonly string[];
  notActions: readonly string[];
  dataActions: readonly string[];
}

export const ROLES = {
  keyVaultSecretsUser: {
    name: 'Key Vault Secrets User',
    id: '4633458b-17de-408a-b874-0445c86b69e6',
    plane: 'data',
    actions: [],
    notActions: [],
    dataActions: [
      'Microsoft.KeyVault/vaults/secrets/getSecret/action',
      'Microsoft.KeyVault/vaults/secrets/readMetadata/action',
    ],
  },
  keyVaultSecretsOfficer: {
    name: 'Key Vault Secrets Officer',
    id: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
    plane: 'data',
    actions: ['Microsoft.Authorization/*/read', 'Microsoft.KeyVault/*/read'],
    notActions: [],
    dataActions: ['Microsoft.KeyVault/vaults/secrets/*'],
  },
  keyVaultReader: {
    name: 'Key Vault Reader',
    id: '21090545-7ca7-4776-b22c-e363652d74d2',
    plane: 'data',
    actions: ['Microsoft.Authorization/*/read', 'Microsoft.KeyVault/*/read'],
    notActions: [],
    dataActions: ['Microsoft.KeyVault/vaults/*/read', 'Microsoft.KeyVault/vaults/secrets/readMetadata/action'],
  },
  keyVaultAdministrator: {
    name: 'Key Vault Administrator',
    id: '00482a5a-887f-4fb3-b363-3b7fe8e74483',
    plane: 'data',
    actions: ['Microsoft.Authorization/*/read', 'Microsoft.KeyVault/*/read'],
    notActions: [],
    dataActions: ['Microsoft.KeyVault/vaults/*'],
  },
  storageBlobDataReader: {
    name: 'Storage Blob Data Reader',
    id: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
    plane: 'data',
    actions: ['Microsoft.Storage/storageAccounts/blobServices/containers/read'],
    notActions: [],
    dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'],
  },
  storageBlobDataContributor: {
    name: 'Storage Blob Data Contributor',
    id: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
    plane: 'data',
    actions: ['Microsoft.Storage/storageAccounts/blobServices/containers/*'],
    notActions: [],
    dataActions: [
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write',
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete',
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action',
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action',
    ],
  },
  storageBlobDataOwner: {
    name: 'Storage Blob Data Owner',
    id: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
    plane: 'data',
    actions: ['Microsoft.Storage/storageAccounts/blobServices/containers/*'],
    notActions: [],
    dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*'],
  },
  storageQueueDataReader: {
    name: 'Storage Queue Data Reader',
    id: '19e7f393-937e-4f77-808e-94535e297925',
    plane: 'data',
    actions: ['Microsoft.Storage/storageAccounts/queueServices/queues/read'],
    notActions: [],
    dataActions: ['Microsoft.Storage/storageAccounts/queueServices/queues/messages/read'],
  },
  // Not diagnosed: infra/ grants it to the host identity so telemetry reaches an Application Insights component with
  // local auth off (Azure built-in roles, Monitor section).
  monitoringMetricsPublisher: {
    name: 'Monitoring Metrics Publisher',
    id: '3913510d-42f4-4e42-8a64-420c390055eb',
    plane: 'data',
    actions: ['Microsoft.Insights/Register/Action', 'Microsoft.Support/*', 'Microsoft.Resources/subscriptions/resourceGroups/read'],
    notActions: [],
    dataActions: ['Microsoft.Insights/Metrics/Write', 'Microsoft.Insights/Telemetry/Write'],
  },
  reader: {
    name: 'Reader',
    id: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
    plane: 'control',
    actions: ['*/read'],
    notActions: [],
    dataActions: [],
  },
  contributor: {
    name: 'Contributor',
    id: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
    plane: 'control',
    actions: ['*'],
    notActions: [
      'Microsoft.Authorization/*/Delete',
      'Microsoft.Authorization/*/Write',
      'Microsoft.Authorization/elevateAccess/Action',
    ],
    dataActions: [],
  },
  owner: {
    name: 'Owner',
    id: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
    plane: 'control',
    actions: ['*'],
    notActions: [],
    dataActions: [],
  },
  // Not an Azure role: SQL's fixed database role that reads every table (granted with T-SQL `ALTER ROLE … ADD MEMBER` in
  // the database, never by ARM), so its id is its name — it has no GUID. Least for a workload that reads.
  // https://learn.microsoft.com/sql/relational-databases/security/authentication-access/database-level-roles
  sqlDbDataReader: {
    name: 'db_datareader',
    id: 'db_datareader',
    plane: 'data',
    actions: [],
    notActions: [],
    dataActions: [],
  },
} as const satisfies Record<string, BuiltInRole>;

export type RoleKey = keyof typeof ROLES;
export const ALL_ROLES: readonly BuiltInRole[] = Object.values(ROLES);

export function roleById(id: string): BuiltInRole | undefined {
  const guid = id.split('/').pop()!.toLowerCase();
  return ALL_ROLES.find((r) => r.id === guid);
}

/** Azure's permission pattern match: `*` spans any characters, case-insensitive (as ARM evaluates it). */
export function permissionMatches(pattern: string, operation: string): boolean {
  const re = new RegExp(
    '^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*') + '$',
    'i',
  );
  return re.test(operation);
}

/** Whether a role grants a control-plane action (honouring notActions). */
export function grantsAction(role: BuiltInRole, action: string): boolean {
  return role.actions.some((a) => permissionMatches(a, action)) && !role.notActions.some((n) => permissionMatches(n, action));
}

/** Whether a role grants a data-plane action. */
export function grantsDataAction(role: BuiltInRole, dataAction: string): boolean {
  return role.dataActions.some((a) => permissionMatches(a, dataAction));
}

/** ARM scope inheritance: an assignment at `scope` applies to `resourceId` (same id, or an ancestor at a path boundary). */
export function scopeCovers(scope: string, resourceId: string): boolean {
  const s = scope.replace(/\/+$/, '').toLowerCase();
  const r = resourceId.replace(/\/+$/, '').toLowerCase();
  return s === '' || r === s || r.startsWith(`${s}/`);
}
