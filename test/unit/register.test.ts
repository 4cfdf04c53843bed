import { HttpRequest, InvocationContext } from '@azure/functions';
import { ConfigError } from '../../src/config';
import { IdentityDoctorOptionsError, registerIdentityDoctor, type IdentityDoctorOptions } from '../../src/register';
import { createRoutes } from '../../src/routes';

/**
 * registerIdentityDoctor against the real @azure/functions library, with the worker's core API replaced by a recorder:
 * `@azure/functions-core` is the module the Functions worker provides to the library, and `registerFunction` receives
 * exactly the metadata the host indexes (bindings with route, methods, authLevel, schedule).
 */
interface CoreRegistration {
  metadata: { name: string; bindings: Record<string, Record<string, unknown>> };
  handler: (...args: unknown[]) => unknown;
}
const core = { registrations: [] as CoreRegistration[] };
jest.mock(
  '@azure/functions-core',
  () => ({
    setProgrammingModel: () => undefined,
    getProgrammingModel: () => undefined,
    registerHook: () => ({ dispose: () => undefined }),
    log: () => undefined,
    registerFunction: (metadata: CoreRegistration['metadata'], handler: CoreRegistration['handler']) => {
      core.registrations.push({ metadata, handler });
      return { dispose: () => undefined };
    },
  }),
  { virtual: true },
);

const HOST_ENV = { FUNCTIONS_WORKER_RUNTIME: 'node', WEBSITE_SITE_NAME: 'workload-app' };
const VAULT_TARGET = { name: 'secrets', kind: 'keyVaultSecret', vaultUrl: 'https://kv-app.vault.azure.net', secretName: 'app-secret' } as const;

function register(options: IdentityDoctorOptions = {}) {
  core.registrations = [];
  const registration = registerIdentityDoctor({ env: HOST_ENV, ...options });
  return { registration, host: core.registrations };
}

function trigger(r: CoreRegistration) {
  return Object.values(r.metadata.bindings).find((b) => b.direction === 'in')!;
}

describe('registerIdentityDoctor', () => {
  it('registers every route of the route table under the prefix, in the host, with prefixed function names', () => {
    const { registration, host } = register();
    const routes = createRoutes();
    expect(registration.routePrefix).toBe('identity-doctor');
    expect(host.map((r) => r.metadata.name)).toEqual(routes.map((r) => `identity-doctor-${r.name}`));
    const diagnose = host.find((r) => r.metadata.name === 'identity-doctor-diagnose')!;
    expect(trigger(diagnose)).toMatchObject({ type: 'httpTrigger', route: 'identity-doctor/diagnose', methods: ['GET', 'POST'], authLevel: 'function' });
    expect(registration.functions.map((f) => f.name)).toEqual(host.map((r) => r.metadata.name));
  });

  it('accepts a nested prefix and tolerates surrounding slashes', () => {
    const { host } = register({ routePrefix: '/ops/identity-doctor/' });
    expect(host[0]!.metadata.name).toBe('ops-identity-doctor-diagnose');
    expect(trigger(host[0]!).route).toBe('ops/identity-doctor/diagnose');
  });

  it('registers no watch timer unless a schedule is set', () => {
    expect(register().host.some((r) => trigger(r).type === 'timerTrigger')).toBe(false);
  });

  it('registers the watch timer with the schedule from DIAGNOSE_WATCH_SCHEDULE', () => {
    const { host } = register({ env: { ...HOST_ENV, DIAGNOSE_WATCH_SCHEDULE: '0 */5 * * * *' } });
    const watch = host.find((r) => r.metadata.name === 'identity-doctor-watch')!;
    expect(trigger(watch)).toMatchObject({ type: 'timerTrigger', schedule: '0 */5 * * * *' });
  });

  it('lets watchSchedule override the app setting, and false turn the watch off', () => {
    const env = { ...HOST_ENV, DIAGNOSE_WATCH_SCHEDULE: '0 */5 * * * *' };
    const timers = (o: IdentityDoctorOptions) => register({ env, ...o }).host.filter((r) => trigger(r).type === 'timerTrigger').map((r) => trigger(r).schedule);
    expect(timers({ watchSchedule: '0 0 * * * *' })).toEqual(['0 0 * * * *']);
    expect(timers({ watchSchedule: false })).toEqual([]);
  });

  it('applies authLevel to the routes that need a key', () => {
    const { host } = register({ authLevel: 'admin' });
    expect(trigger(host.find((r) => r.metadata.name === 'identity-doctor-diagnose')!).authLevel).toBe('admin');
  });

  it('serves the diagnose with the targets passed in, not the app setting', async () => {
    const { registration } = register({ targets: [VAULT_TARGET], env: { ...HOST_ENV, DIAGNOSE_TARGETS: '[]' } });
    const diagnose = registration.functions.find((f) => f.name === 'identity-doctor-diagnose')!;
    if (diagnose.trigger !== 'http') throw new Error('not http');
    const request = new HttpRequest({ method: 'GET', url: 'http://localhost/api/identity-doctor/diagnose?target=secrets,nope' });
    const response = await diagnose.handler(request, new InvocationContext({ functionName: diagnose.name }));
    expect(response.status).toBe(400);
    // "secrets" is known (it came from `targets`); only "nope" is refused.
    expect(String(response.body)).toContain('unknown target \\"nope\\"');
    expect(String(response.body)).not.toContain('"secrets"');
  });

  it('ignores the host app\'s PORT and HOST, which only configure npm run serve', () => {
    expect(() => register({ env: { ...HOST_ENV, PORT: 'eighty', HOST: '' } })).not.toThrow();
  });
});

describe('registerIdentityDoctor refuses bad input at registration, naming it', () => {
  const problemsOf = (o: IdentityDoctorOptions) => {
    try {
      register(o);
    } catch (err) {
      if (err instanceof IdentityDoctorOptionsError) return err.problems.map((p) => p.option);
      if (err instanceof ConfigError) return err.problems.map((p) => `setting ${p.setting}`);
      throw err;
    }
    throw new Error('registered');
  };

  it.each([
    ['an empty prefix', { routePrefix: '' }, ['routePrefix']],
    ['a prefix with a route parameter', { routePrefix: 'doctor/{id}' }, ['routePrefix']],
    ['a target without https', { targets: [{ ...VAULT_TARGET, vaultUrl: 'http://kv-app.vault.azure.net' }] }, ['targets[0].vaultUrl']],
    ['a five-field schedule', { watchSchedule: '*/5 * * * *' }, ['watchSchedule']],
    ['an unknown auth level', { authLevel: 'user' as never }, ['authLevel']],
    ['an unknown option', { routeprefix: 'x' } as never, ['(options)']],
    ['an unknown setting override', { settings: { DIAGNOSE_TARGET: '[]' } as never }, ['settings']],
    ['telemetry that is no OpenTelemetry provider pair', { telemetry: {} as never }, ['telemetry']],
    ['a bad app setting in the host env', { env: { ...HOST_ENV, DIAGNOSE_TIMEOUT_MS: 'soon' } }, ['setting DIAGNOSE_TIMEOUT_MS']],
    ['a bad setting override', { settings: { AZURE_CLIENT_ID: 'not-a-guid' } }, ['setting AZURE_CLIENT_ID']],
  ])('%s', (_label, options, expected) => {
    expect(problemsOf(options as IdentityDoctorOptions)).toEqual(expected);
  });

  it('registers nothing when it refuses', () => {
    expect(() => register({ routePrefix: '' })).toThrow(IdentityDoctorOptionsError);
    expect(core.registrations).toEqual([]);
  });
});
