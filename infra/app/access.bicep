// One role assignment for one identity on one scope: the only way this template grants anything. main.bicep calls it
// once per configured dependency (the least role its probe needs), once for the host storage and once for the host's
// telemetry (Application Insights).
targetScope = 'resourceGroup'

@description('Object id of the identity that receives the role.')
param principalId string

@description('GUID of a built-in role, taken from the `roles` table in main.bicep (held to src/catalog/roles.ts by test/unit/infra.test.ts).')
param roleDefinitionId string

@description('Kind of scope: the vault, the storage account, the Application Insights component, this resource group itself, the App Configuration store, the container registry, the Cognitive Services (Azure OpenAI) account, or a Service Bus / Event Hubs namespace.')
@allowed([
  'vault'
  'storageAccount'
  'resourceGroup'
  'configurationStore'
  'containerRegistry'
  'cognitiveServicesAccount'
  'serviceBusNamespace'
  'eventHubsNamespace'
  'applicationInsights'
])
param scopeKind string

@description('Name of the vault, storage account, component, configuration store, registry or Cognitive Services account; for a resource group, its own name.')
param scopeName string

// Declared for every kind but only referenced as the scope of the matching assignment: an `existing` reference is
// never read here, so the name of an unused kind costs nothing.
resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: scopeName
}

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: scopeName
}

resource component 'Microsoft.Insights/components@2020-02-02' existing = {
  name: scopeName
}

resource store 'Microsoft.AppConfiguration/configurationStores@2024-05-01' existing = {
  name: scopeName
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: scopeName
}

resource cognitiveAccount 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = {
  name: scopeName
}

resource serviceBusNamespace 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' existing = {
  name: scopeName
}

resource eventHubsNamespace 'Microsoft.EventHub/namespaces@2024-01-01' existing = {
  name: scopeName
}

var assignment = {
  roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionId)
  principalId: principalId
  // A managed identity is a service principal. Saying so skips the directory look-up that fails with
  // PrincipalNotFound while a just-created identity is still replicating.
  principalType: 'ServicePrincipal'
}

// Assignment names are deterministic (scope, principal, role), so a redeploy finds its own assignment instead of
// failing with RoleAssignmentExists.
resource onVault 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (scopeKind == 'vault') {
  name: guid(vault.id, principalId, roleDefinitionId)
  scope: vault
  properties: assignment
}

resource onAccount 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (scopeKind == 'storageAccount') {
  name: guid(account.id, principalId, roleDefinitionId)
  scope: account
  properties: assignment
}

resource onComponent 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (scopeKind == 'applicationInsights') {
  name: guid(component.id, principalId, roleDefinitionId)
  scope: component
  properties: assignment
}

resource onRegistry 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (scopeKind == 'containerRegistry') {
  name: guid(registry.id, principalId, roleDefinitionId)
  scope: registry
  properties: assignment
}

resource onCognitiveAccount 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (scopeKind == 'cognitiveServicesAccount') {
  name: guid(cognitiveAccount.id, principalId, roleDefinitionId)
  scope: cognitiveAccount
  properties: assignment
}

resource onResourceGroup 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (scopeKind == 'resourceGroup') {
  name: guid(resourceGroup().id, principalId, roleDefinitionId)
  properties: assignment
}

resource onStore 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (scopeKind == 'configurationStore') {
  name: guid(store.id, principalId, roleDefinitionId)
  scope: store
  properties: assignment
}

resource onServiceBusNamespace 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (scopeKind == 'serviceBusNamespace') {
  name: guid(serviceBusNamespace.id, principalId, roleDefinitionId)
  scope: serviceBusNamespace
  properties: assignment
}

resource onEventHubsNamespace 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (scopeKind == 'eventHubsNamespace') {
  name: guid(eventHubsNamespace.id, principalId, roleDefinitionId)
  scope: eventHubsNamespace
  properties: assignment
}

var scopeIds = {
  vault: vault.id
  storageAccount: account.id
  applicationInsights: component.id
  resourceGroup: resourceGroup().id
  configurationStore: store.id
  containerRegistry: registry.id
  cognitiveServicesAccount: cognitiveAccount.id
  serviceBusNamespace: serviceBusNamespace.id
  eventHubsNamespace: eventHubsNamespace.id
}
output scopeId string = scopeIds[scopeKind]
