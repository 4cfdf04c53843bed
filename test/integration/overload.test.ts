import { startWorld, type World } from '../world';
import { serviceEnv, stageStandardWorld, standardTargets } from '../world/scenario';
import { VerdictSchema } from '../../src/verdict';
import { ProblemSchema } from '../../src/http/problem';
import { HealthSchema } from '../../src/output/health';
import { startService, type RunningService } from './harness';
import { startFakeVault, type FakeVault } from './fakeVault';

/**
 * A flood of keyed diagnoses against one slow vault, sized for a shared 2-core machine (a few hundred at once,
 * loopback only), while /api/health is probed for the same vault. Health must stay 200 for healthy dependencies (it
 * has its own per-host call slots and is never queued behind diagnoses); every diagnose answer is either a verdict
 * given within its deadline (+ slack) or a quick 429 problem with Retry-After — none late.
 */
const FLOOD = 300;
const TIMEOUT_MS = 4000;
/** Loose on purpose: the bound must hold with the other cores busy. */
const SLACK_MS = 2000;
const FUNCTION_KEY = 'overload-test-key';
let world: World;
let slow: FakeVault;
let env: Record<string, string>;

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  // Each call is two requests (challenge, then the secret) of 150 ms: four slots serve ~13 calls a second.
  slow = await startFakeVault(world, { name: 'kv-slow', delayMs: 150 });
  const targets = [
    { name: 'kv-slow', kind: 'keyVaultSecret', vaultUrl: slow.url, secretName: 'one' },
    ...standardTargets(world).filter((t) => t.name === 'kv-ok' || t.name === 'arm-ok'),
  ];
  env = serviceEnv(world, {
    DIAGNOSE_TARGETS: JSON.stringify(targets),
    DIAGNOSE_TIMEOUT_MS: String(TIMEOUT_MS),
    HEALTH_CACHE_SECONDS: '0',
    FUNCTIONS_HOST_FUNCTION_KEY: FUNCTION_KEY,
  });
}, 60_000);

afterAll(async () => {
  await slow?.close();
  await world?.stop();
});

interface Answer {
  status: number;
  type: string;
  retryAfter: string | null;
  nosniff: string | null;
  elapsedMs: number;
  body: unknown;
}

async function ask(svc: RunningService, path: string): Promise<Answer> {
  const started = Date.now();
  const res = await fetch(`${svc.url}${path}`, { headers: { 'x-functions-key': FUNCTION_KEY } });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    retryAfter: res.headers.get('retry-after'),
    nosniff: res.headers.get('x-content-type-options'),
    elapsedMs: Date.now() - started,
    body: JSON.parse(text) as unknown,
  };
}

describe.each([
  ['the local server', 'local'],
  ['the Functions host', 'functions'],
] as const)(`${FLOOD} concurrent keyed diagnoses of one slow vault, served by %s`, (_label, host) => {
  let svc: RunningService;
  let answers: Answer[];
  let probes: Answer[];

  afterAll(async () => {
    await svc?.stop();
  });

  beforeAll(async () => {
    svc = await startService(env, { host });
    slow.reset();
    // Warm up once (SDK clients, token cache), so the flood measures load, not first-call costs.
    await ask(svc, '/api/diagnose?target=kv-slow');
    const flood = Promise.all(Array.from({ length: FLOOD }, () => ask(svc, '/api/diagnose?target=kv-slow')));
    // Probe health while the flood is queued up at the vault, one probe after another.
    probes = [];
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < 3; i++) probes.push(await ask(svc, '/api/health'));
    answers = await flood;
  }, 180_000);

  it('keeps /api/health 200 with every dependency authorized', () => {
    for (const p of probes) {
      expect(p.type).toBe('application/health+json');
      const health = HealthSchema.parse(p.body);
      expect({ status: p.status, health: health.status }).toEqual({ status: 200, health: 'pass' });
      expect(Object.values(health.checks).map(([c]) => c!.output)).toEqual(['authorized', 'authorized', 'authorized']);
    }
  });

  it('answers every diagnose with a verdict within its deadline, or a 429 problem with Retry-After', () => {
    expect(answers).toHaveLength(FLOOD);
    for (const a of answers) {
      expect(a.nosniff).toBe('nosniff');
      if (a.status === 429) {
        expect(a.type).toBe('application/problem+json');
        expect(ProblemSchema.parse(a.body)).toMatchObject({ status: 429, title: 'Too busy' });
        expect(Number(a.retryAfter)).toBeGreaterThan(0);
      } else {
        expect(a.type).toMatch(/^application\/json/);
        const verdict = VerdictSchema.parse(a.body);
        expect([200, 503]).toContain(a.status);
        expect(verdict.durationMs).toBeLessThanOrEqual(TIMEOUT_MS + SLACK_MS);
      }
    }
  });

  it('sheds some of the flood rather than answering it late, and still gives verdicts to the rest', () => {
    const shed = answers.filter((a) => a.status === 429).length;
    expect(shed).toBeGreaterThan(0);
    expect(FLOOD - shed).toBeGreaterThan(0);
    // Nobody waits for minutes: a verdict or a refusal within the deadline plus loose slack for the client's side.
    expect(Math.max(...answers.map((a) => a.elapsedMs))).toBeLessThan(TIMEOUT_MS + 4 * SLACK_MS);
  });

  it('kept the vault within its per-host limit for diagnoses plus health\'s own lane', () => {
    expect(slow.maxInFlight).toBeLessThanOrEqual(8);
  });
});
