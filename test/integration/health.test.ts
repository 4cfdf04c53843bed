import { setTimeout as sleep } from 'node:timers/promises';
import { startWorld, type World } from '../world';
import { TENANT_ID, USER_IDENTITY, serviceEnv, stageStandardWorld, standardTargets } from '../world/scenario';
import { CAUSES } from '../../src/verdict';
import { HealthSchema, type Health } from '../../src/output/health';
import { expectNoLeaks, parseProblem, startService, type Reply, type RunningService } from './harness';

/**
 * /api/health and /api/health/live over HTTP against the staged world. Diagnoses are counted where they cost: the
 * calls that reach Key Vault, Storage and ARM (MSAL caches tokens process-wide, so identity calls would not tell).
 */

let world: World;
/** kv-ok, blob-ok, arm-ok; cached for an hour. */
let healthy: RunningService;
/** A passing, a failing and a warning target; cached for one second; anonymous. */
let failing: RunningService;
/** The same targets with HEALTH_DETAILS=true. */
let detailed: RunningService;

const pick = (names: string[]) => JSON.stringify(standardTargets(world).filter((t: { name: string }) => names.includes(t.name)));

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  [healthy, failing, detailed] = await Promise.all([
    startService(serviceEnv(world, { DIAGNOSE_TARGETS: pick(['kv-ok', 'blob-ok', 'arm-ok']), HEALTH_CACHE_SECONDS: '3600' })),
    startService(serviceEnv(world, { DIAGNOSE_TARGETS: pick(['kv-ok', 'kv-norole', 'kv-missing']), HEALTH_CACHE_SECONDS: '1' })),
    startService(serviceEnv(world, { DIAGNOSE_TARGETS: pick(['kv-ok', 'kv-norole', 'kv-missing']), HEALTH_DETAILS: 'true' })),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([healthy, failing, detailed].map((s) => s?.stop()));
  await world?.stop();
});

/** Calls that reached a target service (not the identity endpoint). */
function targetCalls() {
  const c = world.counters;
  return { keyVault: { ...c.keyVault }, storage: { ...c.storage }, arm: c.arm };
}

function parseHealth(reply: Reply): Health {
  expect(reply.contentType).toBe('application/health+json');
  return HealthSchema.parse(reply.json());
}

async function probe(svc: RunningService, path = '/api/health'): Promise<{ reply: Reply; health: Health; cacheControl: string | null }> {
  const res = await fetch(`${svc.url}${path}`);
  const text = await res.text();
  // Recorded with the service's other replies, so the leak check below reads these bodies too.
  svc.replies().push(text);
  const reply: Reply = { status: res.status, contentType: res.headers.get('content-type') ?? '', text, json: () => JSON.parse(text) as unknown };
  return { reply, health: parseHealth(reply), cacheControl: res.headers.get('cache-control') };
}

