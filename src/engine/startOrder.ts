import type { Target } from '../config';

/**
 * The order a diagnose starts its targets in. Every target's setup (its token from the cache, its SDK client and
 * pipeline) and every answer runs on the one JavaScript thread, so two things decide how late a target's requests
 * leave:
 *
 *  - A target's first request is written to its socket only once the synchronous work queued before it is done: had
 *    all targets been started in one go, the first one's request would wait for the setup of all the others (about a
 *    millisecond each). Each target therefore starts on a turn of the event loop of its own, after the previous one's
 *    request has left.
 *  - The slowest target (Key Vault's challenge and retried GET, an AMQP or TDS handshake) starts first: its requests
 *    leave first and its answers are at the head of the queue when several land together, so its later round trips
 *    are not delayed behind the CPU of targets that finish sooner anyway. "Slowest" is what each target took the last
 *    time this process diagnosed it; targets not seen yet start first, in their configured order.
 *
 * Measured in `npm run bench` (P1; docs/performance.md). The verdict keeps the targets' configured order.
 */

const lastDurationMs = new Map<string, number>();
/** Ad-hoc targets come from requests: the memory is bounded, the least recently seen forgotten first. */
export const REMEMBERED_TARGETS = 1000;

function keyOf(target: Target): string {
  return JSON.stringify(target);
}

/** Record how long a target's run took, for the next diagnose's order. */
export function rememberDuration(target: Target, ms: number): void {
  const key = keyOf(target);
  lastDurationMs.delete(key);
  lastDurationMs.set(key, ms);
  if (lastDurationMs.size > REMEMBERED_TARGETS) lastDurationMs.delete(lastDurationMs.keys().next().value!);
}

/** Indices of `targets`, slowest last time first; unseen targets first, ties in configured order. */
export function startOrder(targets: readonly Target[]): number[] {
  const expected = targets.map((t) => lastDurationMs.get(keyOf(t)) ?? Number.POSITIVE_INFINITY);
  return targets.map((_, i) => i).sort((a, b) => expected[b]! - expected[a]! || a - b);
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Start `run` for each target in `startOrder`, one per turn of the event loop; resolves to the results in the
 * targets' own order. `run` is expected never to reject (runTarget turns every failure into a finding); should it,
 * the rejection surfaces here, never as an unhandled one while later targets are still being started.
 */
export async function runInStartOrder<R>(targets: readonly Target[], run: (t: Target) => Promise<R>): Promise<R[]> {
  const results = new Array<Promise<R>>(targets.length);
  for (const [n, i] of startOrder(targets).entries()) {
    if (n > 0) await nextTurn();
    const p = run(targets[i]!);
    p.catch(() => undefined);
    results[i] = p;
  }
  return Promise.all(results);
}
