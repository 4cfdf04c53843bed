// Application Insights (workspace-based) for the host's logs and the watch's telemetry.
param logAnalyticsName string
param applicationInsightsName string
param location string
param tags object

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    // Local (connection-string) ingestion stays on: the watch's OpenTelemetry exporter authenticates with
    // APPLICATIONINSIGHTS_CONNECTION_STRING alone. Turning it off would need a Monitoring Metrics Publisher grant.
    DisableLocalAuth: false
  }
}

output id string = appInsights.id
output name string = appInsights.name
