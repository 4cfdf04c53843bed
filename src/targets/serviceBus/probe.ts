import { ServiceBusClient } from '@azure/service-bus';
import { callFailureFromAmqpError } from '../../wire/callFailure';
import { amqpClientOptions, closeQuietly } from '../messagingClient';
import { guarded, type CallOutcome, type Probe } from '../probe';
import type { ServiceBusTarget } from './index';

/**
 * Receive (the default): peek one message from the queue or subscription — `peekMessages` goes over the entity's
 * `$management` link (com.microsoft:peek-message) and needs the Listen claim (Azure Service Bus Data Receiver); it
 * locks, settles and deletes nothing. Only the count is reported, never a body.
 *
 * Send (access "send" or "both"): open a sender link and read its maximum message size (`createMessageBatch`) —
 * Service Bus checks the Send claim when the link attaches (the put-token for the entity, then the attach is refused
 * with amqp:unauthorized-access "'Send' claim(s) are required": Azure/azure-service-bus-java#110), so the link opening
 * proves Send (Azure Service Bus Data Sender) without enqueuing anything. No message is ever sent.
 */
export const probeServiceBus: Probe<ServiceBusTarget> = (target, ctx) =>
  guarded(
    ctx.endpoint,
    ctx,
    async (): Promise<CallOutcome> => {
      const client = new ServiceBusClient(target.fullyQualifiedNamespace, ctx.credential, amqpClientOptions(target));
      try {
        const access = target.access ?? 'receive';
        const result: Record<string, string | number | boolean | null> = { access };
        if (access !== 'send') {
          const receiver = target.queueName
            ? client.createReceiver(target.queueName, { receiveMode: 'peekLock' })
            : client.createReceiver(target.topicName!, target.subscriptionName!, { receiveMode: 'peekLock' });
          const peeked = await receiver.peekMessages(1, { abortSignal: ctx.signal });
          result.peekable = true;
          result.messagesPeeked = peeked.length;
        }
        if (access !== 'receive') {
          const sender = client.createSender(target.queueName ?? target.topicName!);
          const batch = await sender.createMessageBatch({ abortSignal: ctx.signal });
          result.senderLinkOpened = true;
          result.maxMessageSizeInBytes = batch.maxSizeInBytes;
        }
        return { ok: true, result, correlation: {} };
      } finally {
        await closeQuietly(client);
      }
    },
    callFailureFromAmqpError,
  );
