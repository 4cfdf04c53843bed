import { startWorld, type World } from '../world';
import type { Fault } from '../world/faults';
import { KV_NOROLE_ID, RG_APP, TENANT_ID, USER_IDENTITY, serviceEnv, stageStandardWorld } from '../world/scenario';
import { checkOf, startService, type RunningService } from './harness';

/**
 * Bounded answers (SECURITY.md): a dependency that answers with a 1 GiB body or a ~1 MB gzip bomb (1 GiB decoded) —
 * Key Vault, Storage, ARM (as a target and for role look-ups) and the identity endpoint — becomes a classified check
 * naming the response cap; the service process stays up, keeps answering, and its memory stays far below the body.
 */
const CAP = 1024 * 1024;
const CAP_TEXT = /response cap of 1 MiB/;
/** Loose: the service idles near 100 MB; without the cap one answer took it past 1 GB or killed it. */
const PEAK_RSS_LIMIT = 600 * 1024 * 1024;
const HOSTILE = ['huge_body', 'gzip_bomb'] as const satisfies readonly Fault[];

let world: World;
const services: RunningService[] = [];

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  world.state.vaults.push({ name: 'kv-hostile-body', resourceId: `${RG_APP}/providers/Microsoft.KeyVault/vaults/kv-hostile-body`, tenantId: TENANT_ID, authorization: 'rbac', secrets: { s: 'v' } });
  world.state.accounts.push({ name: sthostile, resourceId: `${RG_APP}/providers/Microsoft.Storage/storageAccounts/${sthostile}`, tenantId: TENANT_ID, containers: { data: { 'a.txt': 'a\n' } }, queues: { jobs: ['m'] }, tables: { rows: [{ PartitionKey: 'p', RowKey: 'r' }] } });
  world.grant(USER_IDENTITY.principalId, 'keyVaultSecretsUser', `${RG_APP}/providers/Microsoft.KeyVault/vaults/kv-hostile-body`, { createdOn: new Date(Date.now() - 86_400_000) });
  world.grant(USER_IDENTITY.principalId, 'storageBlobDataReader', `${RG_APP}/providers/Microsoft.Storage/storageAccounts/${sthostile}`, { createdOn: new Date(Date.now() - 86_400_000) });
  for (const role of ['storageQueueDataReader', 'storageTableDataReader'] as const) {
    world.grant(USER_IDENTITY.principalId, role, `${RG_APP}/providers/Microsoft.Storage/storageAccounts/${sthostile}`, { createdOn: new Date(Date.now() - 86_400_000) });
  }
  await world.syncStorage();
}, 90_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await world?.stop();
});

const sthostile = 'sthostile';

function targets(w: World) {
  return [
    { name: 'kv-hostile', kind: 'keyVaultSecret', vaultUrl: w.vaultUrl('kv-hostile-body'), secretName: 's' },
    // A listing (GET): a HEAD has no body to be hostile with.
    { name: 'blob-hostile', kind: 'storageBlob', accountUrl: w.accountUrl(sthostile), container: 'data' },
    { name: 'arm-hostile', kind: 'armResource', resourceId: RG_APP, endpoint: w.armEndpoint },
    // Queues and tables: the same account's other services (its fault plays for all of them).
    { name: 'queue-hostile', kind: 'storageQueue', accountUrl: w.accountUrl(sthostile, 'queue.core.windows.net'), queueName: 'jobs' },
    { name: 'table-hostile', kind: 'storageTable', accountUrl: w.accountUrl(sthostile, 'table.core.windows.net'), tableName: 'rows' },
    // A 403 from Key Vault, then the role look-up through ARM meets the hostile answer.
    { name: 'kv-norole', kind: 'keyVaultSecret', vaultUrl: w.vaultUrl('kv-norole'), secretName: 'app-secret', resourceId: KV_NOROLE_ID },
  ];
}

async function serve(extra: Record<string, string | undefined> = {}): Promise<RunningService> {
  const svc = await startService(
    serviceEnv(world, {
      DIAGNOSE_TARGETS: JSON.stringify(targets(world)),
      DIAGNOSE_MAX_RESPONSE_BYTES: String(CAP),
      DIAGNOSE_TIMEOUT_MS: '30000',
      HEALTH_CACHE_SECONDS: '0',
      HEALTH_DETAILS: 'true',
      ...extra,
    }),
  );
  services.push(svc);
  return svc;
}

