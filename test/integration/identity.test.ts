import { startWorld, type World } from '../world';
import { OTHER_IDENTITY, serviceEnv, stageStandardWorld, standardTargets } from '../world/scenario';
import type { Verdict } from '../../src/verdict';
import { expectNoLeaks, startService, type RunningService } from './harness';
import { boundFor } from '../support/timing';

/**
 * Token-stage causes, each for every kind: they are host-wide, so each scenario runs its own service process.
 */
let world: World;
const services: RunningService[] = [];
const ONE_PER_KIND = ['kv-ok', 'blob-ok', 'arm-ok'];

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
}, 60_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await world?.stop();
});

async function diagnoseWith(overrides: Record<string, string | undefined>): Promise<{ status: number; verdict: Verdict; elapsedMs: number }> {
  const targets = standardTargets(world).filter((t: { name: string }) => ONE_PER_KIND.includes(t.name));
  const svc = await startService(serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(targets), ...overrides }));
  services.push(svc);
  const started = Date.now();
  const result = await svc.diagnose();
  return { ...result, elapsedMs: Date.now() - started };
}

function expectEveryKind(verdict: Verdict, cause: string) {
  expect(verdict.checks.map((c) => [c.kind, c.cause, c.stage, c.category])).toEqual([
    ['keyVaultSecret', cause, 'token', 'acquisition'],
    ['storageBlob', cause, 'token', 'acquisition'],
    ['armResource', cause, 'token', 'acquisition'],
  ]);
}

describe('token acquisition failures, for every kind', () => {
  it('reports no_managed_identity when the platform injected no identity endpoint', async () => {
    const { status, verdict } = await diagnoseWith({ IDENTITY_ENDPOINT: undefined, IDENTITY_HEADER: undefined });
    expect(status).toBe(503);
    expectEveryKind(verdict, 'no_managed_identity');
    expect(verdict.identity.hostKind).toBe('functions');
    const check = verdict.checks[0]!;
    expect(check.evidence.settings).toMatchObject({ IDENTITY_ENDPOINT: 'absent', IDENTITY_HEADER: 'absent' });
    expect(check.fix.join('\n')).toContain('az functionapp identity assign');
    expect(check.claims).toBeUndefined();
  });

  it('reports no_managed_identity with hostKind local when nothing answers at IMDS (off Azure)', async () => {
    const closed = await world.closedPort();
    const { verdict } = await diagnoseWith({
      IDENTITY_ENDPOINT: undefined,
      IDENTITY_HEADER: undefined,
      WEBSITE_SITE_NAME: undefined,
      FUNCTIONS_WORKER_RUNTIME: undefined,
      AZURE_CLIENT_ID: undefined,
      AZURE_POD_IDENTITY_AUTHORITY_HOST: `http://127.0.0.1:${closed}`,
    });
    expectEveryKind(verdict, 'no_managed_identity');
    expect(verdict.identity.hostKind).toBe('local');
    expect(verdict.checks[0]!.evidence.identityEndpoint).toMatchObject({ protocol: 'imds', transport: { kind: 'refused' } });
  });

  it('reports identity_not_found, naming the client id, when the requested identity is not attached', async () => {
    const { verdict } = await diagnoseWith({ AZURE_CLIENT_ID: OTHER_IDENTITY.clientId });
    expectEveryKind(verdict, 'identity_not_found');
    for (const check of verdict.checks) {
      expect(check.evidence.identityEndpoint).toMatchObject({ protocol: 'appService', status: 400, error: 'invalid_request', selector: `client_id=${OTHER_IDENTITY.clientId}` });
    }
    expect(verdict.checks[0]!.explanation).toContain(OTHER_IDENTITY.clientId);
    expect(verdict.checks[0]!.fix.join('\n')).toContain(`clientId=='${OTHER_IDENTITY.clientId}'`);
  });

  it('keeps each later diagnose\'s own endpoint evidence (MSAL binds its HTTP client once per process)', async () => {
    const svc = services.at(-1)!;
    const again = await svc.diagnose();
    expectEveryKind(again.verdict, 'identity_not_found');
    for (const check of again.verdict.checks) expect(check.evidence.identityEndpoint?.status).toBe(400);
  });

  it('reports identity_endpoint_unreachable when the endpoint refuses connections', async () => {
    const closed = await world.closedPort();
    const { verdict } = await diagnoseWith({ IDENTITY_ENDPOINT: `http://127.0.0.1:${closed}/msi/token` });
    expectEveryKind(verdict, 'identity_endpoint_unreachable');
    expect(verdict.checks[0]!.evidence.identityEndpoint?.transport).toMatchObject({ kind: 'refused', code: 'ECONNREFUSED' });
  });

  it('reports identity_endpoint_unreachable within the deadline when the endpoint stays silent', async () => {
    world.state.identityFault = 'silent';
    try {
      const { verdict, elapsedMs } = await diagnoseWith({ DIAGNOSE_TIMEOUT_MS: '3000' });
      expectEveryKind(verdict, 'identity_endpoint_unreachable');
      expect(verdict.checks[0]!.evidence.identityEndpoint?.transport?.kind).toBe('timeout');
      expect(elapsedMs).toBeLessThan(boundFor(3000));
    } finally {
      world.state.identityFault = undefined;
    }
  });
});

describe('secrets', () => {
  it('leaked no token, identity header or secret value in any response or log line', () => {
    expectNoLeaks(world, services);
  });
});
