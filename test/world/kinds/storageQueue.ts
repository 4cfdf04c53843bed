import { accountOf, stageStorageCauses, storageAccountId, storageCases, xmlStorageError, type StorageCauseSpec } from './storageShared';
import type { KindWorld } from './types';

const QUEUE = 'jobs';
const SPEC: StorageCauseSpec = {
  prefix: 'cq',
  // A message the probe must never echo: only the count of what it peeked leaves it.
  contents: (name) => ({ containers: {}, queues: { [QUEUE]: [`job-payload-${name}`] } }),
  role: 'storageQueueDataReader',
  below: `/queueServices/default/queues/${QUEUE}`,
  conditionAttribute: 'Microsoft.Storage/storageAccounts/queueServices/queues:name',
  // Queues answer like blobs: XML, the code also in x-ms-error-code.
  error: xmlStorageError,
  network: 'firewall',
  // The control-plane trap: Contributor on the account holds no data action, so the peek is still refused.
  controlPlaneRole: 'contributor',
};

/** Queue Storage (test/world/storageFront.ts in front of Azurite's queue service): one account per cause. */
export const storageQueue: KindWorld = {
  kind: 'storageQueue',
  simulator: 'test/world/storageFront.ts',
  stage: (world) => stageStorageCauses(world, SPEC),
  cases(world) {
    const url = (account: string) => world.accountUrl(account, 'queue.core.windows.net');
    return storageCases(
      SPEC,
      'queue',
      (name, account, extra = {}) => ({ name, kind: 'storageQueue', accountUrl: url(account), queueName: QUEUE, resourceId: storageAccountId(account), ...extra }),
      {
        notFound: { queueName: 'nope' },
        unreachable: { name: 'queue-c-unreachable', kind: 'storageQueue', accountUrl: url(`nxdomain${accountOf(SPEC, 'ok')}`), queueName: QUEUE },
      },
    );
  },
  adHoc: (url) => ({ name: 'adhoc', kind: 'storageQueue', accountUrl: url, queueName: QUEUE }),
};
