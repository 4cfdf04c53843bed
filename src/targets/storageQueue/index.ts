import { z } from 'zod';
import { ROLES } from '../../catalog/roles';
import { comment } from '../../advice/shell';
import { baseFields, httpsUrl } from '../fields';
import type { TargetKind } from '../kind';
import { accountArg, storageFixes, storageKindCommon } from '../storageShared';

/**
 * A Storage queue's name: 3-63 lowercase letters, digits and "-", starting and ending with a letter or digit, no "--"
 * (https://learn.microsoft.com/rest/api/storageservices/naming-queues-and-metadata).
 */
const QUEUE_NAME = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;

/** One Storage queue: the probe peeks one message (never dequeues) and reports how many it saw, never their text. */
export const StorageQueueTargetSchema = z.object({
  ...baseFields,
  kind: z.literal('storageQueue'),
  accountUrl: httpsUrl('https://<account>.queue.core.windows.net'),
  queueName: z.string().regex(QUEUE_NAME, 'expected a queue name (3-63 lowercase letters, digits or "-", starting and ending with a letter or digit, no "--")'),
});
export type StorageQueueTarget = z.infer<typeof StorageQueueTargetSchema>;

const queueScope = (t: StorageQueueTarget) => `/queueServices/default/queues/${t.queueName}`;

/** What a consumer needs beyond this probe: it peeks (messages/read); a dequeue also needs messages/process/action. */
const DEQUEUE_NOTE =
  `The probe only peeks (Microsoft.Storage/storageAccounts/queueServices/queues/messages/read), so ${ROLES.storageQueueDataReader.name} is enough for it; ` +
  `a consumer that dequeues (receives and deletes) also needs messages/process/action: ${ROLES.storageQueueDataMessageProcessor.name}, ` +
  `or ${ROLES.storageQueueDataContributor.name} if it also sends or manages queues.`;

export const storageQueue: TargetKind<StorageQueueTarget, typeof StorageQueueTargetSchema> = {
  kind: 'storageQueue',
  schema: StorageQueueTargetSchema,
  nouns: { service: 'Queue Storage', short: 'Queue Storage', target: 'Storage queue', hosts: 'Queue Storage', resource: 'storage account', sibling: 'queue' },
  // Audiences: @azure/storage-queue 12.30.0 asks for StorageOAuthScopes = https://storage.azure.com/.default
  // (services-and-hosts.md §4). The error dialect is Storage's, in XML as for blobs.
  ...storageKindCommon('queue'),
  // QueueClient.peekMessages → GET /<queue>/messages?peekonly=true: Storage checks messages/read (Storage Queue Data
  // Reader; https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage "Peek or retrieve one or
  // more messages from a queue"). Peeking leaves the message's visibility untouched.
  operation: {
    description: 'peek messages (never dequeue)',
    plane: 'data',
    permission: 'Microsoft.Storage/storageAccounts/queueServices/queues/messages/read',
    leastRole: ROLES.storageQueueDataReader,
  },
  // A queue is the narrowest scope Storage evaluates a queue role at.
  scopes: { grant: queueScope, touched: queueScope },
  object: () => 'queue',
  explainAlso: {
    authorized: () => DEQUEUE_NOTE,
    role_missing: () => DEQUEUE_NOTE,
  },
  fixes: {
    resource_not_found: ({ target: t }) => [
      `az storage queue list --account-name ${accountArg(t.accountUrl)} --auth-mode login --query "[].name" -o tsv`,
      comment(`fix "queueName" of target "${t.name}", or create the queue`),
    ],
    ...storageFixes('queue'),
  },
  loadProbe: async () => (await import('./probe')).probeStorageQueue,
};
