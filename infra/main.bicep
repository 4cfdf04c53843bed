// Identity Doctor on Azure Functions, in one resource group: `azd up`, or `az deployment group create` (infra/README.md).
//
// Two user-assigned identities are attached to the app, on purpose:
// - the host identity reaches the app's own storage (AzureWebJobsStorage, the package) and nothing else;
// - the diagnosed identity is what the diagnose runs as (AZURE_CLIENT_ID). It is either created here and granted the
//   least role each configured dependency needs, or it is the workload's existing identity ("alongside" mode), which
//   is granted nothing: the point is to see what the workload itself can reach.
// So no role the host needs can make a dependency look authorized, and the workload never gains a role from this.
targetScope = 'resourceGroup'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment: seeds every resource name and tags every resource.')
param environmentName string

@description('Region of the resources created here (default: the resource group\'s). Flex Consumption regions: az functionapp list-flexconsumption-locations.')
param location string = resourceGroup().location

@description('FlexConsumption, or Consumption (Linux) in regions without Flex Consumption. A Consumption app runs its package from blob storage, uploaded by hand (infra/README.md).')
@allowed([
  'FlexConsumption'
  'Consumption'
])
param hostingPlan string = 'FlexConsumption'

@description('"Alongside" mode: name of the workload\'s existing user-assigned identity. The diagnose runs as it and the deployment grants it nothing. Empty: a new identity is created and granted the least role per dependency.')
param workloadIdentityName string = ''

@description('Resource group of workloadIdentityName (default: this one).')
param workloadIdentityResourceGroup string = ''

@description('Key Vault secret to read, by ARM id: /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.KeyVault/vaults/<vault>/secrets/<name>. Grants Key Vault Secrets User on the vault.')
param keyVaultSecretResourceId string = ''

@description('Blob container to read, by ARM id: /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Storage/storageAccounts/<account>/blobServices/default/containers/<name>. Grants Storage Blob Data Reader on the account.')
param storageContainerResourceId string = ''

@description('A blob in that container whose properties to read; empty: list the container\'s first page instead.')
param storageBlobName string = ''

@description('Resource group whose role assignments to read, by ARM id: /subscriptions/<sub>/resourceGroups/<rg>. Grants Reader on it.')
param armScopeResourceId string = ''

@description('App Configuration store to read, by ARM id: /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.AppConfiguration/configurationStores/<store>. Grants App Configuration Data Reader on the store.')
param appConfigurationStoreResourceId string = ''

@description('The key to read in that store (with "*" or ",": a key filter whose first page is listed); empty: list the store\'s first page.')
param appConfigurationKey string = ''

@description('The label of that key (or the label filter of the listing); empty: the key-value without a label (a listing: any label).')
param appConfigurationLabel string = ''
@description('Microsoft Graph path to GET, e.g. "/v1.0/users?$top=1" (starts with /v1.0/ or /beta/); empty: no Graph target. Its application permission is NOT granted here (infra/README.md, "Microsoft Graph").')
param graphPath string = ''

@description('The Microsoft Graph application permission graphPath needs, e.g. User.Read.All.')
param graphPermission string = 'User.Read.All'

@description('Container registry to read, by ARM id: /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.ContainerRegistry/registries/<name>. Grants AcrPull on the registry (a registry in "RBAC Registry + ABAC Repository Permissions" mode does not honour AcrPull: grant Container Registry Repository Reader, or Catalog Lister without a repository, yourself).')
param containerRegistryResourceId string = ''

@description('A repository in that registry whose properties to read; empty: list the first page of the catalog instead.')
param containerRegistryRepository string = ''

@description('Cosmos DB for NoSQL container to read, by ARM id: /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.DocumentDB/databaseAccounts/<account>/sqlDatabases/<db>/containers/<name>. Grants the Cosmos DB SQL role Cosmos DB Built-in Data Reader on the container (a sqlRoleAssignment, not an Azure role assignment).')
param cosmosContainerResourceId string = ''

