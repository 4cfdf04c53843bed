import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { getSettings, type Settings } from '../config';
import { diagnoseAdmitted } from '../engine/admission';
import { parseDiagnoseRequest } from '../http/diagnoseRequest';
import { tooBusy } from '../http/tooBusy';
import { redactDeep } from '../http/redact';
import { renderVerdict } from '../output';

/**
 * GET|POST /api/diagnose[?target=a,b] — thin adapter: parse (zod) → engine (within the load limits) → render.
 * 200 when no check fails (pass/warn), 503 when any fails, so `curl --fail` breaks a pipeline exactly then;
 * `?failOn=warn` makes a warn answer 503 too (a strict gate).
 * 429 problem + Retry-After when the process is too busy to answer within the deadline (SECURITY.md).
 */
export async function diagnoseHandler(request: HttpRequest, context: InvocationContext, settings: Settings = getSettings()): Promise<HttpResponseInit> {
  const arrivedAt = Date.now();
  const parsed = await parseDiagnoseRequest(request, settings);
  if (!parsed.ok) return parsed.response;
  const { targets, rawProbe, waitSeconds } = parsed.value;
  const outcome = await diagnoseAdmitted(settings, { targets, rawProbe, waitSeconds, arrivedAt });
  if (!outcome.ok) {
    context.warn(`diagnose shed (${outcome.refusal}): answered 429`);
    return tooBusy(outcome.refusal, settings);
  }
  const verdict = redactDeep(outcome.verdict);
  context.log(
    `diagnose ${verdict.status} in ${verdict.durationMs} ms: ${verdict.checks.map((c) => `${c.target}=${c.cause}`).join(' ') || 'no targets'}`,
  );
  return renderVerdict(verdict, parsed.value.format, parsed.value.failOn);
}
