import { newPipeline, QueueServiceClient } from '@azure/storage-queue';
import { boundedHttpClient } from '../../wire/boundedClient';
import { correlationFrom, guarded, type CallOutcome, type Probe } from '../probe';
import type { StorageQueueTarget } from './index';

/**
 * Peek one message — GET /<queue>/messages?peekonly=true&numofmessages=1, which needs the data action
 * .../queues/messages/read (Storage Queue Data Reader) and, unlike a dequeue, changes nothing: the message stays visible
 * to its consumers. Reports only how many messages the peek saw; their text is dropped on the spot.
 */
export const probeStorageQueue: Probe<StorageQueueTarget> = (target, ctx) =>
  guarded(target.accountUrl, ctx, async (): Promise<CallOutcome> => {
    // No retries: the first answer is the evidence.
    const pipeline = newPipeline(ctx.credential, { retryOptions: { maxTries: 1 } });
    // As for blobs (storageBlob/probe.ts): the storage pipeline takes only a v1 client in its options, and caches the v2
    // client it converts that into on the pipeline — so the capped client goes there (@azure/storage-queue Pipeline.js).
    (pipeline as unknown as { _coreHttpClient?: unknown })._coreHttpClient = boundedHttpClient(ctx.maxResponseBytes);
    const queue = new QueueServiceClient(target.accountUrl, pipeline).getQueueClient(target.queueName);
    const peeked = await queue.peekMessages({ numberOfMessages: 1, abortSignal: ctx.signal });
    return {
      ok: true,
      httpStatus: 200,
      result: { peekable: true, messagesPeeked: peeked.peekedMessageItems.length },
      correlation: correlationFrom(peeked._response?.headers ?? { 'x-ms-request-id': peeked.requestId }),
    };
  });
