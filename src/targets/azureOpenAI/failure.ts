import { callFailureFromError, correlationFrom, type CallFailure, type Correlation } from '../../wire/callFailure';
import type { FetchedAnswer } from '../../wire/boundedFetch';

/**
 * The `openai` client's errors, as our CallFailure. Its APIError keeps `status`, `headers` and only the `error` member
 * of a JSON body — Azure OpenAI's bare 401 (`{"statusCode":401,"message":"Unauthorized. Access token is missing,
 * invalid, audience is incorrect (…), or have expired."}`) would lose its words — so the answer the bounded fetch
 * recorded is read instead, through the same reader as every other kind's. Connection errors carry the transport's own
 * error as `cause` (a RestError with ENOTFOUND, CERT_…, the response cap); an abort is the deadline's when its signal fired.
 */
export function openAiFailure(err: unknown, answer: FetchedAnswer | undefined, opts: { url: string; deadlineSignal: AbortSignal; elapsedMs: number }): CallFailure {
  const e = (err ?? {}) as { status?: unknown; headers?: unknown; cause?: unknown; name?: unknown };
  const status = typeof e.status === 'number' ? e.status : undefined;
  if (status === undefined) {
    // APIUserAbortError (our signal fired) and APIConnectionTimeoutError carry no cause: name the abort so the
    // transport reader sees one; APIConnectionError carries the transport's error.
    const inner = opts.deadlineSignal.aborted ? { name: 'AbortError', message: 'aborted' } : (e.cause ?? err);
    return callFailureFromError(inner, opts);
  }
  const mine = answer?.status === status ? answer : undefined;
  const headers = mine ? mine.headers : e.headers;
  // A body that is not JSON is reported as the other kinds report it (PARSE_ERROR: "could not be parsed", with its start).
  const unparsed = !!mine?.body.trim() && !isJson(mine.body);
  const failure = callFailureFromError(
    { statusCode: status, message: (err as { message?: unknown }).message, ...(unparsed ? { code: 'PARSE_ERROR' } : {}), response: { status, headers, bodyAsText: mine?.body } },
    opts,
  );
  const h = headers as { get?: (name: string) => string | null } | undefined;
  const get = (name: string) => h?.get?.(name) ?? undefined;
  // The body's code of a network refusal is just "403"; its policy-id header names the rule (forbidden dialect).
  const policy = get('policy-id');
  return {
    ...failure,
    ...(failure.innerErrorCode === undefined && policy ? { innerErrorCode: policy } : {}),
    ...(failure.retryAfter === undefined && get('retry-after-ms') ? { retryAfter: `${get('retry-after-ms')} ms` } : {}),
    ...openAiCorrelation(headers),
  };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Azure OpenAI's ids: apim-request-id (API Management) on every answer, x-request-id from the model service, else Azure's own. */
export function openAiCorrelation(headers: unknown): Correlation {
  const h = headers as { get?: (name: string) => string | null } | undefined;
  const get = (name: string) => h?.get?.(name) ?? undefined;
  const base = correlationFrom(headers);
  const requestId = base.requestId ?? get('apim-request-id') ?? get('x-request-id');
  return { ...base, ...(requestId ? { requestId } : {}) };
}
