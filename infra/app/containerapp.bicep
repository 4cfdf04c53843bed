// Identity Doctor as a Container App: the container image (Dockerfile) beside a workload on Container Apps, running
// as the diagnosed identity (the workload's own in "alongside" mode). main.bicep deploys it when containerAppImage is
// set. Container Apps serves the App Service-style identity endpoint (IDENTITY_ENDPOINT), and sets
// CONTAINER_APP_NAME, so verdicts say hostKind "containerApps".
param name string
param environmentName string
param location string
param tags object

@description('The image, e.g. myregistry.azurecr.io/identity-doctor:0.1.0 (docker build -t … . at the repository root).')
param image string

@description('Registry server of the image, pulled with the host identity (grant it AcrPull there); empty: a public image.')
param registryServer string = ''

@description('User-assigned identity for the image pull: never the diagnosed one, so no role it needs can make a dependency look authorized.')
param hostIdentityId string

@description('User-assigned identity the diagnose runs as (AZURE_CLIENT_ID in appSettings).')
param diagnosedIdentityId string

@description('Log Analytics workspace that receives the container logs.')
param logAnalyticsName string

@secure()
@description('The key /api/diagnose requires (x-functions-key header or ?code=): off Functions the server checks it itself.')
param apiKey string

@description('The service\'s own settings (names from AppSettingsSchema in src/config.ts).')
param appSettings object

// The port the image listens on (Dockerfile: ENV PORT=8080, HOST=0.0.0.0).
var port = 8080

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsName
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    // Logs go through diagnostic settings: no workspace shared key in the template.
    appLogsConfiguration: {
      destination: 'azure-monitor'
    }
  }
}

resource environmentLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: environment
  properties: {
    workspaceId: logs.id
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

// Liveness on /api/health/live. Readiness on the same route, not on /api/health: ingress sends nothing to a replica
// that is not ready, and /api/diagnose must stay reachable exactly when a dependency fails. Watch /api/health itself
// (an availability test, or the Kubernetes readiness probe in deploy/kubernetes) for dependency health.
var probes = [
  {
    type: 'Liveness'
    httpGet: {
      path: '/api/health/live'
      port: port
    }
    periodSeconds: 20
    timeoutSeconds: 3
  }
  {
    type: 'Readiness'
    httpGet: {
      path: '/api/health/live'
      port: port
    }
    periodSeconds: 10
    timeoutSeconds: 3
  }
]

var keySettings = [
  {
    name: 'DIAGNOSE_API_KEY'
    secretRef: 'diagnose-api-key'
  }
]

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${hostIdentityId}': {}
      '${diagnosedIdentityId}': {}
    }
  }
  properties: {
    managedEnvironmentId: environment.id
    configuration: {
      ingress: {
        external: true
        targetPort: port
        transport: 'http'
        allowInsecure: false
      }
      secrets: [
        {
          name: 'diagnose-api-key'
          value: apiKey
        }
      ]
      registries: empty(registryServer) ? [] : [
        {
          server: registryServer
          identity: hostIdentityId
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'identity-doctor'
          image: image
          resources: {
            cpu: json('0.25')
            memory: '0.5Gi'
          }
          env: concat(map(items(appSettings), s => { name: s.key, value: string(s.value) }), keySettings)
          probes: probes
        }
      ]
      scale: {
        minReplicas: 0
        maxReplicas: 1
      }
    }
  }
}

output name string = app.name
output fqdn string = app.properties.configuration.ingress.fqdn
