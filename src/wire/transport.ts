import type { Transport, TransportKind } from '../verdict';
import { isResponseTooLarge, RESPONSE_TOO_LARGE } from './boundedClient';

/**
 * Name the transport failure an error stands for. The SDKs wrap Node's socket errors in RestError but keep the
 * system `code`; a timeout or abort arrives as AbortError, so the caller passes which of its own signals fired.
 */
export function transportFromError(
  err: unknown,
  opts: { endpoint?: string; timedOut?: boolean; elapsedMs?: number } = {},
): Transport | undefined {
  const e = err as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown } | undefined;
  if (!e || typeof e !== 'object') return undefined;
  if (e.name === 'ScopeRefusedError' && typeof e.message === 'string') {
    // An answer came (a challenge) but asked for a token this target may not have: the service's side.
    return { kind: 'malformed', code: 'SCOPE_REFUSED', ...(opts.endpoint ? { endpoint: opts.endpoint } : {}), detail: e.message };
  }
  if (isResponseTooLarge(err)) {
    return {
      kind: 'malformed',
      code: RESPONSE_TOO_LARGE,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      detail: err.message,
      ...(opts.elapsedMs !== undefined ? { elapsedMs: opts.elapsedMs } : {}),
    };
  }
  const code = typeof e.code === 'string' ? e.code : undefined;
  const name = typeof e.name === 'string' ? e.name : '';
  const kind = kindOf(code, name, opts.timedOut);
  if (!kind) {
    // A RestError's cause may carry the socket error.
    return e.cause && e.cause !== err ? transportFromError(e.cause, opts) : undefined;
  }
  return {
    kind,
    ...(code ? { code } : {}),
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    detail: describe(kind, code),
    ...(opts.elapsedMs !== undefined ? { elapsedMs: opts.elapsedMs } : {}),
  };
}

const TLS_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_TLS_|ERR_SSL_|EPROTO$|HOSTNAME_MISMATCH)/;

function kindOf(code: string | undefined, name: string, timedOut?: boolean): TransportKind | undefined {
  if (name === 'AbortError' || name === 'DeadlineExceeded' || name === 'TimeoutError') return timedOut ? 'timeout' : 'aborted';
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return 'dns';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
    case 'UND_ERR_SOCKET':
      return 'reset';
    case 'ETIMEDOUT':
    case 'ESOCKETTIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'timeout';
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
    case 'EHOSTDOWN':
      return 'refused';
    default:
      if (code && TLS_CODES.test(code)) return 'tls';
      if (code === 'REQUEST_SEND_ERROR') return 'other';
      return undefined;
  }
}

function describe(kind: TransportKind, code?: string): string {
  switch (kind) {
    case 'refused':
      return code === 'ECONNREFUSED' ? 'connection refused: nothing listens there' : `host unreachable (${code})`;
    case 'timeout':
      return 'no answer before the time limit: the endpoint accepted nothing or stayed silent';
    case 'aborted':
      return 'cut by the diagnose deadline';
    case 'reset':
      return 'the connection was reset before a complete answer arrived';
    case 'dns':
      return 'the host name does not resolve (DNS)';
    case 'tls':
      return `the TLS handshake failed (${code})`;
    case 'malformed':
      return 'the answer could not be parsed';
    default:
      return code ? `transport error ${code}` : 'transport error';
  }
}

/** host:port of a URL, never its path or query (which may carry identity selectors, never secrets, but stay terse). */
export function hostPort(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.port ? `${u.hostname}:${u.port}` : u.hostname;
  } catch {
    return undefined;
  }
}
