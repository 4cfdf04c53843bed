import type { Transport } from '../verdict';
import { hostPort, transportFromError } from './transport';

/**
 * The call-failure type: what a service call said when it did not succeed, as data — the HTTP status, the service's
 * error code and inner code, its message (shortened), the correlation ids, or the transport failure before any answer.
 * A leaf: the engine (classification, role look-ups) and every kind's probe read it; it imports neither.
 */

export interface Correlation {
  requestId?: string;
  clientRequestId?: string;
  correlationId?: string;
}

export interface CallFailure extends Correlation {
  httpStatus?: number;
  errorCode?: string;
  innerErrorCode?: string;
  message?: string;
  wwwAuthenticate?: string;
  retryAfter?: string;
  /** Storage's AuthenticationErrorDetail (e.g. "Audience validation failed."). */
  authenticationDetail?: string;
  transport?: Transport;
  /**
   * Which request of a multi-request call answered (Container Registry's token exchange: `entra_token`, `exchange`,
   * `token`, `call`); absent for a service answered in one request.
   */
  step?: string;
  /** AMQP services (Service Bus, Event Hubs): the AMQP error condition the refusal stands for (amqp:unauthorized-access, …). */
  amqpCondition?: string;
}

interface HeaderBag {
  get(name: string): string | undefined;
}

function headerBag(h: unknown): HeaderBag | undefined {
  if (!h || typeof h !== 'object') return undefined;
  const maybe = h as { get?: unknown };
  if (typeof maybe.get === 'function') return { get: (n) => (maybe.get as (n: string) => string | undefined).call(h, n) ?? undefined };
  const rec = h as Record<string, unknown>;
  return { get: (n) => { const k = Object.keys(rec).find((key) => key.toLowerCase() === n.toLowerCase()); return k && typeof rec[k] === 'string' ? (rec[k] as string) : undefined; } };
}

export function correlationFrom(headers: unknown, requestHeaders?: unknown): Correlation {
  const h = headerBag(headers);
  const rq = headerBag(requestHeaders);
  const c: Correlation = {
    requestId: h?.get('x-ms-request-id'),
    clientRequestId: h?.get('x-ms-client-request-id') ?? rq?.get('x-ms-client-request-id'),
    correlationId: h?.get('x-ms-correlation-request-id') ?? rq?.get('x-ms-correlation-request-id'),
  };
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v)) as Correlation;
}

const MAX_MESSAGE = 1200;

/** Find a property by case-insensitive name anywhere shallow in an object (SDKs rename `innererror`, XML keys vary). */
function pick(obj: unknown, ...names: string[]): unknown {
  if (!obj || typeof obj !== 'object') return undefined;
  const rec = obj as Record<string, unknown>;
  for (const n of names) {
    // Direct access first: RestError keeps `response` and `request` non-enumerable.
    if (rec[n] !== undefined && rec[n] !== null) return rec[n];
    const k = Object.keys(rec).find((key) => key.toLowerCase() === n.toLowerCase());
    if (k !== undefined && rec[k] !== undefined && rec[k] !== null) return rec[k];
  }
  return undefined;
}
const asText = (v: unknown) => (typeof v === 'string' && v.trim() ? v : undefined);

function fromBody(text: string | undefined): { code?: string; inner?: string; message?: string; detail?: string } {
  if (!text) return {};
  try {
    const json = JSON.parse(text) as unknown;
    // Storage tables answer OData JSON: {"odata.error":{"code":…,"message":{"lang":"en-US","value":…},
    // "AuthenticationErrorDetail":…}} (Azure/Azurite src/table/errors/StorageError.ts; microsoft/AzureStorageExplorer#5553).
    const odata = pick(json, 'odata.error');
    if (odata) {
      const message = pick(odata, 'message');
      return { code: asText(pick(odata, 'code')), message: asText(pick(message, 'value')) ?? asText(message), detail: asText(pick(odata, 'AuthenticationErrorDetail')) };
    }
    const error = pick(json, 'error') ?? json;
    const inner = pick(error, 'innererror', 'innerError');
    return { code: asText(pick(error, 'code')), inner: asText(pick(inner, 'code')), message: asText(pick(error, 'message')) };
  } catch {
    // Storage answers XML: <Error><Code/><Message/><AuthenticationErrorDetail/></Error>.
    const tag = (t: string) => text.match(new RegExp(`<${t}>([\\s\\S]*?)</${t}>`))?.[1];
    return { code: tag('Code'), message: tag('Message'), detail: tag('AuthenticationErrorDetail') };
  }
}

