import { targetHost } from '../targets/commands';
import type { Settings, Target } from '../config';
import type { CallOutcome } from '../targets/probe';
import { Deadline } from './deadline';
import type { Acquisition } from './identity';

/**
 * Per-process limits, so a busy Identity Doctor (a pipeline fan-out, probes every few seconds) stays polite to the
 * identity endpoint — about 5 concurrent requests allowed on IMDS — and to the services it diagnoses:
 *  - one token acquisition per identity and audience at a time: concurrent diagnoses share the one in flight;
 *  - at most MAX_CALLS_PER_HOST calls in flight per target host and lane; the rest wait their turn within their deadline;
 *  - at most MAX_IMDS_REQUESTS requests in flight to IMDS, its documented limit.
 *
 * Lanes: /api/health has its own MAX_CALLS_PER_HOST slots per host, apart from the diagnoses', so a probe never queues
 * behind a flood of keyed diagnoses (App Service restarts an instance whose health check fails). Health runs at most
 * one diagnose at a time per process (its coalescing cache), so its lane adds little to what a host sees.
 */

/** Whose calls: keyed diagnoses, or the one health diagnose in flight. */
export type Lane = 'diagnose' | 'health';

/** Calls in flight to one target host (host:port), across all diagnoses of this process. */
export const MAX_CALLS_PER_HOST = 4;

type Acquire = (settings: Settings, audience: string, deadline: Deadline) => Promise<Acquisition>;

const flights = new Map<string, Promise<Acquisition>>();

/**
 * Join the acquisition in flight for this identity and audience, or start one. The flight has its own deadline of
 * the same budget, so one caller going away does not cut it short for the others; each caller is still bounded by its
 * own deadline, which races this promise.
 */
export function sharedAcquisition(settings: Settings, audience: string, deadline: Deadline, acquire: Acquire, variant = ''): Promise<Acquisition> {
  // `variant` keeps acquisitions that do different work apart (one with the raw probe is not one without).
  const key = [settings.clientId ?? '', settings.clientResourceId ?? '', audience, variant].join('|');
  let flight = flights.get(key);
  if (!flight) {
    const own = new Deadline(deadline.budgetMs);
    flight = acquire(settings, audience, own).finally(() => {
      own.dispose();
      flights.delete(key);
    });
    flights.set(key, flight);
  }
  return flight;
}

interface HostSlots {
  active: number;
  waiting: (() => void)[];
}

const hosts = new Map<string, HostSlots>();

/** Wait for one of `max` slots at `host`; undefined when `signal` fires first. The returned release is idempotent. */
function takeSlot(host: string, signal: AbortSignal, max = MAX_CALLS_PER_HOST): Promise<(() => void) | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  let slots = hosts.get(host);
  if (!slots) {
    slots = { active: 0, waiting: [] };
    hosts.set(host, slots);
  }
  const s = slots;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    s.active--;
    const next = s.waiting.shift();
    if (next) next();
    else if (s.active === 0) hosts.delete(host);
  };
  if (s.active < max) {
    s.active++;
    return Promise.resolve(release);
  }
  return new Promise((resolve) => {
    const grant = () => {
      signal.removeEventListener('abort', onAbort);
      s.active++;
      resolve(release);
    };
    const onAbort = () => {
      const i = s.waiting.indexOf(grant);
      if (i >= 0) s.waiting.splice(i, 1);
      if (s.active === 0 && s.waiting.length === 0) hosts.delete(host);
      resolve(undefined);
    };
    s.waiting.push(grant);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Run one target's call within its host's limit. A call still waiting at the deadline comes back as cut by it (data,
 * never a throw). The slot is freed when the call settles or at the deadline, whichever is first: a call that ignores
 * its abort signal must not hold the host's slot for the life of the process.
 */
export async function withTargetSlot(
  target: Target,
  settings: Settings,
  signal: AbortSignal,
  call: () => Promise<CallOutcome>,
  lane: Lane = 'diagnose',
): Promise<CallOutcome> {
  const host = targetHost(target, settings).toLowerCase();
  const release = await takeSlot(`${lane}|${host}`, signal);
  // A slot granted just as the deadline passed is handed straight back: the call would only be cut.
  if (release && signal.aborted) release();
  if (!release || signal.aborted) {
    return {
      ok: false,
      failure: {
        transport: {
          kind: 'aborted',
          endpoint: host,
          detail: `cut by the diagnose deadline while waiting for one of the ${MAX_CALLS_PER_HOST} call slots to ${host}`,
        },
      },
    };
  }
  signal.addEventListener('abort', release, { once: true });
  try {
    return await call();
  } finally {
    signal.removeEventListener('abort', release);
    release();
  }
}

/**
 * IMDS serves at most 5 identity requests in flight per VM and answers 429 to the rest (MSAL then backs off for a
 * second or more): a diagnose of a dozen audiences reported identity_endpoint_error for some of them, caused by nothing
 * but its own burst. This process's requests to IMDS — the SDK's and the raw probes' — keep within the limit; the
 * rest wait their turn. A wait cut by `signal` still sends, at once aborted, so the caller sees the abort it expects.
 */
export const MAX_IMDS_REQUESTS = 5;

export async function withImdsSlot<T>(signal: AbortSignal | undefined, send: () => Promise<T>): Promise<T> {
  const release = await takeSlot('identity|imds', signal ?? new AbortController().signal, MAX_IMDS_REQUESTS);
  try {
    return await send();
  } finally {
    release?.();
  }
}
