import type { Settings, Target } from '../config';
import { worstStatus, type Cause, type Check, type Verdict } from '../verdict';
import { diagnose, summarise, type DiagnoseOptions } from './diagnose';

/**
 * Wait mode for pipelines (`?waitSeconds=N`): re-probe the failing checks with backoff until all pass or N runs out,
 * then answer once. N is capped so the answer arrives before the Azure Functions front end cuts an HTTP request at
 * 230 s; for longer waits, poll. A cause that waiting cannot cure stops the wait at once — the overall answer could
 * not turn into a pass anyway.
 *
 * Waiters on the same targets (same target list, same settings, same raw-probe choice) share ONE re-probe loop: a
 * thousand pipelines waiting on one grant cause one loop's worth of requests to Key Vault, ARM and the identity
 * endpoint, not a thousand. A waiter that joins a running loop starts from its latest round. How many waiters a
 * process holds at once is capped by the handler (DIAGNOSE_MAX_WAITERS).
 *
 * Re-probes use the SDK's token cache (ManagedIdentityCredential offers no force-refresh). That is right for a role
 * granted directly to the identity, which Azure evaluates server-side; a grant through a group needs a new token,
 * which the platform caches ~24 h — the propagation hint says so.
 */
export const MAX_WAIT_SECONDS = 200;
const FIRST_DELAY_MS = 2000;
const MAX_DELAY_MS = 15_000;
const BACKOFF = 1.5;
/** A round needs at least this long to be worth starting. */
const MIN_ROUND_MS = 500;

/** Causes that can heal while you wait: propagation, throttling, transient service and endpoint trouble. */
const CAN_HEAL: ReadonlySet<Cause> = new Set([
  'propagation_pending',
  'throttled',
  'target_error',
  'target_unreachable',
  'deadline_exceeded',
  'identity_endpoint_error',
  'identity_endpoint_unreachable',
]);

export function canHeal(check: Check): boolean {
  if (CAN_HEAL.has(check.cause)) return true;
  // A 403 whose roles could not be read may be a fresh grant: give it the benefit of the doubt.
  return check.cause === 'role_missing' && !!check.evidence.roles && !check.evidence.roles.lookedUp;
}

/** The wait actually applied to a request for `waitSeconds`: capped at MAX_WAIT_SECONDS. */
export function appliedWaitSeconds(waitSeconds: number): number {
  return Math.min(Math.max(0, waitSeconds), MAX_WAIT_SECONDS);
}

type WaitOptions = DiagnoseOptions & { sleep?: (ms: number) => Promise<void> };

/** One target as the loop last saw it: its latest check, how often it was probed, when it was first seen passing. */
interface Observed {
  check: Check;
  probes: number;
  passedAt?: number;
}

/** The re-probe loop shared by every waiter on one target set; it runs while some waiter can still use a round. */
class ProbeLoop {
  readonly latest = new Map<string, Observed>();
  rounds = 0;
  first?: Verdict;
  done = false;
  /** When the next round starts (while the loop sleeps), so a waiter due earlier can answer at once. */
  nextRoundAt = 0;
  readonly ready: Promise<void>;
  private readonly untils = new Map<symbol, number>();
  private pulse!: Promise<void>;
  private firePulse!: () => void;

  constructor(
    private readonly settings: Settings,
    private readonly targets: Target[],
    private readonly options: WaitOptions,
    onEnd: () => void,
  ) {
    this.arm();
    this.ready = this.nextPulse();
    // diagnose() never throws for a failing dependency; should a bug of ours escape, the waiters see no first round
    // and fail their own requests, and the process does not die of an unhandled rejection.
    void this.run()
      .catch(() => undefined)
      .finally(() => {
        this.done = true;
        onEnd();
        this.firePulse();
      });
  }

  /** Resolves after the next round (or the end of the loop). */
  nextPulse(): Promise<void> {
    return this.pulse;
  }

  /** Counts a waiter in until `until` (ms since the epoch); the returned function counts it out. */
  subscribe(until: number): () => void {
    const id = Symbol('waiter');
    this.untils.set(id, until);
    return () => this.untils.delete(id);
  }

  /** The latest moment any waiter still waits for. */
  private horizon(): number {
    return Math.max(0, ...this.untils.values());
  }

  private arm(): void {
    this.pulse = new Promise<void>((resolve) => (this.firePulse = resolve));
  }

  private record(checks: Check[]): void {
    const now = Date.now();
    for (const c of checks) {
      const before = this.latest.get(c.target);
      this.latest.set(c.target, { check: c, probes: (before?.probes ?? 0) + 1, ...(c.status !== 'fail' ? { passedAt: before?.passedAt ?? now } : {}) });
    }
    this.rounds++;
    const fire = this.firePulse;
    this.arm();
    fire();
  }

