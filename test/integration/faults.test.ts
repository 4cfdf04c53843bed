import { startWorld, type Fault, type IdentityFault, type World } from '../world';
import { RG_APP, TENANT_ID, USER_IDENTITY, serviceEnv, stageStandardWorld, standardTargets } from '../world/scenario';
import type { Check, Verdict } from '../../src/verdict';
import { checkOf, expectNoLeaks, startService, type RunningService } from './harness';
import { boundFor } from '../support/timing';

/**
 * Injected faults, one at a time: each must yield a classified verdict within the deadline (plus slack for a busy
 * machine: test/support/timing.ts; the tight bound is the bench's P2), leave the process
 * up, and not spoil the next diagnose in the same process. The identity endpoint's fault is world-wide and MSAL caches
 * tokens process-wide, so identity faults run sequentially here, each against a fresh service process.
 */
const TIMEOUT_MS = 3000;
/** A stated bound on a faulted diagnose (the deadline plus slack), not a benchmark. */
const BOUND_MS = boundFor(TIMEOUT_MS);
const HEALTHY = ['kv-ok', 'blob-ok', 'arm-ok'];

let world: World;
const services: RunningService[] = [];

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  // One vault and one account whose only job is to misbehave; ARM faults are world-wide (state.armFault).
  world.state.vaults.push({ name: 'kv-fault', resourceId: `${RG_APP}/providers/Microsoft.KeyVault/vaults/kv-fault`, tenantId: TENANT_ID, authorization: 'rbac', secrets: { 'app-secret': 'fault-vault-secret-value' } });
  world.state.accounts.push({ name: 'stfault', resourceId: `${RG_APP}/providers/Microsoft.Storage/storageAccounts/stfault`, tenantId: TENANT_ID, containers: { data: { 'a.txt': 'a\n' } } });
  world.grant(USER_IDENTITY.principalId, 'keyVaultSecretsUser', `${RG_APP}/providers/Microsoft.KeyVault/vaults/kv-fault`, { createdOn: new Date(Date.now() - 86_400_000) });
  world.grant(USER_IDENTITY.principalId, 'storageBlobDataReader', `${RG_APP}/providers/Microsoft.Storage/storageAccounts/stfault`, { createdOn: new Date(Date.now() - 86_400_000) });
  await world.syncStorage();
}, 60_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await world?.stop();
});

async function timed(svc: RunningService, query: string): Promise<{ status: number; verdict: Verdict; elapsedMs: number }> {
  const started = Date.now();
  const result = await svc.diagnose(query);
  return { ...result, elapsedMs: Date.now() - started };
}

async function expectHealthyNext(svc: RunningService): Promise<void> {
  const next = await svc.diagnose(`?target=${HEALTHY.join(',')}`);
  expect(next.verdict.checks.map((c) => [c.target, c.cause])).toEqual(HEALTHY.map((t) => [t, 'authorized']));
  expect(next.status).toBe(200);
}

