import { EventHubConsumerClient, EventHubProducerClient, latestEventPosition } from '@azure/event-hubs';
import { callFailureFromAmqpError } from '../../wire/callFailure';
import { amqpClientOptions, closeQuietly } from '../messagingClient';
import { guarded, type CallOutcome, type Probe } from '../probe';
import type { EventHubsTarget } from './index';

/**
 * Open a receiver link on one partition from the latest event and close it at the first (empty) batch: the attach is
 * where Event Hubs checks Listen on the receive path itself ("'Listen' claim(s) are required … /consumergroups/$default/
 * partitions/<n>": Azure/azure-event-hubs-python#4). Starting at the latest event, nothing already there is read, and
 * no checkpoint store is involved.
 */
async function openReceiverLink(consumer: EventHubConsumerClient, partitionId: string, signal: AbortSignal): Promise<void> {
  let subscription: { close(): Promise<void> } | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const abort = () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
      if (signal.aborted) return abort();
      signal.addEventListener('abort', abort, { once: true });
      subscription = consumer.subscribe(
        partitionId,
        {
          // Called after the link attached and the wait ran out: the link is open (events, if any, are not looked at).
          processEvents: async () => resolve(),
          processError: async (err) => reject(err),
        },
        { startPosition: latestEventPosition, maxBatchSize: 1, maxWaitTimeInSeconds: 1 },
      );
    });
  } finally {
    await subscription?.close().catch(() => undefined);
  }
}

/**
 * Receive (the default): `getEventHubProperties` and `getPartitionProperties` of the first partition, over the hub's
 * `$management` link (READ com.microsoft:eventhub / com.microsoft:partition) — nothing is read from the stream and no
 * checkpoint is touched. Send (access "send" or "both"): open a producer link and read its maximum message size
 * (`createBatch`): the attach is where Event Hubs checks the Send claim (Azure Event Hubs Data Sender); no event is
 * sent. Only counts and flags are reported.
 */
export const probeEventHubs: Probe<EventHubsTarget> = (target, ctx) =>
  guarded(
    ctx.endpoint,
    ctx,
    async (): Promise<CallOutcome> => {
      const access = target.access ?? 'receive';
      const result: Record<string, string | number | boolean | null> = { access };
      const options = amqpClientOptions(target);
      if (access !== 'send') {
        const consumer = new EventHubConsumerClient(target.consumerGroup ?? '$Default', target.fullyQualifiedNamespace, target.eventHubName, ctx.credential, options);
        try {
          const hub = await consumer.getEventHubProperties({ abortSignal: ctx.signal });
          result.partitions = hub.partitionIds.length;
          const first = hub.partitionIds[0];
          if (first !== undefined) {
            const partition = await consumer.getPartitionProperties(first, { abortSignal: ctx.signal });
            result.partitionRead = first;
            result.partitionEmpty = partition.isEmpty;
            if (target.openReceiver) {
              await openReceiverLink(consumer, first, ctx.signal);
              result.receiverLinkOpened = true;
            }
          }
        } finally {
          await closeQuietly(consumer);
        }
      }
      if (access !== 'receive') {
        const producer = new EventHubProducerClient(target.fullyQualifiedNamespace, target.eventHubName, ctx.credential, options);
        try {
          const batch = await producer.createBatch({ abortSignal: ctx.signal });
          result.senderLinkOpened = true;
          result.maxMessageSizeInBytes = batch.maxSizeInBytes;
        } finally {
          await closeQuietly(producer);
        }
      }
      return { ok: true, result, correlation: {} };
    },
    callFailureFromAmqpError,
  );
