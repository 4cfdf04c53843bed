import type { Fault } from '../model';
import { accountOf, stageStorageCauses, storageAccountId, storageCases, type StorageCauseSpec } from './storageShared';
import type { KindWorld } from './types';

const TABLE = 'orders';

/** A table error as Table Storage answers it: OData JSON, the code also in x-ms-error-code (Azure/Azurite src/table/errors/StorageError.ts). */
const tableError = (status: number, code: string, message: string, detail?: string): Fault => ({
  status,
  headers: { 'x-ms-error-code': code, 'content-type': 'application/json;odata=minimalmetadata;streaming=true;charset=utf-8' },
  body: JSON.stringify({ 'odata.error': { code, message: { lang: 'en-US', value: message }, ...(detail ? { AuthenticationErrorDetail: detail } : {}) } }),
});

const SPEC: StorageCauseSpec = {
  prefix: 'ctb',
  // Entity properties the probe must never echo: it asks for PartitionKey only, and reports a count.
  contents: (name) => ({ containers: {}, tables: { [TABLE]: [{ PartitionKey: 'p1', RowKey: 'r1', Customer: `customer-${name}` }] } }),
  role: 'storageTableDataReader',
  below: `/tableServices/default/tables/${TABLE}`,
  conditionAttribute: 'Microsoft.Storage/storageAccounts/tableServices/tables:name',
  error: tableError,
  // Public network access disabled answers as a firewall rule does: 403 AuthorizationFailure.
  network: 'private',
};

/** Table Storage (test/world/storageFront.ts in front of Azurite's table service): one account per cause. */
export const storageTable: KindWorld = {
  kind: 'storageTable',
  simulator: 'test/world/storageFront.ts',
  stage: (world) => stageStorageCauses(world, SPEC),
  cases(world) {
    const url = (account: string) => world.accountUrl(account, 'table.core.windows.net');
    return storageCases(
      SPEC,
      'table',
      (name, account, extra = {}) => ({ name, kind: 'storageTable', accountUrl: url(account), tableName: TABLE, resourceId: storageAccountId(account), ...extra }),
      {
        notFound: { tableName: 'nope' },
        unreachable: { name: 'table-c-unreachable', kind: 'storageTable', accountUrl: url(`nxdomain${accountOf(SPEC, 'ok')}`), tableName: TABLE },
        // With no table named the probe lists the account's tables: that request meets the disabled account.
        disabled: { tableName: undefined },
      },
    );
  },
  adHoc: (url) => ({ name: 'adhoc', kind: 'storageTable', accountUrl: url, tableName: TABLE }),
};
