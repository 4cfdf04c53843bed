import type { Settings } from '../config';
import type { Transport } from '../verdict';
import { answerArcChallenge } from '../identity/sources/arc';
import { detectSource, type RawProbeResult, type SourceRequest } from '../identity/sources';
import { sendRaw, summariseAnswer } from '../identity/rawHttp';
import { withImdsSlot } from './limits';

/**
 * A raw probe of the identity source with the platform's own protocol — a diagnostic *beside* the SDK, not a
 * substitute for it: what an expert would try with curl. Each source (src/identity/sources) says what its request
 * looks like; Azure Arc adds its challenge-file round trip, the AKS token exchange reads the projected token first.
 * Same resource and identity selector as the SDK. A token it may get is decoded for comparison and dropped.
 */

export type { RawProbeResult } from '../identity/sources';

/** The request the SDK would send for `audience`, with the same selector (client id or resource id). */
export function identityRequestUrl(settings: Settings, audience: string): SourceRequest | undefined {
  return detectSource(settings).request(settings, audience);
}

/** Probe once, bounded by `timeoutMs` and `signal`; `proxy` goes through an HTTP proxy instead. Never throws. */
export async function rawProbe(
  settings: Settings,
  audience: string,
  opts: { timeoutMs: number; signal?: AbortSignal; proxy?: URL },
): Promise<RawProbeResult> {
  const source = detectSource(settings);
  if (source.probe) return source.probe(settings, audience, opts);
  const started = Date.now();
  const via = opts.proxy ? 'proxy' : 'direct';
  const endpoint = source.endpoint(settings);
  const base = { via, protocol: source.id, endpoint } as const;
  const request = source.request(settings, audience);
  if (!request) {
    return { ...base, elapsedMs: 0, error: 'not_probed', errorDescription: `the variables the ${source.id} protocol needs are not all set, so it cannot be spoken` };
  }
  // IMDS's limit of requests in flight counts these too (limits.ts); the wait for a slot comes out of the timeout.
  const send = (r: SourceRequest) =>
    source.id === 'imds' ? withImdsSlot(opts.signal, () => sendRaw(r, { ...opts, timeoutMs: Math.max(1, opts.timeoutMs - (Date.now() - started)) })) : sendRaw(r, opts);
  let answer = await send(request);
  let keyFile: RawProbeResult['keyFile'];
  if (source.id === 'arc' && answer.status === 401) {
    const challenge = await answerArcChallenge(headerOf(answer.headers?.['www-authenticate']));
    keyFile = challenge.keyFile;
    if (challenge.ok) answer = await send({ ...request, headers: { ...request.headers, Authorization: challenge.authorization } });
  }
  const elapsedMs = Date.now() - started;
  // No answer, or one cut at the raw probe's cap (its status is kept, its body was never read whole).
  if (answer.status === undefined || answer.transport) {
    return { ...base, ...(answer.status !== undefined ? { status: answer.status } : {}), transport: answer.transport, ...(keyFile ? { keyFile } : {}), elapsedMs };
  }
  return { ...base, ...summariseAnswer(answer.status, answer.body, endpoint), ...(keyFile ? { keyFile } : {}), elapsedMs };
}

function headerOf(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Whether two probe outcomes failed "the same way" (same status, or the same transport failure). */
export function sameOutcome(a: { status?: number; transport?: Transport }, b: { status?: number; transport?: Transport }): boolean {
  if (a.status !== undefined || b.status !== undefined) return a.status === b.status;
  return a.transport?.kind === b.transport?.kind;
}
