import { z } from 'zod';
import { AppSettingsSchema, loadSettings, SETTING_NAMES, TargetListSchema, type Target } from './config';
import { functionsFor, registerFunctions, type AuthLevel, type RegisteredFunction } from './hostFunctions';
import { createRoutes } from './routes';
import type { TelemetryProviders } from './watch/telemetry';
import { telemetrySourceFor } from './watch/watch';

/**
 * The package entry point: `registerIdentityDoctor()` adds Identity Doctor's functions to an existing Node.js Functions
 * app, so the diagnose runs as that app's own identity — the only way to test a system-assigned identity. The
 * standalone app (src/index.ts) registers the very same functions, unprefixed.
 */

export type { Settings, Target } from './config';
export { ConfigError } from './config';
export type { Verdict, Check, Cause, Category, Status } from './verdict';
export type { TelemetryProviders } from './watch/telemetry';
export { CHECK_EVENT_NAME, CHECK_STATUS_METRIC, STATUS_VALUE } from './watch/telemetry';
export type { AuthLevel, RegisteredFunction, RegisteredHttpFunction, RegisteredTimerFunction } from './hostFunctions';

/** Name of an app setting Identity Doctor reads (`DIAGNOSE_TARGETS`, `AZURE_CLIENT_ID`, …). */
export type SettingName = (typeof SETTING_NAMES)[number];

/** Options of {@link registerIdentityDoctor}. Every one is optional. */
export interface IdentityDoctorOptions {
  /**
   * Path segment(s) every route is registered under, inside the host's own route prefix (`api` unless host.json says
   * otherwise): `"identity-doctor"` (default) serves `/api/identity-doctor/diagnose`. Function names carry it too
   * (`identity-doctor-diagnose`, `identity-doctor-watch`), so neither routes nor names collide with the host app's.
   * Letters, digits, `-` and `_`, starting with a letter; `/` separates segments.
   */
  routePrefix?: string;
  /** Where app settings are read from. Default: `process.env` — the host app's app settings, same names as standalone. */
  env?: Record<string, string | undefined>;
  /**
   * Overrides of single app settings, by their names (`{ DIAGNOSE_TIMEOUT_MS: '5000' }`), applied over `env` and
   * validated exactly like app settings.
   */
  settings?: Partial<Record<SettingName, string>>;
  /** The dependencies to diagnose, instead of the `DIAGNOSE_TARGETS` app setting. */
  targets?: Target[];
  /**
   * NCRONTAB schedule of the watch timer, instead of `DIAGNOSE_WATCH_SCHEDULE`; `false` registers no timer even if the
   * app setting is set. Default: the app setting; unset = no watch.
   */
  watchSchedule?: string | false;
  /**
   * Auth level of the routes that need a key (diagnose: `function` by default). `admin` asks for the master key;
   * `anonymous` suits an app behind App Service Authentication or API Management only. Routes that are anonymous by
   * design (a health probe) stay anonymous.
   */
  authLevel?: AuthLevel;
  /**
   * Where the watch sends its records, instead of the default: the host's own OpenTelemetry SDK when one is registered
   * globally, else the Azure Monitor distro started on the first run — both only when
   * `APPLICATIONINSIGHTS_CONNECTION_STRING` is set.
   */
  telemetry?: TelemetryProviders;
}

export interface IdentityDoctorRegistration {
  /** The prefix in use, surrounding slashes removed. */
  routePrefix: string;
  /** Every function handed to the host, in registration order (to log them, or to serve them without a host). */
  functions: RegisteredFunction[];
}

/** A bad option; app settings that fail validation throw {@link ConfigError} instead, naming the setting. */
export class IdentityDoctorOptionsError extends Error {
  override readonly name = 'IdentityDoctorOptionsError';
  constructor(readonly problems: { option: string; expected: string }[]) {
    super('Invalid registerIdentityDoctor options:\n' + problems.map((p) => `  ${p.option}: ${p.expected}`).join('\n'));
  }
}

export const DEFAULT_ROUTE_PREFIX = 'identity-doctor';

