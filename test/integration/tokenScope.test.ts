import { startWorld, type World } from '../world';
import { serviceEnv, stageStandardWorld } from '../world/scenario';
import { VerdictSchema } from '../../src/verdict';
import { checkOf, parseProblem, startService, type RunningService } from './harness';
import { startFakeVault, type FakeVault } from './fakeVault';

/**
 * A token only for its own service (SECURITY.md), against hostile servers at allowed hosts: each fake vault counts
 * the requests it receives and those that carried a token. A Key Vault challenge naming a parent domain gets no
 * token; a host listed for Key Vault receives nothing when a caller names it as a storage account, as the ARM
 * endpoint, or with ARM's audience — the request is refused before anything leaves the process.
 */
let world: World;
let svc: RunningService;
/** Listed (plain entry, in Key Vault's domain): Key Vault only. */
let listed: FakeVault;
/** Listed for Key Vault by kind (`keyVaultSecret:localhost:<port>`). */
let listedByKind: FakeVault;
/** Listed, and its 401 challenge names the parent domain `https://azure.net`. */
let parent: FakeVault;

const ARM_AUDIENCE = 'https://management.azure.com/';

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  listed = await startFakeVault(world, { name: 'kv-listed' });
  listedByKind = await startFakeVault(world, { name: 'kv-local', hostName: 'localhost' });
  parent = await startFakeVault(world, { name: 'kv-parent', challengeResource: 'https://azure.net' });
  svc = await startService(
    serviceEnv(world, {
      DIAGNOSE_ALLOWED_HOSTS: [listed.host, `keyVaultSecret:${listedByKind.host}`, parent.host].join(','),
      DIAGNOSE_TARGETS: JSON.stringify([{ name: 'kv-parent', kind: 'keyVaultSecret', vaultUrl: parent.url, secretName: 's' }]),
      HEALTH_CACHE_SECONDS: '0',
    }),
  );
}, 90_000);

afterAll(async () => {
  await svc?.stop();
  await Promise.all([listed, listedByKind, parent].map((f) => f?.close()));
  await world?.stop();
});

beforeEach(() => {
  for (const f of [listed, listedByKind, parent]) f.reset();
});

const post = (body: unknown) =>
  svc.get('/api/diagnose', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('a Key Vault challenge may narrow, never widen', () => {
  it('gives no token to a listed host whose challenge names its parent domain (configured target, and anonymous health)', async () => {
    const { verdict } = await svc.diagnose();
    const check = checkOf(verdict, 'kv-parent');
    expect(check.cause).toBe('target_error');
    expect(check.explanation).toMatch(/https:\/\/azure\.net.*not this target's audience/);
    expect(parent.requests).toBeGreaterThan(0);
    expect(parent.withToken).toBe(0);
    const health = await svc.get('/api/health');
    expect(health.status).toBe(503);
    expect(parent.withToken).toBe(0);
  });

  it('gives no token to the same host named ad hoc', async () => {
    const reply = await post([{ name: 'p', kind: 'keyVaultSecret', vaultUrl: parent.url, secretName: 's' }]);
    const verdict = VerdictSchema.parse(reply.json());
    expect(checkOf(verdict, 'p').cause).toBe('target_error');
    expect(parent.withToken).toBe(0);
  });

  it("still gives the vault's token to a listed vault that challenges for Key Vault itself (the control)", async () => {
    const reply = await post([{ name: 'ok', kind: 'keyVaultSecret', vaultUrl: listed.url, secretName: 's' }]);
    expect(checkOf(VerdictSchema.parse(reply.json()), 'ok').cause).toBe('authorized');
    expect(listed.withToken).toBe(1);
  });
});

describe('a host listed for Key Vault receives nothing as another kind', () => {
  const cases: [string, () => FakeVault, (f: FakeVault) => unknown, string][] = [
    ['as a storage account (plain entry)', () => listed, (f) => ({ name: 'x', kind: 'storageBlob', accountUrl: f.url, container: 'data' }), 'host-not-allowed'],
    ['as a storage account (keyVaultSecret: entry)', () => listedByKind, (f) => ({ name: 'x', kind: 'storageBlob', accountUrl: f.url, container: 'data' }), 'host-not-allowed'],
    ['as the ARM endpoint (plain entry)', () => listed, (f) => ({ name: 'x', kind: 'armResource', resourceId: '/subscriptions/3f2a8c71-6b4d-4e29-a1c5-7d9e0b2f4a68', endpoint: f.url }), 'host-not-allowed'],
    ['as the ARM endpoint (keyVaultSecret: entry)', () => listedByKind, (f) => ({ name: 'x', kind: 'armResource', resourceId: '/subscriptions/3f2a8c71-6b4d-4e29-a1c5-7d9e0b2f4a68', endpoint: f.url }), 'host-not-allowed'],
    ["as a vault with ARM's audience (plain entry)", () => listed, (f) => ({ name: 'x', kind: 'keyVaultSecret', vaultUrl: f.url, secretName: 's', audience: ARM_AUDIENCE }), 'audience-not-allowed'],
    ["as a vault with ARM's audience (keyVaultSecret: entry)", () => listedByKind, (f) => ({ name: 'x', kind: 'keyVaultSecret', vaultUrl: f.url, secretName: 's', audience: ARM_AUDIENCE }), 'audience-not-allowed'],
  ];

  it.each(cases)('refuses it %s with 403, and the host sees no request', async (_label, fake, target, rule) => {
    const f = fake();
    const reply = await post([target(f)]);
    expect(reply.status).toBe(403);
    expect(parseProblem(reply).errors?.[0]?.message).toMatch(new RegExp(`^${rule}`));
    expect(f.requests).toBe(0);
  });
});
