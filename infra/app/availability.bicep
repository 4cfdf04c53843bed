// A standard availability test against /api/health, with its metric alert. Flex Consumption and Consumption have no
// App Service Health check, so this is what notices that the identity lost a dependency when nobody calls the API.
param name string
param location string
param tags object

@description('The Application Insights component the results land in.')
param appInsightsId string

@description('The URL to test: https://<the app\'s default host name>/api/health (anonymous).')
param healthUrl string

@description('Action group the alert notifies (resource id); empty: the alert shows in the portal only.')
param actionGroupId string = ''

@description('Regions that must fail at once before the alert fires (one failing region is usually the network).')
param failedLocationCount int = 2

// Five of Azure Monitor's availability test locations, on three continents.
var testLocations = [
  'us-va-ash-azr' // East US
  'us-ca-sjc-azr' // West US
  'emea-nl-ams-azr' // West Europe
  'emea-gb-db3-azr' // North Europe
  'apac-sg-sin-azr' // Southeast Asia
]

resource webTest 'Microsoft.Insights/webtests@2022-06-15' = {
  name: name
  location: location
  // The portal lists a test under the component this hidden link names.
  tags: union(tags, { 'hidden-link:${appInsightsId}': 'Resource' })
  kind: 'standard'
  properties: {
    SyncedName: name
    Name: name
    Description: 'Identity Doctor: is every dependency authorized for the managed identity? (GET /api/health: 200 pass/warn, 503 fail)'
    Kind: 'standard'
    Enabled: true
    Frequency: 300
    Timeout: 30 // a cache miss runs a whole diagnose (DIAGNOSE_TIMEOUT_MS, 15 s by default)
    RetryEnabled: true
    Locations: [for l in testLocations: {
      Id: l
    }]
    Request: {
      RequestUrl: healthUrl
      HttpVerb: 'GET'
      ParseDependentRequests: false
    }
    ValidationRules: {
      ExpectedHttpStatusCode: 200
      SSLCheck: true
      SSLCertRemainingLifetimeCheck: 7
    }
  }
}

resource alert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${name}-failing'
  location: 'global'
  tags: tags
  properties: {
    description: 'Identity Doctor /api/health fails from ${failedLocationCount} or more regions: a dependency is not authorized (or the app is down).'
    severity: 1
    enabled: true
    scopes: [
      webTest.id
      appInsightsId
    ]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria'
      webTestId: webTest.id
      componentId: appInsightsId
      failedLocationCount: failedLocationCount
    }
    actions: empty(actionGroupId) ? [] : [
      {
        actionGroupId: actionGroupId
      }
    ]
  }
}

output webTestId string = webTest.id
output alertId string = alert.id
