import { randomBytes } from 'node:crypto';
import { DNS_PRELOAD } from './paths';
import type { Identity, World } from './index';

/**
 * The canonical staged world: one tenant, one subscription, an app host with a system-assigned and a user-assigned
 * identity, and one healthy plus one broken target of each kind. Integration tests and the `npm start` sandbox use
 * it; tests that need something else mutate `world.state` after staging.
 */
export const TENANT_ID = '72f988bf-0000-4c1a-9d3e-5b7a1e2c4d6f';
export const OTHER_TENANT_ID = '9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d';
export const SUBSCRIPTION_ID = '3f2a8c71-6b4d-4e29-a1c5-7d9e0b2f4a68';
export const SUBSCRIPTION = `/subscriptions/${SUBSCRIPTION_ID}`;
export const RG_APP = `${SUBSCRIPTION}/resourceGroups/rg-app`;
export const RG_LOCKED = `${SUBSCRIPTION}/resourceGroups/rg-locked`;
export const SITE_NAME = 'identity-doctor-sandbox';
export const SITE_ID = `${RG_APP}/providers/Microsoft.Web/sites/${SITE_NAME}`;

const vaultId = (name: string): string => `${RG_APP}/providers/Microsoft.KeyVault/vaults/${name}`;
const accountId = (name: string): string => `${RG_APP}/providers/Microsoft.Storage/storageAccounts/${name}`;
const userIdentityId = (name: string): string => `${RG_APP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;

export const KV_OK_ID = vaultId('kv-ok');
export const KV_NOROLE_ID = vaultId('kv-norole');
/** Shaped like a vault id under rg-app, but ARM has never heard of it. */
export const KV_GONE_ID = vaultId('kv-gone');
export const ST_OK_ID = accountId('stok');
export const ST_NOROLE_ID = accountId('stnorole');

export const SYSTEM_IDENTITY: Readonly<Identity> = Object.freeze({
  name: 'system',
  kind: 'system',
  clientId: 'b6d1e4a0-2c7f-4f3e-9a85-1d0c3e5f7a92',
  principalId: 'e1c7a3b5-8d2f-4a6e-b0c9-3f5d7e9a1b24',
  tenantId: TENANT_ID,
  // xms_mirid of a system-assigned identity is the host's own id.
  resourceId: SITE_ID,
});

export const USER_IDENTITY: Readonly<Identity> = Object.freeze({
  name: 'id-doctor',
  kind: 'user',
  clientId: '4a8e2c6f-0b3d-4e7a-9c15-6f2b8d0e4a37',
  principalId: 'c3f5a7e9-1b2d-4c6e-8a0f-2d4b6f8a0c15',
  tenantId: TENANT_ID,
  resourceId: userIdentityId('id-doctor'),
});

/** Exists in the tenant but is not attached to the host: selecting it must fail with "Identity not found". */
export const OTHER_IDENTITY: Readonly<Identity> = Object.freeze({
  name: 'id-other',
  kind: 'user',
  clientId: '8d0f2b4c-6e1a-4f3b-a5c7-9e1d3f5b7a08',
  principalId: 'f7b9d1e3-5a6c-4e8f-8b2a-4c6e8a0b2d39',
  tenantId: TENANT_ID,
  resourceId: userIdentityId('id-other'),
});

export type ExpectedCause = 'authorized' | 'role_missing' | 'resource_not_found' | 'wrong_audience';

/** The service's DIAGNOSE_TARGETS contract. */
export type DiagnoseTarget =
  | { name: string; kind: 'keyVaultSecret'; vaultUrl: string; secretName: string; resourceId?: string; audience?: string }
  | { name: string; kind: 'storageBlob'; accountUrl: string; container: string; blobName?: string; resourceId?: string; audience?: string }
  | { name: string; kind: 'armResource'; resourceId: string; endpoint?: string; audience?: string }
  | { name: string; kind: 'azureSql'; server: string; database: string; port?: number; roles?: string[]; resourceId?: string; audience?: string };

export const EXPECTED_CAUSES: Readonly<Record<string, ExpectedCause>> = Object.freeze({
  'kv-ok': 'authorized',
  'kv-norole': 'role_missing',
  'kv-missing': 'resource_not_found',
  'kv-wrong-audience': 'wrong_audience',
  'blob-ok': 'authorized',
  'blob-list-ok': 'authorized',
  'blob-norole': 'role_missing',
  'blob-missing': 'resource_not_found',
  'blob-wrong-audience': 'wrong_audience',
  'arm-ok': 'authorized',
  'arm-norole': 'role_missing',
  'arm-missing': 'resource_not_found',
  'arm-wrong-audience': 'wrong_audience',
});

export async function stageStandardWorld(world: World): Promise<void> {
  const { state } = world;
  const both = [SYSTEM_IDENTITY, USER_IDENTITY];
  state.identities.push(...[SYSTEM_IDENTITY, USER_IDENTITY, OTHER_IDENTITY].map((i) => ({ ...i })));
  state.host.attached.push(SYSTEM_IDENTITY.name, USER_IDENTITY.name);

  // Fresh per world so a leak test cannot pass by accident on a value seen before.
  const secret = () => `s3cr3t-${randomBytes(12).toString('hex')}`;
  state.vaults.push(
    { name: 'kv-ok', resourceId: KV_OK_ID, tenantId: TENANT_ID, authorization: 'rbac', secrets: { 'app-secret': secret() } },
    { name: 'kv-norole', resourceId: KV_NOROLE_ID, tenantId: TENANT_ID, authorization: 'rbac', secrets: { 'app-secret': secret() } },
  );
  state.accounts.push(
    {
      name: 'stok',
      resourceId: ST_OK_ID,
      tenantId: TENANT_ID,
      containers: { data: { 'hello.txt': 'hello from the simulated world\n' } },
    },
    { name: 'stnorole', resourceId: ST_NOROLE_ID, tenantId: TENANT_ID, containers: { data: { 'hello.txt': 'unreachable\n' } } },
  );
  state.arm.tenantId = TENANT_ID;
  state.arm.subscriptions.push(SUBSCRIPTION_ID);
  state.arm.resourceGroups.push(RG_APP, RG_LOCKED);
  state.arm.resources.push(KV_OK_ID, KV_NOROLE_ID, ST_OK_ID, ST_NOROLE_ID, SITE_ID, USER_IDENTITY.resourceId, OTHER_IDENTITY.resourceId);

  // Staged as granted long ago: propagation has finished.
  const createdOn = new Date(Date.now() - 24 * 3600 * 1000);
  for (const id of both) {
    world.grant(id.principalId, 'keyVaultSecretsUser', KV_OK_ID, { createdOn });
    world.grant(id.principalId, 'storageBlobDataReader', ST_OK_ID, { createdOn });
    world.grant(id.principalId, 'reader', RG_APP, { createdOn });
  }

  await world.syncStorage();
}

export function standardTargets(world: World): DiagnoseTarget[] {
  const kvOk = world.vaultUrl('kv-ok');
  const stok = world.accountUrl('stok');
  const endpoint = world.armEndpoint;
  return [
    { name: 'kv-ok', kind: 'keyVaultSecret', vaultUrl: kvOk, secretName: 'app-secret', resourceId: KV_OK_ID },
    { name: 'kv-norole', kind: 'keyVaultSecret', vaultUrl: world.vaultUrl('kv-norole'), secretName: 'app-secret', resourceId: KV_NOROLE_ID },
    { name: 'kv-missing', kind: 'keyVaultSecret', vaultUrl: kvOk, secretName: 'no-such-secret', resourceId: KV_OK_ID },
    {
      name: 'kv-wrong-audience',
      kind: 'keyVaultSecret',
      vaultUrl: kvOk,
      secretName: 'app-secret',
      resourceId: KV_OK_ID,
      audience: 'https://management.azure.com/',
    },
    { name: 'blob-ok', kind: 'storageBlob', accountUrl: stok, container: 'data', blobName: 'hello.txt', resourceId: ST_OK_ID },
    { name: 'blob-list-ok', kind: 'storageBlob', accountUrl: stok, container: 'data', resourceId: ST_OK_ID },
    { name: 'blob-norole', kind: 'storageBlob', accountUrl: world.accountUrl('stnorole'), container: 'data', resourceId: ST_NOROLE_ID },
    { name: 'blob-missing', kind: 'storageBlob', accountUrl: stok, container: 'nope', resourceId: ST_OK_ID },
    {
      name: 'blob-wrong-audience',
      kind: 'storageBlob',
      accountUrl: stok,
      container: 'data',
      blobName: 'hello.txt',
      resourceId: ST_OK_ID,
      audience: 'https://vault.azure.net',
    },
    { name: 'arm-ok', kind: 'armResource', resourceId: RG_APP, endpoint },
    { name: 'arm-norole', kind: 'armResource', resourceId: RG_LOCKED, endpoint },
    { name: 'arm-missing', kind: 'armResource', resourceId: KV_GONE_ID, endpoint },
    { name: 'arm-wrong-audience', kind: 'armResource', resourceId: RG_APP, endpoint, audience: 'https://vault.azure.net' },
  ];
}

export { DNS_PRELOAD } from './paths';

/**
 * The environment the service process gets on the simulated host, built from nothing but PATH and HOME so no proxy
 * or Azure variable of the developer's shell leaks in. `overrides` adds keys or, with `undefined`, removes them.
 */
export function serviceEnv(world: World, overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const preload = DNS_PRELOAD.includes(' ') ? `"${DNS_PRELOAD}"` : DNS_PRELOAD;
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    IDENTITY_ENDPOINT: world.identityEndpoint,
    IDENTITY_HEADER: world.identityHeader,
    NODE_EXTRA_CA_CERTS: world.caFile,
    NODE_OPTIONS: `--require ${preload}`,
    AZURE_POD_IDENTITY_AUTHORITY_HOST: world.imdsHost,
    WEBSITE_SITE_NAME: SITE_NAME,
    FUNCTIONS_WORKER_RUNTIME: 'node',
    DIAGNOSE_TARGETS: JSON.stringify(standardTargets(world)),
    AZURE_CLIENT_ID: USER_IDENTITY.clientId,
    EXPECTED_PRINCIPAL_ID: USER_IDENTITY.principalId,
    EXPECTED_TENANT_ID: TENANT_ID,
    // The world's ARM listens on its own port: the service's role look-ups go there, as to Azure Stack Hub's ARM.
    DIAGNOSE_ARM_ENDPOINT: world.armEndpoint,
    ...overrides,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** A message a hostile or broken service might send: markup that must come out as text in every format. */
export const HOSTILE_MESSAGE = '<img src=x onerror=alert(1)>';

/**
 * Stage vault `kv-hostile`, whose every answer is a 500 carrying HOSTILE_MESSAGE, and return its target — for the
 * tests that check every output escapes what a service said.
 */
export function stageHostileVault(world: World): DiagnoseTarget {
  world.state.vaults.push({
    name: 'kv-hostile',
    resourceId: vaultId('kv-hostile'),
    tenantId: TENANT_ID,
    authorization: 'rbac',
    secrets: {},
    fault: { status: 500, body: JSON.stringify({ error: { code: 'X', message: HOSTILE_MESSAGE } }) },
  });
  return { name: 'kv-hostile', kind: 'keyVaultSecret', vaultUrl: world.vaultUrl('kv-hostile'), secretName: 'app-secret' };
}
