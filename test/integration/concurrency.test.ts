import { startWorld, type World } from '../world';
import { EXPECTED_CAUSES, serviceEnv, stageStandardWorld, standardTargets } from '../world/scenario';
import { MAX_CALLS_PER_HOST } from '../../src/engine/limits';
import { expectNoLeaks, startService, type RunningService } from './harness';
import { seededRandom, startFakeVault, type FakeVault } from './fakeVault';

/**
 * 200 diagnoses at once, each with its own `?target=` subset, against one service process: every answer carries
 * exactly its own targets with their own causes, concurrent diagnoses share one token acquisition per audience, and
 * no target host ever sees more than MAX_CALLS_PER_HOST calls in flight.
 */
const BURST = 200;
let world: World;
let svc: RunningService;
let gauge: FakeVault;
let names: string[];
const expected: Record<string, string> = { ...EXPECTED_CAUSES, 'kv-gauge': 'authorized', 'kv-gauge-2': 'authorized' };

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  // Slow enough that calls overlap: without a per-host limit the burst would put dozens in flight here.
  gauge = await startFakeVault(world, { name: 'kv-gauge', delayMs: 10 });
  const targets = [
    ...standardTargets(world),
    { name: 'kv-gauge', kind: 'keyVaultSecret', vaultUrl: gauge.url, secretName: 'one' },
    { name: 'kv-gauge-2', kind: 'keyVaultSecret', vaultUrl: gauge.url, secretName: 'two' },
  ];
  names = targets.map((t) => t.name);
  // All 200 are admitted at once, with a deadline a busy shared machine cannot miss: this suite is about per-host
  // limits and shared tokens. Shedding a flood's excess, and answers past the deadline (429), are overload.test.ts's.
  svc = await startService(
    serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(targets), DIAGNOSE_MAX_CONCURRENT: String(BURST), DIAGNOSE_TIMEOUT_MS: '60000' }),
  );
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  await gauge?.close();
  await world?.stop();
});

describe(`${BURST} concurrent diagnoses with differing ?target= subsets`, () => {
  let results: { wanted: string[]; status: number; checks: [string, string][] }[];
  let identityCalls: Record<string, number>;

  beforeAll(async () => {
    const random = seededRandom(6);
    const subsets = Array.from({ length: BURST }, (_, i) => {
      // Every other diagnose calls the gauge vault, so its host is contended; the rest is a random subset.
      const picked = names.filter((n) => (n.startsWith('kv-gauge') ? i % 2 === 0 && (n === 'kv-gauge' || random() < 0.5) : random() < 0.35));
      return picked.length ? picked : [names[i % names.length]!];
    });
    world.resetCounters();
    gauge.reset();
    // The identity endpoint answers slowly while the burst arrives, so many diagnoses wait on the same audiences.
    world.state.latencyMs = 400;
    const burst = Promise.all(
      subsets.map(async (wanted) => {
        const { status, verdict } = await svc.diagnose(`?target=${wanted.join(',')}`);
        return { wanted, status, checks: verdict.checks.map((c): [string, string] => [c.target, c.cause]) };
      }),
    );
    // Only the first token requests are slowed; the calls that follow run at full speed.
    await new Promise((r) => setTimeout(r, 200));
    world.state.latencyMs = 0;
    results = await burst;
    identityCalls = { ...world.counters.identityByResource };
  }, 60_000);

  it('answers each with exactly its own targets, in order, each with its own cause', () => {
    expect(results).toHaveLength(BURST);
    for (const r of results) {
      expect(r.checks).toEqual(r.wanted.map((t) => [t, expected[t]]));
      expect(r.status).toBe(r.checks.some(([, cause]) => cause === 'role_missing' || cause === 'wrong_audience') ? 503 : 200);
    }
  });

  it('shares one token acquisition per audience across all concurrent diagnoses', () => {
    expect(identityCalls).toEqual({
      'https://vault.azure.net': 1,
      'https://storage.azure.com': 1,
      'https://management.azure.com': 1,
    });
  });

  it(`keeps at most ${MAX_CALLS_PER_HOST} calls in flight at one target host`, () => {
    const gaugeCalls = results.reduce((n, r) => n + r.wanted.filter((t) => t.startsWith('kv-gauge')).length, 0);
    expect(gaugeCalls).toBeGreaterThan(100);
    // Each Key Vault call is two requests (challenge, then with the token), one after the other.
    expect(gauge.requests).toBe(2 * gaugeCalls);
    expect(gauge.maxInFlight).toBeLessThanOrEqual(MAX_CALLS_PER_HOST);
  });

  it('still answers a plain diagnose promptly afterwards', async () => {
    const { status, verdict } = await svc.diagnose('?target=kv-ok,kv-gauge');
    expect(status).toBe(200);
    expect(verdict.checks.map((c) => c.cause)).toEqual(['authorized', 'authorized']);
  });

  it('leaked no token, identity header or secret value under load', () => {
    expectNoLeaks(world, [svc]);
    expect(svc.replies().join('\n')).not.toContain(gauge.secretValue);
  });
});
