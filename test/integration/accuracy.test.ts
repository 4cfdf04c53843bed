import { startWorld, type World } from '../world';
import { OTHER_IDENTITY, RG_APP, SUBSCRIPTION, TENANT_ID, USER_IDENTITY, serviceEnv, stageStandardWorld, standardTargets } from '../world/scenario';
import type { Check, Verdict } from '../../src/verdict';
import { checkOf, expectNoLeaks, startService, type RunningService } from './harness';

/**
 * Never wrong advice (issue 13): grants of different ages at scopes above and below the target, 403s read by their
 * codes, network and DNS refusals told apart, identity selection — through HTTP against the simulated world, for
 * every kind. Every verdict in this file is also checked for the two promises: no wait advised for a grant older than
 * its window, no fix that creates an assignment the role look-up found.
 */
let world: World;
const services: RunningService[] = [];
const verdicts: Verdict[] = [];
const oid = USER_IDENTITY.principalId;
const GROUP_ID = '5d3c2b1a-0f9e-4d8c-b7a6-1234567890ab';
const RG_COND = `${SUBSCRIPTION}/resourceGroups/rg-cond`;
const RG_YOUNG = `${SUBSCRIPTION}/resourceGroups/rg-young`;
/** A second subscription, alone under a management group: grants there reach nothing else staged. */
const SUB2_ID = '6c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
const RG_MG = `/subscriptions/${SUB2_ID}/resourceGroups/rg-mg`;
const MG = '/providers/Microsoft.Management/managementGroups/mg-platform';
const RG_ARM_YOUNG = `${SUBSCRIPTION}/resourceGroups/rg-arm-young`;
const vaultId = (name: string, rg = RG_APP) => `${rg}/providers/Microsoft.KeyVault/vaults/${name}`;
const accountId = (name: string) => `${RG_APP}/providers/Microsoft.Storage/storageAccounts/${name}`;
const containerScope = (account: string, container: string) => `${accountId(account)}/blobServices/default/containers/${container}`;
const ago = (s: number) => new Date(Date.now() - s * 1000);
const DAY = 86_400;
const CONDITION = "((!(ActionMatches{'Microsoft.KeyVault/vaults/secrets/getSecret/action'})) OR (@Resource[Microsoft.KeyVault/vaults/secrets:name] StringEquals 'other'))";

type Spec = Record<string, unknown> & { name: string };
function vault(name: string, extra: Record<string, unknown> = {}, rg = RG_APP): Spec {
  world.state.vaults.push({ name, resourceId: vaultId(name, rg), tenantId: TENANT_ID, authorization: 'rbac', secrets: { 'app-secret': `v-${name}-${Math.random()}`, other: `o-${name}-${Math.random()}` }, ...extra });
  world.state.arm.resources.push(vaultId(name, rg));
  return { name, kind: 'keyVaultSecret', vaultUrl: world.vaultUrl(name), secretName: 'app-secret', resourceId: vaultId(name, rg) };
}
function account(name: string, extra: Record<string, unknown> = {}): Spec {
  world.state.accounts.push({ name, resourceId: accountId(name), tenantId: TENANT_ID, containers: { data: { 'hello.txt': 'hi' }, other: {} }, ...extra });
  world.state.arm.resources.push(accountId(name));
  return { name: `blob-${name}`, kind: 'storageBlob', accountUrl: world.accountUrl(name), container: 'data', blobName: 'hello.txt', resourceId: accountId(name) };
}

async function serve(targets: Spec[], overrides: Record<string, string | undefined> = {}): Promise<RunningService> {
  const svc = await startService(serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(targets), ...overrides }));
  services.push(svc);
  return svc;
}
async function run(svc: RunningService, query = ''): Promise<Verdict> {
  const { verdict } = await svc.diagnose(query);
  verdicts.push(verdict);
  return verdict;
}

