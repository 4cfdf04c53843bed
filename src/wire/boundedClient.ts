import { pipeline, Transform, type Readable } from 'node:stream';
import zlib from 'node:zlib';
import { createDefaultHttpClient, RestError, type HttpClient, type PipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';

/**
 * The HTTP client under every outbound call (targets, role look-ups, the identity endpoint): it counts the bytes of
 * each answer while they stream and cuts the connection once an answer passes the cap, so no answer — a 1 GiB body, a
 * gzip bomb — ever sits whole in memory. Without it the pipeline's own client buffers the whole body and turns it into
 * one string, which throws ERR_STRING_TOO_LONG from an event handler (an uncaught exception) above 512 MiB.
 *
 * The cap counts decoded bytes: the pipeline decodes gzip/deflate when the request asked for it; an answer that
 * arrives encoded anyway (gzip, deflate, br) is decoded here, under the same cap.
 */

/** The code of the error an oversized answer becomes (see transportFromError). */
export const RESPONSE_TOO_LARGE = 'RESPONSE_TOO_LARGE';

/** Thrown (as the request's failure) when an answer passes the cap. Carries no body. */
export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
  readonly code = RESPONSE_TOO_LARGE;
  constructor(
    readonly limitBytes: number,
    /** The status line the oversized answer came with. */
    readonly answeredStatus: number,
    host: string,
  ) {
    super(`the answer from ${host} (HTTP ${answeredStatus}) passed the response cap of ${describeBytes(limitBytes)} (DIAGNOSE_MAX_RESPONSE_BYTES, counted after decompression); the connection was cut and the rest was not read`);
  }
}

/** True for the error an oversized answer becomes, by name and code (never instanceof across packages). */
export function isResponseTooLarge(err: unknown): err is { code: string; message: string; answeredStatus?: number } {
  const e = err as { code?: unknown; name?: unknown } | undefined;
  return !!e && typeof e === 'object' && (e.code === RESPONSE_TOO_LARGE || e.name === 'ResponseTooLargeError');
}

export function describeBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/** One transport for the process (one connection pool); the caps are thin wrappers over it. */
let shared: HttpClient | undefined;
const byLimit = new Map<number, HttpClient>();

/** The capped client for `maxBytes` (one per distinct cap, so SDK clients built per request share it). */
export function boundedHttpClient(maxBytes: number): HttpClient {
  let client = byLimit.get(maxBytes);
  if (!client) {
    shared ??= createDefaultHttpClient();
    client = wrap(shared, maxBytes);
    byLimit.set(maxBytes, client);
  }
  return client;
}

const ANY_STATUS = Number.POSITIVE_INFINITY;

function wrap(inner: HttpClient, maxBytes: number): HttpClient {
  return {
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      const wanted = request.streamResponseStatusCodes;
      const ownSignal = request.abortSignal;
      // Our own abort reaches the pipeline's socket (it listens on the request's signal), so a cut really closes it.
      const cut = new AbortController();
      if (ownSignal && !(ownSignal instanceof AbortSignal)) ownSignal.addEventListener('abort', () => cut.abort(), { once: true });
      request.abortSignal = ownSignal instanceof AbortSignal ? AbortSignal.any([ownSignal, cut.signal]) : cut.signal;
      // Always take the body as a stream: the pipeline would otherwise buffer it whole before we see a byte.
      request.streamResponseStatusCodes = new Set([ANY_STATUS]);
      let response: PipelineResponse;
      try {
        response = await inner.sendRequest(request);
      } finally {
        request.streamResponseStatusCodes = wanted;
        request.abortSignal = ownSignal;
      }
      const raw = response.readableStreamBody as Readable | undefined;
      if (!raw) return response;
      const host = hostOf(request.url);
      const tooLarge = () => new ResponseTooLargeError(maxBytes, response.status, host);
      const body = decodeIfStillEncoded(raw, request, response);
      const streaming = !!wanted && (wanted.has(ANY_STATUS) || wanted.has(response.status));
      if (streaming) {
        const counted = counter(maxBytes, tooLarge, () => cut.abort());
        // pipeline (not pipe) carries a reset of the source to the reader instead of leaving it waiting.
        pipeline(body, counted, () => undefined);
        response.readableStreamBody = counted;
        return response;
      }
      delete response.readableStreamBody;
      response.bodyAsText = await readCapped(body, maxBytes, tooLarge, () => cut.abort());
      return response;
    },
  };
}

/** The pipeline decodes gzip/deflate only when the request asked for it; decode what still arrives encoded. */
function decodeIfStillEncoded(stream: Readable, request: PipelineRequest, response: PipelineResponse): Readable {
  const encoding = (response.headers.get('content-encoding') ?? '').trim().toLowerCase();
  const asked = request.headers.get('accept-encoding') ?? '';
  const pipelineDecoded = (asked.includes('gzip') || asked.includes('deflate')) && (encoding === 'gzip' || encoding === 'deflate');
  if (pipelineDecoded) return stream;
  const decoder =
    encoding === 'gzip' ? zlib.createGunzip() : encoding === 'deflate' ? zlib.createInflate() : encoding === 'br' ? zlib.createBrotliDecompress() : undefined;
  if (!decoder) return stream;
  stream.on('error', (err) => decoder.destroy(err));
  return stream.pipe(decoder);
}

function counter(maxBytes: number, tooLarge: () => Error, cut: () => void): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > maxBytes) {
        cut();
        done(tooLarge());
        return;
      }
      done(null, chunk);
    },
  });
}

/** Read a stream to text, stopping (and cutting the connection) at the cap. Errors as the pipeline's own reader does. */
function readCapped(stream: Readable, maxBytes: number, tooLarge: () => Error, cut: () => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let seen = 0;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      chunks.length = 0;
      reject(err);
    };
    stream.on('data', (chunk: Buffer | string) => {
      if (settled) return;
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      seen += b.length;
      if (seen > maxBytes) {
        fail(tooLarge());
        stream.destroy();
        cut();
        return;
      }
      chunks.push(b);
    });
    stream.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    stream.on('error', (e: Error) => {
      // The same errors the pipeline's reader gives, so callers that know them (a reset mid-body) still do.
      fail(e?.name === 'AbortError' ? e : new RestError(`Error reading response as text: ${e?.message}`, { code: RestError.PARSE_ERROR }));
    });
  });
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the service';
  }
}
