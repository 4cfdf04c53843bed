import { setMaxListeners } from 'node:events';

/**
 * The whole diagnose's deadline. Every network step takes a signal derived from it; nothing waits on an SDK
 * default (the identity SDK alone can hang forever on a silent endpoint). `reason` tells our own deadline apart from
 * a stage's own time limit, since the HTTP client reports both as the same AbortError.
 */
export class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  readonly startedAt = Date.now();
  readonly expiresAt: number;
  /** Resolves when the deadline passes (never rejects). */
  readonly expired: Promise<void>;

  constructor(readonly budgetMs: number, parent?: AbortSignal) {
    this.expiresAt = this.startedAt + budgetMs;
    // Every target and SDK call of a diagnose listens on this one signal by design: no listener limit applies.
    setMaxListeners(0, this.controller.signal);
    let fire!: () => void;
    this.expired = new Promise<void>((resolve) => (fire = resolve));
    this.timer = setTimeout(() => {
      this.controller.abort(new DeadlineExceeded(budgetMs));
      fire();
    }, budgetMs);
    this.timer.unref?.();
    parent?.addEventListener('abort', () => {
      this.controller.abort(parent.reason);
      fire();
    }, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get remainingMs(): number {
    return Math.max(0, this.expiresAt - Date.now());
  }

  get passed(): boolean {
    return this.controller.signal.aborted;
  }

  /** A signal that fires at the deadline or after `ms`, whichever comes first; `reason` says which. */
  stageSignal(ms: number): AbortSignal {
    return AbortSignal.any([this.signal, timeoutSignal(Math.min(ms, this.remainingMs))]);
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
  constructor(readonly budgetMs: number) {
    super(`the diagnose deadline of ${budgetMs} ms passed`);
  }
}

/** Settle `work` or give up when `signal` aborts (for SDK calls that ignore their abort signal). */
export function raceSignal<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * `AbortSignal.timeout(ms)`, held strongly by its timer. Node 20 keeps a timeout signal only weakly, and so does
 * `AbortSignal.any` its sources: when nothing else referenced one, the garbage collector took it and it never fired — a
 * silent identity endpoint then ran to the whole deadline instead of its stage's share (test/unit/engine/deadline.test.ts
 * forces the collection). The timer is unref'd, the reason the same TimeoutError.
 */
export function timeoutSignal(ms: number): AbortSignal {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), Math.max(1, ms));
  timer.unref?.();
  return controller.signal;
}