let main: RunningService;
let mainVerdict: Verdict;

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  world.state.groups.push({ id: GROUP_ID, members: [oid] });
  // Grants at a resource group reach every vault in it: the "above" cases get groups of their own.
  world.state.arm.resourceGroups.push(RG_COND, RG_YOUNG);
  for (const rg of [RG_COND, RG_YOUNG]) world.grant(oid, 'reader', rg, { createdOn: ago(DAY) });
  world.state.arm.subscriptions.push(SUB2_ID);
  world.state.arm.resourceGroups.push(RG_MG);
  world.state.arm.managementGroups = [{ id: MG, subscriptions: [SUB2_ID] }];
  world.grant(oid, 'reader', RG_MG, { createdOn: ago(DAY) });
  world.state.arm.resourceGroups.push(RG_ARM_YOUNG);
  world.grant(oid, 'reader', RG_ARM_YOUNG, { createdOn: ago(60), propagationDelaySeconds: 600 });
  const targets = [
    // Key Vault: old grant with a condition at the vault; old grant at a resource group with a condition (above);
    // young grant at the resource group (above); a grant through a group the token does not carry yet; a grant on
    // another secret (below); a grant on this very secret (below the vault, covering).
    vault('kvcond'),
    vault('kvrgcond', {}, RG_COND),
    vault('kvrgyoung', {}, RG_YOUNG),
    vault('kvmg', {}, RG_MG),
    vault('kvgroup'),
    vault('kvothersecret'),
    vault('kvthissecret'),
    vault('kvdisabled', { disabledSecrets: ['app-secret'] }),
    vault('kvprivate', { network: 'private' }),
    vault('kvfirewall', { network: 'firewall' }),
    vault('kvunknown', { fault: { status: 403, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'Forbidden', message: 'Operation refused by a rule nobody mapped.', innererror: { code: 'ForbiddenBySomethingNew' } } }) } }),
    { name: 'kv-nxdomain', kind: 'keyVaultSecret', vaultUrl: world.vaultUrl('nxdomain-kvtypo'), secretName: 'app-secret' },
    // Storage: old conditioned grant at the account; a grant on another container (below); a young grant on this
    // container (below the account, covering); disabled account; public access disabled; an unrecognised code.
    account('stcond'),
    account('stother'),
    account('stcontyoung'),
    account('stdisabled', { disabled: true }),
    account('stprivate', { network: 'private' }),
    account('stunknown', { fault: { status: 403, headers: { 'x-ms-error-code': 'AuthorizationProtocolMismatch' } } }),
    { name: 'blob-nxdomain', kind: 'storageBlob', accountUrl: world.accountUrl('nxdomainsttypo'), container: 'data' },
    ...standardTargets(world).filter((t) => t.name === 'arm-ok' || t.name === 'kv-norole' || t.name === 'arm-norole'),
    { name: 'arm-young', kind: 'armResource', resourceId: RG_ARM_YOUNG, endpoint: world.armEndpoint },
  ];
  world.grant(oid, 'keyVaultSecretsUser', vaultId('kvcond'), { createdOn: ago(2 * DAY), condition: CONDITION });
  world.grant(oid, 'keyVaultSecretsUser', RG_COND, { createdOn: ago(3 * DAY), condition: CONDITION });
  world.grant(oid, 'keyVaultSecretsUser', RG_YOUNG, { createdOn: ago(120), propagationDelaySeconds: 600 });
  // Management-group scope: data roles "may take hours" there.
  world.grant(oid, 'keyVaultSecretsUser', MG, { createdOn: ago(1800), propagationDelaySeconds: 3 * 3600 });
  world.grant(GROUP_ID, 'keyVaultSecretsUser', vaultId('kvgroup'), { createdOn: ago(30) });
  world.grant(oid, 'keyVaultSecretsUser', `${vaultId('kvothersecret')}/secrets/other`, { createdOn: ago(2 * DAY) });
  world.grant(oid, 'keyVaultSecretsUser', `${vaultId('kvthissecret')}/secrets/app-secret`, { createdOn: ago(2 * DAY) });
  world.grant(oid, 'keyVaultSecretsUser', vaultId('kvdisabled'), { createdOn: ago(2 * DAY) });
  world.grant(oid, 'storageBlobDataReader', accountId('stcond'), { createdOn: ago(2 * DAY), condition: "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'other'" });
  world.grant(oid, 'storageBlobDataReader', containerScope('stother', 'other'), { createdOn: ago(2 * DAY) });
  world.grant(oid, 'storageBlobDataReader', containerScope('stcontyoung', 'data'), { createdOn: ago(60), propagationDelaySeconds: 600 });
  world.grant(oid, 'storageBlobDataReader', accountId('stdisabled'), { createdOn: ago(2 * DAY) });
  await world.syncStorage();
  main = await serve(targets, { DIAGNOSE_TIMEOUT_MS: '8000' });
  mainVerdict = await run(main);
}, 120_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await world?.stop();
});

