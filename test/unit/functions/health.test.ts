import { HttpRequest, InvocationContext } from '@azure/functions';
import { createHealthHandler, healthLiveHandler, type RunDiagnose } from '../../../src/functions/health';
import { createRoutes } from '../../../src/routes';
import { type Verdict } from '../../../src/verdict';
import { HealthSchema } from '../../../src/output/health';
import { settingsFor } from '../fixtures/settings';
import { authorized, roleMissing, verdictOf } from '../output/verdicts';

/**
 * The health handler driven like the Functions host drives it, with a counting stand-in for the engine (the real one
 * is exercised over HTTP in test/integration/health.test.ts).
 */

const get = (path = '/api/health') => new HttpRequest({ method: 'GET', url: `http://localhost${path}` });
const context = () => new InvocationContext({ functionName: 'health', invocationId: 'test', logHandler: () => undefined });

function countingRun(verdict: () => Verdict) {
  const runs: { count: number; release: () => void } = { count: 0, release: () => undefined };
  let gate: Promise<void> = Promise.resolve();
  const hold = () => {
    gate = new Promise<void>((r) => (runs.release = r));
  };
  const run: RunDiagnose = async () => {
    runs.count++;
    await gate;
    return verdict();
  };
  return { run, runs, hold };
}

const body = (init: { body?: unknown }) => HealthSchema.parse(JSON.parse(init.body as string));

describe('GET /api/health', () => {
  it('answers a probe storm with one diagnose', async () => {
    const { run, runs, hold } = countingRun(() => verdictOf([authorized()]));
    const handler = createHealthHandler(() => settingsFor(), { run, now: () => 0 });
    hold();
    const probes = Array.from({ length: 25 }, () => handler(get(), context()));
    runs.release();
    const answers = await Promise.all(probes);
    expect(runs.count).toBe(1);
    expect(answers.every((a) => a.status === 200)).toBe(true);
  });

  it('reuses the result for HEALTH_CACHE_SECONDS, then diagnoses again', async () => {
    let now = 0;
    const { run, runs } = countingRun(() => verdictOf([authorized()]));
    const handler = createHealthHandler(() => settingsFor({ HEALTH_CACHE_SECONDS: '10' }), { run, now: () => now });
    await handler(get(), context());
    now = 9_999;
    await handler(get(), context());
    expect(runs.count).toBe(1);
    now = 10_000;
    await handler(get(), context());
    expect(runs.count).toBe(2);
  });

  it('says fail with 503 when a dependency fails, and only cause codes by default', async () => {
    const { run } = countingRun(() => verdictOf([authorized('kv-ok'), roleMissing('kv-norole')]));
    const answer = await createHealthHandler(() => settingsFor(), { run })(get(), context());
    expect(answer.status).toBe(503);
    const health = body(answer);
    expect(health.checks['kv-norole:authorized']![0]!.output).toBe('role_missing');
    expect(health.output).toBeUndefined();
  });

  it('explains with HEALTH_DETAILS=true', async () => {
    const { run } = countingRun(() => verdictOf([roleMissing('kv-norole')]));
    const answer = await createHealthHandler(() => settingsFor({ HEALTH_DETAILS: 'true' }), { run })(get(), context());
    expect(body(answer).checks['kv-norole:authorized']![0]!.output).toMatch(/^role_missing: Principal /);
  });

  it('removes anything token-shaped before it is cached or shown', async () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln';
    const { run } = countingRun(() => verdictOf([roleMissing('kv-norole', { explanation: `saw ${jwt}` })]));
    const answer = await createHealthHandler(() => settingsFor({ HEALTH_DETAILS: 'true' }), { run })(get(), context());
    expect(answer.body).not.toContain(jwt);
    expect(answer.body).toContain('[REDACTED]');
  });

  it('refuses query parameters rather than pretend to honour them', async () => {
    const { run, runs } = countingRun(() => verdictOf([authorized()]));
    const answer = await createHealthHandler(() => settingsFor(), { run })(get('/api/health?target=kv-ok'), context());
    expect(answer.status).toBe(400);
    expect(answer.headers).toMatchObject({ 'content-type': 'application/problem+json' });
    expect(runs.count).toBe(0);
  });

  it('answers fail, without details, if the diagnose itself breaks', async () => {
    const handler = createHealthHandler(() => settingsFor(), { run: () => Promise.reject(new Error('secret detail')) });
    const answer = await handler(get(), context());
    expect(answer.status).toBe(503);
    expect(body(answer)).toEqual({ status: 'fail', output: 'diagnostic_error', checks: {} });
  });

  it('keeps one cache per route table, so an embedding app does not share ours', () => {
    const a = createRoutes(() => settingsFor()).find((r) => r.name === 'health')!;
    const b = createRoutes(() => settingsFor()).find((r) => r.name === 'health')!;
    expect(a.handler).not.toBe(b.handler);
    expect(a).toMatchObject({ route: 'health', methods: ['GET'], authLevel: 'anonymous' });
  });
});

describe('GET /api/health/live', () => {
  it('says pass without reading settings or diagnosing anything', async () => {
    const answer = await healthLiveHandler(get('/api/health/live'), context());
    expect(answer.status).toBe(200);
    expect(answer.headers).toMatchObject({ 'content-type': 'application/health+json', 'cache-control': 'no-store' });
    expect(body(answer)).toMatchObject({ status: 'pass', checks: {} });
    const route = createRoutes(() => {
      throw new Error('settings must not be read');
    }).find((r) => r.route === 'health/live')!;
    expect(route.authLevel).toBe('anonymous');
    expect((await route.handler(get('/api/health/live'), context())).status).toBe(200);
  });
});
