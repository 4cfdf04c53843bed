import type { Settings, Target } from '../config';
import type { Verdict } from '../verdict';
import { diagnose } from './diagnose';
import { appliedWaitSeconds, diagnoseWithWait } from './wait';

/**
 * Overload shedding for keyed diagnoses. A process runs at most `maxConcurrent` diagnoses at once; up to `maxQueued`
 * more wait for a turn, each for at most a share of its deadline (the wait counts against that deadline); the rest
 * are shed at once. A shed request is answered 429 + Retry-After by the handler — quickly, instead of a verdict that
 * arrives long past DIAGNOSE_TIMEOUT_MS because hundreds of diagnoses shared two cores and four calls per host.
 *
 * Wait mode has its own, separate cap (waiters sleep most of the time; their re-probes are shared, see wait.ts).
 */

export interface AdmissionLimits {
  maxConcurrent: number;
  maxQueued: number;
}

/** Why a request was not admitted: no turn (queue full, or none in time), too many waiters, or a verdict too late. */
export type Refusal = 'queue_full' | 'no_turn_in_time' | 'waiters' | 'overdue';

export type Admitted = { ok: true; release: () => void } | { ok: false; refusal: Refusal };

export class Admission {
  private active = 0;
  private readonly queue: (() => void)[] = [];

  /** Diagnoses running now and waiting for a turn (for tests and logs). */
  get load(): { active: number; queued: number } {
    return { active: this.active, queued: this.queue.length };
  }

  /**
   * A turn, or a refusal: at once when `maxQueued` already wait, or after `maxWaitMs` without a turn. The release is
   * idempotent and hands the turn to the longest-waiting request.
   */
  enter(limits: AdmissionLimits, maxWaitMs: number): Promise<Admitted> {
    if (this.active < limits.maxConcurrent && this.queue.length === 0) return Promise.resolve(this.admit());
    if (this.queue.length >= limits.maxQueued) return Promise.resolve({ ok: false, refusal: 'queue_full' });
    return new Promise<Admitted>((resolve) => {
      const grant = () => {
        clearTimeout(timer);
        resolve(this.admit());
      };
      const timer = setTimeout(() => {
        const i = this.queue.indexOf(grant);
        if (i >= 0) this.queue.splice(i, 1);
        resolve({ ok: false, refusal: 'no_turn_in_time' });
      }, Math.max(0, maxWaitMs));
      timer.unref?.();
      this.queue.push(grant);
    });
  }

  private admit(): Admitted {
    this.active++;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.active--;
        this.queue.shift()?.();
      },
    };
  }
}

/** A plain counter with a ceiling: wait-mode requests held at once. */
export class Ceiling {
  private held = 0;

  get count(): number {
    return this.held;
  }

  /** A release, or undefined when `max` are already held. */
  tryEnter(max: number): (() => void) | undefined {
    if (this.held >= max) return undefined;
    this.held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held--;
    };
  }
}

/** A queued diagnose may spend at most this share of its deadline waiting for a turn; the rest is its own. */
const MAX_QUEUE_SHARE = 0.5;
/** Beyond its deadline a verdict is not sent (event-loop lag on a saturated host): this much grace, then shed. */
export const OVERDUE_SLACK_MS = 1000;

/** Per process: keyed diagnoses running and queued, and wait-mode requests held. */
const diagnoses = new Admission();
const waiters = new Ceiling();

export interface AdmittedRequest {
  targets: Target[];
  rawProbe: boolean;
  waitSeconds?: number;
  /** When the request arrived: its deadline counts from then. */
  arrivedAt: number;
}

/**
 * A keyed diagnose under the process's load limits: the verdict, or why it was shed. A wait-mode request needs one of
 * DIAGNOSE_MAX_WAITERS places; any other needs a turn (DIAGNOSE_MAX_CONCURRENT, DIAGNOSE_MAX_QUEUED). A verdict
 * ready more than OVERDUE_SLACK_MS past its deadline (DIAGNOSE_TIMEOUT_MS, or the applied wait if longer, counted
 * from arrival) is shed too: the caller is told to retry rather than handed a late answer.
 */
export async function diagnoseAdmitted(settings: Settings, req: AdmittedRequest): Promise<{ ok: true; verdict: Verdict } | { ok: false; refusal: Refusal }> {
  const { targets, rawProbe, waitSeconds, arrivedAt } = req;
  let verdict: Verdict;
  let dueMs = settings.timeoutMs;
  if (waitSeconds) {
    const leave = waiters.tryEnter(settings.load.maxWaiters);
    if (!leave) return { ok: false, refusal: 'waiters' };
    dueMs = Math.max(dueMs, appliedWaitSeconds(waitSeconds) * 1000);
    try {
      verdict = await diagnoseWithWait(settings, targets, waitSeconds, { rawProbe });
    } finally {
      leave();
    }
  } else {
    const turn = await diagnoses.enter(settings.load, settings.timeoutMs * MAX_QUEUE_SHARE);
    if (!turn.ok) return turn;
    try {
      verdict = await diagnose(settings, targets, { rawProbe, arrivedAt });
    } finally {
      turn.release();
    }
  }
  if (Date.now() - arrivedAt > dueMs + OVERDUE_SLACK_MS) return { ok: false, refusal: 'overdue' };
  return { ok: true, verdict };
}