@description('Azure OpenAI resource whose models to list, by ARM id: /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.CognitiveServices/accounts/<name>. Grants Cognitive Services OpenAI User on it. Its endpoint is taken as https://<name>.openai.azure.com (the custom subdomain the portal gives a new resource).')
param azureOpenAIResourceId string = ''

@description('Storage queue to peek (never dequeue), by ARM id: /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Storage/storageAccounts/<account>/queueServices/default/queues/<name>. Grants Storage Queue Data Reader on the account.')
param storageQueueResourceId string = ''

@description('Storage table to query one entity of, by ARM id: /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Storage/storageAccounts/<account>/tableServices/default/tables/<name> (or the account id alone: list its tables). Grants Storage Table Data Reader on the account.')
param storageTableResourceId string = ''

@description('Service Bus queue to peek, by ARM id: /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.ServiceBus/namespaces/<ns>/queues/<name>. Grants Azure Service Bus Data Receiver on the namespace.')
param serviceBusQueueResourceId string = ''

@description('Event hub to read, by ARM id: /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.EventHub/namespaces/<ns>/eventhubs/<name>. Grants Azure Event Hubs Data Receiver on the namespace.')
param eventHubResourceId string = ''

@description('Azure SQL database to log in to, by ARM id: /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Sql/servers/<server>/databases/<db>. Grants nothing: its grant is T-SQL the server\'s Entra admin runs (output DIAGNOSE_SQL_GRANT).')
param sqlDatabaseResourceId string = ''

@description('NCRONTAB schedule of the watch timer, e.g. "0 */5 * * * *"; empty: no watch (the alert rule reads what the watch sends).')
param watchSchedule string = ''

@description('Create the diagnose alert rule (infra/app/alerts.bicep).')
param enableAlerts bool = false

@description('Action group the alert notifies (resource id); empty: the alert fires without notifying anyone.')
param alertActionGroupId string = ''

@description('Private networks: integrate the app with a new virtual network and put its own storage behind private endpoints, so the diagnose reaches private-endpoint-only dependencies as the workload does (link their private DNS zones to it). Flex Consumption only: ignored on Consumption, which has no virtual network integration.')
param vnetEnabled bool = false

@description('Address space of that virtual network (a /16 to /23); its first /24 is the app subnet, the second holds the private endpoints.')
param vnetAddressPrefix string = '10.0.0.0/16'

@description('Standard availability test against /api/health with its alert: Flex Consumption and Consumption have no App Service Health check.')
param enableAvailabilityTest bool = true

// Node 20 is past end of life on Azure Functions.
var nodeVersion = '22'

