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

/** Why a request was not admitted. */
export type Refusal = 'queue_full' | 'no_turn_in_time';

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