const SEGMENT = '[A-Za-z0-9][A-Za-z0-9_-]*';
const RoutePrefixSchema = z
  .string()
  .transform((s) => s.trim().replace(/^\/+|\/+$/g, ''))
  .pipe(
    z
      .string()
      .max(100, 'expected at most 100 characters')
      .regex(
        new RegExp(`^[A-Za-z][A-Za-z0-9_-]*(/${SEGMENT})*$`),
        'expected path segments of letters, digits, "-" or "_" starting with a letter, like "identity-doctor" (an empty prefix would collide with the host\'s routes)',
      ),
  );

const SettingOverridesSchema = z
  .object(Object.fromEntries(SETTING_NAMES.map((n) => [n, z.string().optional()])) as Record<SettingName, z.ZodOptional<z.ZodString>>)
  .strict();

const OptionsSchema = z
  .object({
    routePrefix: RoutePrefixSchema.default(DEFAULT_ROUTE_PREFIX),
    env: z.record(z.string(), z.string().optional()).optional(),
    settings: SettingOverridesSchema.optional(),
    targets: TargetListSchema.optional(),
    watchSchedule: z.union([z.literal(false), AppSettingsSchema.shape.DIAGNOSE_WATCH_SCHEDULE.unwrap()]).optional(),
    authLevel: z.enum(['anonymous', 'function', 'admin'], { message: 'expected anonymous, function or admin' }).optional(),
    telemetry: z
      .custom<TelemetryProviders>(
        (v) =>
          typeof v === 'object' &&
          v !== null &&
          typeof (v as TelemetryProviders).meterProvider?.getMeter === 'function' &&
          typeof (v as TelemetryProviders).loggerProvider?.getLogger === 'function',
        'expected { meterProvider, loggerProvider } from an OpenTelemetry SDK',
      )
      .optional(),
  })
  .strict();

function formatPath(path: readonly PropertyKey[]): string {
  const [head, ...rest] = path;
  return String(head ?? '(options)') + rest.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
}

/**
 * Registers Identity Doctor's HTTP functions (every route of the route table: diagnose, and health/openapi where
 * present) and, when a schedule is set, the watch timer into the host app, through `app.http` / `app.timer`.
 *
 * Settings are parsed once, here, from `env` (default `process.env`) with `settings`, `targets` and `watchSchedule`
 * applied over it; a bad value throws naming the option or app setting, so a typo fails the host's start-up rather
 * than its first request. Wrap the call in try/catch if the host app should start without Identity Doctor instead.
 *
 * ```ts
 * import { registerIdentityDoctor } from 'identity-doctor';
 * registerIdentityDoctor({ routePrefix: 'identity-doctor' }); // GET /api/identity-doctor/diagnose
 * ```
 *
 * @throws IdentityDoctorOptionsError for a bad option; ConfigError for a bad app setting.
 */
export function registerIdentityDoctor(options: IdentityDoctorOptions = {}): IdentityDoctorRegistration {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new IdentityDoctorOptionsError(parsed.error.issues.map((i) => ({ option: formatPath(i.path), expected: i.message })));
  }
  const o = parsed.data;
  const env: Record<string, string | undefined> = { ...(o.env ?? process.env), ...o.settings };
  // PORT and HOST only configure `npm run serve`; a host app's own PORT must not be able to fail our start-up.
  delete env.PORT;
  delete env.HOST;
  if (o.targets) env.DIAGNOSE_TARGETS = JSON.stringify(o.targets);
  if (o.watchSchedule !== undefined) env.DIAGNOSE_WATCH_SCHEDULE = o.watchSchedule === false ? '' : o.watchSchedule;
  const settings = loadSettings(env);

  const functions = functionsFor({
    routes: createRoutes(() => settings),
    routePrefix: o.routePrefix,
    authLevel: o.authLevel,
    settings: () => settings,
    telemetry: telemetrySourceFor(settings, o.telemetry),
  });
  registerFunctions(functions);
  return { routePrefix: o.routePrefix, functions };
}
