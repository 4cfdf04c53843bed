import { startWorld, type World } from '../world';
import { RG_APP, RG_LOCKED, TENANT_ID, USER_IDENTITY, serviceEnv, stageStandardWorld, standardTargets } from '../world/scenario';
import { checkOf, expectNoLeaks, startService, type RunningService } from './harness';

/**
 * "Role missing" vs "role granted, not yet effective", through HTTP against the world: role evidence from ARM, the
 * propagation hint, and wait mode.
 */
let world: World;
let svc: RunningService;
const oid = USER_IDENTITY.principalId;
const vaultId = (rg: string, name: string) => `${rg}/providers/Microsoft.KeyVault/vaults/${name}`;
const accountId = (name: string) => `${RG_APP}/providers/Microsoft.Storage/storageAccounts/${name}`;

function addVault(name: string, rg = RG_APP, extra: Record<string, unknown> = {}) {
  world.state.vaults.push({ name, resourceId: vaultId(rg, name), tenantId: TENANT_ID, authorization: 'rbac', secrets: { 'app-secret': `v-${name}-${Math.random()}` }, ...extra });
  world.state.arm.resources.push(vaultId(rg, name));
  return { name, kind: 'keyVaultSecret', vaultUrl: world.vaultUrl(name), secretName: 'app-secret', resourceId: vaultId(rg, name) };
}
function addAccount(name: string) {
  world.state.accounts.push({ name, resourceId: accountId(name), tenantId: TENANT_ID, containers: { data: { 'hello.txt': 'hi' } } });
  world.state.arm.resources.push(accountId(name));
  return { name: `blob-${name}`, kind: 'storageBlob', accountUrl: world.accountUrl(name), container: 'data', resourceId: accountId(name) };
}
const ago = (s: number) => new Date(Date.now() - s * 1000);

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  const targets = [
    ...standardTargets(world),
    addVault('kvfresh'),
    addAccount('stfresh'),
    addVault('kvcontrib'),
    addAccount('stcontrib'),
    addVault('kvlocked', RG_LOCKED),
    addVault('kvpolicyrbac', RG_APP, { authorization: 'accessPolicy', accessPolicies: [] }),
    addVault('kvwait'),
    { name: 'arm-locked', kind: 'armResource', resourceId: RG_LOCKED, endpoint: world.armEndpoint },
  ];
  world.grant(oid, 'keyVaultSecretsUser', vaultId(RG_APP, 'kvfresh'), { createdOn: ago(90), propagationDelaySeconds: 600 });
  world.grant(oid, 'storageBlobDataReader', accountId('stfresh'), { createdOn: ago(90), propagationDelaySeconds: 600 });
  world.grant(oid, 'contributor', vaultId(RG_APP, 'kvcontrib'));
  world.grant(oid, 'contributor', accountId('stcontrib'));
  world.grant(oid, 'keyVaultSecretsUser', vaultId(RG_APP, 'kvpolicyrbac'));
  await world.syncStorage();
  svc = await startService(serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(targets) }));
}, 90_000);

afterAll(async () => {
  await svc?.stop();
  await world?.stop();
});

