import { EventHubConsumerClient, EventHubProducerClient } from '@azure/event-hubs';
import { callFailureFromAmqpError } from '../../wire/callFailure';
import { amqpClientOptions, closeQuietly } from '../messagingClient';
import { guarded, type CallOutcome, type Probe } from '../probe';
import type { EventHubsTarget } from './index';

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
