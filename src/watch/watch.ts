import type { InvocationContext, Timer, TimerHandler } from '@azure/functions';
import type { Settings } from '../config';
import { diagnose } from '../engine/diagnose';
import { redactDeep, redactText } from '../http/redact';
import type { Verdict } from '../verdict';
import { azureMonitorProviders } from './azureMonitor';
import { emitVerdict, flushTelemetry, type TelemetryProviders } from './telemetry';

/**
 * The scheduled watch (`app.timer`, DIAGNOSE_WATCH_SCHEDULE): diagnoses every configured target and emits one record
 * per target, so a dependency that turns from pass to fail shows up within one schedule period without anyone calling
 * the API. A failing dependency is data, not a failed invocation: the handler never throws for it, which also keeps
 * the host from retrying a run that did exactly its job.
 */

/** Where a run's records go; `undefined` = nowhere (no connection string, nothing injected). */
export type TelemetrySource = () => Promise<TelemetryProviders | undefined>;

/** Injected providers win; else Application Insights when its connection string is set; else no telemetry. */
export function telemetrySourceFor(settings: Settings, injected?: TelemetryProviders): TelemetrySource {
  if (injected) return async () => injected;
  const connectionString = settings.watch.appInsightsConnectionString;
  if (connectionString) return () => azureMonitorProviders(connectionString, settings.watch.appInsightsEntra);
  return async () => undefined;
}

/** A bounded wait for the exporter: the run's own deadline is DIAGNOSE_TIMEOUT_MS, telemetry gets at most this. */
export const FLUSH_TIMEOUT_MS = 10_000;

export interface WatchRun {
  verdict: Verdict;
  /** Whether the records were handed to an exporter (false: no telemetry configured, or it failed — see the log). */
  emitted: boolean;
}

type Log = Pick<InvocationContext, 'log' | 'warn'>;

/** One watch run: diagnose all targets, emit, flush. Never throws. */
export async function runWatch(settings: Settings, telemetry: TelemetrySource, log: Log): Promise<WatchRun> {
  const verdict = redactDeep(await diagnose(settings, settings.targets));
  log.log(
    `watch ${verdict.status} in ${verdict.durationMs} ms: ${verdict.checks.map((c) => `${c.target}=${c.cause}`).join(' ') || 'no targets (set DIAGNOSE_TARGETS)'}`,
  );
  let providers: TelemetryProviders | undefined;
  try {
    providers = await telemetry();
  } catch (err) {
    log.warn(`watch telemetry unavailable: ${errorText(err)}`);
    return { verdict, emitted: false };
  }
  if (!providers) return { verdict, emitted: false };
  try {
    emitVerdict(providers, verdict);
    await flushTelemetry(providers, FLUSH_TIMEOUT_MS);
    return { verdict, emitted: true };
  } catch (err) {
    log.warn(`watch telemetry failed: ${errorText(err)}`);
    return { verdict, emitted: false };
  }
}

/** The timer handler over a settings snapshot. */
export function createWatchHandler(settings: () => Settings, telemetry: TelemetrySource): TimerHandler {
  return async (timer: Timer, context: InvocationContext) => {
    if (timer.isPastDue) context.log('watch is running late (a missed schedule occurrence)');
    await runWatch(settings(), telemetry, context);
  };
}

function errorText(err: unknown): string {
  return redactText(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
}
