import type { TokenCredential } from '@azure/identity';
import type { BaseTarget } from './kind';
import { callFailureFromError, type CallFailure, type Correlation } from '../wire/callFailure';

export { correlationFrom, type CallFailure, type Correlation } from '../wire/callFailure';

/**
 * What a probe is given: a credential for its own audience, the deadline's signal, and where to call — nothing else
 * of the settings. A probe never throws; it returns what the service said.
 */
export interface ProbeContext {
  /** Hands out tokens for `audience` only. */
  credential: TokenCredential;
  /** Fires at the diagnose deadline. */
  signal: AbortSignal;
  /** The token's oid, when the token decoded (used to narrow ARM look-ups to this principal). */
  oid?: string;
  /** The audience the token is requested for (the target's override, else its kind's in the configured cloud). */
  audience: string;
  /** The URL to call, from the target (or its kind's configured default, e.g. the ARM endpoint). No trailing slash for ARM. */
  endpoint: string;
  /** DIAGNOSE_MAX_RESPONSE_BYTES: the SDK client's transport reads no more than this (src/wire/boundedClient.ts). */
  maxResponseBytes: number;
  /** Milliseconds left before the deadline when the probe starts: for a client with its own timers (tedious's connect and request timeouts), which must end inside it. */
  remainingMs?: number;
}

export type CallOutcome =
  /** httpStatus: absent for a protocol without HTTP statuses (AMQP). */
  | { ok: true; httpStatus?: number; result: Record<string, string | number | boolean | null>; correlation: Correlation }
  | { ok: false; failure: CallFailure };

/** A kind's probe: the one read-only call its service's SDK makes for the target. */
export type Probe<T extends BaseTarget> = (target: T, ctx: ProbeContext) => Promise<CallOutcome>;

/** Run an SDK call, mapping any throw to a CallFailure. */
export async function guarded(
  url: string,
  ctx: ProbeContext,
  call: () => Promise<CallOutcome>,
  /** How a throw reads: HTTP by default; the AMQP kinds pass callFailureFromAmqpError. */
  toFailure: typeof callFailureFromError = callFailureFromError,
): Promise<CallOutcome> {
  const started = Date.now();
  try {
    return await call();
  } catch (err) {
    return { ok: false, failure: toFailure(err, { url, deadlineSignal: ctx.signal, elapsedMs: Date.now() - started }) };
  }
}
