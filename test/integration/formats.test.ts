import { startWorld, type World } from '../world';
import { EXPECTED_CAUSES, HOSTILE_MESSAGE, serviceEnv, stageHostileVault, stageStandardWorld, standardTargets } from '../world/scenario';
import type { Verdict } from '../../src/verdict';
import { parseJunit } from '../unit/output/junitXml';
import { expectNoLeaks, startService, type RunningService } from './harness';

/**
 * /api/diagnose in every format, chosen by Accept or ?format=, over the staged world — plus a vault whose error
 * message is markup, to prove what a service says is shown, never executed.
 */


let world: World;
let svc: RunningService;
let verdict: Verdict;

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  const targets = [...standardTargets(world), stageHostileVault(world)];
  svc = await startService(serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(targets) }));
  verdict = (await svc.diagnose()).verdict;
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  await world?.stop();
});

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

describe('choosing the format', () => {
  it.each([
    ['no Accept', undefined, '', 'application/json; charset=utf-8'],
    ['curl\'s */*', '*/*', '', 'application/json; charset=utf-8'],
    ['an unknown Accept', 'application/yaml', '', 'application/json; charset=utf-8'],
    ['Accept: text/plain', 'text/plain', '', 'text/plain; charset=utf-8'],
    ['Accept: application/junit+xml', 'application/junit+xml', '', 'application/xml; charset=utf-8'],
    ['Accept: application/xml', 'application/xml', '', 'application/xml; charset=utf-8'],
    ['a browser\'s Accept', BROWSER_ACCEPT, '', 'text/html; charset=utf-8'],
    ['?format=text over a browser\'s Accept', BROWSER_ACCEPT, '&format=text', 'text/plain; charset=utf-8'],
    ['?format=junit', undefined, '&format=junit', 'application/xml; charset=utf-8'],
    ['?format=html', 'application/json', '&format=html', 'text/html; charset=utf-8'],
    ['?format=json over Accept: text/html', 'text/html', '&format=json', 'application/json; charset=utf-8'],
  ])('answers %s with the right content type, 503 on failure and 200 otherwise', async (_label, accept, format, contentType) => {
    const headers: Record<string, string> = accept ? { accept } : {};
    const failing = await svc.get(`/api/diagnose?target=kv-ok,kv-norole${format}`, { headers });
    expect(failing.contentType).toBe(contentType);
    expect(failing.status).toBe(503);
    const passing = await svc.get(`/api/diagnose?target=kv-ok${format}`, { headers });
    expect(passing.contentType).toBe(contentType);
    expect(passing.status).toBe(200);
  });

  it('marks every format as varying by Accept and never cacheable', async () => {
    const res = await fetch(`${svc.url}/api/diagnose?target=kv-ok`, { headers: { accept: 'text/plain' } });
    await res.text();
    expect(res.headers.get('vary')).toBe('Accept');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('text', () => {
  let text: string;
  beforeAll(async () => {
    text = (await svc.get('/api/diagnose?format=text')).text;
  });

  it('has one line per target with its status, cause and HTTP status', () => {
    for (const c of verdict.checks) {
      const line = text.split('\n').find((l) => l.split(/\s+/)[1] === c.target);
      expect(line?.split(/\s+/).slice(0, 4)).toEqual([c.status.toUpperCase(), c.target, c.cause, c.httpStatus !== undefined ? String(c.httpStatus) : '-']);
    }
    expect(Object.keys(EXPECTED_CAUSES).every((t) => text.includes(` ${t} `))).toBe(true);
  });

  it('fits a log: no line over 160 characters, no colour codes, the summary last', () => {
    const lines = text.trimEnd().split('\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(160);
    expect(text).not.toMatch(/\u001b\[/);
    const lastParagraph = text.trimEnd().split('\n\n').at(-1)!;
    expect(lastParagraph.replace(/\n  /g, ' ')).toBe(`FAIL: ${verdict.summary}`);
  });
});

describe('JUnit', () => {
  it('parses as one testcase per target, failures carrying cause, explanation and fix', async () => {
    const reply = await svc.get('/api/diagnose?format=junit');
    const doc = parseJunit(reply.text);
    const failing = verdict.checks.filter((c) => c.status === 'fail');
    const warning = verdict.checks.filter((c) => c.status === 'warn');
    expect(doc).toMatchObject({ tests: verdict.checks.length, failures: failing.length, errors: 0, skipped: warning.length });
    const cases = doc.suites[0]!.testcases;
    expect(cases.map((c) => c.name)).toEqual(verdict.checks.map((c) => c.target));
    for (const check of failing) {
      const f = cases.find((c) => c.name === check.target)!.failure!;
      expect(f.type).toBe(check.cause);
      expect(f.message!.startsWith(`${check.cause}: ${check.title}`)).toBe(true);
      expect(f.body).toContain(check.explanation);
      for (const fix of check.fix) expect(f.body).toContain(fix);
    }
    expect(cases.find((c) => c.name === 'kv-norole')!.failure!.message).toBe('role_missing: Role missing (HTTP 403, Forbidden/ForbiddenByRbac)');
    expect(cases.find((c) => c.name === 'kv-hostile')!.failure!.body).toContain(HOSTILE_MESSAGE);
  });
});

describe('HTML', () => {
  it('escapes what the service said and pins its own script with a CSP', async () => {
    const res = await fetch(`${svc.url}/api/diagnose?format=html`);
    const page = await res.text();
    expect(verdict.checks.find((c) => c.target === 'kv-hostile')?.evidence.message).toContain(HOSTILE_MESSAGE);
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page).not.toContain('<img');
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-[^']+'; script-src 'sha256-[^']+'/);
    for (const target of Object.keys(EXPECTED_CAUSES)) expect(page).toContain(`data-target="${target}"`);
  });
});

describe('secrets', () => {
  it('leaked no token, identity header or secret value in any format', () => {
    expectNoLeaks(world, [svc]);
  });
});
