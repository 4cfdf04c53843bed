import { startWorld, type World } from '../world';
import { KV_NOROLE_ID, RG_APP, serviceEnv, stageStandardWorld } from '../world/scenario';
import { VerdictSchema } from '../../src/verdict';
import { expectNoLeaks, parseProblem, startService, type RunningService } from './harness';
import { startFakeVault, type FakeVault } from './fakeVault';

/**
 * POST /api/diagnose with ad-hoc targets in the body. A caller-chosen URL must never receive the identity's token:
 * a refused body sends nothing anywhere (no token is even minted), and Key Vault's challenge-resource check stays on
 * even for a host the operator allowed.
 */
let world: World;
let svc: RunningService;
/** Reachable from the service (the DNS preload maps *.vault.azure.net to loopback) and counting every request. */
let honeypot: FakeVault;
/** An allowed host that is no vault: it challenges for https://vault.azure.net, which the SDK must not answer. */
let impostor: FakeVault;

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  honeypot = await startFakeVault(world, { name: 'honeypot' });
  impostor = await startFakeVault(world, { name: 'impostor', hostName: 'localhost' });
  const p = world.ports;
  // The world serves real host names on odd ports; the operator allows exactly those, as host:port.
  const allowed = [`kv-ok.vault.azure.net:${p.keyVault}`, `kv-norole.vault.azure.net:${p.keyVault}`, `stok.blob.core.windows.net:${p.storage}`, `management.azure.com:${p.arm}`, `keyVaultSecret:${impostor.host}`];
  svc = await startService(serviceEnv(world, { DIAGNOSE_ALLOWED_HOSTS: allowed.join(',') }));
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  await honeypot?.close();
  await impostor?.close();
  await world?.stop();
});

const post = (body: unknown, query = '') =>
  svc.get(`/api/diagnose${query}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('ad-hoc targets the policy allows', () => {
  it('diagnoses exactly the targets in the body, for every kind', async () => {
    const reply = await post([
      { name: 'adhoc-kv', kind: 'keyVaultSecret', vaultUrl: world.vaultUrl('kv-ok'), secretName: 'app-secret' },
      { name: 'adhoc-kv-norole', kind: 'keyVaultSecret', vaultUrl: world.vaultUrl('kv-norole'), secretName: 'app-secret', resourceId: KV_NOROLE_ID },
      { name: 'adhoc-blob', kind: 'storageBlob', accountUrl: world.accountUrl('stok'), container: 'data', blobName: 'hello.txt' },
      { name: 'adhoc-arm', kind: 'armResource', resourceId: RG_APP, endpoint: world.armEndpoint },
    ]);
    expect(reply.status).toBe(503);
    const verdict = VerdictSchema.parse(reply.json());
    expect(verdict.checks.map((c) => [c.target, c.cause])).toEqual([
      ['adhoc-kv', 'authorized'],
      ['adhoc-kv-norole', 'role_missing'],
      ['adhoc-blob', 'authorized'],
      ['adhoc-arm', 'authorized'],
    ]);
  });

  it('leaves the configured targets as they were for the next GET', async () => {
    const { verdict } = await svc.diagnose('?target=kv-ok');
    expect(verdict.checks.map((c) => c.target)).toEqual(['kv-ok']);
  });

  it("keeps Key Vault's challenge check on: an allowed host that is no vault gets no token", async () => {
    impostor.reset();
    const reply = await post([{ name: 'impostor', kind: 'keyVaultSecret', vaultUrl: impostor.url, secretName: 's' }]);
    expect(reply.status).toBe(503);
    const check = VerdictSchema.parse(reply.json()).checks[0]!;
    expect(check.status).toBe('fail');
    expect(check.evidence.transport?.detail).toMatch(/challenge resource/i);
    // It was asked (the unauthenticated first leg), and never shown a token.
    expect(impostor.requests).toBe(1);
    expect(impostor.withToken).toBe(0);
  });
});

describe('ad-hoc targets the policy refuses: 403 naming the rule, nothing sent, no token minted', () => {
  beforeEach(() => {
    world.resetCounters();
    honeypot.reset();
  });

  afterEach(() => {
    expect(honeypot.requests).toBe(0);
    expect(world.counters.identity).toBe(0);
    expect(Object.values(world.counters.keyVault).reduce((a, b) => a + b, 0)).toBe(0);
    expect(world.counters.arm).toBe(0);
  });

  it.each([
    ['a vault host on a port nobody allowed', () => ({ name: 'x', kind: 'keyVaultSecret', vaultUrl: honeypot.url, secretName: 's' }), 'port-not-allowed'],
    ['loopback by address', () => ({ name: 'x', kind: 'keyVaultSecret', vaultUrl: `https://127.0.0.1:${honeypot.port}`, secretName: 's' }), 'host-not-allowed'],
    ['a storage account URL pointing anywhere else', () => ({ name: 'x', kind: 'storageBlob', accountUrl: `https://localhost:${honeypot.port}`, container: 'data' }), 'host-not-allowed'],
    ['an ARM endpoint of the caller\'s choosing', () => ({ name: 'x', kind: 'armResource', resourceId: RG_APP, endpoint: `https://management.attacker.example:${honeypot.port}` }), 'host-not-allowed'],
    ['plain http', () => ({ name: 'x', kind: 'keyVaultSecret', vaultUrl: world.vaultUrl('kv-ok').replace('https:', 'http:'), secretName: 's' }), 'https-only'],
    ['credentials in the URL', () => ({ name: 'x', kind: 'storageBlob', accountUrl: `https://me:pw@stok.blob.core.windows.net:${world.ports.storage}`, container: 'data' }), 'no-credentials'],
    ['a token for an arbitrary audience', () => ({ name: 'x', kind: 'keyVaultSecret', vaultUrl: world.vaultUrl('kv-ok'), secretName: 'app-secret', audience: 'api://attacker' }), 'audience-not-allowed'],
  ])('refuses %s', async (_label, target, rule) => {
    const reply = await post([target()]);
    expect(reply.status).toBe(403);
    const problem = parseProblem(reply);
    expect(problem.title).toBe('Ad-hoc target refused');
    expect(problem.detail).toContain(`Rule ${rule}`);
    expect(problem.errors?.[0]?.message.startsWith(`${rule}:`)).toBe(true);
  });

  it.each([
    ['a body that is not JSON', '{"name":', 400],
    ['an object instead of a list', { name: 'x' }, 400],
    ['a target that breaks the schema', [{ name: 'x', kind: 'keyVaultSecret', vaultUrl: 'not a url', secretName: 's' }], 400],
  ])('answers %s with a problem', async (_label, body, status) => {
    const reply = await post(body);
    expect(reply.status).toBe(status);
    parseProblem(reply);
  });

  it('refuses a body sent without content-type: application/json (415)', async () => {
    const reply = await svc.get('/api/diagnose', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify([{ name: 'x', kind: 'keyVaultSecret', vaultUrl: honeypot.url, secretName: 's' }]) });
    expect(reply.status).toBe(415);
    parseProblem(reply);
  });

  it('refuses ?target= together with a body', async () => {
    const reply = await post([{ name: 'x', kind: 'keyVaultSecret', vaultUrl: world.vaultUrl('kv-ok'), secretName: 'app-secret' }], '?target=kv-ok');
    expect(reply.status).toBe(400);
    expect(parseProblem(reply).errors?.[0]?.parameter).toBe('target');
  });
});

describe('secrets', () => {
  it('leaked no token, identity header or secret value', () => {
    expectNoLeaks(world, [svc]);
  });
});