  private async run(): Promise<void> {
    const { settings, targets, options } = this;
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    this.first = await diagnose(settings, targets, options);
    this.record(this.first.checks);
    let delay = FIRST_DELAY_MS;
    for (;;) {
      const failing = [...this.latest.values()].filter((o) => o.check.status === 'fail');
      if (!failing.length || failing.some((o) => !canHeal(o.check))) return;
      if (this.horizon() - Date.now() < delay + MIN_ROUND_MS) return;
      this.nextRoundAt = Date.now() + delay;
      await sleep(delay);
      delay = Math.min(MAX_DELAY_MS, Math.round(delay * BACKOFF));
      const budget = Math.min(settings.timeoutMs, this.horizon() - Date.now());
      if (budget < MIN_ROUND_MS) return;
      const names = new Set(failing.map((o) => o.check.target));
      const again = await diagnose({ ...settings, timeoutMs: budget }, targets.filter((t) => names.has(t.name)), options);
      this.record(again.checks);
    }
  }
}

/** Running loops, per settings object and target set. */
const loops = new WeakMap<Settings, Map<string, ProbeLoop>>();

function loopFor(settings: Settings, targets: Target[], options: WaitOptions): ProbeLoop {
  let bySettings = loops.get(settings);
  if (!bySettings) loops.set(settings, (bySettings = new Map()));
  const key = JSON.stringify({ targets, rawProbe: !!options.rawProbe });
  let loop = bySettings.get(key);
  if (!loop) {
    const own = bySettings;
    loop = new ProbeLoop(settings, targets, options, () => own.delete(key));
    own.set(key, loop);
  }
  return loop;
}

/** Resolves true after `ms`, or false as soon as `other` settles; no timer outlives it. */
function timeoutBefore(other: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), Math.max(0, ms));
  });
  return Promise.race([other.then(() => false), timeout]).finally(() => clearTimeout(timer));
}

export async function diagnoseWithWait(settings: Settings, targets: Target[], waitSeconds: number, options: WaitOptions = {}): Promise<Verdict> {
  const applied = appliedWaitSeconds(waitSeconds);
  const started = Date.now();
  const until = started + applied * 1000;
  const loop = loopFor(settings, targets, options);
  const leave = loop.subscribe(until);
  let stoppedBecause: NonNullable<Verdict['wait']>['stoppedBecause'] = 'all_passed';
  let cannotHeal: string[] = [];
  const seenFirst = new Map<string, Observed>();
  let roundsBefore = 0;
  try {
    await loop.ready;
    // What this waiter saw first: the loop's latest round (a fresh first round if it started the loop).
    for (const [name, o] of loop.latest) seenFirst.set(name, o);
    roundsBefore = loop.rounds - 1;
    for (;;) {
      const failing = [...loop.latest.values()].filter((o) => o.check.status === 'fail').map((o) => o.check);
      if (!failing.length) break;
      cannotHeal = failing.filter((c) => !canHeal(c)).map((c) => c.target);
      if (cannotHeal.length) {
        stoppedBecause = 'cannot_heal';
        break;
      }
      // No further round, or none that can finish before this waiter is due: answer now with what is known.
      if (loop.done || until - Math.max(Date.now(), loop.nextRoundAt) < MIN_ROUND_MS) {
        stoppedBecause = 'time_up';
        break;
      }
      if (await timeoutBefore(loop.nextPulse(), until - Date.now())) {
        stoppedBecause = 'time_up';
        break;
      }
    }
  } finally {
    leave();
  }
  const first = loop.first;
  if (!first) throw new Error('the wait loop ended without a first round');
  const all = first.checks.map((c): Check => {
    const now = loop.latest.get(c.target)!;
    const atStart = seenFirst.get(c.target)!;
    const authorizedAfter = atStart.check.status !== 'fail' ? 0 : Math.max(0, Math.round(((now.passedAt ?? started) - started) / 100) / 10);
    return {
      ...now.check,
      attempts: now.probes - atStart.probes + 1,
      ...(now.check.status !== 'fail' ? { secondsUntilAuthorized: authorizedAfter } : {}),
    };
  });
  const claims = all.find((c) => c.claims)?.claims;
  return {
    ...first,
    status: all.length ? worstStatus(all.map((c) => c.status)) : first.status,
    summary: summarise(all),
    durationMs: Date.now() - started,
    identity: { ...first.identity, ...(claims?.oid && !first.identity.principalId ? { principalId: claims.oid } : {}) },
    checks: all,
    wait: {
      requestedSeconds: waitSeconds,
      appliedSeconds: applied,
      waitedSeconds: Math.round((Date.now() - started) / 100) / 10,
      rounds: loop.rounds - roundsBefore,
      stoppedBecause,
      ...(cannotHeal.length ? { cannotHeal } : {}),
    },
  };
}
