// The Function App: Linux, Node 22, Flex Consumption (or Linux Consumption where Flex is not offered), host storage
// and deployment package reached with the host identity, the diagnosed identity attached beside it.
param name string
param planName string
param location string
param tags object

@allowed([
  'FlexConsumption'
  'Consumption'
])
param hostingPlan string

@description('Node.js major version. Node 20 is past end of life on Azure Functions.')
param nodeVersion string

@description('Blob endpoint of the host storage account (AzureWebJobsStorage and the package container).')
param storageBlobEndpoint string
param packageContainerName string

@description('User-assigned identity of the host: storage, package, nothing else.')
param hostIdentityId string
param hostIdentityClientId string

@description('User-assigned identity the diagnose runs as (AZURE_CLIENT_ID in appSettings).')
param diagnosedIdentityId string

param applicationInsightsName string

@description('The service\'s own settings (names from AppSettingsSchema in src/config.ts).')
param appSettings object

@description('Value of the azd-service-name tag: the service name in azure.yaml.')
param serviceName string

@description('Subnet (delegated to Microsoft.App/environments) for outbound virtual network integration; empty: none.')
param virtualNetworkSubnetId string = ''

var isFlex = hostingPlan == 'FlexConsumption'
// Consumption runs the zip from this blob (there is no Azure Files content share: it would need a shared key).
var packageUrl = '${storageBlobEndpoint}${packageContainerName}/identity-doctor.zip'

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

var planSkus = {
  FlexConsumption: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  Consumption: {
    name: 'Y1'
    tier: 'Dynamic'
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: planSkus[hostingPlan]
  properties: {
    reserved: true // Linux
  }
}

// Flex Consumption takes its runtime and package location here, and refuses the app settings and linuxFxVersion
// that Consumption needs for the same purpose.
var flexConfig = {
  functionAppConfig: {
    deployment: {
      storage: {
        type: 'blobContainer'
        value: '${storageBlobEndpoint}${packageContainerName}'
        authentication: {
          type: 'UserAssignedIdentity'
          userAssignedIdentityResourceId: hostIdentityId
        }
      }
    }
    scaleAndConcurrency: {
      instanceMemoryMB: 2048
      maximumInstanceCount: 40 // the smallest ceiling Flex accepts: a diagnose is never a load
    }
    runtime: {
      name: 'node'
      version: nodeVersion
    }
  }
}

// Every outbound call goes through the subnet, so the virtual network's private DNS zones and routes apply to the
// diagnose as they do to the workload. Inbound stays public: pipelines and the availability test call it.
var vnetConfig = empty(virtualNetworkSubnetId) ? {} : {
  virtualNetworkSubnetId: virtualNetworkSubnetId
  vnetRouteAllEnabled: true
}

var secureSiteConfig = {
  minTlsVersion: '1.2'
  scmMinTlsVersion: '1.2'
  ftpsState: 'Disabled'
  http20Enabled: true
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${hostIdentityId}': {}
      '${diagnosedIdentityId}': {}
    }
  }
  properties: union(
    {
      serverFarmId: plan.id
      httpsOnly: true
      clientAffinityEnabled: false
      siteConfig: union(secureSiteConfig, isFlex ? {} : { linuxFxVersion: 'Node|${nodeVersion}' })
    },
    isFlex ? flexConfig : {},
    vnetConfig
  )
}

// Deployments authenticate with Microsoft Entra ID (azd, az); basic-auth publishing stays off on both endpoints.
resource basicPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = [for policy in ['ftp', 'scm']: {
  parent: site
  name: policy
  properties: {
    allow: false
  }
}]

// Host storage by identity: the host's identity, never a connection string (AzureWebJobsStorage__credential).
var hostStorageSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: hostIdentityClientId
  AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  // The component refuses local auth: sign in as the host identity (Monitoring Metrics Publisher on it, main.bicep).
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${hostIdentityClientId}'
}

var consumptionSettings = {
  FUNCTIONS_EXTENSION_VERSION: '~4'
  FUNCTIONS_WORKER_RUNTIME: 'node'
  WEBSITE_RUN_FROM_PACKAGE: packageUrl
  WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID: hostIdentityId
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union(appSettings, hostStorageSettings, isFlex ? {} : consumptionSettings)
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
@description('Where a Consumption app expects its package (empty on Flex Consumption, where azd deploys it).')
output packageUrl string = isFlex ? '' : packageUrl
