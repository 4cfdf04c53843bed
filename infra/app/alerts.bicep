// Identity Doctor: log alert rules over the watch's telemetry, with the queries of infra/alerts/*.kql.
//
// Off by default: deploy this module only when alerts are wanted (main.bicep guards it with a parameter). The rules
// only ever see data when the watch runs (DIAGNOSE_WATCH_SCHEDULE) and APPLICATIONINSIGHTS_CONNECTION_STRING points
// at the component given here. Scoped to the Application Insights component, the queries use its classic tables
// (customEvents); this works for workspace-based components too.
//
// Resource shape: Microsoft.Insights/scheduledQueryRules, API 2023-12-01 (GA), using only properties documented since
// 2021-08-01: kind LogAlert, scopes, evaluationFrequency, windowSize, overrideQueryTimeRange, criteria.allOf[] with
// query / timeAggregation / operator / threshold / dimensions / failingPeriods, actions.actionGroups, autoMitigate.

@description('Name of the "dependency not authorized" rule. The optional status-change rule is named "<name>-status-changed".')
param name string

@description('Region of the rules (usually the Application Insights component\'s).')
param location string

@description('Resource id of the Application Insights component the watch reports to.')
param appInsightsId string

@description('Action group to notify. Empty: the alert only shows in the portal.')
param actionGroupId string = ''

@description('Window in minutes: how far back each evaluation looks, and how often it runs (at most every 15 minutes). Keep it at least one watch period, so each dependency reports at least once per window.')
@allowed([5, 10, 15, 30, 45, 60, 120, 180, 240, 300, 360])
param windowMinutes int = 15

@description('Alert severity, 0 (critical) to 4 (verbose).')
@minValue(0)
@maxValue(4)
param severity int = 2

@description('Also alert on every status change (pass, warn, fail; recoveries included), not only on failures.')
param alertOnStatusChange bool = false

@description('False deploys the rules switched off.')
param enabled bool = true

param tags object = {}

// ISO 8601 durations per allowed window: the window itself, and three windows (the status-change query's look-back
// for each dependency's previous run).
var durations = {
  '5': { window: 'PT5M', lookback: 'PT15M' }
  '10': { window: 'PT10M', lookback: 'PT30M' }
  '15': { window: 'PT15M', lookback: 'PT45M' }
  '30': { window: 'PT30M', lookback: 'PT1H30M' }
  '45': { window: 'PT45M', lookback: 'PT2H15M' }
  '60': { window: 'PT1H', lookback: 'PT3H' }
  '120': { window: 'PT2H', lookback: 'PT6H' }
  '180': { window: 'PT3H', lookback: 'PT9H' }
  '240': { window: 'PT4H', lookback: 'PT12H' }
  '300': { window: 'PT5H', lookback: 'PT15H' }
  '360': { window: 'PT6H', lookback: 'PT18H' }
}
var window = durations[string(windowMinutes)].window
var lookback = durations[string(windowMinutes)].lookback
var evaluationFrequency = windowMinutes <= 15 ? window : 'PT15M'

// The .kql files are the single source (README shows them verbatim); only their window line is replaced.
var windowLine = 'let windowMinutes = 15;'
var notAuthorizedQuery = replace(loadTextContent('../alerts/not-authorized.kql'), windowLine, 'let windowMinutes = ${windowMinutes};')
var statusChangedQuery = replace(loadTextContent('../alerts/status-changed.kql'), windowLine, 'let windowMinutes = ${windowMinutes};')

var actions = empty(actionGroupId) ? {} : { actionGroups: [ actionGroupId ] }
// One alert per app and dependency, so a second failing dependency raises its own alert.
var perDependency = [
  { name: 'app', operator: 'Include', values: [ '*' ] }
  { name: 'target', operator: 'Include', values: [ '*' ] }
]

resource notAuthorized 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: name
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Identity Doctor: dependency not authorized'
    description: 'A dependency the managed identity could not use in the last ${windowMinutes} minutes (Identity Doctor watch). The alert payload carries the cause and the fix; GET /api/diagnose gives the full verdict.'
    severity: severity
    enabled: enabled
    scopes: [ appInsightsId ]
    evaluationFrequency: evaluationFrequency
    windowSize: window
    criteria: {
      allOf: [
        {
          query: notAuthorizedQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: perDependency
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    // Stateful: the alert resolves by itself once a window passes with the dependency authorized again.
    autoMitigate: true
    actions: actions
  }
}

resource statusChanged 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = if (alertOnStatusChange) {
  name: '${name}-status-changed'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Identity Doctor: dependency status changed'
    description: 'A dependency changed status (pass, warn, fail) in the last ${windowMinutes} minutes (Identity Doctor watch).'
    severity: severity
    enabled: enabled
    scopes: [ appInsightsId ]
    evaluationFrequency: evaluationFrequency
    windowSize: window
    // The previous run may lie before the window; the query itself keeps only changes inside it.
    overrideQueryTimeRange: lookback
    criteria: {
      allOf: [
        {
          query: statusChangedQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: perDependency
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    // A change is an event, not a state: nothing to resolve later.
    autoMitigate: false
    actions: actions
  }
}

output notAuthorizedRuleId string = notAuthorized.id
output statusChangedRuleId string = alertOnStatusChange ? statusChanged.id : ''
