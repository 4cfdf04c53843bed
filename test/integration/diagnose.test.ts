import { startWorld, type World } from '../world';
import { EXPECTED_CAUSES, USER_IDENTITY, serviceEnv, stageStandardWorld, standardTargets } from '../world/scenario';
import { CAUSE_CATALOG } from '../../src/advice/causes';
import { sameAudience } from '../../src/catalog/clouds';
import type { Verdict } from '../../src/verdict';
import { checkOf, expectNoLeaks, parseProblem, startService, type RunningService } from './harness';

/**
 * The whole service over HTTP against the staged world: every target-level cause for every kind, one service process.
 */
let world: World;
let svc: RunningService;
let first: { status: number; verdict: Verdict };
let identityCallsOnFirstDiagnose: Record<string, number>;

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  svc = await startService(serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(standardTargets(world)) }));
  world.resetCounters();
  first = await svc.diagnose();
  identityCallsOnFirstDiagnose = { ...world.counters.identityByResource };
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  await world?.stop();
});

describe('GET /api/diagnose over every staged dependency', () => {
  it.each(Object.entries(EXPECTED_CAUSES))('reports %s as %s', (target, cause) => {
    const check = checkOf(first.verdict, target);
    expect(check.cause).toBe(cause);
    expect(check.status).toBe(CAUSE_CATALOG[cause].status);
    expect(check.stage).toBe('call');
    expect(check.claims?.oid).toBe(USER_IDENTITY.principalId);
    expect(check.explanation.length).toBeGreaterThan(20);
    if (cause !== 'authorized') expect(check.fix.length).toBeGreaterThan(0);
  });

  it('answers 503 because some dependency fails, with a summary naming each problem', () => {
    expect(first.status).toBe(503);
    expect(first.verdict.status).toBe('fail');
    expect(first.verdict.summary).toContain('kv-norole: role_missing');
    expect(first.verdict.identity).toMatchObject({ hostKind: 'functions', clientId: USER_IDENTITY.clientId, principalId: USER_IDENTITY.principalId });
  });

  it('acquires one token per distinct audience, however many targets share it', () => {
    // The SDK asks for scope "<audience>/.default", which MSAL turns into resource=<audience without trailing slash>.
    expect(identityCallsOnFirstDiagnose).toEqual({
      'https://vault.azure.net': 1,
      'https://storage.azure.com': 1,
      'https://management.azure.com': 1,
    });
  });

  it('answers 200 with pass when only healthy targets are selected', async () => {
    const { status, verdict } = await svc.diagnose('?target=kv-ok,blob-ok,blob-list-ok,arm-ok');
    expect(status).toBe(200);
    expect(verdict.status).toBe('pass');
    expect(verdict.checks.map((c) => c.target)).toEqual(['kv-ok', 'blob-ok', 'blob-list-ok', 'arm-ok']);
  });

  it('answers 200 with warn when the worst is a missing resource', async () => {
    const { status, verdict } = await svc.diagnose('?target=kv-ok,kv-missing');
    expect(status).toBe(200);
    expect(verdict.status).toBe('warn');
  });

  it('reports the read itself, never the secret value', () => {
    const kv = checkOf(first.verdict, 'kv-ok');
    expect(kv.httpStatus).toBe(200);
    expect(kv.evidence.result).toMatchObject({ readable: true, secretVersion: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(kv.evidence.requestId).toBeTruthy();
    expect(checkOf(first.verdict, 'blob-ok').evidence.result).toMatchObject({ blobReadable: true, contentLength: expect.any(Number) });
    expect(checkOf(first.verdict, 'blob-list-ok').evidence.result).toMatchObject({ listable: true, blobsOnFirstPage: 1 });
    expect(checkOf(first.verdict, 'arm-ok').evidence.result).toMatchObject({ readable: true, rolesHeld: 'Reader' });
  });

  it('names the data-plane role, the token oid and the narrowest scope in role fixes', () => {
    const oid = USER_IDENTITY.principalId;
    const kv = checkOf(first.verdict, 'kv-norole');
    expect(kv.evidence.innerErrorCode).toBe('ForbiddenByRbac');
    expect(kv.httpStatus).toBe(403);
    expect(kv.fix.join('\n')).toContain(`--assignee-object-id ${oid}`);
    expect(kv.fix.join('\n')).toContain('"Key Vault Secrets User"');
    expect(kv.fix.join('\n')).toMatch(/--scope \/subscriptions\/.*\/vaults\/kv-norole/);
    expect(kv.explanation).toContain('control-plane vs data-plane trap');

    const blob = checkOf(first.verdict, 'blob-norole');
    expect(blob.evidence.errorCode).toBe('AuthorizationPermissionMismatch');
    expect(blob.fix.join('\n')).toContain('"Storage Blob Data Reader"');
    expect(blob.fix.join('\n')).toMatch(/storageAccounts\/stnorole\/blobServices\/default\/containers\/data/);

    const arm = checkOf(first.verdict, 'arm-norole');
    expect(arm.evidence.errorCode).toBe('AuthorizationFailed');
    expect(arm.evidence.correlationId).toBeTruthy();
    expect(arm.fix.join('\n')).toMatch(/--role Reader --scope \/subscriptions\/.*\/resourceGroups\/rg-locked/);
  });

  it('says which audience the token had and which the service wanted', () => {
    for (const name of ['kv-wrong-audience', 'blob-wrong-audience', 'arm-wrong-audience']) {
      const c = checkOf(first.verdict, name);
      expect(c.httpStatus).toBe(401);
      expect(c.category).toBe('authentication');
      expect(sameAudience(c.evidence.tokenAudience!, c.audience)).toBe(true);
      expect(sameAudience(c.evidence.expectedAudience!, c.audience)).toBe(false);
      expect(c.fix.join('\n')).toContain('remove "audience"');
    }
    expect(checkOf(first.verdict, 'kv-wrong-audience').evidence.message).toContain('AKV10022');
    expect(checkOf(first.verdict, 'arm-wrong-audience').evidence.errorCode).toBe('InvalidAuthenticationTokenAudience');
  });
});

describe('bad requests', () => {
  it('refuses an unknown target name with a problem naming it', async () => {
    const reply = await svc.get('/api/diagnose?target=kv-ok,nope');
    expect(reply.status).toBe(400);
    const p = parseProblem(reply);
    expect(p.detail).toContain('"nope"');
    expect(p.errors).toEqual([{ parameter: 'target', message: 'unknown target "nope"' }]);
  });

  it.each([
    ['an unknown parameter', '?targets=kv-ok'],
    ['a repeated parameter', '?target=kv-ok&target=blob-ok'],
    ['a malformed name', '?target=../etc'],
    ['an empty selection', '?target=,'],
    ['an unknown format', '?format=yaml'],
  ])('answers 400 problem+json for %s', async (_label, query) => {
    const reply = await svc.get(`/api/diagnose${query}`);
    expect(reply.status).toBe(400);
    parseProblem(reply);
  });

  it('answers 404 and 405 as problems too', async () => {
    expect(parseProblem(await svc.get('/api/nothing-here')).status).toBe(404);
    expect(parseProblem(await svc.get('/api/diagnose', { method: 'DELETE' })).status).toBe(405);
  });

  it('accepts the function key as ?code= the way Azure callers pass it', async () => {
    const { status, verdict } = await svc.diagnose('?target=kv-ok&code=some-function-key');
    expect(status).toBe(200);
    expect(verdict.checks.map((c) => c.target)).toEqual(['kv-ok']);
  });

  it('serves POST like GET', async () => {
    const reply = await svc.get('/api/diagnose?target=kv-ok', { method: 'POST' });
    expect(reply.status).toBe(200);
  });
});

describe('secrets', () => {
  it('leaked no token, identity header or secret value in any response or log line', () => {
    expect(world.mintedTokens.length).toBeGreaterThan(0);
    expectNoLeaks(world, [svc]);
  });
});
