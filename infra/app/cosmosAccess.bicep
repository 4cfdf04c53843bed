// One Cosmos DB SQL role assignment for one identity on one scope of one account: Cosmos DB's own data-plane grant
// (Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments), which Azure role assignments (app/access.bicep) never
// replace — Owner, Contributor and the Cosmos DB control-plane roles carry no data actions. main.bicep calls it once
// per configured Cosmos DB dependency.
targetScope = 'resourceGroup'

@description('Object (principal) id of the identity that receives the role: not its client id.')
param principalId string

@description('GUID of a SQL role definition of the account, taken from the `roles` table in main.bicep (held to src/catalog/roles.ts by test/unit/infra.test.ts).')
param roleDefinitionId string

@description('Name of the Cosmos DB account.')
param accountName string

@description('Account-relative scope: /, /dbs/<db> or /dbs/<db>/colls/<container>.')
param sqlScope string

resource account 'Microsoft.DocumentDB/databaseAccounts@2023-04-15' existing = {
  name: accountName
}

// Deterministic name (account, principal, role, scope): a redeploy finds its own assignment.
resource sqlAssignment 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2023-04-15' = {
  parent: account
  name: guid(account.id, principalId, roleDefinitionId, sqlScope)
  properties: {
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${roleDefinitionId}'
    principalId: principalId
    scope: '${account.id}${sqlScope}'
  }
}

output scopeId string = '${account.id}${sqlScope}'
