/**
 * The Cosmos DB data actions the probe exercises (COSMOS-RBAC: MicrosoftDocs/azure-databases-docs
 * articles/cosmos-db/how-to-setup-rbac.md, "Permission model"): database and container reads need readMetadata, the
 * point read items/read, a query executeQuery. Its look-up counts a SQL role as covering only when it grants all of them.
 */
export const READ_METADATA = 'Microsoft.DocumentDB/databaseAccounts/readMetadata';
export const READ_ITEM = 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/read';
export const EXECUTE_QUERY = 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/executeQuery';

export const NEEDED_WITH_ITEM = [READ_METADATA, READ_ITEM] as const;
export const NEEDED_WITH_QUERY = [READ_METADATA, EXECUTE_QUERY] as const;
