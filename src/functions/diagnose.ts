import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { getSettings, type Settings } from '../config';
import { Admission, Ceiling, type Refusal } from '../engine/admission';
import { diagnose } from '../engine/diagnose';
import { appliedWaitSeconds, diagnoseWithWait } from '../engine/wait';
import { parseDiagnoseRequest } from '../http/diagnoseRequest';
import { problem } from '../http/problem';
import { redactDeep } from '../http/redact';
import { renderVerdict } from '../output';
import type { Verdict } from '../verdict';

/**
 * GET|POST /api/diagnose[?target=a,b] — thin adapter: parse (zod) → admission → engine → render.
 * 200 when no check fails (pass/warn), 503 when any fails, so `curl --fail` breaks a pipeline exactly then.
 * 429 problem + Retry-After when the process is too busy to answer within the deadline (docs/security-load.md).
 */

/** A queued diagnose may spend at most this share of its deadline waiting for a turn; the rest is its own. */
const MAX_QUEUE_SHARE = 0.5;
/** Beyond its deadline a verdict is not sent (event-loop lag on a saturated host): this much grace, then 429. */
export const OVERDUE_SLACK_MS = 1000;
const RETRY_AFTER_SECONDS = { diagnose: 5, wait: 30 } as const;

/** Per process: keyed diagnoses running and queued, and wait-mode requests held. */
const diagnoses = new Admission();
const waiters = new Ceiling();

function tooBusy(why: Refusal | 'overdue' | 'waiters', settings: Settings): HttpResponseInit {
  const detail = {
    queue_full: `The service is running ${settings.load.maxConcurrent} diagnoses and ${settings.load.maxQueued} more wait for a turn.`,
    no_turn_in_time: `No turn came up within half the deadline (${settings.timeoutMs} ms): the answer could not have been on time.`,
    overdue: `The diagnose finished past its deadline of ${settings.timeoutMs} ms (the host is overloaded), so its verdict is not sent.`,
    waiters: `The service already holds ${settings.load.maxWaiters} wait-mode requests (DIAGNOSE_MAX_WAITERS). Poll without waitSeconds, or retry later.`,
  }[why];
  const retryAfter = RETRY_AFTER_SECONDS[why === 'waiters' ? 'wait' : 'diagnose'];
  const init = problem(429, 'Too busy', `${detail} Retry after ${retryAfter} s.`);
  return { ...init, headers: { ...(init.headers as Record<string, string>), 'retry-after': String(retryAfter) } };
}

export async function diagnoseHandler(request: HttpRequest, context: InvocationContext, settings: Settings = getSettings()): Promise<HttpResponseInit> {
  const arrivedAt = Date.now();
  const parsed = await parseDiagnoseRequest(request, settings);
  if (!parsed.ok) return parsed.response;
  const { targets, rawProbe, waitSeconds } = parsed.value;
  let verdict: Verdict;
  let dueMs = settings.timeoutMs;
  if (waitSeconds) {
    const leave = waiters.tryEnter(settings.load.maxWaiters);
    if (!leave) return shed(context, 'waiters', settings);
    dueMs = Math.max(dueMs, appliedWaitSeconds(waitSeconds) * 1000);
    try {
      verdict = await diagnoseWithWait(settings, targets, waitSeconds, { rawProbe });
    } finally {
      leave();
    }
  } else {
    const turn = await diagnoses.enter(settings.load, settings.timeoutMs * MAX_QUEUE_SHARE);
    if (!turn.ok) return shed(context, turn.refusal, settings);
    try {
      verdict = await diagnose(settings, targets, { rawProbe, arrivedAt });
    } finally {
      turn.release();
    }
  }
  if (Date.now() - arrivedAt > dueMs + OVERDUE_SLACK_MS) return shed(context, 'overdue', settings);
  verdict = redactDeep(verdict);
  context.log(
    `diagnose ${verdict.status} in ${verdict.durationMs} ms: ${verdict.checks.map((c) => `${c.target}=${c.cause}`).join(' ') || 'no targets'}`,
  );
  return renderVerdict(verdict, parsed.value.format);
}

function shed(context: InvocationContext, why: Refusal | 'overdue' | 'waiters', settings: Settings): HttpResponseInit {
  context.warn(`diagnose shed (${why}): answered 429`);
  return tooBusy(why, settings);
}