/** Advice to wait anywhere a user reads it ("do not wait" / "waiting will not help" are not). */
const advisesWaiting = (c: Check) =>
  /(?<!not |never )\bwait\s+(up to|\d+|and re-run|a little|for)|\?waitSeconds|re-run in a/i.test([c.explanation, ...c.fix].join('\n')) || c.propagation !== undefined;

describe('1. propagation judged by the grant\'s age', () => {
  it('calls a covering grant older than its window grant_ineffective, names its condition, and never advises waiting (Key Vault, at the vault and at its resource group)', () => {
    for (const [name, scope] of [['kvcond', vaultId('kvcond')], ['kvrgcond', RG_COND]] as const) {
      const c = checkOf(mainVerdict, name);
      expect(c.cause).toBe('grant_ineffective');
      expect(c.evidence.innerErrorCode).toBe('ForbiddenByRbac');
      expect(c.evidence.roles?.assignments).toContainEqual(expect.objectContaining({ scope, coversOperation: true, condition: CONDITION, scopeRelation: 'above' }));
      expect(c.explanation).toContain('not propagation');
      expect(c.explanation).toContain('condition (ABAC)');
      expect(advisesWaiting(c)).toBe(false);
      expect(c.fix.join('\n')).not.toContain('az role assignment create');
      expect(c.fix.join('\n')).toContain('denyAssignments');
    }
  });

  it('calls a young grant at the resource group (above the vault) propagation_pending with the time left', () => {
    const c = checkOf(mainVerdict, 'kvrgyoung');
    expect(c.cause).toBe('propagation_pending');
    expect(c.propagation).toMatchObject({ expectedWindowSeconds: 600 });
    expect(c.propagation!.retryAfterSeconds).toBeGreaterThan(400);
    expect(c.propagation!.retryAfterSeconds).toBeLessThanOrEqual(480);
    expect(c.propagation!.advice).toContain(RG_YOUNG);
  });

  it('finds a grant at a management group above the subscription and gives it hours, not minutes', () => {
    const c = checkOf(mainVerdict, 'kvmg');
    expect(c.cause).toBe('propagation_pending');
    expect(c.evidence.roles?.assignments).toContainEqual(expect.objectContaining({ scope: MG, coversOperation: true, scopeRelation: 'above' }));
    expect(c.propagation).toMatchObject({ expectedWindowSeconds: 7200 });
    expect(c.propagation!.retryAfterSeconds).toBeGreaterThan(5000);
    expect(c.propagation!.advice).toContain('management-group scope');
  });

  it('waits for a new token when the grant came through a group after the token was minted', () => {
    const c = checkOf(mainVerdict, 'kvgroup');
    expect(c.cause).toBe('propagation_pending');
    expect(c.evidence.roles?.assignments).toContainEqual(expect.objectContaining({ principalId: GROUP_ID, coversOperation: true }));
    expect(c.propagation).toMatchObject({ viaGroup: true, expectedWindowSeconds: 86_400, tokenPredatesAssignment: true });
    expect(c.propagation!.advice).toContain('directly to the identity');
  });

  it('finds a grant on this very secret (below the vault) and one on another secret, counting only the first', () => {
    expect(checkOf(mainVerdict, 'kvthissecret').cause).toBe('authorized');
    const c = checkOf(mainVerdict, 'kvothersecret');
    expect(c.cause).toBe('role_missing');
    expect(c.evidence.roles?.assignments).toContainEqual(expect.objectContaining({ scope: `${vaultId('kvothersecret')}/secrets/other`, coversOperation: false, scopeRelation: 'below' }));
    expect(c.explanation).toContain('granted below, on another secret');
    expect(c.fix[0]).toContain(`--scope ${vaultId('kvothersecret')}`);
    expect(advisesWaiting(c)).toBe(false);
  });

  it('Storage: an old conditioned grant is grant_ineffective; a young grant on the container is pending; a grant on another container does not count', () => {
    const cond = checkOf(mainVerdict, 'blob-stcond');
    expect(cond.cause).toBe('grant_ineffective');
    expect(cond.evidence.errorCode).toBe('AuthorizationPermissionMismatch');
    expect(advisesWaiting(cond)).toBe(false);
    const young = checkOf(mainVerdict, 'blob-stcontyoung');
    expect(young.cause).toBe('propagation_pending');
    expect(young.evidence.roles?.assignments).toContainEqual(expect.objectContaining({ scope: containerScope('stcontyoung', 'data'), coversOperation: true, scopeRelation: 'at' }));
    const other = checkOf(mainVerdict, 'blob-stother');
    expect(other.cause).toBe('role_missing');
    expect(other.explanation).toContain('granted below, on another container');
    expect(other.fix[0]).toContain(`--scope ${containerScope('stother', 'data')}`);
  });

  it('ARM: a 403 on the scope also hides its roles, so a young grant gets the honest generic window and the look-up command', () => {
    for (const name of ['arm-young', 'arm-norole']) {
      const c = checkOf(mainVerdict, name);
      expect(c).toMatchObject({ cause: 'role_missing', evidence: { errorCode: 'AuthorizationFailed', roles: { lookedUp: false, unavailable: { errorCode: 'AuthorizationFailed' } } } });
      expect(c.propagation).toMatchObject({ expectedWindowSeconds: 600 });
      expect(c.propagation!.advice).toContain('could not be read');
      expect(c.fix.join('\n')).toContain('az role assignment list --assignee');
    }
  });

  it('role_missing with the roles in hand says nothing about waiting', () => {
    const c = checkOf(mainVerdict, 'kv-norole');
    expect(c.cause).toBe('role_missing');
    expect(c.evidence.roles?.lookedUp).toBe(true);
    expect(advisesWaiting(c)).toBe(false);
  });
});