/**
 * Turn whatever an SDK call threw into a CallFailure. Codes come from the service (the error body, x-ms-error-code),
 * never from message text; messages are kept, shortened, as evidence for a person.
 */
export function callFailureFromError(err: unknown, opts: { url: string; deadlineSignal: AbortSignal; elapsedMs: number }): CallFailure {
  const e = (err ?? {}) as Record<string, unknown>;
  const response = pick(e, 'response') as { headers?: unknown; bodyAsText?: string; status?: number } | undefined;
  const request = pick(e, 'request') as { headers?: unknown } | undefined;
  const status = typeof e.statusCode === 'number' ? e.statusCode : typeof response?.status === 'number' ? response.status : undefined;
  const h = headerBag(response?.headers);
  if (status === undefined) {
    // The SDK reads the body after the status line; when the connection drops mid-body it throws PARSE_ERROR with
    // neither a status nor the socket error, so that code without a status is the reset.
    const midBody = e.code === 'PARSE_ERROR'
      ? { kind: 'reset' as const, endpoint: hostPort(opts.url), detail: 'the connection closed before the whole answer arrived', elapsedMs: opts.elapsedMs }
      : undefined;
    const transport = midBody ?? transportFromError(err, { endpoint: hostPort(opts.url), timedOut: false, elapsedMs: opts.elapsedMs }) ?? {
      kind: 'other' as const,
      endpoint: hostPort(opts.url),
      detail: typeof e.message === 'string' ? e.message.slice(0, 300) : 'the request failed before any answer',
    };
    // An abort we did not cause is still an abort; one at our deadline is the deadline's.
    if (transport.kind === 'aborted' && !opts.deadlineSignal.aborted) transport.kind = 'other';
    return { transport, ...correlationFrom(undefined, request?.headers) };
  }
  const details = pick(e, 'details');
  const body = fromBody(response?.bodyAsText ?? undefined);
  const detailError = pick(details, 'error');
  const errorCode =
    h?.get('x-ms-error-code') ??
    asText(pick(detailError, 'code')) ??
    asText(pick(details, 'errorCode', 'code')) ??
    body.code ??
    asText(e.code);
  const innerErrorCode =
    asText(pick(pick(detailError, 'innerError', 'innererror'), 'code')) ?? body.inner;
  // PARSE_ERROR is the SDK's code for a body it could not parse, not the service's: say that instead of quoting it.
  const unparsed = e.code === 'PARSE_ERROR' && !body.code;
  const message = (
    unparsed
      ? `The ${status} answer's body could not be parsed (neither JSON nor XML): ${(response?.bodyAsText ?? '').slice(0, 200)}`
      : asText(pick(detailError, 'message')) ?? asText(pick(details, 'message')) ?? body.message ?? asText(e.message)
  )?.slice(0, MAX_MESSAGE);
  const authenticationDetail = asText(pick(details, 'authenticationErrorDetail', 'AuthenticationErrorDetail')) ?? body.detail;
  const failure: CallFailure = {
    httpStatus: status,
    errorCode: errorCode === 'REQUEST_SEND_ERROR' || errorCode === 'PARSE_ERROR' ? undefined : errorCode,
    innerErrorCode,
    message,
    wwwAuthenticate: h?.get('www-authenticate'),
    retryAfter: h?.get('retry-after') ?? h?.get('x-ms-retry-after-ms'),
    authenticationDetail,
    ...correlationFrom(response?.headers, request?.headers),
  };
  return Object.fromEntries(Object.entries(failure).filter(([, v]) => v !== undefined)) as CallFailure;
}


/**
 * The AMQP condition behind each error code @azure/core-amqp gives (its ErrorNameConditionMapper, src/errors.ts in
 * Azure/azure-sdk-for-js sdk/core/core-amqp): the SDK keeps the code and the service's description, not the condition.
 * @azure/service-bus renames the codes once more (src/serviceBusError.ts): both spellings are listed.
 */
