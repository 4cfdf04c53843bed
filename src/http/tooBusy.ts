import type { HttpResponseInit } from '@azure/functions';
import type { Settings } from '../config';
import type { Refusal } from '../engine/admission';
import { problem } from './problem';

/** Seconds a shed caller should wait: a diagnose turn frees within one deadline; a waiter's place, within a wait. */
const RETRY_AFTER_SECONDS = { diagnose: 5, wait: 30 } as const;

/** The 429 problem + Retry-After a shed diagnose is answered with, saying which limit it met. */
export function tooBusy(refusal: Refusal, settings: Settings): HttpResponseInit {
  const detail = {
    queue_full: `The service is running ${settings.load.maxConcurrent} diagnoses and ${settings.load.maxQueued} more wait for a turn.`,
    no_turn_in_time: `No turn came up within half the deadline (${settings.timeoutMs} ms): the answer could not have been on time.`,
    overdue: `The diagnose finished past its deadline of ${settings.timeoutMs} ms (the host is overloaded), so its verdict is not sent.`,
    waiters: `The service already holds ${settings.load.maxWaiters} wait-mode requests (DIAGNOSE_MAX_WAITERS). Poll without waitSeconds, or retry later.`,
  }[refusal];
  const retryAfter = RETRY_AFTER_SECONDS[refusal === 'waiters' ? 'wait' : 'diagnose'];
  const init = problem(429, 'Too busy', `${detail} Retry after ${retryAfter} s.`);
  return { ...init, headers: { ...(init.headers as Record<string, string>), 'retry-after': String(retryAfter) } };
}