describe('2. every 403 read by its code', () => {
  it('tells a disabled secret or account to be enabled, not a role to be granted', () => {
    const kv = checkOf(mainVerdict, 'kvdisabled');
    expect(kv).toMatchObject({ cause: 'resource_disabled', httpStatus: 403, evidence: { errorCode: 'Forbidden', innerErrorCode: 'SecretDisabled' } });
    expect(kv.explanation).toContain('Operation get is not allowed on a disabled secret');
    expect(kv.fix[0]).toBe('az keyvault secret set-attributes --vault-name kvdisabled --name app-secret --enabled true');
    const st = checkOf(mainVerdict, 'blob-stdisabled');
    expect(st).toMatchObject({ cause: 'resource_disabled', evidence: { errorCode: 'AccountIsDisabled' } });
    for (const c of [kv, st]) expect(c.fix.join('\n')).not.toContain('role assignment create');
  });

  it('reports an unrecognised 403 as unrecognised, with the service\'s own code and words (Key Vault, Storage, ARM)', async () => {
    const kv = checkOf(mainVerdict, 'kvunknown');
    expect(kv).toMatchObject({ cause: 'forbidden_other', evidence: { innerErrorCode: 'ForbiddenBySomethingNew' } });
    expect(kv.explanation).toContain('does not recognise');
    expect(kv.explanation).toContain('Operation refused by a rule nobody mapped.');
    const st = checkOf(mainVerdict, 'blob-stunknown');
    expect(st).toMatchObject({ cause: 'forbidden_other', evidence: { errorCode: 'AuthorizationProtocolMismatch' } });
    world.state.armFault = { status: 403, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'SomethingArmInvented', message: 'Refused for a reason of its own.' } }) };
    try {
      const arm = checkOf(await run(main, '?target=arm-ok'), 'arm-ok');
      expect(arm).toMatchObject({ cause: 'forbidden_other', evidence: { errorCode: 'SomethingArmInvented' } });
      expect(arm.explanation).toContain('Refused for a reason of its own.');
    } finally {
      world.state.armFault = undefined;
    }
    for (const c of [kv, st]) {
      expect(c.fix.join('\n')).not.toContain('role assignment create');
      expect(advisesWaiting(c)).toBe(false);
    }
  });
});

