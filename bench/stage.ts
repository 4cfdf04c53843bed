import { CLOUDS } from '../src/targets/registry';
import { KV_OK_ID, RG_APP, ST_OK_ID, SYSTEM_IDENTITY, TENANT_ID, USER_IDENTITY, type DiagnoseTarget, type World } from '../test/world';
import { trimSlash, type PathTarget, type TargetKind } from './criticalPath';

/**
 * The bench's own healthy targets, added to the canonical world: three vaults, three storage accounts and three ARM
 * scopes, every one authorized for both identities. Each Key Vault and Storage target has a host of its own, so the
 * world's per-host counters attribute every request to exactly one target (and a per-host concurrency limit never
 * serialises the 9-target diagnose).
 */

export interface BenchTarget {
  config: DiagnoseTarget;
  path: PathTarget;
}

export interface BenchTargets {
  all: BenchTarget[];
  /** Targets of each measured diagnose size, spread over the three kinds. */
  sizes: Record<1 | 3 | 9, BenchTarget[]>;
}

export const SIZES = [1, 3, 9] as const;

const VAULTS = ['kv-bench-1', 'kv-bench-2', 'kv-bench-3'];
const ACCOUNTS = ['stbench1', 'stbench2', 'stbench3'];

const audience = (kind: TargetKind): string => trimSlash(CLOUDS.AzurePublicCloud.audiences[kind]);

export async function stageBenchTargets(world: World): Promise<BenchTargets> {
  const { state } = world;
  const createdOn = new Date(Date.now() - 24 * 3600 * 1000);
  const principals = [SYSTEM_IDENTITY.principalId, USER_IDENTITY.principalId];
  const all: BenchTarget[] = [];

  VAULTS.forEach((name, i) => {
    const resourceId = `${RG_APP}/providers/Microsoft.KeyVault/vaults/${name}`;
    state.vaults.push({ name, resourceId, tenantId: TENANT_ID, authorization: 'rbac', secrets: { 'app-secret': `bench-${i}` } });
    state.arm.resources.push(resourceId);
    for (const p of principals) world.grant(p, 'keyVaultSecretsUser', resourceId, { createdOn });
    all.push({
      config: { name, kind: 'keyVaultSecret', vaultUrl: world.vaultUrl(name), secretName: 'app-secret', resourceId },
      path: { name, kind: 'keyVaultSecret', audience: audience('keyVaultSecret'), upstream: `keyVault:${name}` },
    });
  });

  ACCOUNTS.forEach((name, i) => {
    const resourceId = `${RG_APP}/providers/Microsoft.Storage/storageAccounts/${name}`;
    state.accounts.push({ name, resourceId, tenantId: TENANT_ID, containers: { data: { 'hello.txt': `bench ${i}\n` } } });
    state.arm.resources.push(resourceId);
    for (const p of principals) world.grant(p, 'storageBlobDataReader', resourceId, { createdOn });
    // Both shapes of the Storage probe: blob properties (HEAD) and one pulled page of the listing.
    const blobName = i === 1 ? undefined : 'hello.txt';
    all.push({
      config: { name, kind: 'storageBlob', accountUrl: world.accountUrl(name), container: 'data', ...(blobName ? { blobName } : {}), resourceId },
      path: { name, kind: 'storageBlob', audience: audience('storageBlob'), upstream: `storage:${name}` },
    });
  });

  // Reader at rg-app (staged by stageStandardWorld) covers the group and the resources in it.
  [RG_APP, KV_OK_ID, ST_OK_ID].forEach((resourceId, i) => {
    const name = `arm-bench-${i + 1}`;
    all.push({
      config: { name, kind: 'armResource', resourceId, endpoint: world.armEndpoint },
      path: { name, kind: 'armResource', audience: audience('armResource'), upstream: 'arm' },
    });
  });

  await world.syncStorage();
  const byName = (n: string): BenchTarget => all.find((t) => t.config.name === n)!;
  return {
    all,
    sizes: {
      1: [byName('kv-bench-1')],
      // The longest chains (Key Vault: challenge + GET) listed last: the order least kind to a service that would
      // start its targets as configured (src/engine/startOrder.ts starts the slowest first).
      3: [byName('arm-bench-1'), byName('stbench1'), byName('kv-bench-1')],
      9: [...all].reverse(),
    },
  };
}

export function targetQuery(targets: readonly BenchTarget[]): string {
  return `?target=${targets.map((t) => encodeURIComponent(t.config.name)).join(',')}`;
}

export function targetsEnv(targets: readonly BenchTarget[]): string {
  return JSON.stringify(targets.map((t) => t.config));
}
