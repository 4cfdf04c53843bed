import { z } from 'zod';
import { ROLES } from '../../catalog/roles';
import { comment } from '../../advice/shell';
import { baseFields, httpsUrl } from '../fields';
import type { TargetKind } from '../kind';
import { accountArg, storageFixes, storageKindCommon } from '../storageShared';

/**
 * A table's name: 3-63 letters and digits, starting with a letter; "tables" is reserved
 * (https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model#table-names).
 */
const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;

/**
 * A Storage table (or, with no table named, the account's table list): the probe queries one entity — only its
 * PartitionKey is asked for, and only the count is reported — or pulls one page of the table list.
 */
export const StorageTableTargetSchema = z.object({
  ...baseFields,
  kind: z.literal('storageTable'),
  accountUrl: httpsUrl('https://<account>.table.core.windows.net'),
  tableName: z
    .string()
    .regex(TABLE_NAME, 'expected a table name (3-63 letters or digits, starting with a letter)')
    .refine((v) => v.toLowerCase() !== 'tables', 'expected a table name: "tables" is reserved')
    .optional(),
});
export type StorageTableTarget = z.infer<typeof StorageTableTargetSchema>;

/** A table is the narrowest scope a table role applies at; without one, the probe lists the account's tables. */
const tableScope = (t: StorageTableTarget) => (t.tableName ? `/tableServices/default/tables/${t.tableName}` : '');

export const storageTable: TargetKind<StorageTableTarget, typeof StorageTableTargetSchema> = {
  kind: 'storageTable',
  schema: StorageTableTargetSchema,
  nouns: { service: 'Table Storage', short: 'Table Storage', target: 'Storage table', hosts: 'Table Storage', resource: 'storage account', sibling: 'table' },
  // Audiences: @azure/data-tables 13.3.2 hard-codes STORAGE_SCOPE = https://storage.azure.com/.default for non-Cosmos
  // hosts (services-and-hosts.md §5). The error dialect is Storage's: the code in x-ms-error-code and in the JSON body
  // ({"odata.error":{"code":…}}, read by src/wire/callFailure.ts).
  ...storageKindCommon('table'),
  // TableClient.listEntities → GET /<table>()?$top=1 needs the data action tables/entities/read; with no table named,
  // TableServiceClient.listTables → GET /Tables?$top=1 needs tables/read. Storage Table Data Reader holds both
  // (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage: "Query table entities", "Query tables").
  operation: {
    description: 'query entities (or list tables)',
    plane: 'data',
    permission: 'Microsoft.Storage/storageAccounts/tableServices/tables/entities/read',
    leastRole: ROLES.storageTableDataReader,
  },
  scopes: { grant: tableScope, touched: tableScope },
  object: () => 'table',
  fixes: {
    resource_not_found: ({ target: t }) => [
      `az storage table list --account-name ${accountArg(t.accountUrl)} --auth-mode login --query "[].name" -o tsv`,
      comment(`fix "tableName" of target "${t.name}", or create the table`),
    ],
    ...storageFixes('table'),
  },
  loadProbe: async () => (await import('./probe')).probeStorageTable,
};