describe('5. network fixes fit the rule that blocked', () => {
  it('private link only → a private endpoint and private DNS; a firewall rule → a network rule; Storage\'s shared code → check, then both', () => {
    const priv = checkOf(mainVerdict, 'kvprivate');
    expect(priv).toMatchObject({ cause: 'network_blocked', evidence: { innerErrorCode: 'ForbiddenByConnection' } });
    expect(priv.explanation).toContain('Public network access is disabled');
    expect(priv.fix[0]).toContain('az network private-endpoint create');
    expect(priv.fix.join('\n')).toContain('privatelink.vaultcore.azure.net');
    expect(priv.fix.join('\n')).not.toContain('network-rule add');
    const fw = checkOf(mainVerdict, 'kvfirewall');
    expect(fw.fix[0]).toContain('az keyvault network-rule add --name kvfirewall');
    expect(fw.fix.join('\n')).not.toContain('private-endpoint');
    const st = checkOf(mainVerdict, 'blob-stprivate');
    expect(st).toMatchObject({ cause: 'network_blocked', evidence: { errorCode: 'AuthorizationFailure' } });
    expect(st.fix[0]).toContain('publicNetworkAccess');
    expect(st.fix.join('\n')).toContain('network-rule add');
    expect(st.fix.join('\n')).toContain('private-endpoint create');
  });
});

describe('6. names that do not resolve', () => {
  it('says the vault or account most likely does not exist or is misspelt, distinct from a refused connection', async () => {
    for (const [name, noun] of [['kv-nxdomain', 'vault'], ['blob-nxdomain', 'storage account']] as const) {
      const c = checkOf(mainVerdict, name);
      expect(c).toMatchObject({ cause: 'target_unreachable', evidence: { transport: { kind: 'dns' } } });
      expect(c.explanation).toContain(`the ${noun} does not exist or its name is misspelt`);
      expect(c.explanation).toContain('private DNS zone');
    }
    const closed = await world.closedPort();
    const svc = await serve([{ name: 'kv-refused', kind: 'keyVaultSecret', vaultUrl: `https://kv-ok.vault.azure.net:${closed}`, secretName: 'app-secret' }]);
    const refused = checkOf(await run(svc), 'kv-refused');
    expect(refused).toMatchObject({ cause: 'target_unreachable', evidence: { transport: { kind: 'refused' } } });
    expect(refused.explanation).not.toContain('misspelt');
    expect(refused.explanation).toContain('The name resolved');
  });
});

