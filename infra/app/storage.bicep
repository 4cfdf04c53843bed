// The Functions host's own storage account (AzureWebJobsStorage and the deployment package), reached by identity
// only: shared keys are off, so no connection string exists to leak.
param name string
param location string
param tags object

@description('Blob container that holds the deployment package.')
param packageContainerName string

@description('Reachable only through private endpoints (app/network.bicep): public network access off.')
param privateOnly bool = false

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: privateOnly ? 'Disabled' : 'Enabled'
    networkAcls: {
      // Without private networking the Consumption and Flex Consumption front ends reach it over public endpoints,
      // and identity is the gate; with it, only the private endpoints (and trusted Azure services) do.
      defaultAction: privateOnly ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }

  resource blobService 'blobServices' = {
    name: 'default'

    resource packages 'containers' = {
      name: packageContainerName
      properties: {
        publicAccess: 'None'
      }
    }
  }
}

output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
