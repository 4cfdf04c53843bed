import { stageStorageCauses, storageAccountId, storageCases, xmlStorageError, type StorageCauseSpec } from './storageShared';
import type { KindWorld } from './types';

const SPEC: StorageCauseSpec = {
  prefix: 'cst',
  contents: () => ({ containers: { data: { 'hello.txt': 'hello' } } }),
  role: 'storageBlobDataReader',
  below: '/blobServices/default/containers/data',
  conditionAttribute: 'Microsoft.Storage/storageAccounts/blobServices/containers:name',
  error: xmlStorageError,
  network: 'firewall',
};

/** Blob Storage (test/world/storageFront.ts in front of Azurite): one account per cause. */
export const storageBlob: KindWorld = {
  kind: 'storageBlob',
  simulator: 'test/world/storageFront.ts',
  stage: (world) => stageStorageCauses(world, SPEC),
  cases: (world) =>
    storageCases(
      SPEC,
      'blob',
      (name, account, extra = {}) => ({ name, kind: 'storageBlob', accountUrl: world.accountUrl(account), container: 'data', blobName: 'hello.txt', resourceId: storageAccountId(account), ...extra }),
      {
        notFound: { container: 'nope', blobName: undefined },
        unreachable: { name: 'blob-c-unreachable', kind: 'storageBlob', accountUrl: world.accountUrl('nxdomaincst'), container: 'data' },
      },
    ),
  adHoc: (url) => ({ name: 'adhoc', kind: 'storageBlob', accountUrl: url, container: 'data' }),
};
