import type { Settings, Target } from '../config';
import { type Verdict } from '../verdict';
import { narrateLocalChain } from './localChain';
import { Deadline } from './deadline';
import { acquireToken, type Acquisition } from './identity';
import { sharedAcquisition, type Lane } from './limits';
import { runTarget } from './runTarget';
import { rememberDuration, runInStartOrder } from './startOrder';
import type { Finding } from './runTarget';
import { assemble } from './assemble';
import { resolveHostKind } from './hostKind';
export { audienceOf } from './runTarget';
export { resolveHostKind } from './hostKind';
export { summarise } from './assemble';

/**
 * Plans and runs one diagnose: targets grouped by audience (one token acquisition per distinct audience), every
 * target in parallel (the slowest started first: startOrder.ts), each bounded by the one deadline. Data flows one way:
 * acquire → decode → call → classify → check; nothing here throws for a failing dependency.
 */

export interface DiagnoseOptions {
  /** Aborts the whole diagnose early (e.g. the caller went away). */
  signal?: AbortSignal;
  /** Also probe the identity endpoint raw when the SDK succeeds (`?probe=raw`); after a failure it always is. */
  rawProbe?: boolean;
  /** Whose per-host call slots to use: health has its own, so it never queues behind keyed diagnoses (limits.ts). */
  lane?: Lane;
  /**
   * When the request arrived (ms since the epoch), if it waited for a turn first: the deadline counts from then, so
   * time spent queued comes out of DIAGNOSE_TIMEOUT_MS and `durationMs` is what the caller waited.
   */
  arrivedAt?: number;
}

/**
 * Diagnose `targets` with the identity `settings` describe: one token per distinct audience, each target's probe in
 * parallel, everything within `settings.timeoutMs` (counted from `options.arrivedAt` when the request queued first).
 * Resolves to a verdict — one check per target, in order — and never rejects for a failing dependency: a broken
 * endpoint, a refusal or a timeout is a cause in the verdict, a bug of ours is `diagnostic_error`.
 */
export async function diagnose(settings: Settings, targets: Target[], options: DiagnoseOptions = {}): Promise<Verdict> {
  const started = Math.min(options.arrivedAt ?? Date.now(), Date.now());
  const deadline = new Deadline(Math.max(1, settings.timeoutMs - (Date.now() - started)), options.signal);
  const tokens = new Map<string, Promise<Acquisition>>();
  const tokenFor = (audience: string) => {
    let p = tokens.get(audience);
    if (!p) {
      p = sharedAcquisition(
        settings,
        audience,
        deadline,
        (s, a, d) => acquireToken(s, a, d, { rawProbe: options.rawProbe }),
        options.rawProbe ? 'raw' : '',
      );
      tokens.set(audience, p);
    }
    return p;
  };
  try {
    const findings = await runInStartOrder(targets, (t) => runTarget(t, settings, deadline, tokenFor, options.lane));
    for (const f of findings) rememberDuration(f.target, f.durationMs);
    if (settings.localChain && resolveHostKind(settings, findings) === 'local') await addLocalChain(findings, deadline);
    return assemble(settings, findings, started);
  } finally {
    deadline.dispose();
  }
}

/** Off Azure, on request: narrate the developer credential chain once per audience, within the deadline. */
async function addLocalChain(findings: Finding[], deadline: Deadline): Promise<void> {
  const byAudience = new Map<string, ReturnType<typeof narrateLocalChain>>();
  const budget = Math.max(0, deadline.remainingMs - 200);
  for (const f of findings) {
    if (f.cause !== 'no_managed_identity') continue;
    if (!byAudience.has(f.audience)) byAudience.set(f.audience, narrateLocalChain(f.audience, budget, deadline.signal));
    f.evidence.localChain = await byAudience.get(f.audience)!;
  }
}
