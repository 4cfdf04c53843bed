import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { Settings } from '../config';
import { diagnose } from '../engine/diagnose';
import { CoalescingCache } from '../health/coalescingCache';
import { parameterErrors, problem } from '../http/problem';
import { redactDeep } from '../http/redact';
import { HEALTH_CONTENT_TYPE, healthOf, renderHealth, type Health } from '../output/health';
import type { Verdict } from '../verdict';

/**
 * GET /api/health — for probes asking "is every dependency authorized right now?". Anonymous (App Service Health
 * check and kubelets send no function key), so the body is minimal unless HEALTH_DETAILS=true. Always every configured
 * target: one cached diagnose serves every caller, and no caller's query can shape what another is told.
 *
 * GET /api/health/live — process liveness only: answers without reading settings or calling anything.
 */

export type RunDiagnose = (settings: Settings) => Promise<Verdict>;

export interface HealthHandlerOptions {
  /** The full-target diagnose. Tests pass a counting stand-in; the service uses the engine. */
  run?: RunDiagnose;
  now?: () => number;
}

// Health's own lane of per-host call slots: a flood of keyed diagnoses never makes a healthy dependency look late.
const runEngine: RunDiagnose = (settings) => diagnose(settings, settings.targets, { lane: 'health' });

/** One handler with its own cache: each createRoutes call (each embedding app) gets its own. */
export function createHealthHandler(settings: () => Settings, options: HealthHandlerOptions = {}): HttpHandler {
  const run = options.run ?? runEngine;
  const cache = new CoalescingCache<Verdict>(options.now);
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const given = [...new Set(request.query.keys())];
    if (given.length) {
      return problem(
        400,
        'Bad query',
        '/api/health takes no parameters: it always reports every configured target. Use /api/diagnose?target=… for a subset.',
        parameterErrors(given, 'unknown parameter'),
      );
    }
    const s = settings();
    try {
      const { value: verdict, source } = await cache.get(async () => redactDeep(await run(s)), s.health.cacheSeconds * 1000);
      if (source === 'loaded') {
        context.log(`health ${verdict.status}: diagnosed ${verdict.checks.length} targets in ${verdict.durationMs} ms; reused for ${s.health.cacheSeconds} s`);
      }
      return renderHealth(healthOf(verdict, { details: s.health.details }));
    } catch (err) {
      // The engine never throws for a failing dependency; this is our own bug, reported without its text.
      context.error(`health: diagnose failed unexpectedly (${err instanceof Error ? err.name : 'error'})`);
      return renderHealth({ status: 'fail', output: 'diagnostic_error', checks: {} });
    }
  };
}

const LIVE: Health = { status: 'pass', description: 'The process is up. Dependencies are not checked here: see /api/health.', checks: {} };

export const healthLiveHandler: HttpHandler = async () => ({
  status: 200,
  headers: { 'content-type': HEALTH_CONTENT_TYPE, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
  body: JSON.stringify(LIVE),
});