describe('role evidence and the propagation hint', () => {
  it('reports propagation_pending with ~510 s left when a covering role was granted 90 s ago (Key Vault and Storage)', async () => {
    const { verdict } = await svc.diagnose('?target=kvfresh,blob-stfresh');
    for (const name of ['kvfresh', 'blob-stfresh']) {
      const c = checkOf(verdict, name);
      expect(c.cause).toBe('propagation_pending');
      expect(c.httpStatus).toBe(403);
      expect(c.propagation).toMatchObject({ expectedWindowSeconds: 600, tokenIssuedAt: c.claims!.issuedAt });
      // Entra backdates iat for clock skew; the hint reads the claim as it is.
      expect(c.propagation!.tokenPredatesAssignment).toBe(Date.parse(c.claims!.issuedAt!) < Date.parse(c.propagation!.assignmentCreatedOn!));
      expect(c.propagation!.assignmentAgeSeconds).toBeGreaterThanOrEqual(89);
      expect(c.propagation!.retryAfterSeconds).toBeGreaterThanOrEqual(495);
      expect(c.propagation!.retryAfterSeconds).toBeLessThanOrEqual(511);
      expect(c.propagation!.advice).toContain('do not grant a broader role');
      expect(c.evidence.roles?.assignments.some((a) => a.coversOperation)).toBe(true);
      expect(c.fix[0]).toContain(`wait ${c.propagation!.retryAfterSeconds} s`);
    }
  });

  it('reports role_missing naming the data-plane role when the identity holds only Contributor', async () => {
    const { verdict } = await svc.diagnose('?target=kvcontrib,blob-stcontrib');
    const kv = checkOf(verdict, 'kvcontrib');
    expect(kv.cause).toBe('role_missing');
    expect(kv.evidence.roles?.assignments).toContainEqual(expect.objectContaining({ roleName: 'Contributor', plane: 'control', coversOperation: false }));
    expect(kv.explanation).toMatch(/only control-plane roles \(.*Contributor/);
    expect(kv.explanation).toContain('Grant the data-plane role Key Vault Secrets User');
    expect(kv.fix[0]).toContain('"Key Vault Secrets User"');
    expect(kv.propagation).toBeUndefined();
    const blob = checkOf(verdict, 'blob-stcontrib');
    expect(blob.cause).toBe('role_missing');
    expect(blob.explanation).toContain('Grant the data-plane role Storage Blob Data Reader');
  });

  it('falls back to the look-up command when the identity may not read roles at the scope', async () => {
    const { verdict } = await svc.diagnose('?target=kvlocked,arm-locked');
    for (const name of ['kvlocked', 'arm-locked']) {
      const c = checkOf(verdict, name);
      expect(c.cause).toBe('role_missing');
      expect(c.evidence.roles).toMatchObject({ lookedUp: false, unavailable: { httpStatus: 403, errorCode: 'AuthorizationFailed' } });
      expect(c.fix.join('\n')).toContain(`az role assignment list --assignee ${oid} --scope ${c.evidence.roles!.scope} --include-inherited`);
      expect(c.propagation).toMatchObject({ expectedWindowSeconds: 600 });
    }
  });

  it('explains that an access-policy vault ignores an RBAC role until it is switched to RBAC', async () => {
    const { verdict } = await svc.diagnose('?target=kvpolicyrbac');
    const c = checkOf(verdict, 'kvpolicyrbac');
    expect(c.cause).toBe('access_policy_missing');
    expect(c.explanation).toContain('Key Vault Secrets User');
    expect(c.explanation).toContain('enableRbacAuthorization');
    expect(c.fix[0]).toContain('--enable-rbac-authorization true');
  });
});

describe('wait mode', () => {
  it('turns a 403 into a pass when propagation ends mid-wait, and reports how long it took', async () => {
    world.grant(oid, 'keyVaultSecretsUser', vaultId(RG_APP, 'kvwait'), { propagationDelaySeconds: 5 });
    const reply = await svc.get('/api/diagnose?target=kvwait&waitSeconds=40');
    expect(reply.status).toBe(200);
    const verdict = reply.json() as { status: string; checks: { cause: string; attempts: number; secondsUntilAuthorized: number }[]; wait: Record<string, unknown> };
    expect(verdict.status).toBe('pass');
    expect(verdict.checks[0]).toMatchObject({ cause: 'authorized' });
    expect(verdict.checks[0]!.attempts).toBeGreaterThanOrEqual(2);
    expect(verdict.checks[0]!.secondsUntilAuthorized).toBeGreaterThanOrEqual(4);
    expect(verdict.checks[0]!.secondsUntilAuthorized).toBeLessThan(40);
    expect(verdict.wait).toMatchObject({ requestedSeconds: 40, appliedSeconds: 40, stoppedBecause: 'all_passed' });
  });

  it('stops at once on a cause that waiting cannot cure', async () => {
    const started = Date.now();
    const { status, verdict } = await svc.diagnose('?target=kv-wrong-audience,kvfresh&waitSeconds=120');
    expect(status).toBe(503);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(verdict.wait).toMatchObject({ stoppedBecause: 'cannot_heal', cannotHeal: ['kv-wrong-audience'], rounds: 1 });
    expect(checkOf(verdict, 'kv-wrong-audience').attempts).toBe(1);
  });

  it('caps the wait below the Functions front end\'s 230 s cut-off and says so', async () => {
    const { verdict } = await svc.diagnose('?target=kv-ok&waitSeconds=999');
    expect(verdict.wait).toMatchObject({ requestedSeconds: 999, appliedSeconds: 200, stoppedBecause: 'all_passed' });
    expect(checkOf(verdict, 'kv-ok')).toMatchObject({ attempts: 1, secondsUntilAuthorized: 0 });
  });

  it('refuses a waitSeconds that is not a number', async () => {
    const reply = await svc.get('/api/diagnose?waitSeconds=soon');
    expect(reply.status).toBe(400);
    expect(reply.contentType).toBe('application/problem+json');
  });
});

describe('secrets', () => {
  it('leaked no token, identity header or secret value in any response or log line', () => {
    expectNoLeaks(world, [svc]);
  });
});
