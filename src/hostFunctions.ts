import { app, type HttpHandler, type HttpMethod, type TimerHandler } from '@azure/functions';
import type { Settings } from './config';
import type { Route } from './routes';
import { createWatchHandler, type TelemetrySource } from './watch/watch';

/**
 * The functions both shapes hand to the Functions host: the route table (under a prefix when embedded) plus the watch
 * timer when a schedule is set. src/index.ts registers them unprefixed (the standalone app); registerIdentityDoctor
 * registers them into a host app under its prefix.
 */

export type AuthLevel = 'anonymous' | 'function' | 'admin';

/** An HTTP function as registered with `app.http`. */
export interface RegisteredHttpFunction {
  trigger: 'http';
  name: string;
  /** Route under the host's route prefix (`identity-doctor/diagnose`). */
  route: string;
  methods: HttpMethod[];
  authLevel: AuthLevel;
  handler: HttpHandler;
}

/** The watch, as registered with `app.timer`. */
export interface RegisteredTimerFunction {
  trigger: 'timer';
  name: string;
  schedule: string;
  handler: TimerHandler;
}

export type RegisteredFunction = RegisteredHttpFunction | RegisteredTimerFunction;

/** The route table under a prefix, plus the watch when scheduled. */
export function functionsFor(input: {
  routes: Route[];
  /** '' for the standalone app: routes and names as in the route table. */
  routePrefix: string;
  authLevel?: AuthLevel;
  settings: () => Settings;
  telemetry: TelemetrySource;
}): RegisteredFunction[] {
  const { routePrefix } = input;
  const name = (n: string) => (routePrefix ? `${routePrefix.replace(/\//g, '-')}-${n}` : n);
  const out: RegisteredFunction[] = input.routes.map((r) => ({
    trigger: 'http',
    name: name(r.name),
    route: routePrefix ? `${routePrefix}/${r.route}` : r.route,
    methods: r.methods,
    authLevel: input.authLevel && r.authLevel !== 'anonymous' ? input.authLevel : r.authLevel,
    handler: r.handler,
  }));
  const schedule = input.settings().watch.schedule;
  if (schedule) out.push({ trigger: 'timer', name: name('watch'), schedule, handler: createWatchHandler(input.settings, input.telemetry) });
  return out;
}

/** Hands functions to the Functions host (`app.http` / `app.timer` of the @azure/functions this module resolves). */
export function registerFunctions(functions: RegisteredFunction[]): void {
  for (const f of functions) {
    if (f.trigger === 'http') {
      app.http(f.name, { route: f.route, methods: f.methods, authLevel: f.authLevel, handler: f.handler });
    } else {
      app.timer(f.name, { schedule: f.schedule, handler: f.handler });
    }
  }
}