const AMQP_CONDITIONS: Readonly<Record<string, string>> = {
  UnauthorizedError: 'amqp:unauthorized-access',
  UnauthorizedAccess: 'amqp:unauthorized-access',
  MessagingEntityNotFoundError: 'amqp:not-found',
  MessagingEntityNotFound: 'amqp:not-found',
  ServiceCommunicationError: 'amqp:not-found',
  ServerBusyError: 'com.microsoft:server-busy',
  ServiceBusy: 'com.microsoft:server-busy',
  ServiceUnavailableError: 'com.microsoft:timeout',
  ServiceTimeout: 'com.microsoft:timeout',
  InvalidOperationError: 'amqp:not-allowed',
  QuotaExceededError: 'amqp:resource-limit-exceeded',
  QuotaExceeded: 'amqp:resource-limit-exceeded',
  MessagingEntityDisabledError: 'com.microsoft:entity-disabled',
  MessagingEntityDisabled: 'com.microsoft:entity-disabled',
  InternalServerError: 'amqp:internal-error',
  ConnectionForcedError: 'amqp:connection:forced',
};

/** Service Bus and Event Hubs end their descriptions with "TrackingId:<id>, SystemTracker:<…>, Timestamp:<…>". */
const TRACKING_ID = /TrackingId:\s*([A-Za-z0-9_-]+)/;
/** A description that starts with the service's own reason code: "InvalidIssuer: Token issuer is invalid. …". */
const REASON_PREFIX = /^([A-Z][A-Za-z]+):\s/;

/**
 * Turn what an AMQP SDK call threw (@azure/service-bus ServiceBusError, @azure/core-amqp MessagingError, a socket error)
 * into a CallFailure. AMQP has no HTTP status: `errorCode` is the SDK's code, `innerErrorCode` the reason code a
 * description starts with (ExpiredToken, InvalidIssuer, …), `amqpCondition` the condition the code stands for, the
 * description is the message, and the TrackingId in it is the request id to quote in a support case.
 */
export function callFailureFromAmqpError(err: unknown, opts: { url: string; deadlineSignal: AbortSignal; elapsedMs: number }): CallFailure {
  const e = (err ?? {}) as Record<string, unknown>;
  const code = asText(e.code);
  const endpoint = hostPort(opts.url);
  // A socket error keeps its system code through core-amqp's translation (ECONNREFUSED, ENOTFOUND, a TLS code, …);
  // @azure/service-bus then renames an unknown code to GeneralError and prefixes the message with it ("ENOTFOUND: …"),
  // keeping `syscall`: read the system code back from there.
  const renamed = typeof e.syscall === 'string' ? /^([A-Z][A-Z0-9_]+):/.exec(asText(e.message) ?? '')?.[1] : undefined;
  const transport = transportFromError(renamed ? { code: renamed, name: 'Error' } : err, { endpoint, timedOut: false, elapsedMs: opts.elapsedMs });
  if (transport) {
    if (transport.kind === 'aborted' && !opts.deadlineSignal.aborted) transport.kind = 'other';
    return { transport };
  }
  // rhea-promise's timer (no answer to an attach or a request in time) is silence, not an answer.
  if (code === 'OperationTimeoutError' || code === 'ServiceTimeout') {
    return { transport: { kind: 'timeout', code, ...(endpoint ? { endpoint } : {}), detail: 'no answer before the operation timeout', elapsedMs: opts.elapsedMs } };
  }
  if (e.name !== 'ServiceBusError' && e.name !== 'MessagingError') {
    // Not the service's answer: an SDK-side error with neither an AMQP code nor a socket code.
    return { transport: { kind: 'other', ...(endpoint ? { endpoint } : {}), detail: (asText(e.message) ?? 'the AMQP call failed before any answer').slice(0, 300) } };
  }
  const description = asText(e.message)?.slice(0, MAX_MESSAGE);
  const inner = description ? REASON_PREFIX.exec(description)?.[1] : undefined;
  const failure: CallFailure = {
    errorCode: code,
    innerErrorCode: inner,
    // @azure/service-bus turns a code it does not know into GeneralError and prefixes the description with the old one.
    amqpCondition: code ? AMQP_CONDITIONS[code] ?? (code === 'GeneralError' && inner ? AMQP_CONDITIONS[inner] : undefined) : undefined,
    message: description,
    requestId: description ? TRACKING_ID.exec(description)?.[1] : undefined,
  };
  return Object.fromEntries(Object.entries(failure).filter(([, v]) => v !== undefined)) as CallFailure;
}
