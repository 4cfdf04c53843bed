import { createHttpHeaders, createPipelineRequest, type HttpMethods } from '@azure/core-rest-pipeline';
import { boundedHttpClient } from './boundedClient';

/**
 * A `fetch` for SDKs that take one instead of an Azure HttpClient (the official `openai` client): it sends the request
 * through the same capped transport as every other outbound call (src/wire/boundedClient.ts) — one connection pool,
 * the DIAGNOSE_MAX_RESPONSE_BYTES cap counted while the body streams (decoded gzip/deflate/br included), and the same
 * error shapes (a RestError carrying the socket's code: ENOTFOUND, ECONNREFUSED, CERT_…; AbortError on abort; the
 * ResponseTooLargeError past the cap), so a transport failure classifies exactly as it does for the other kinds.
 *
 * Bodies are read whole (under the cap) and handed back as a fresh Response: enough for JSON answers, never a stream.
 */

/** What the SDK gets back, and what the caller may want to keep as evidence (status, headers, the capped body). */
export interface FetchedAnswer {
  status: number;
  headers: Headers;
  /** The body as text (at most the cap). */
  body: string;
}

export type BoundedFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Statuses whose Response must carry no body (the Fetch standard's "null body status"). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
/** Headers that describe the wire form of a body we already decoded and measured. */
const WIRE_ONLY = new Set(['content-encoding', 'content-length', 'transfer-encoding']);

/**
 * A fetch capped at `maxBytes` per answer. `onAnswer` sees every answer (error statuses too) before the SDK does:
 * an SDK that drops the body of an error it cannot parse (openai keeps only a JSON body's `error` member) leaves the
 * evidence here.
 */
export function boundedFetch(maxBytes: number, onAnswer?: (answer: FetchedAnswer) => void): BoundedFetch {
  const client = boundedHttpClient(maxBytes);
  return async (input, init = {}) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers = createHttpHeaders();
    new Headers(init.headers).forEach((value, name) => headers.set(name, value));
    const body = init.body;
    // The probes send reads only; a stream or form body would need more than this adapter does.
    if (body !== undefined && body !== null && typeof body !== 'string') throw new TypeError('boundedFetch sends string bodies only');
    const request = createPipelineRequest({
      url,
      method: (init.method ?? 'GET').toUpperCase() as HttpMethods,
      headers,
      ...(typeof body === 'string' ? { body } : {}),
      ...(init.signal ? { abortSignal: init.signal } : {}),
    });
    const response = await client.sendRequest(request);
    const out = new Headers();
    for (const [name, value] of response.headers) if (!WIRE_ONLY.has(name.toLowerCase())) out.append(name, value);
    const text = response.bodyAsText ?? '';
    onAnswer?.({ status: response.status, headers: out, body: text });
    return new Response(NULL_BODY.has(response.status) ? null : text, { status: response.status, headers: out });
  };
}