function setTargetFaults(fault: Fault | undefined): void {
  world.state.vaults.find((v) => v.name === 'kv-hostile-body')!.fault = fault;
  world.state.accounts.find((a) => a.name === sthostile)!.fault = fault;
}

describe.each(HOSTILE)('a %s from every target and from ARM role look-ups', (fault) => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await serve();
  }, 30_000);
  afterEach(() => {
    setTargetFaults(undefined);
    world.state.armFault = undefined;
  });

  it('becomes target_error naming the cap, and the process stays up with bounded memory', async () => {
    // The role look-up needs ARM to answer kv-norole's 403 first: the vault is fine, ARM is hostile.
    setTargetFaults(fault);
    world.state.armFault = fault;
    const { verdict } = await svc.diagnose();
    for (const name of ['kv-hostile', 'blob-hostile', 'arm-hostile', 'queue-hostile', 'table-hostile']) {
      const check = checkOf(verdict, name);
      expect({ name, cause: check.cause }).toEqual({ name, cause: 'target_error' });
      expect(check.explanation).toMatch(CAP_TEXT);
    }
    const roles = checkOf(verdict, 'kv-norole').evidence.roles;
    expect(roles?.lookedUp).toBe(false);
    expect(roles?.unavailable?.reason).toMatch(CAP_TEXT);
    expect(svc.alive!()).toBe(true);
    expect(svc.peakRssBytes!() ?? 0).toBeLessThan(PEAK_RSS_LIMIT);
  }, 90_000);

  it('reaches the anonymous /api/health the same way, and the next request is answered normally', async () => {
    setTargetFaults(fault);
    world.state.armFault = fault;
    const health = await svc.get('/api/health');
    expect(health.status).toBe(503);
    const checks = (health.json() as { checks: Record<string, { output?: string }[]> }).checks;
    expect(JSON.stringify(checks)).toContain('target_error');
    setTargetFaults(undefined);
    world.state.armFault = undefined;
    const { verdict } = await svc.diagnose('?target=kv-hostile,arm-hostile,queue-hostile,table-hostile');
    expect(verdict.checks.map((c) => c.cause)).toEqual(['authorized', 'authorized', 'authorized', 'authorized']);
    expect(svc.alive!()).toBe(true);
    expect(svc.peakRssBytes!() ?? 0).toBeLessThan(PEAK_RSS_LIMIT);
  }, 90_000);
});

/** The App Service protocol (IDENTITY_ENDPOINT) and IMDS (a VM: no App Service variables), both through the SDK. */
const PROTOCOLS: [string, Record<string, string | undefined>][] = [
  ['App Service', {}],
  ['IMDS', { IDENTITY_ENDPOINT: undefined, IDENTITY_HEADER: undefined, WEBSITE_SITE_NAME: undefined, FUNCTIONS_WORKER_RUNTIME: undefined }],
];
const IDENTITY_CASES = HOSTILE.flatMap((fault) => PROTOCOLS.map(([protocol, env]) => [fault, protocol, env] as const));

describe.each(IDENTITY_CASES)('a %s from the identity endpoint (%s protocol)', (fault, _protocol, env) => {
  afterEach(() => {
    world.state.identityFault = undefined;
  });

  it('is identity_endpoint_error naming the cap (SDK path and raw probe), through /api/diagnose and /api/health', async () => {
    world.state.identityFault = fault;
    // A fresh process: MSAL caches tokens process-wide.
    const svc = await serve({ DIAGNOSE_TARGETS: JSON.stringify(targets(world).slice(0, 1)), ...env });
    const { verdict } = await svc.diagnose();
    const check = checkOf(verdict, 'kv-hostile');
    expect(check.cause).toBe('identity_endpoint_error');
    expect(check.explanation).toMatch(CAP_TEXT);
    // The raw probe (plain node:http, no decoding) stops at its own small cap instead of draining the body.
    expect(JSON.stringify(check.evidence.identityEndpoint?.rawProbe ?? {})).toMatch(/cap/);
    const health = await svc.get('/api/health');
    expect(health.status).toBe(503);
    expect(health.text).toContain('identity_endpoint_error');
    expect(svc.alive!()).toBe(true);
    expect(svc.peakRssBytes!() ?? 0).toBeLessThan(PEAK_RSS_LIMIT);
    await svc.stop();
  }, 90_000);
});
