import { CosmosClient, type PartitionKey } from '@azure/cosmos';
import type { HttpClient } from '@azure/core-rest-pipeline';
import { boundedHttpClient } from '../../wire/boundedClient';
import type { CallFailure } from '../../wire/callFailure';
import { guarded, type CallOutcome, type Probe } from '../probe';
import type { CosmosDbTarget } from './index';

/**
 * Read the container's metadata (readMetadata), then point-read the item (items/read) or pull one page of one item
 * (executeQuery) — with @azure/cosmos and the identity's token, the calls a workload makes. Cosmos DB Built-in Data
 * Reader covers all of them; a point read of a small item costs 1 RU. Only shapes and counts are reported: the item's
 * content is dropped on the spot. The database resource itself is not read: the least grant, a SQL role assignment
 * scoped to the container, does not reach its parent's metadata, and a missing database fails the container read too.
 *
 * No retries: throttling retries off, endpoint discovery off (so no failover retries, no background refresh timer, and
 * the requests go to the configured endpoint, not to regional ones the account read would name), and a reset is
 * handed to the SDK under a code it does not retry (see noResetRetry). The deadline's signal bounds every request.
 */
export const probeCosmosDb: Probe<CosmosDbTarget> = (target, ctx) =>
  guarded(target.accountEndpoint, ctx, async (): Promise<CallOutcome> => {
    // With aadCredentials the SDK asks for `${endpoint}/.default` (the account's own audience, kind.audienceFor); the
    // credential answers with the token minted for the target's audience (src/engine/identity.ts).
    const client = new CosmosClient({
      endpoint: target.accountEndpoint,
      aadCredentials: ctx.credential,
      connectionPolicy: {
        enableEndpointDiscovery: false,
        retryOptions: { maxRetryAttemptCount: 0, fixedRetryIntervalInMilliseconds: 0, maxWaitTimeInSeconds: 0 },
      },
      httpClient: noResetRetry(boundedHttpClient(ctx.maxResponseBytes)),
    });
    const options = { abortSignal: ctx.signal };
    let charge = 0;
    let activityId: string | undefined;
    const seen = (r: { requestCharge?: number; activityId?: string }) => {
      charge += r.requestCharge ?? 0;
      activityId = r.activityId ?? activityId;
    };
    try {
      const container = client.database(target.database).container(target.container);
      const step = async <R>(what: string, call: () => Promise<R>): Promise<R | CallFailure> => {
        try {
          return await call();
        } catch (err) {
          const answer = cosmosAnswer(err, what);
          if (answer) return answer;
          throw err;
        }
      };
      const co = await step('reading the container', () => container.read(options));
      if (isFailure(co)) return { ok: false, failure: co };
      seen(co);
      const shape = { containerReadable: true, partitionKeyPaths: co.resource?.partitionKey?.paths?.join(',') ?? null };
      if (target.itemId !== undefined) {
        const item = await step('reading the item', () => container.item(target.itemId!, target.partitionKey as PartitionKey).read(options));
        if (isFailure(item)) return { ok: false, failure: item };
        // Item.read answers a 404 instead of throwing it.
        if (item.statusCode === 404) return { ok: false, failure: notFound(item, 'reading the item') };
        seen(item);
        const properties = Object.keys(item.resource ?? {}).filter((k) => !k.startsWith('_') && k !== 'id').length;
        return done({ ...shape, itemReadable: true, itemPropertyCount: properties, requestCharge: round(charge) });
      }
      const page = await step('querying one item', () => container.items.readAll({ ...options, maxItemCount: 1 }).fetchNext());
      if (isFailure(page)) return { ok: false, failure: page };
      seen(page);
      return done({ ...shape, queryable: true, itemsOnFirstPage: page.resources.length, moreResults: page.hasMoreResults, requestCharge: round(charge) });
    } finally {
      client.dispose();
    }

    function done(result: Record<string, string | number | boolean | null>): CallOutcome {
      return { ok: true, httpStatus: 200, result, correlation: activityId ? { requestId: activityId } : {} };
    }
  });

const round = (n: number) => Math.round(n * 100) / 100;

function isFailure(v: unknown): v is CallFailure {
  return !!v && typeof v === 'object' && 'httpStatus' in v && !('resource' in v);
}

/**
 * A Cosmos ErrorResponse as data: `code` is the HTTP status (a number), `substatus` the x-ms-substatus (reported as the
 * inner code, what the kind's dialect reads), `body` the service's `{code, message}`, `headers` plain and lower-case,
 * `retryAfterInMs` x-ms-retry-after-ms. Anything else (a transport error, an abort) is not an answer: undefined.
 */
function cosmosAnswer(err: unknown, step: string): CallFailure | undefined {
  const e = err as { code?: unknown; substatus?: unknown; body?: { code?: unknown; message?: unknown }; headers?: Record<string, unknown>; activityId?: unknown; retryAfterInMs?: unknown; message?: unknown };
  if (!e || typeof e !== 'object' || typeof e.code !== 'number') return undefined;
  const text = typeof e.body?.message === 'string' ? e.body.message : typeof e.message === 'string' ? e.message : '';
  const failure: CallFailure = {
    httpStatus: e.code,
    ...(typeof e.body?.code === 'string' ? { errorCode: e.body.code } : {}),
    ...(typeof e.substatus === 'number' && e.substatus !== 0 ? { innerErrorCode: String(e.substatus) } : {}),
    message: `${step}: ${text}`.slice(0, 1200),
    ...(typeof e.retryAfterInMs === 'number' ? { retryAfter: `${e.retryAfterInMs} ms` } : {}),
    ...(typeof e.activityId === 'string' ? { requestId: e.activityId } : {}),
  };
  return failure;
}

function notFound(r: { substatus?: number; activityId?: string }, step: string): CallFailure {
  return {
    httpStatus: 404,
    errorCode: 'NotFound',
    ...(r.substatus ? { innerErrorCode: String(r.substatus) } : {}),
    message: `${step}: Resource Not Found`,
    ...(r.activityId ? { requestId: r.activityId } : {}),
  };
}

/**
 * @azure/cosmos retries a reset read up to 10 times, 1 s apart, and no option turns that off (DefaultRetryPolicy,
 * @azure/cosmos 4.9.3 retry/defaultRetryPolicy.js: ECONNRESET, EPIPE). Hand it the reset under a code it does not
 * retry; the socket error stays as `cause`, which is what the transport evidence reads (src/wire/transport.ts).
 */
function noResetRetry(inner: HttpClient): HttpClient {
  return {
    async sendRequest(request) {
      try {
        return await inner.sendRequest(request);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code !== 'ECONNRESET' && code !== 'EPIPE') throw err;
        throw Object.assign(new Error((err as Error).message), { name: 'ConnectionReset', code: 'CONNECTION_RESET_NOT_RETRIED', cause: err });
      }
    },
  };
}
