import type { Attributes, Gauge, MeterProvider } from '@opentelemetry/api';
import { SeverityNumber, type LoggerProvider } from '@opentelemetry/api-logs';
import { redactText } from '../http/redact';
import type { Check, Status, Verdict } from '../verdict';

/**
 * What the watch emits per target and run: one gauge point and one log record (an Application Insights custom event).
 * Names and attribute keys are a public contract — the alert queries in infra/alerts/ filter on them — so they live
 * here as constants and the tests hold the KQL to them. Claims, ids taken from claims, tokens and secrets never
 * appear: the identity is named by placeholder, and /api/diagnose gives the exact command.
 */

/** Instrumentation scope of every record. */
export const SCOPE_NAME = 'identity-doctor';

/** Gauge, one point per target and run: 0 pass, 1 warn, 2 fail. Lands in `customMetrics` under this name. */
export const CHECK_STATUS_METRIC = 'identity_doctor.check.status';

/** Log record event name; with the attribute below it lands in `customEvents` under this name. */
export const CHECK_EVENT_NAME = 'IdentityDoctorCheck';

/**
 * The Azure Monitor exporter turns a log record carrying this attribute into a custom event (and drops the attribute
 * from customDimensions); without it the record would land in `traces`.
 */
export const APPINSIGHTS_CUSTOM_EVENT_ATTRIBUTE = 'microsoft.custom_event.name';

export const STATUS_VALUE: Readonly<Record<Status, number>> = Object.freeze({ pass: 0, warn: 1, fail: 2 });

/** Attribute keys of the gauge (and the first keys of the event): bounded cardinality, safe to alert on. */
export const METRIC_ATTRIBUTE_KEYS = ['target', 'kind', 'cause', 'category', 'status'] as const;

/**
 * Where the watch writes. Any OpenTelemetry SDK providers will do: the Azure Monitor distro's globals in production,
 * the in-memory SDK in tests, a host's own SDK when embedded. `forceFlush`, when the provider has it, is called after
 * each run so a scaled-to-zero instance does not sit on the records.
 */
export interface TelemetryProviders {
  meterProvider: MeterProvider;
  loggerProvider: LoggerProvider;
}

const gauges = new WeakMap<MeterProvider, Gauge>();

function gaugeOf(meterProvider: MeterProvider): Gauge {
  let g = gauges.get(meterProvider);
  if (!g) {
    g = meterProvider.getMeter(SCOPE_NAME).createGauge(CHECK_STATUS_METRIC, {
      description: 'Identity Doctor: last status of each dependency check (0 pass, 1 warn, 2 fail).',
      unit: '{status}',
    });
    gauges.set(meterProvider, g);
  }
  return g;
}

/** The gauge's attributes for one check. */
export function metricAttributes(check: Check): Attributes {
  return { target: check.target, kind: check.kind, cause: check.cause, category: check.category, status: check.status };
}

const SEVERITY: Record<Status, { number: SeverityNumber; text: string }> = {
  pass: { number: SeverityNumber.INFO, text: 'INFO' },
  warn: { number: SeverityNumber.WARN, text: 'WARN' },
  fail: { number: SeverityNumber.ERROR, text: 'ERROR' },
};

/**
 * Identity ids as they occur in explanations and fix commands (they come from the token's claims), each with the
 * placeholder that replaces it. Longest first, so a resource id is replaced before any GUID inside it.
 */
function identityIds(check: Check, verdict: Verdict): [string, string][] {
  const c = check.claims ?? {};
  const id = verdict.identity;
  const pairs: [string | undefined, string][] = [
    [c.xms_mirid, '<identity-resource-id>'],
    [id.resourceId, '<identity-resource-id>'],
    [c.oid, '<principal-id>'],
    [c.sub, '<principal-id>'],
    [id.principalId, '<principal-id>'],
    [c.appid, '<client-id>'],
    [c.azp, '<client-id>'],
    [id.clientId, '<client-id>'],
    [c.tid, '<tenant-id>'],
    [id.tenantId, '<tenant-id>'],
    [check.evidence.expectedPrincipalId, '<expected-principal-id>'],
    [check.evidence.expectedTenantId, '<expected-tenant-id>'],
  ];
  // Short values ("app", "1.0") are not ids and would mangle text.
  return pairs
    .filter((p): p is [string, string] => typeof p[0] === 'string' && p[0].length >= 8)
    .sort((a, b) => b[0].length - a[0].length);
}

function scrubber(check: Check, verdict: Verdict): (s: string) => string {
  const ids = identityIds(check, verdict);
  return (s) => {
    let out = redactText(s);
    for (const [value, placeholder] of ids) out = out.split(value).join(placeholder).split(value.toLowerCase()).join(placeholder);
    return out;
  };
}

/** The event's attributes for one check: what an on-call person needs, nothing that identifies or authenticates. */
export function eventAttributes(check: Check, verdict: Verdict): Attributes {
  const scrub = scrubber(check, verdict);
  const e = check.evidence;
  const attrs: Attributes = {
    [APPINSIGHTS_CUSTOM_EVENT_ATTRIBUTE]: CHECK_EVENT_NAME,
    ...metricAttributes(check),
    stage: check.stage,
    title: check.title,
    summary: scrub(`${check.target}: ${check.title} (${check.cause})`),
    explanation: scrub(check.explanation),
    fix: check.fix.map(scrub).join('\n'),
    audience: check.audience,
    durationMs: check.durationMs,
    verdictStatus: verdict.status,
    checkedAt: verdict.checkedAt,
  };
  if (check.httpStatus !== undefined) attrs.httpStatus = check.httpStatus;
  // Service error codes and correlation ids are what a support case quotes; none of them comes from the token.
  if (e.errorCode) attrs.errorCode = scrub(e.errorCode);
  if (e.innerErrorCode) attrs.innerErrorCode = scrub(e.innerErrorCode);
  if (e.requestId) attrs.requestId = scrub(e.requestId);
  if (e.correlationId) attrs.correlationId = scrub(e.correlationId);
  if (e.transport?.code) attrs.transportCode = scrub(e.transport.code);
  return attrs;
}

/** Writes one gauge point and one event per check of the verdict. Never throws for a well-formed verdict. */
export function emitVerdict(providers: TelemetryProviders, verdict: Verdict): void {
  const gauge = gaugeOf(providers.meterProvider);
  const logger = providers.loggerProvider.getLogger(SCOPE_NAME);
  for (const check of verdict.checks) {
    gauge.record(STATUS_VALUE[check.status], metricAttributes(check));
    const attributes = eventAttributes(check, verdict);
    logger.emit({
      eventName: CHECK_EVENT_NAME,
      severityNumber: SEVERITY[check.status].number,
      severityText: SEVERITY[check.status].text,
      body: attributes.summary,
      attributes,
    });
  }
}

interface Flushable {
  forceFlush?: () => Promise<unknown>;
}

/**
 * Pushes buffered records out now, bounded by `timeoutMs`: a Functions instance may be frozen right after the
 * invocation, long before a periodic exporter's next tick. A slow or failing exporter is reported, never awaited
 * forever.
 */
export async function flushTelemetry(providers: TelemetryProviders, timeoutMs: number): Promise<void> {
  const flushes = [providers.meterProvider, providers.loggerProvider]
    .map((p) => p as Flushable)
    .filter((p) => typeof p.forceFlush === 'function')
    .map((p) => p.forceFlush!());
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`telemetry flush did not finish within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
  });
  try {
    await Promise.race([Promise.all(flushes), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