describe('issue 19: a role look-up that runs out of time keeps the evidence', () => {
  it('keeps role_missing from ForbiddenByRbac with its evidence and says the look-up did not finish', async () => {
    const svc = await serve(standardTargets(world).filter((t) => t.name === 'kv-norole'), { DIAGNOSE_TIMEOUT_MS: '3000' });
    world.state.armFault = 'silent';
    try {
      const started = Date.now();
      const v = await run(svc);
      const c = checkOf(v, 'kv-norole');
      // Loose on purpose (shared machine): the point is the answer comes at the deadline, not after the look-up.
      expect(Date.now() - started).toBeLessThan(3000 + 10_000);
      expect(v.durationMs).toBeLessThan(3000 + 2000);
      expect(c).toMatchObject({ cause: 'role_missing', httpStatus: 403, stage: 'call', evidence: { innerErrorCode: 'ForbiddenByRbac', roles: { lookedUp: false } } });
      expect(c.evidence.roles!.unavailable!.reason).toContain('did not finish');
      expect(c.evidence.message).toContain('DeniedWithNoValidRBAC');
      expect(c.explanation).toContain('did not finish');
    } finally {
      world.state.armFault = undefined;
    }
  });
});

describe('4. identity selection fixes point at the selector', () => {
  it('with several user-assigned identities and none named, first lists the attached identities and sets AZURE_CLIENT_ID', async () => {
    const attached = [...world.state.host.attached];
    world.state.host.attached.splice(0, attached.length, USER_IDENTITY.name, OTHER_IDENTITY.name);
    try {
      const svc = await serve(standardTargets(world).filter((t) => t.name === 'kv-ok'), {
        IDENTITY_ENDPOINT: undefined, IDENTITY_HEADER: undefined, WEBSITE_SITE_NAME: undefined, FUNCTIONS_WORKER_RUNTIME: undefined,
        AZURE_CLIENT_ID: undefined, EXPECTED_PRINCIPAL_ID: undefined, AZURE_POD_IDENTITY_AUTHORITY_HOST: world.imdsHost,
      });
      const c = (await run(svc)).checks[0]!;
      expect(c.cause).toBe('identity_not_found');
      expect(c.evidence.identityEndpoint?.errorDescription).toContain('Multiple user assigned identities');
      expect(c.explanation).toContain('Set AZURE_CLIENT_ID');
      expect(c.fix[0]).toMatch(/^az vm identity show .*userAssigned/);
      expect(c.fix[1]).toContain('AZURE_CLIENT_ID=<client-id-of-an-attached-identity>');
      expect(c.fix.findIndex((l) => l.includes('identity assign'))).toBeGreaterThan(1);
    } finally {
      world.state.host.attached.splice(0, world.state.host.attached.length, ...attached);
    }
  });
});

describe('the two promises, over every verdict in this file', () => {
  it('advised no wait for a grant older than its window, and no fix created an assignment the look-up found', () => {
    expect(verdicts.length).toBeGreaterThan(4);
    let judged = 0;
    for (const c of verdicts.flatMap((v) => v.checks)) {
      const covering = (c.evidence.roles?.assignments ?? []).filter((a) => a.coversOperation);
      // Every grant staged here is either minutes old or days old: a day is past every window but a group's.
      if (covering.length && covering.every((a) => Date.now() - Date.parse(a.createdOn!) > DAY * 1000)) {
        judged++;
        expect({ target: c.target, waits: advisesWaiting(c) }).toEqual({ target: c.target, waits: false });
      }
      const found = (c.evidence.roles?.assignments ?? []).map((a) => [a.roleName, a.scope] as const);
      const creates = c.fix.filter((l) => l.startsWith('az role assignment create'));
      const recreated = creates.filter((l) => found.some(([role, scope]) => l.includes(`--role "${role}"`) && new RegExp(`--scope ${scope.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`).test(l)));
      expect({ target: c.target, recreated }).toEqual({ target: c.target, recreated: [] });
    }
    expect(judged).toBeGreaterThanOrEqual(3);
  });

  it('leaked no token, identity header or secret value', () => {
    expectNoLeaks(world, services);
  });
});