var resourceToken = toLower(uniqueString(resourceGroup().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
// azd deploys the code to the resource tagged with the service name of azure.yaml.
var serviceName = 'api'
var packageContainerName = 'app-package'

// Built-in role ids, named after their keys in ROLES (src/catalog/roles.ts); test/unit/infra.test.ts holds every
// GUID in infra/ to that table. Only Storage Blob Data Owner is broad, and only on the app's own host storage: the
// Functions host keeps its keys and leases there.
var roles = {
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7'
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  appConfigurationDataReader: '516239f1-63e1-4d78-a4de-a74fb236a071'
  graphUserReadAll: 'df021288-bdef-4463-88db-98f22de89214'
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
  // A Cosmos DB SQL role definition (every account has it), granted by a sqlRoleAssignment, never a roleAssignment.
  cosmosDbBuiltInDataReader: '00000000-0000-0000-0000-000000000001'
  cognitiveServicesOpenAIUser: '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'
  storageQueueDataReader: '19e7f393-937e-4f77-808e-94535e297925'
  storageTableDataReader: '76199698-9eea-4c19-bc75-cec21354c6b6'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  eventHubsDataReceiver: 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'
  // Not an Azure role: SQL's fixed database role, granted in the database with T-SQL (DIAGNOSE_SQL_GRANT), never by ARM.
  sqlDbDataReader: 'db_datareader'
}

// App Configuration's host suffix per cloud (the appConfiguration kind's hosts in src/targets/appConfiguration/):
// environment() has no suffix for it.
var appConfigurationSuffixes = {
  AzureCloud: 'azconfig.io'
  AzureChinaCloud: 'azconfig.azure.cn'
  AzureUSGovernment: 'azconfig.azure.us'
}

// environment().name → the Cosmos DB host suffix (environment() has none): PE-DNS public DNS zone forwarders.
var cosmosDnsSuffixes = {
  AzureCloud: 'documents.azure.com'
  AzureChinaCloud: 'documents.azure.cn'
  AzureUSGovernment: 'documents.azure.us'
}

// environment().name → the Service Bus / Event Hubs namespace host suffix (environment() has no such suffix; the
// values are NAMESPACE_SUFFIXES of src/targets/messaging.ts).
var serviceBusSuffixes = {
  AzureCloud: 'servicebus.windows.net'
  AzureChinaCloud: 'servicebus.chinacloudapi.cn'
  AzureUSGovernment: 'servicebus.usgovcloudapi.net'
}

// environment().name → AZURE_CLOUD (the `azCloudName` → `name` pairs of CLOUDS in src/catalog/clouds.ts).
var azureCloudNames = {
  AzureCloud: 'AzurePublicCloud'
  AzureChinaCloud: 'AzureChinaCloud'
  AzureUSGovernment: 'AzureUSGovernment'
}

// Segment `index` of an ARM id split on "/", or "" when the id is shorter: an unconfigured dependency keeps every
// expression below evaluable (ARM evaluates variables whether or not they are used).
func idSegment(id string, index int) string => length(split(id, '/')) > index ? split(id, '/')[index] : ''

// The first `count` segments of an ARM id: the vault of a secret id, the account of a container id.
func idPrefix(id string, count int) string => join(take(split(id, '/'), count), '/')

// Azure OpenAI custom subdomains per cloud (environment() has no suffix for them; src/targets/azureOpenAI/ lists the same).
var openAiSuffixes = {
  AzureCloud: 'openai.azure.com'
  AzureChinaCloud: 'openai.azure.cn'
  AzureUSGovernment: 'openai.azure.us'
}

// One row per kind of dependency: the DIAGNOSE_TARGETS entry (shaped like its kind's schema, src/targets/<kind>/), the least
// role its probe needs (its kind's operation, listed in src/targets/registry.ts) and the scope to grant it on. Adding a kind is one
// row here and one test fixture, never another copy of the grant.
var dependencies = [
  {
    configured: !empty(keyVaultSecretResourceId)
    roleDefinitionId: roles.keyVaultSecretsUser
    scope: {
      subscriptionId: idSegment(keyVaultSecretResourceId, 2)
      resourceGroup: idSegment(keyVaultSecretResourceId, 4)
      kind: 'vault'
      name: idSegment(keyVaultSecretResourceId, 8)
    }
    target: {
      name: 'secrets'
      kind: 'keyVaultSecret'
      vaultUrl: 'https://${idSegment(keyVaultSecretResourceId, 8)}${environment().suffixes.keyvaultDns}'
      secretName: idSegment(keyVaultSecretResourceId, 10)
      resourceId: idPrefix(keyVaultSecretResourceId, 9)
    }
  }
  {
    configured: !empty(storageContainerResourceId)
    roleDefinitionId: roles.storageBlobDataReader
    scope: {
      subscriptionId: idSegment(storageContainerResourceId, 2)
      resourceGroup: idSegment(storageContainerResourceId, 4)
      kind: 'storageAccount'
      name: idSegment(storageContainerResourceId, 8)
    }
    // blobName must be absent, not empty, when no blob is named: the service refuses an empty one.
    target: union(
      {
        name: 'blobs'
        kind: 'storageBlob'
        accountUrl: 'https://${idSegment(storageContainerResourceId, 8)}.blob.${environment().suffixes.storage}'
        container: idSegment(storageContainerResourceId, 12)
        resourceId: idPrefix(storageContainerResourceId, 9)
      },
      empty(storageBlobName) ? {} : { blobName: storageBlobName }
    )
  }
  {
    configured: !empty(armScopeResourceId)
    roleDefinitionId: roles.reader
    scope: {
      subscriptionId: idSegment(armScopeResourceId, 2)
      resourceGroup: idSegment(armScopeResourceId, 4)
      kind: 'resourceGroup'
      name: idSegment(armScopeResourceId, 4)
    }
    target: {
      name: 'arm'
      kind: 'armResource'
      resourceId: armScopeResourceId
    }
  }
  {
    configured: !empty(appConfigurationStoreResourceId)
    roleDefinitionId: roles.appConfigurationDataReader
    scope: {
      subscriptionId: idSegment(appConfigurationStoreResourceId, 2)
      resourceGroup: idSegment(appConfigurationStoreResourceId, 4)
      kind: 'configurationStore'
      name: idSegment(appConfigurationStoreResourceId, 8)
    }
    // key and label must be absent, not empty, when not set: the service refuses an empty key.
    target: union(
      {
        name: 'appconfig'
        kind: 'appConfiguration'
        endpoint: 'https://${idSegment(appConfigurationStoreResourceId, 8)}.${appConfigurationSuffixes[environment().name]}'
        resourceId: appConfigurationStoreResourceId
      },
      empty(appConfigurationKey) ? {} : { key: appConfigurationKey },
      empty(appConfigurationLabel) ? {} : { label: appConfigurationLabel }
    )
  }
  {
    configured: !empty(graphPath)
    // Not an Azure role: the default Graph application permission's app role id. ARM cannot assign a Graph app role, so
    // this row is never granted here (configuredDependencies leaves it out); infra/README.md has the `az rest` that does.
    roleDefinitionId: roles.graphUserReadAll
    scope: {
      subscriptionId: ''
      resourceGroup: ''
      kind: 'graph'
      name: ''
    }
    target: {
      name: 'graph'
      kind: 'microsoftGraph'
      path: graphPath
      permission: graphPermission
    }
  }
  {
    configured: !empty(containerRegistryResourceId)
    roleDefinitionId: roles.acrPull
    scope: {
      subscriptionId: idSegment(containerRegistryResourceId, 2)
      resourceGroup: idSegment(containerRegistryResourceId, 4)
      kind: 'containerRegistry'
      name: idSegment(containerRegistryResourceId, 8)
    }
    // repository must be absent, not empty, when none is named: the service refuses an empty one.
    target: union(
      {
        name: 'registry'
        kind: 'containerRegistry'
        endpoint: 'https://${idSegment(containerRegistryResourceId, 8)}${environment().suffixes.acrLoginServer}'
        resourceId: containerRegistryResourceId
      },
      empty(containerRegistryRepository) ? {} : { repository: containerRegistryRepository }
    )
  }
  // Cosmos DB grants data access in its own model: scope.kind 'cosmosAccount' rows go to app/cosmosAccess.bicep.
  {
    configured: !empty(cosmosContainerResourceId)
    roleDefinitionId: roles.cosmosDbBuiltInDataReader
    scope: {
      subscriptionId: idSegment(cosmosContainerResourceId, 2)
      resourceGroup: idSegment(cosmosContainerResourceId, 4)
      kind: 'cosmosAccount'
      name: idSegment(cosmosContainerResourceId, 8)
    }
    target: {
      name: 'cosmos'
      kind: 'cosmosDb'
      accountEndpoint: 'https://${idSegment(cosmosContainerResourceId, 8)}.${cosmosDnsSuffixes[environment().name]}'
      database: idSegment(cosmosContainerResourceId, 10)
      container: idSegment(cosmosContainerResourceId, 12)
      resourceId: idPrefix(cosmosContainerResourceId, 9)
    }
  }
  {
    configured: !empty(azureOpenAIResourceId)
    roleDefinitionId: roles.cognitiveServicesOpenAIUser
    scope: {
      subscriptionId: idSegment(azureOpenAIResourceId, 2)
      resourceGroup: idSegment(azureOpenAIResourceId, 4)
      kind: 'cognitiveServicesAccount'
      name: idSegment(azureOpenAIResourceId, 8)
    }
    target: {
      name: 'openai'
      kind: 'azureOpenAI'
      endpoint: 'https://${toLower(idSegment(azureOpenAIResourceId, 8))}.${openAiSuffixes[environment().name]}'
      resourceId: azureOpenAIResourceId
    }
  }
  {
    configured: !empty(storageQueueResourceId)
    roleDefinitionId: roles.storageQueueDataReader
    scope: {
      subscriptionId: idSegment(storageQueueResourceId, 2)
      resourceGroup: idSegment(storageQueueResourceId, 4)
      kind: 'storageAccount'
      name: idSegment(storageQueueResourceId, 8)
    }
    target: {
      name: 'queues'
      kind: 'storageQueue'
      accountUrl: 'https://${idSegment(storageQueueResourceId, 8)}.queue.${environment().suffixes.storage}'
      queueName: idSegment(storageQueueResourceId, 12)
      resourceId: idPrefix(storageQueueResourceId, 9)
    }
  }
  {
    configured: !empty(storageTableResourceId)
    roleDefinitionId: roles.storageTableDataReader
    scope: {
      subscriptionId: idSegment(storageTableResourceId, 2)
      resourceGroup: idSegment(storageTableResourceId, 4)
      kind: 'storageAccount'
      name: idSegment(storageTableResourceId, 8)
    }
    // tableName must be absent, not empty, when the id names the account alone: the probe then lists the tables.
    target: union(
      {
        name: 'tables'
        kind: 'storageTable'
        accountUrl: 'https://${idSegment(storageTableResourceId, 8)}.table.${environment().suffixes.storage}'
        resourceId: idPrefix(storageTableResourceId, 9)
      },
      empty(idSegment(storageTableResourceId, 12)) ? {} : { tableName: idSegment(storageTableResourceId, 12) }
    )
  }
  {
    configured: !empty(serviceBusQueueResourceId)
    roleDefinitionId: roles.serviceBusDataReceiver
    scope: {
      subscriptionId: idSegment(serviceBusQueueResourceId, 2)
      resourceGroup: idSegment(serviceBusQueueResourceId, 4)
      kind: 'serviceBusNamespace'
      name: idSegment(serviceBusQueueResourceId, 8)
    }
    target: {
      name: 'queue'
      kind: 'serviceBus'
      fullyQualifiedNamespace: '${idSegment(serviceBusQueueResourceId, 8)}.${serviceBusSuffixes[environment().name]}'
      queueName: idSegment(serviceBusQueueResourceId, 10)
      resourceId: idPrefix(serviceBusQueueResourceId, 9)
    }
  }
  {
    configured: !empty(eventHubResourceId)
    roleDefinitionId: roles.eventHubsDataReceiver
    scope: {
      subscriptionId: idSegment(eventHubResourceId, 2)
      resourceGroup: idSegment(eventHubResourceId, 4)
      kind: 'eventHubsNamespace'
      name: idSegment(eventHubResourceId, 8)
    }
    target: {
      name: 'events'
      kind: 'eventHubs'
      fullyQualifiedNamespace: '${idSegment(eventHubResourceId, 8)}.${serviceBusSuffixes[environment().name]}'
      eventHubName: idSegment(eventHubResourceId, 10)
      resourceId: idPrefix(eventHubResourceId, 9)
    }
  }
  {
    configured: !empty(sqlDatabaseResourceId)
    // A database user and its role are T-SQL the server's Microsoft Entra admin runs (output DIAGNOSE_SQL_GRANT): ARM
    // cannot grant them, so configuredDependencies (the role-assignment loop) leaves this row out.
    roleDefinitionId: roles.sqlDbDataReader
    scope: {
      subscriptionId: idSegment(sqlDatabaseResourceId, 2)
      resourceGroup: idSegment(sqlDatabaseResourceId, 4)
      kind: 'sqlServer'
      name: idSegment(sqlDatabaseResourceId, 8)
    }
    target: {
      name: 'sql'
      kind: 'azureSql'
      server: '${idSegment(sqlDatabaseResourceId, 8)}${environment().suffixes.sqlServerHostname}'
      database: idSegment(sqlDatabaseResourceId, 10)
      resourceId: idPrefix(sqlDatabaseResourceId, 9)
    }
  }
]

// Granted here (role assignments, Cosmos DB SQL role assignments): every configured row but Graph's (an app role
// assignment) and SQL's (a database role is no Azure role: that row is diagnosed, and its grant is the T-SQL of
// DIAGNOSE_SQL_GRANT).
var configuredDependencies = filter(dependencies, d => d.configured && d.scope.kind != 'graph' && d.roleDefinitionId != roles.sqlDbDataReader)
// Azure RBAC grants (app/access.bicep) and Cosmos DB SQL role assignments (app/cosmosAccess.bicep).
var rbacDependencies = filter(configuredDependencies, d => d.scope.kind != 'cosmosAccount')
var cosmosDependencies = filter(configuredDependencies, d => d.scope.kind == 'cosmosAccount')
// Linux Consumption has no virtual network integration: there the option does nothing (infra/README.md says so).
var useVnet = vnetEnabled && hostingPlan == 'FlexConsumption'
var diagnoseTargets = map(filter(dependencies, d => d.configured), d => d.target)
var diagnoseAsWorkload = !empty(workloadIdentityName)

resource hostIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-doctor-host-${resourceToken}'
  location: location
  tags: tags
}

resource doctorIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = if (!diagnoseAsWorkload) {
  name: 'id-doctor-${resourceToken}'
  location: location
  tags: tags
}

resource workloadIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = if (diagnoseAsWorkload) {
  name: workloadIdentityName
  scope: resourceGroup(empty(workloadIdentityResourceGroup) ? resourceGroup().name : workloadIdentityResourceGroup)
}

// Only the identity that exists is ever read: Bicep inlines these into one if(), and ARM evaluates only the branch taken.
var workloadIdentityFacts = {
  id: workloadIdentity.id
  clientId: workloadIdentity!.properties.clientId
  principalId: workloadIdentity!.properties.principalId
}
var doctorIdentityFacts = {
  id: doctorIdentity.id
  clientId: doctorIdentity!.properties.clientId
  principalId: doctorIdentity!.properties.principalId
}
var diagnosedIdentity = diagnoseAsWorkload ? workloadIdentityFacts : doctorIdentityFacts

module storage 'app/storage.bicep' = {
  name: 'doctor-storage-${resourceToken}'
  params: {
    name: 'stdoctor${resourceToken}'
    location: location
    tags: tags
    packageContainerName: packageContainerName
    privateOnly: useVnet
  }
}

module network 'app/network.bicep' = if (useVnet) {
  name: 'doctor-network-${resourceToken}'
  params: {
    name: 'vnet-doctor-${resourceToken}'
    location: location
    tags: tags
    addressPrefix: vnetAddressPrefix
    storageAccountName: storage.outputs.name
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'doctor-monitoring-${resourceToken}'
  params: {
    logAnalyticsName: 'log-doctor-${resourceToken}'
    applicationInsightsName: 'appi-doctor-${resourceToken}'
    location: location
    tags: tags
  }
}

module hostStorageAccess 'app/access.bicep' = {
  name: 'doctor-host-storage-${resourceToken}'
  params: {
    principalId: hostIdentity.properties.principalId
    roleDefinitionId: roles.storageBlobDataOwner
    scopeKind: 'storageAccount'
    scopeName: storage.outputs.name
  }
}

// Application Insights takes no instrumentation-key-only telemetry (disableLocalAuth): the host identity publishes
// with an Entra token, for the Functions host and the watch alike (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
module hostMonitoringAccess 'app/access.bicep' = {
  name: 'doctor-host-monitoring-${resourceToken}'
  params: {
    principalId: hostIdentity.properties.principalId
    roleDefinitionId: roles.monitoringMetricsPublisher
    scopeKind: 'applicationInsights'
    scopeName: monitoring.outputs.name
  }
}

// The least role per configured dependency, on the resource group that holds it (any subscription of the tenant).
// Alongside the workload nothing is granted: a missing role is exactly what the diagnose must be able to report.
module dependencyAccess 'app/access.bicep' = [for d in rbacDependencies: if (!diagnoseAsWorkload) {
  name: 'doctor-access-${d.target.name}-${resourceToken}'
  scope: resourceGroup(d.scope.subscriptionId, d.scope.resourceGroup)
  params: {
    principalId: diagnosedIdentity.principalId
    roleDefinitionId: d.roleDefinitionId
    scopeKind: d.scope.kind
    scopeName: d.scope.name
  }
}]

// Cosmos DB data access is a SQL role assignment on the account, scoped to the container (never an Azure role).
module dependencySqlAccess 'app/cosmosAccess.bicep' = [for d in cosmosDependencies: if (!diagnoseAsWorkload) {
  name: 'doctor-sql-access-${d.target.name}-${resourceToken}'
  scope: resourceGroup(d.scope.subscriptionId, d.scope.resourceGroup)
  params: {
    principalId: diagnosedIdentity.principalId
    roleDefinitionId: d.roleDefinitionId
    accountName: d.scope.name
    sqlScope: '/dbs/${d.target.database}/colls/${d.target.container}'
  }
}]

// The service's own settings: every name is a key of AppSettingsSchema (src/config.ts). The host's settings are
// added in app/function.bicep.
var diagnoseSettings = {
  DIAGNOSE_TARGETS: string(diagnoseTargets)
  AZURE_CLIENT_ID: diagnosedIdentity.clientId
  EXPECTED_PRINCIPAL_ID: diagnosedIdentity.principalId
  EXPECTED_TENANT_ID: tenant().tenantId
  AZURE_CLOUD: azureCloudNames[environment().name]
  DIAGNOSE_WATCH_SCHEDULE: watchSchedule
}

module app 'app/function.bicep' = {
  name: 'doctor-app-${resourceToken}'
  params: {
    name: 'func-doctor-${resourceToken}'
    planName: 'plan-doctor-${resourceToken}'
    location: location
    tags: tags
    hostingPlan: hostingPlan
    nodeVersion: nodeVersion
    storageBlobEndpoint: storage.outputs.blobEndpoint
    packageContainerName: packageContainerName
    hostIdentityId: hostIdentity.id
    hostIdentityClientId: hostIdentity.properties.clientId
    diagnosedIdentityId: diagnosedIdentity.id
    applicationInsightsName: monitoring.outputs.name
    appSettings: diagnoseSettings
    serviceName: serviceName
    virtualNetworkSubnetId: useVnet ? network!.outputs.appSubnetId : ''
  }
  // The host reads its storage and writes its telemetry from the start: grant first, start second.
  dependsOn: [
    hostStorageAccess
    hostMonitoringAccess
  ]
}

module availability 'app/availability.bicep' = if (enableAvailabilityTest) {
  name: 'doctor-availability-${resourceToken}'
  params: {
    name: 'avail-doctor-${resourceToken}'
    location: location
    tags: tags
    appInsightsId: monitoring.outputs.id
    healthUrl: 'https://${app.outputs.defaultHostName}/api/health'
    actionGroupId: alertActionGroupId
  }
}

module alerts 'app/alerts.bicep' = if (enableAlerts) {
  name: 'doctor-alerts-${resourceToken}'
  params: {
    name: 'alert-doctor-${resourceToken}'
    location: location
    appInsightsId: monitoring.outputs.id
    actionGroupId: alertActionGroupId
  }
}

// Container Apps option (docs/where-it-runs.md): the container image beside a workload on Container Apps, as the
// diagnosed identity, with health probes. Off unless an image is named.
@description('Container image to run as a Container App too (e.g. myregistry.azurecr.io/identity-doctor:0.1.0); empty: none.')
param containerAppImage string = ''

@description('Registry of containerAppImage, pulled with the host identity (grant it AcrPull there); empty: a public registry.')
param containerAppRegistryServer string = ''

@secure()
@description('Key the Container App requires on /api/diagnose; default: a new random one each deployment (az containerapp secret show).')
param containerAppApiKey string = newGuid()

module containerApp 'app/containerapp.bicep' = if (!empty(containerAppImage)) {
  name: 'doctor-containerapp-${resourceToken}'
  params: {
    name: 'ca-doctor-${resourceToken}'
    environmentName: 'cae-doctor-${resourceToken}'
    location: location
    tags: tags
    image: containerAppImage
    registryServer: containerAppRegistryServer
    hostIdentityId: hostIdentity.id
    diagnosedIdentityId: diagnosedIdentity.id
    logAnalyticsName: 'log-doctor-${resourceToken}'
    apiKey: containerAppApiKey
    appSettings: diagnoseSettings
  }
  dependsOn: [
    monitoring
  ]
}

output DIAGNOSE_CONTAINER_APP_URL string = empty(containerAppImage) ? '' : 'https://${containerApp!.outputs.fqdn}/api/diagnose'

// azd writes these into .azure/<env>/.env. The identity is named DIAGNOSE_IDENTITY_*, never AZURE_CLIENT_ID: a local
// Azure SDK credential would pick that name up and try to sign in as the app's identity.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_FUNCTION_APP_NAME string = app.outputs.name
// The app's default host name: with unique default host names it is not <name>.azurewebsites.net, so every URL
// below, and every pipeline, starts from this.
output AZURE_FUNCTION_APP_HOST_NAME string = app.outputs.defaultHostName
output DIAGNOSE_URL string = 'https://${app.outputs.defaultHostName}/api/diagnose'
output OPENAPI_URL string = 'https://${app.outputs.defaultHostName}/api/openapi.json'
output DIAGNOSE_IDENTITY_CLIENT_ID string = diagnosedIdentity.clientId
output DIAGNOSE_IDENTITY_PRINCIPAL_ID string = diagnosedIdentity.principalId
// The T-SQL the SQL server's Microsoft Entra admin runs in the database (sqlcmd -d <db> -Q …, or the portal's query
// editor): a database user for the diagnosed identity, named as the identity (user-assigned identity names hold no `]`).
var diagnosedIdentityName = last(split(diagnosedIdentity.id, '/'))
output DIAGNOSE_SQL_GRANT string = empty(sqlDatabaseResourceId) ? '' : 'CREATE USER [${diagnosedIdentityName}] FROM EXTERNAL PROVIDER; ALTER ROLE db_datareader ADD MEMBER [${diagnosedIdentityName}];'
output DIAGNOSE_TARGET_NAMES string = join(map(diagnoseTargets, t => t.name), ',')
output PACKAGE_URL string = app.outputs.packageUrl