describe('GET /api/health', () => {
  let oneDiagnose: ReturnType<typeof targetCalls>;

  it('turns a storm of concurrent probes into one diagnose', async () => {
    // What one diagnose of these targets costs upstream (the second run, once SDK clients are warm).
    await healthy.diagnose();
    world.resetCounters();
    await healthy.diagnose();
    oneDiagnose = targetCalls();
    expect(oneDiagnose.arm).toBeGreaterThan(0);

    world.resetCounters();
    const answers = await Promise.all(Array.from({ length: 30 }, () => probe(healthy)));
    expect(targetCalls()).toEqual(oneDiagnose);
    expect(answers.map((a) => a.reply.status)).toEqual(Array(30).fill(200));
    expect(new Set(answers.map((a) => a.reply.text)).size).toBe(1);
  });

  it('keeps answering from the cache while it is fresh, even if a dependency breaks meanwhile', async () => {
    const before = (await probe(healthy)).health;
    const vault = world.state.vaults.find((v) => v.name === 'kv-ok')!;
    vault.fault = { status: 503 };
    try {
      world.resetCounters();
      const during = await probe(healthy);
      expect(during.reply.status).toBe(200);
      expect(during.health).toEqual(before);
      expect(targetCalls()).toEqual({ keyVault: {}, storage: {}, arm: 0 });
    } finally {
      delete vault.fault;
    }
  });

  it('diagnoses again once HEALTH_CACHE_SECONDS have passed', async () => {
    const first = await probe(failing);
    world.resetCounters();
    await sleep(1_100);
    const second = await probe(failing);
    expect(targetCalls().keyVault['kv-ok']).toBeGreaterThan(0);
    const time = (h: Health) => h.checks['kv-ok:authorized']![0]!.time;
    expect(Date.parse(time(second.health))).toBeGreaterThan(Date.parse(time(first.health)));
  });

  it('says pass with 200 and every target keyed "<target>:authorized"', async () => {
    const { reply, health, cacheControl } = await probe(healthy);
    expect(reply.status).toBe(200);
    expect(cacheControl).toBe('no-store');
    expect(health.status).toBe('pass');
    expect(health.checks).toEqual({
      'kv-ok:authorized': [{ componentType: 'datastore', status: 'pass', time: expect.any(String), output: 'authorized' }],
      'blob-ok:authorized': [{ componentType: 'datastore', status: 'pass', time: expect.any(String), output: 'authorized' }],
      'arm-ok:authorized': [{ componentType: 'system', status: 'pass', time: expect.any(String), output: 'authorized' }],
    });
  });

  it('says fail with 503 and nothing but cause codes to an anonymous caller', async () => {
    const { reply, health } = await probe(failing);
    expect(reply.status).toBe(503);
    expect(health.status).toBe('fail');
    expect(Object.fromEntries(Object.entries(health.checks).map(([k, [c]]) => [k, [c!.status, c!.output]]))).toEqual({
      'kv-ok:authorized': ['pass', 'authorized'],
      'kv-norole:authorized': ['fail', 'role_missing'],
      'kv-missing:authorized': ['warn', 'resource_not_found'],
    });
    expect(Object.keys(reply.json() as object).sort()).toEqual(['checks', 'description', 'status']);
    for (const [entry] of Object.values(health.checks)) {
      expect(Object.keys(entry!).sort()).toEqual(['componentType', 'output', 'status', 'time']);
      expect(CAUSES).toContain(entry!.output);
    }
    for (const notForStrangers of [USER_IDENTITY.principalId, USER_IDENTITY.clientId, TENANT_ID, 'Caller', 'ForbiddenByRbac', 'az role', 'claims', 'Principal']) {
      expect(reply.text).not.toContain(notForStrangers);
    }
  });

  it('explains each check when HEALTH_DETAILS=true', async () => {
    const { reply, health } = await probe(detailed);
    expect(reply.status).toBe(503);
    expect(health.output).toContain('kv-norole: role_missing');
    expect(health.checks['kv-norole:authorized']![0]).toMatchObject({
      output: expect.stringContaining(`role_missing: Principal ${USER_IDENTITY.principalId} authenticated, but holds no role`),
      observedValue: 'HTTP 403 Forbidden/ForbiddenByRbac',
    });
  });

  it('refuses parameters and other methods as problems', async () => {
    expect(parseProblem(await healthy.get('/api/health?target=kv-ok')).status).toBe(400);
    expect(parseProblem(await healthy.get('/api/health', { method: 'POST' })).status).toBe(405);
  });
});

describe('GET /api/health/live', () => {
  it('says the process is up without calling anything', async () => {
    world.resetCounters();
    const { reply, health, cacheControl } = await probe(failing, '/api/health/live');
    expect(reply.status).toBe(200);
    expect(cacheControl).toBe('no-store');
    expect(health).toMatchObject({ status: 'pass', checks: {} });
    expect(world.counters).toMatchObject({ identity: 0, keyVault: {}, storage: {}, arm: 0 });
  });
});

describe('secrets', () => {
  it('leaked no token, identity header or secret value from any health answer', () => {
    expectNoLeaks(world, [healthy, failing, detailed]);
  });
});
