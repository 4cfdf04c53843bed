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
  // MicrosoftDocs/azure-docs articles/role-based-access-control/built-in-roles/integration.md ("App Configuration Data
  // Reader": actions none, dataActions configurationStores/*/read); the control-plane App Configuration roles carry none.
  appConfigurationDataReader: {
    name: 'App Configuration Data Reader',
    id: '516239f1-63e1-4d78-a4de-a74fb236a071',
    plane: 'data',
    actions: [],
    notActions: [],
    dataActions: ['Microsoft.AppConfiguration/configurationStores/*/read'],
  },
  // Not an Azure role: the Microsoft Graph application permission User.Read.All (an app role of Microsoft Graph's
  // service principal, granted by an app role assignment), the microsoftGraph kind's default least permission. Its
  // id from GRAPH-IDS (src/catalog/graphPermissions.ts holds the Graph permissions; the kind builds a target's own).
  graphUserReadAll: {
    name: 'User.Read.All',
    id: 'df021288-bdef-4463-88db-98f22de89214',
    plane: 'data',
    actions: [],
    notActions: [],
    dataActions: [],
  },
  // Container Registry (Azure built-in roles, Containers section:
  // https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/containers — MicrosoftDocs/azure-docs
  // articles/role-based-access-control/built-in-roles/containers.md). AcrPull's permission is an Action the registry
  // itself honours, and only in its "RBAC Registry Permissions" mode; the Repository roles carry data actions and are
  // what a registry in "RBAC Registry + ABAC Repository Permissions" mode honours instead
  // (MicrosoftDocs/azure-management-docs articles/container-registry/container-registry-rbac-abac-repository-permissions.md).
  acrPull: {
    name: 'AcrPull',
    id: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
    plane: 'control',
    actions: ['Microsoft.ContainerRegistry/registries/pull/read'],
    notActions: [],
    dataActions: [],
  },
  containerRegistryRepositoryReader: {
    name: 'Container Registry Repository Reader',
    id: 'b93aa761-3e63-49ed-ac28-beffa264f7ac',
    plane: 'data',
    actions: [],
    notActions: [],
    dataActions: [
      'Microsoft.ContainerRegistry/registries/repositories/metadata/read',
      'Microsoft.ContainerRegistry/registries/repositories/content/read',
    ],
  },
  containerRegistryRepositoryCatalogLister: {
    name: 'Container Registry Repository Catalog Lister',
    id: 'bfdb9389-c9a5-478a-bb2f-ba9ca092c3c7',
    plane: 'data',
    actions: [],
    notActions: [],
    dataActions: ['Microsoft.ContainerRegistry/registries/catalog/read'],
  },
  // Azure RBAC, control plane only: what people grant on a Cosmos DB account expecting data access (the trap). Built-in
  // roles page, Databases: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/databases
  cosmosDbAccountReader: {
    name: 'Cosmos DB Account Reader Role',
    id: 'fbdf93bf-df7d-467e-a4d2-9458aa1360c8',
    plane: 'control',
    actions: [
      'Microsoft.Authorization/*/read',
      'Microsoft.DocumentDB/*/read',
      'Microsoft.DocumentDB/databaseAccounts/readonlykeys/action',
      'Microsoft.Insights/MetricDefinitions/read',
      'Microsoft.Insights/Metrics/read',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      'Microsoft.Support/*',
    ],
    notActions: [],
    dataActions: [],
  },
  documentDbAccountContributor: {
    name: 'DocumentDB Account Contributor',
    id: '5bd9cd88-fe45-4216-938b-f97437e15450',
    plane: 'control',
    actions: [
      'Microsoft.Authorization/*/read',
      'Microsoft.DocumentDb/databaseAccounts/*',
      'Microsoft.Insights/alertRules/*',
      'Microsoft.Insights/diagnosticSettings/*',
      'Microsoft.Network/virtualNetworks/subnets/joinViaServiceEndpoint/action',
      'Microsoft.ResourceHealth/availabilityStatuses/read',
      'Microsoft.Resources/deployments/*',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      'Microsoft.Support/*',
      'Microsoft.Network/virtualNetworks/joinLoadBalancer/action',
    ],
    notActions: [],
    dataActions: [],
  },
  // NOT an Azure RBAC role: a Cosmos DB built-in SQL role definition (sqlRoleDefinitions/00000000-…-000000000001 of every
  // account), granted with `az cosmosdb sql role assignment create`, never `az role assignment create`.
  // https://learn.microsoft.com/azure/cosmos-db/how-to-setup-rbac ("Built-in role definitions"; shared/reference services-and-hosts.md §2.3)
  cosmosDbBuiltInDataReader: {
    name: 'Cosmos DB Built-in Data Reader',
    id: '00000000-0000-0000-0000-000000000001',
    plane: 'data',
    actions: [],
    notActions: [],
    dataActions: [
      'Microsoft.DocumentDB/databaseAccounts/readMetadata',
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/executeQuery',
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/readChangeFeed',
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/read',
    ],
  },
  // Also a Cosmos DB SQL role definition, not Azure RBAC (same source).
  cosmosDbBuiltInDataContributor: {
    name: 'Cosmos DB Built-in Data Contributor',
    id: '00000000-0000-0000-0000-000000000002',
    plane: 'data',
    actions: [],
    notActions: [],
    dataActions: [
      'Microsoft.DocumentDB/databaseAccounts/readMetadata',
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/*',
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/*',
    ],
  },
  // Azure OpenAI (azureOpenAI kind). Built-in roles page, AI + machine learning
  // (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/ai-machine-learning), as listed there.
  cognitiveServicesOpenAIUser: {
    name: 'Cognitive Services OpenAI User',
    id: '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd',
    plane: 'data',
    actions: ['Microsoft.CognitiveServices/*/read', 'Microsoft.Authorization/roleAssignments/read', 'Microsoft.Authorization/roleDefinitions/read'],
    notActions: [],
    dataActions: [
      'Microsoft.CognitiveServices/accounts/OpenAI/*/read',
      'Microsoft.CognitiveServices/accounts/OpenAI/engines/completions/action',
      'Microsoft.CognitiveServices/accounts/OpenAI/engines/search/action',
      'Microsoft.CognitiveServices/accounts/OpenAI/engines/generate/action',
      'Microsoft.CognitiveServices/accounts/OpenAI/deployments/audio/action',
      'Microsoft.CognitiveServices/accounts/OpenAI/deployments/search/action',
      'Microsoft.CognitiveServices/accounts/OpenAI/deployments/completions/action',
      'Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action',
      'Microsoft.CognitiveServices/accounts/OpenAI/deployments/extensions/chat/completions/action',
      'Microsoft.CognitiveServices/accounts/OpenAI/deployments/embeddings/action',
      'Microsoft.CognitiveServices/accounts/OpenAI/images/generations/action',
    ],
  },
  cognitiveServicesOpenAIContributor: {
    name: 'Cognitive Services OpenAI Contributor',
    id: 'a001fd3d-188f-4b5d-821b-7da978bf7442',
    plane: 'data',
    actions: [
      'Microsoft.CognitiveServices/*/read',
      'Microsoft.CognitiveServices/accounts/deployments/write',
      'Microsoft.CognitiveServices/accounts/deployments/delete',
      'Microsoft.CognitiveServices/accounts/raiPolicies/read',
      'Microsoft.CognitiveServices/accounts/raiPolicies/write',
      'Microsoft.CognitiveServices/accounts/raiPolicies/delete',
      'Microsoft.CognitiveServices/accounts/commitmentplans/read',
      'Microsoft.CognitiveServices/accounts/commitmentplans/write',
      'Microsoft.CognitiveServices/accounts/commitmentplans/delete',
      'Microsoft.Authorization/roleAssignments/read',
      'Microsoft.Authorization/roleDefinitions/read',
    ],
    notActions: [],
    dataActions: ['Microsoft.CognitiveServices/accounts/OpenAI/*'],
  },
  // The trap: it manages the account and its keys (control plane) and carries no data action at all.
  cognitiveServicesContributor: {
    name: 'Cognitive Services Contributor',
    id: '25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68',
    plane: 'control',
    actions: [
      'Microsoft.Authorization/*/read',
      'Microsoft.CognitiveServices/*',
      'Microsoft.Features/features/read',
      'Microsoft.Features/providers/features/read',
      'Microsoft.Features/providers/features/register/action',
      'Microsoft.Insights/alertRules/*',
      'Microsoft.Insights/diagnosticSettings/*',
      'Microsoft.Insights/logDefinitions/read',
      'Microsoft.Insights/metricdefinitions/read',
      'Microsoft.Insights/metrics/read',
      'Microsoft.ResourceHealth/availabilityStatuses/read',
      'Microsoft.Resources/deployments/*',
      'Microsoft.Resources/deployments/operations/read',
      'Microsoft.Resources/subscriptions/operationresults/read',
      'Microsoft.Resources/subscriptions/read',
      'Microsoft.Resources/subscriptions/resourcegroups/deployments/*',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      'Microsoft.Support/*',
    ],
    notActions: [],
    dataActions: [],
  },
  // Storage queues and tables (Azure built-in roles, Storage section: learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage).
  // The Message Processor and the Contributors are listed so a role look-up can tell what an identity already holds.
  storageQueueDataMessageProcessor: {
    name: 'Storage Queue Data Message Processor',
    id: '8a0f0c08-91a1-4084-bc3d-661d67233fed',
    plane: 'data',
    actions: [],
    notActions: [],
    dataActions: [
      'Microsoft.Storage/storageAccounts/queueServices/queues/messages/read',
      'Microsoft.Storage/storageAccounts/queueServices/queues/messages/process/action',
    ],
  },
  storageQueueDataContributor: {
    name: 'Storage Queue Data Contributor',
    id: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
    plane: 'data',
    actions: [
      'Microsoft.Storage/storageAccounts/queueServices/queues/delete',
      'Microsoft.Storage/storageAccounts/queueServices/queues/read',
      'Microsoft.Storage/storageAccounts/queueServices/queues/write',
    ],
    notActions: [],
    dataActions: [
      'Microsoft.Storage/storageAccounts/queueServices/queues/messages/delete',
      'Microsoft.Storage/storageAccounts/queueServices/queues/messages/read',
      'Microsoft.Storage/storageAccounts/queueServices/queues/messages/write',
      'Microsoft.Storage/storageAccounts/queueServices/queues/messages/process/action',
    ],
  },
  storageTableDataReader: {
    name: 'Storage Table Data Reader',
    id: '76199698-9eea-4c19-bc75-cec21354c6b6',
    plane: 'data',
    actions: ['Microsoft.Storage/storageAccounts/tableServices/tables/read'],
    notActions: [],
    dataActions: ['Microsoft.Storage/storageAccounts/tableServices/tables/entities/read'],
  },
  storageTableDataContributor: {
    name: 'Storage Table Data Contributor',
    id: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
    plane: 'data',
    actions: [
      'Microsoft.Storage/storageAccounts/tableServices/tables/read',
      'Microsoft.Storage/storageAccounts/tableServices/tables/write',
      'Microsoft.Storage/storageAccounts/tableServices/tables/delete',
    ],
    notActions: [],
    dataActions: [
      'Microsoft.Storage/storageAccounts/tableServices/tables/entities/read',
      'Microsoft.Storage/storageAccounts/tableServices/tables/entities/write',
      'Microsoft.Storage/storageAccounts/tableServices/tables/entities/delete',
      'Microsoft.Storage/storageAccounts/tableServices/tables/entities/add/action',
      'Microsoft.Storage/storageAccounts/tableServices/tables/entities/update/action',
    ],
  },
  // Service Bus and Event Hubs data roles: MicrosoftDocs/azure-docs articles/role-based-access-control/built-in-roles/
  // integration.md (Service Bus) and analytics.md (Event Hubs); shared/reference/services-and-hosts.md §9.2, §10.2.
  serviceBusDataReceiver: {
    name: 'Azure Service Bus Data Receiver',
    id: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
    plane: 'data',
    actions: ['Microsoft.ServiceBus/*/queues/read', 'Microsoft.ServiceBus/*/topics/read', 'Microsoft.ServiceBus/*/topics/subscriptions/read'],
    notActions: [],
    dataActions: ['Microsoft.ServiceBus/*/receive/action'],
  },
  serviceBusDataSender: {
    name: 'Azure Service Bus Data Sender',
    id: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39',
    plane: 'data',
    actions: ['Microsoft.ServiceBus/*/queues/read', 'Microsoft.ServiceBus/*/topics/read', 'Microsoft.ServiceBus/*/topics/subscriptions/read'],
    notActions: [],
    dataActions: ['Microsoft.ServiceBus/*/send/action'],
  },
  serviceBusDataOwner: {
    name: 'Azure Service Bus Data Owner',
    id: '090c5cfd-751d-490a-894a-3ce6f1109419',
    plane: 'data',
    actions: ['Microsoft.ServiceBus/*'],
    notActions: [],
    dataActions: ['Microsoft.ServiceBus/*'],
  },
  eventHubsDataReceiver: {
    name: 'Azure Event Hubs Data Receiver',
    id: 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde',
    plane: 'data',
    actions: ['Microsoft.EventHub/*/eventhubs/consumergroups/read'],
    notActions: [],
    dataActions: ['Microsoft.EventHub/*/receive/action'],
  },
  eventHubsDataSender: {
    name: 'Azure Event Hubs Data Sender',
    id: '2b629674-e913-4c01-ae53-ef4638d8f975',
    plane: 'data',
    actions: ['Microsoft.EventHub/*/eventhubs/read'],
    notActions: [],
    dataActions: ['Microsoft.EventHub/*/send/action'],
  },
  eventHubsDataOwner: {
    name: 'Azure Event Hubs Data Owner',
    id: 'f526a384-b230-433a-b45c-95f59c4a2dec',
    plane: 'data',
    actions: ['Microsoft.EventHub/*'],
    notActions: [],
    dataActions: ['Microsoft.EventHub/*'],
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
