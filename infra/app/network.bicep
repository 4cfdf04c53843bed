// Private networking for a standalone doctor (main.bicep's vnetEnabled): a virtual network whose `app` subnet carries
// the Function App's outbound virtual network integration, and private endpoints of the app's own storage in the
// `private-endpoints` subnet, with the private DNS zones that make its names resolve to them. The doctor then reaches
// private-endpoint-only dependencies the way the workload does, once their DNS zones are linked to this network.
param name string
param location string
param tags object

@description('Address space of the virtual network; the two subnets take its first two /24s.')
param addressPrefix string

@description('The app\'s own storage account: blob, queue and table get a private endpoint each.')
param storageAccountName string

// Flex Consumption integrates with a subnet delegated to Microsoft.App/environments.
var appSubnetDelegation = 'Microsoft.App/environments'
// The host storage services the Functions host uses; one private endpoint and one DNS zone each, from one loop.
var storageServices = [
  'blob'
  'queue'
  'table'
]

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: cidrSubnet(addressPrefix, 24, 0)
          delegations: [
            {
              name: 'functions'
              properties: {
                serviceName: appSubnetDelegation
              }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: cidrSubnet(addressPrefix, 24, 1)
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [for service in storageServices: {
  name: 'privatelink.${service}.${environment().suffixes.storage}'
  location: 'global'
  tags: tags
}]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [for (service, i) in storageServices: {
  parent: zones[i]
  name: '${name}-link'
  location: 'global'
  tags: tags
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnet.id
    }
  }
}]

resource endpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [for service in storageServices: {
  name: 'pe-${storageAccountName}-${service}'
  location: location
  tags: tags
  properties: {
    subnet: {
      id: vnet.properties.subnets[1].id
    }
    privateLinkServiceConnections: [
      {
        name: '${service}-connection'
        properties: {
          privateLinkServiceId: account.id
          groupIds: [
            service
          ]
        }
      }
    ]
  }
}]

resource endpointDns 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [for (service, i) in storageServices: {
  parent: endpoints[i]
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: service
        properties: {
          privateDnsZoneId: zones[i].id
        }
      }
    ]
  }
}]

output id string = vnet.id
@description('The subnet the Function App integrates with (virtualNetworkSubnetId).')
output appSubnetId string = vnet.properties.subnets[0].id