describe('target faults, each on Key Vault, Storage and ARM at once', () => {
  let svc: RunningService;
  const FAULTED = ['kv-fault', 'blob-fault', 'arm-fault'];

  beforeAll(async () => {
    const closed = await world.closedPort();
    const p = world.ports;
    const targets = [
      ...standardTargets(world).filter((t) => HEALTHY.includes(t.name)),
      { name: 'kv-fault', kind: 'keyVaultSecret', vaultUrl: world.vaultUrl('kv-fault'), secretName: 'app-secret' },
      // The listing, not getProperties: a HEAD answer has no body to cut in the middle.
      { name: 'blob-fault', kind: 'storageBlob', accountUrl: world.accountUrl('stfault'), container: 'data' },
      { name: 'arm-fault', kind: 'armResource', resourceId: RG_APP, endpoint: world.armEndpoint },
      // Nothing listens on that port.
      { name: 'kv-refused', kind: 'keyVaultSecret', vaultUrl: `https://kv-ok.vault.azure.net:${closed}`, secretName: 'app-secret' },
      { name: 'blob-refused', kind: 'storageBlob', accountUrl: `https://stok.blob.core.windows.net:${closed}`, container: 'data' },
      { name: 'arm-refused', kind: 'armResource', resourceId: RG_APP, endpoint: `https://management.azure.com:${closed}` },
      // These names resolve to the world's servers, whose certificate does not cover them (two labels under a wildcard).
      { name: 'kv-tls', kind: 'keyVaultSecret', vaultUrl: `https://kv-ok.eu.vault.azure.net:${p.keyVault}`, secretName: 'app-secret' },
      { name: 'blob-tls', kind: 'storageBlob', accountUrl: `https://stok.eu.blob.core.windows.net:${p.storage}`, container: 'data' },
      { name: 'arm-tls', kind: 'armResource', resourceId: RG_APP, endpoint: `https://management.contoso.example:${p.arm}` },
      // Names that do not exist fail at DNS, as a mistyped vault or account does in Azure.
      { name: 'kv-dns', kind: 'keyVaultSecret', vaultUrl: 'https://nxdomain-kv.vault.azure.net', secretName: 'app-secret' },
      { name: 'blob-dns', kind: 'storageBlob', accountUrl: 'https://nxdomainst.blob.core.windows.net', container: 'data' },
      { name: 'arm-dns', kind: 'armResource', resourceId: RG_APP, endpoint: 'https://nxdomain-arm.management.azure.com' },
    ];
    svc = await startService(serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(targets), DIAGNOSE_TIMEOUT_MS: String(TIMEOUT_MS) }));
    services.push(svc);
  }, 30_000);

  function setFault(kv: Fault | undefined, blob: Fault | undefined, arm: Fault | undefined) {
    world.state.vaults.find((v) => v.name === 'kv-fault')!.fault = kv;
    world.state.accounts.find((a) => a.name === 'stfault')!.fault = blob;
    world.state.armFault = arm;
  }

  afterEach(() => setFault(undefined, undefined, undefined));

  async function diagnoseFaulted(names = FAULTED): Promise<Check[]> {
    const { verdict, elapsedMs, status } = await timed(svc, `?target=${names.join(',')}`);
    setFault(undefined, undefined, undefined);
    expect(elapsedMs).toBeLessThan(BOUND_MS);
    expect(status).toBe(verdict.status === 'fail' ? 503 : 200);
    return names.map((n) => checkOf(verdict, n));
  }

  it('reports deadline_exceeded, naming the call stage, when the target accepts and stays silent', async () => {
    setFault('silent', 'silent', 'silent');
    for (const c of await diagnoseFaulted()) {
      expect([c.target, c.cause, c.stage, c.evidence.stageCut, c.category]).toEqual([c.target, 'deadline_exceeded', 'call', 'call', 'target']);
    }
    await expectHealthyNext(svc);
  });

  it('reports deadline_exceeded when the target trickles its answer a byte at a time (slow-loris)', async () => {
    setFault('slowloris', 'slowloris', 'slowloris');
    for (const c of await diagnoseFaulted()) {
      expect([c.target, c.cause, c.evidence.stageCut]).toEqual([c.target, 'deadline_exceeded', 'call']);
    }
    await expectHealthyNext(svc);
  });

  it('reports target_error with the service code and status when the target answers 503', async () => {
    setFault(
      { status: 503, body: JSON.stringify({ error: { code: 'ServiceUnavailable', message: 'The service is unavailable.' } }) },
      { status: 503, body: '<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>The server is busy.</Message></Error>', headers: { 'x-ms-error-code': 'ServerBusy' } },
      { status: 503, body: JSON.stringify({ error: { code: 'ServiceUnavailable', message: 'ARM is unavailable.' } }) },
    );
    const [kv, blob, arm] = await diagnoseFaulted();
    for (const c of [kv!, blob!, arm!]) expect([c.cause, c.httpStatus, c.category]).toEqual(['target_error', 503, 'target']);
    expect(kv!.evidence.errorCode).toBe('ServiceUnavailable');
    expect(blob!.evidence.errorCode).toBe('ServerBusy');
    await expectHealthyNext(svc);
  });

  it('reports throttled with Retry-After during a 429 storm, without retrying into it', async () => {
    const retry = { 'Retry-After': '7' };
    setFault(
      { status: 429, headers: retry, body: JSON.stringify({ error: { code: 'Throttled', message: 'Request was not processed because too many requests were received.' } }) },
      { status: 429, headers: { ...retry, 'x-ms-error-code': 'ServerBusy' }, body: '<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>Egress is over the account limit.</Message></Error>' },
      { status: 429, headers: retry, body: JSON.stringify({ error: { code: 'TooManyRequests', message: 'Number of read requests exceeded the limit.' } }) },
    );
    world.resetCounters();
    for (const c of await diagnoseFaulted()) {
      expect([c.target, c.cause, c.status, c.httpStatus, c.evidence.retryAfter]).toEqual([c.target, 'throttled', 'warn', 429, '7']);
    }
    // One request each: the storm is reported, not fed.
    expect(world.counters.keyVault['kv-fault']).toBe(1);
    expect(world.counters.storage['stfault']).toBe(1);
    expect(world.counters.arm).toBe(1);
    await expectHealthyNext(svc);
  });

  it('reports target_unreachable (reset) when the target drops the connection on arrival', async () => {
    setFault('reset', 'reset', 'reset');
    for (const c of await diagnoseFaulted()) {
      expect([c.target, c.cause, c.evidence.transport?.kind]).toEqual([c.target, 'target_unreachable', 'reset']);
    }
    await expectHealthyNext(svc);
  });

  it('reports the reset when the connection dies in the middle of the body', async () => {
    setFault('reset_mid_body', 'reset_mid_body', 'reset_mid_body');
    for (const c of await diagnoseFaulted()) {
      expect([c.target, c.cause, c.evidence.transport?.kind]).toEqual([c.target, 'target_unreachable', 'reset']);
    }
    await expectHealthyNext(svc);
  });

  it('reports target_error for a 502 whose error body is garbage, keeping the status', async () => {
    setFault('malformed', 'malformed', 'malformed');
    for (const c of await diagnoseFaulted()) {
      expect([c.target, c.cause, c.httpStatus]).toEqual([c.target, 'target_error', 502]);
      // PARSE_ERROR is the SDK's word, not the service's: no error code is invented, the message says what happened.
      expect(c.evidence.errorCode).toBeUndefined();
      expect(c.evidence.message).toMatch(/^The 502 answer's body could not be parsed/);
    }
    await expectHealthyNext(svc);
  });

  it('reports target_unreachable (refused) when nothing listens at the target', async () => {
    for (const c of await diagnoseFaulted(['kv-refused', 'blob-refused', 'arm-refused'])) {
      expect([c.target, c.cause, c.evidence.transport?.kind, c.evidence.transport?.code]).toEqual([c.target, 'target_unreachable', 'refused', 'ECONNREFUSED']);
    }
    await expectHealthyNext(svc);
  });

  it('reports target_unreachable (tls) when the certificate does not match the host', async () => {
    for (const c of await diagnoseFaulted(['kv-tls', 'blob-tls', 'arm-tls'])) {
      expect([c.target, c.cause, c.evidence.transport?.kind]).toEqual([c.target, 'target_unreachable', 'tls']);
      expect(c.evidence.transport?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    }
    await expectHealthyNext(svc);
  });

  it('reports target_unreachable (dns) when the host name does not resolve', async () => {
    for (const c of await diagnoseFaulted(['kv-dns', 'blob-dns', 'arm-dns'])) {
      expect([c.target, c.cause, c.evidence.transport?.kind, c.evidence.transport?.code]).toEqual([c.target, 'target_unreachable', 'dns', 'ENOTFOUND']);
    }
    await expectHealthyNext(svc);
  });
});

