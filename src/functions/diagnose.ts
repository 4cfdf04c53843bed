import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { getSettings, type Settings } from '../config';
import { diagnose } from '../engine/diagnose';
import { diagnoseWithWait } from '../engine/wait';
import { parseDiagnoseRequest } from '../http/diagnoseRequest';
import { redactDeep } from '../http/redact';
import { renderVerdict } from '../output';

/**
 * GET|POST /api/diagnose[?target=a,b] — thin adapter: parse (zod) → engine → render.
 * 200 when no check fails (pass/warn), 503 when any fails, so `curl --fail` breaks a pipeline exactly then;
 * `?failOn=warn` makes a warn answer 503 too (a strict gate).
 */
export async function diagnoseHandler(request: HttpRequest, context: InvocationContext, settings: Settings = getSettings()): Promise<HttpResponseInit> {
  const parsed = await parseDiagnoseRequest(request, settings);
  if (!parsed.ok) return parsed.response;
  const { targets, rawProbe, waitSeconds } = parsed.value;
  const verdict = redactDeep(
    waitSeconds ? await diagnoseWithWait(settings, targets, waitSeconds, { rawProbe }) : await diagnose(settings, targets, { rawProbe }),
  );
  context.log(
    `diagnose ${verdict.status} in ${verdict.durationMs} ms: ${verdict.checks.map((c) => `${c.target}=${c.cause}`).join(' ') || 'no targets'}`,
  );
  return renderVerdict(verdict, parsed.value.format, parsed.value.failOn);
}