describe('identity endpoint faults, each in a fresh service process', () => {
  async function withIdentityFault(
    fault: IdentityFault | undefined,
    overrides: Record<string, string | undefined> = {},
  ): Promise<{ svc: RunningService; verdict: Verdict; elapsedMs: number }> {
    const targets = standardTargets(world).filter((t) => HEALTHY.includes(t.name));
    const svc = await startService(serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(targets), DIAGNOSE_TIMEOUT_MS: String(TIMEOUT_MS), ...overrides }));
    services.push(svc);
    world.state.identityFault = fault;
    world.resetCounters();
    try {
      const { verdict, elapsedMs } = await timed(svc, '');
      expect(elapsedMs).toBeLessThan(BOUND_MS);
      expect(verdict.checks.map((c) => c.target)).toEqual(HEALTHY);
      return { svc, verdict, elapsedMs };
    } finally {
      world.state.identityFault = undefined;
    }
  }

  function expectAcquisition(verdict: Verdict, cause: string) {
    for (const c of verdict.checks) expect([c.target, c.cause, c.stage, c.category]).toEqual([c.target, cause, 'token', 'acquisition']);
    return verdict.checks[0]!.evidence.identityEndpoint!;
  }

  it('reports identity_endpoint_unreachable (refused) when nothing listens at IDENTITY_ENDPOINT', async () => {
    const closed = await world.closedPort();
    const { svc, verdict } = await withIdentityFault(undefined, { IDENTITY_ENDPOINT: `http://127.0.0.1:${closed}/msi/token` });
    expect(expectAcquisition(verdict, 'identity_endpoint_unreachable').transport).toMatchObject({ kind: 'refused', code: 'ECONNREFUSED' });
    // The endpoint is still closed: the next diagnose says the same, promptly.
    const again = await timed(svc, '');
    expect(again.elapsedMs).toBeLessThan(BOUND_MS);
    expectAcquisition(again.verdict, 'identity_endpoint_unreachable');
  });

  it('reports identity_endpoint_unreachable (reset) when the endpoint drops every connection', async () => {
    const { svc, verdict } = await withIdentityFault('refuse');
    expect(expectAcquisition(verdict, 'identity_endpoint_unreachable').transport?.kind).toBe('reset');
    await expectHealthyNext(svc);
  });

  it('reports identity_endpoint_unreachable (timeout) when the endpoint accepts and stays silent', async () => {
    const { svc, verdict } = await withIdentityFault('silent');
    expect(expectAcquisition(verdict, 'identity_endpoint_unreachable').transport?.kind).toBe('timeout');
    await expectHealthyNext(svc);
  });

  it('reports identity_endpoint_error with the status when the endpoint answers 500', async () => {
    const { svc, verdict } = await withIdentityFault({ status: 500 });
    expect(expectAcquisition(verdict, 'identity_endpoint_error')).toMatchObject({ status: 500, error: 'server_error' });
    await expectHealthyNext(svc);
  });

  it('reports identity_endpoint_error promptly during a 404 storm (no retry loop into the deadline)', async () => {
    const { svc, verdict } = await withIdentityFault({ status: 404 });
    expect(expectAcquisition(verdict, 'identity_endpoint_error')).toMatchObject({ status: 404 });
    // Per audience one SDK request and one raw probe beside it: the first answer is the evidence, the storm is not fed.
    expect(world.counters.identity).toBe(6);
    await expectHealthyNext(svc);
  });

  it('reports identity_endpoint_error (malformed) when the endpoint answers 200 with broken JSON', async () => {
    const { svc, verdict } = await withIdentityFault('malformed');
    expect(expectAcquisition(verdict, 'identity_endpoint_error').transport?.kind).toBe('malformed');
    await expectHealthyNext(svc);
  });

  it('goes on to the call with a token that is not a JWT, says so, and reports what the services answered', async () => {
    const { svc, verdict } = await withIdentityFault('non_jwt');
    for (const c of verdict.checks) {
      expect([c.target, c.stage, c.claims, c.httpStatus, c.category]).toEqual([c.target, 'call', undefined, 401, 'authentication']);
      expect(c.cause).toBe('token_rejected');
      expect(c.evidence.notes?.join(' ')).toContain('not a JWT');
    }
    // MSAL keeps the token it was given for its stated lifetime; the next diagnose is as prompt and as honest.
    const again = await timed(svc, '');
    expect(again.elapsedMs).toBeLessThan(BOUND_MS);
    expect(again.verdict.checks.map((c) => c.cause)).toEqual(['token_rejected', 'token_rejected', 'token_rejected']);
  });

  it('reports what the services said of a token whose answer lacked expires_on (it carries its own exp)', async () => {
    const { svc, verdict } = await withIdentityFault('no_expires_on');
    // The SDK accepts the answer; the token itself is sound, so the services authorize it and the verdict says so.
    for (const c of verdict.checks) {
      expect([c.target, c.cause, c.stage]).toEqual([c.target, 'authorized', 'call']);
      expect(c.claims?.exp).toBeGreaterThan(Date.now() / 1000);
    }
    await expectHealthyNext(svc);
  });
});

describe('secrets', () => {
  it('leaked no token, identity header or secret value while faults were injected', () => {
    expectNoLeaks(world, services);
  });
});
