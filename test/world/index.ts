import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { RoleKey } from '../../src/catalog/roles';
import { graphAppRole } from '../../src/catalog/graphPermissions';
import { sameAudience } from '../../src/catalog/clouds';
import { CLOUDS } from '../../src/targets/registry';
import { startArm } from './arm';
import { cosmosItemValues, startCosmos } from './cosmos';
import { Azurite } from './azurite';
import { createCertificateAuthority } from './ca';
import { startEntra } from './entra';
import { appRolesAt, startGraph } from './graph';
import { startIdentityEndpoint } from './identityEndpoint';
import { startKeyVault } from './keyVault';
import type { Account, AppRoleAssignment, Assignment, Counters, Identity, WorldState } from './model';
import { startOpenAi } from './openai';
import { newAssignment, normalizeScope, resolveRole } from './rbac';
import type { Service } from './service';
import { startStorageFront } from './storageFront';
import { startAppConfiguration } from './appConfiguration';
import { startContainerRegistry } from './containerRegistry';
import { startTds } from './tds';
import { claimsFor, encodeJwt, type TokenClaims } from './tokens';
import { startAmqpBroker } from './amqpBroker';

export type {
  AccessPolicy,
  Account,
  ArmState,
  Assignment,
  ConfigKeyValue,
  ConfigStore,
  Counters,
  Fault,
  FederatedCredential,
  HostState,
  Identity,
  IdentityFault,
  Registry,
  Vault,
  WorldState,
  CosmosAccount,
  CosmosContainer,
  CosmosSqlAssignment,
  SqlServer,
  SqlDatabase,
  SqlDatabaseUser,
} from './model';
export type { OpenAiAccount } from './openai';
export type { TokenClaims } from './tokens';
export type { MessagingNamespace } from './amqpBroker';
export { decodeJwt } from './tokens';

export interface WorldOptions {
  /** Delay (ms) before every simulated service answers; also settable later through `world.state.latencyMs`. */
  latencyMs?: number;
}

export interface GrantOptions {
  createdOn?: Date;
  propagationDelaySeconds?: number;
  condition?: string;
}

export interface World {
  /** PEM file of the world's CA: give it to the service as NODE_EXTRA_CA_CERTS. */
  readonly caFile: string;
  readonly caPem: string;
  /** App Service protocol: `http://127.0.0.1:<port>/msi/token` (IDENTITY_ENDPOINT). */
  readonly identityEndpoint: string;
  /** Per-world secret the App Service protocol requires in `X-IDENTITY-HEADER` (IDENTITY_HEADER). */
  readonly identityHeader: string;
  /** IMDS protocol base: `http://127.0.0.1:<port>` (AZURE_POD_IDENTITY_AUTHORITY_HOST). */
  readonly imdsHost: string;
  /** `https://management.azure.com:<port>`. */
  readonly armEndpoint: string;
  /** Entra for the workload-identity exchange: `https://login.microsoftonline.com:<port>` (AZURE_AUTHORITY_HOST). */
  readonly authorityHost: string;
  readonly ports: { identity: number; keyVault: number; storage: number; arm: number; entra: number; appConfiguration: number; containerRegistry: number; cosmos: number; openAi: number };
  /**
   * The identity server's base for host `name` of `state.hosts` (which it creates, empty, if missing):
   * `http://127.0.0.1:<port>/hosts/<name>` — append `/msi/token`, `/metadata/identity/oauth2/token` (or use it as
   * AZURE_POD_IDENTITY_AUTHORITY_HOST), `/arc/…`, `/sf/…`, `/cloudshell/oauth2/token`.
   */
  hostBase(name: string): string;
  /**
   * Writes a projected service-account token (as the kubelet does for a workload-identity pod) into the world's temp
   * dir and returns its path. Defaults: audience api://AzureADTokenExchange, valid for an hour.
   */
  projectedToken(opts: { issuer: string; namespace: string; serviceAccount: string; audience?: string; lifetimeSeconds?: number }): string;
  /** Stages host `name` as an Arc server: a key file with a random secret in `dir`; returns the key file's path. */
  stageArcKey(name: string, dir: string): string;
  /** A fresh directory inside the world's temp dir (removed with the world). */
  tempDir(label: string): string;
  /** Azurite's own port while it runs (it starts with the first storage sync), else undefined. */
  readonly azuritePort: number | undefined;
  /** `https://<name>.vault.azure.net:<port>` (or another cloud's suffix). */
  vaultUrl(name: string, dnsSuffix?: string): string;
  /** `https://<name>.blob.core.windows.net:<port>` (or another cloud's suffix). */
  accountUrl(name: string, dnsSuffix?: string): string;
  /** `https://<name>.azurecr.io:<port>` (or another cloud's suffix). */
  registryUrl(name: string, dnsSuffix?: string): string;
  /** `https://<name>.documents.azure.com:<port>` (or another cloud's suffix). */
  cosmosUrl(name: string, dnsSuffix?: string): string;
  /** `https://<name>.openai.azure.com:<port>` (or `cognitiveservices.azure.com`, another cloud's suffix). */
  openAiUrl(name: string, dnsSuffix?: string): string;
  /** The AMQP broker's port (Service Bus, Event Hubs: amqpBroker.ts). */
  readonly amqpPort: number;
  /** `https://<name>.servicebus.windows.net:<amqp port>`: a namespace's customEndpointAddress in the world. */
  namespaceEndpoint(name: string, dnsSuffix?: string): string;
  readonly state: WorldState;
  readonly counters: Counters;
  resetCounters(): void;
  /** Every token the identity endpoint handed out (and every one `mintToken` made), in order. */
  readonly mintedTokens: string[];
  /** Mints a token as the identity endpoint would, for direct requests in tests; `claims` overrides any claim. */
  mintToken(identity: Identity, resource: string, claims?: Partial<TokenClaims>): string;
  grant(principalId: string, roleKeyOrId: RoleKey | string, scope: string, opts?: GrantOptions): Assignment;
  /** Removes one assignment by id, or every assignment of a principal (optionally of one role, at one scope). */
  revoke(assignmentIdOrPrincipalId: string, roleKeyOrId?: RoleKey | string, scope?: string): number;
  /** Every secret value in every vault, App Configuration value, Cosmos DB item content, queue message text and table entity property: what must never appear in the service's output. */
  secretValues(): string[];
  /** A loopback port nothing listens on (bound, read, closed): connecting to it is refused. */
  closedPort(): Promise<number>;
  /** Mirrors `state.accounts` into Azurite now (it also happens lazily before the storage front forwards). */
  syncStorage(): Promise<void>;
  /** Closes every server and socket, kills Azurite, deletes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** `https://<name>.azconfig.io:<port>` (or another cloud's suffix): an App Configuration store's endpoint. */
  appConfigUrl(name: string, dnsSuffix?: string): string;
  /** Microsoft Graph (test/world/graph.ts): `https://graph.microsoft.com:<port>` (other clouds: the same port, their host). */
  readonly graphEndpoint: string;
  /** Assigns a Graph application permission (by value, e.g. `User.Read.All`, or app role id) to a principal. */
  grantAppRole(principalId: string, permission: string, opts?: { createdDateTime?: Date }): AppRoleAssignment;
  /** The TDS server's port (test/world/tds.ts): every `<server>.database.windows.net` of `state.sqlServers` answers there. */
  readonly sqlPort: number;
}

/** Whether a token for `resource` is one for Microsoft Graph in any cloud (only those carry Graph's app roles). */
function isGraphAudience(resource: string): boolean {
  return Object.values(CLOUDS).some((c) => [c.audiences.microsoftGraph, ...c.alsoAccepted.microsoftGraph].some((a) => sameAudience(a, resource)));
}

function emptyCounters(): Counters {
  return { identity: 0, identityByResource: {}, keyVault: {}, storage: {}, arm: 0, appConfiguration: {}, graph: 0, imdsOverLimit: 0 };
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'identity-doctor-world-'));
  const ca = createCertificateAuthority();
  const caFile = path.join(dir, 'ca.pem');
  const certFile = path.join(dir, 'server-cert.pem');
  const keyFile = path.join(dir, 'server-key.pem');
  fs.writeFileSync(caFile, ca.caPem);
  fs.writeFileSync(certFile, ca.serverCertPem);
  fs.writeFileSync(keyFile, ca.serverKeyPem, { mode: 0o600 });
  const tls = { cert: ca.serverCertPem, key: ca.serverKeyPem };

  const state: WorldState = {
    identities: [],
    host: { attached: [] },
    hosts: {},
    federatedCredentials: [],
    assignments: [],
    groups: [],
    vaults: [],
    accounts: [],
    arm: { tenantId: '', subscriptions: [], resourceGroups: [], resources: [] },
    registries: [],
    latencyMs: options.latencyMs ?? 0,
    imdsMaxConcurrent: 5,
    configStores: [],
    graph: { tenantId: '', servicePrincipalId: randomUUID(), appRoleAssignments: [], users: [], groups: [], applications: [] },
    cosmos: { accounts: [], sqlAssignments: [] },
    openAiAccounts: [],
    sqlServers: [],
  };
  const counters = emptyCounters();
  const mintedTokens: string[] = [];
  const identityHeader = randomBytes(24).toString('hex');
  const nowMs = (): number => Date.now();
  const nowSeconds = (): number => Math.floor(nowMs() / 1000);

  const mint = (identity: Identity, resource: string, overrides: Partial<TokenClaims> = {}): { token: string; exp: number } => {
    // The platform's token cache: a token minted earlier carries what was true then (Graph: the app roles of that time).
    const mintedAt = nowSeconds() - (identity.cachedTokenAgeSeconds?.[resource] ?? 0);
    const roles = isGraphAudience(resource) ? appRolesAt(state, identity.principalId, mintedAt) : [];
    const claims = claimsFor(identity, resource, mintedAt, { ...(roles.length ? { roles } : {}), ...overrides });
    const token = encodeJwt(claims);
    mintedTokens.push(token);
    return { token, exp: claims.exp };
  };

  const azurite = new Azurite({
    dir,
    certFile,
    keyFile,
    caPem: ca.caPem,
    // Azurite checks only times, issuer prefix and audience; the seeder is nobody in particular.
    seedToken: (account: Account) =>
      encodeJwt(
        claimsFor(
          {
            name: 'world-seeder',
            kind: 'user',
            clientId: '00000000-0000-0000-0000-000000000000',
            principalId: '00000000-0000-0000-0000-000000000000',
            tenantId: account.tenantId,
            resourceId: '',
          },
          'https://storage.azure.com/',
          nowSeconds(),
        ),
      ),
  });

  // A test process that exits without stop() still removes its keys and certificates.
  const removeDir = (): void => fs.rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);

  const services: Service[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(services.map((s) => s.close()));
    await azurite.stop();
    removeDir();
    process.off('exit', removeDir);
  };

  let identity: Service, keyVault: Service, storage: Service, arm: Service, entra: Service, appConfiguration: Service, graph: Service, containerRegistry: Service, cosmos: Service, openAi: Service, amqp: Service, sql: Service;
  try {
    identity = await startIdentityEndpoint({ state, counters, identityHeader, mint: (i, r) => mint(i, r), nowSeconds });
    services.push(identity);
    keyVault = await startKeyVault({ state, counters, tls, nowMs });
    services.push(keyVault);
    arm = await startArm({ state, counters, tls, nowMs });
    services.push(arm);
    storage = await startStorageFront({ state, counters, tls, azurite, nowMs });
    services.push(storage);
    graph = await startGraph({ state, counters, tls, nowMs });
    services.push(graph);
    entra = await startEntra({ state, tls, mint: (i, r) => mint(i, r), nowMs, origin: () => `https://login.microsoftonline.com:${entra.port}` });
    services.push(entra);
    appConfiguration = await startAppConfiguration({ state, counters, tls, nowMs });
    services.push(appConfiguration);
    containerRegistry = await startContainerRegistry({ state, tls, nowMs, remember: (t) => mintedTokens.push(t) });
    services.push(containerRegistry);
    cosmos = await startCosmos({ state, tls, nowMs });
    services.push(cosmos);
    openAi = await startOpenAi({ state, tls, nowMs });
    services.push(openAi);
    amqp = await startAmqpBroker({ state, tls, nowMs });
    services.push(amqp);
    sql = await startTds({ state, tls, nowSeconds });
    services.push(sql);
  } catch (err) {
    await stopAll();
    throw err;
  }

  let stopping: Promise<void> | undefined;

  const world: World = {
    caFile,
    caPem: ca.caPem,
    identityEndpoint: `http://127.0.0.1:${identity.port}/msi/token`,
    identityHeader,
    imdsHost: `http://127.0.0.1:${identity.port}`,
    armEndpoint: `https://management.azure.com:${arm.port}`,
    authorityHost: `https://login.microsoftonline.com:${entra.port}`,
    ports: { identity: identity.port, keyVault: keyVault.port, storage: storage.port, arm: arm.port, entra: entra.port, appConfiguration: appConfiguration.port, containerRegistry: containerRegistry.port, cosmos: cosmos.port, openAi: openAi.port },
    hostBase(name) {
      state.hosts[name] ??= { attached: [] };
      return `http://127.0.0.1:${identity.port}/hosts/${encodeURIComponent(name)}`;
    },
    projectedToken({ issuer, namespace, serviceAccount, audience = 'api://AzureADTokenExchange', lifetimeSeconds = 3600 }) {
      const now = nowSeconds();
      const token = encodeJwt({
        aud: [audience],
        exp: now + lifetimeSeconds,
        iat: now - 60,
        nbf: now - 60,
        iss: issuer,
        'kubernetes.io': { namespace, serviceaccount: { name: serviceAccount, uid: randomBytes(16).toString('hex') } },
        sub: `system:serviceaccount:${namespace}:${serviceAccount}`,
      });
      mintedTokens.push(token);
      const file = path.join(fs.mkdtempSync(path.join(dir, 'sa-token-')), 'azure-identity-token');
      fs.writeFileSync(file, token, { mode: 0o644 });
      return file;
    },
    stageArcKey(name, keyDir) {
      const secret = randomBytes(32).toString('hex');
      fs.mkdirSync(keyDir, { recursive: true });
      const file = path.join(keyDir, `${randomBytes(8).toString('hex')}.key`);
      fs.writeFileSync(file, secret, { mode: 0o640 });
      state.hosts[name] = { ...(state.hosts[name] ?? { attached: [] }), arcKeyFile: file, arcSecret: secret };
      return file;
    },
    tempDir: (label) => fs.mkdtempSync(path.join(dir, `${label}-`)),
    get azuritePort() {
      return azurite.port;
    },
    vaultUrl: (name, dnsSuffix = 'vault.azure.net') => `https://${name}.${dnsSuffix}:${keyVault.port}`,
    accountUrl: (name, dnsSuffix = 'blob.core.windows.net') => `https://${name}.${dnsSuffix}:${storage.port}`,
    registryUrl: (name, dnsSuffix = 'azurecr.io') => `https://${name}.${dnsSuffix}:${containerRegistry.port}`,
    cosmosUrl: (name, dnsSuffix = 'documents.azure.com') => `https://${name}.${dnsSuffix}:${cosmos.port}`,
    openAiUrl: (name, dnsSuffix = 'openai.azure.com') => `https://${name}.${dnsSuffix}:${openAi.port}`,
    amqpPort: amqp.port,
    namespaceEndpoint: (name, dnsSuffix = 'servicebus.windows.net') => `https://${name}.${dnsSuffix}:${amqp.port}`,
    state,
    counters,
    resetCounters() {
      Object.assign(counters, emptyCounters());
    },
    mintedTokens,
    mintToken: (i, resource, claims) => mint(i, resource, claims).token,
    grant(principalId, roleKeyOrId, scope, opts = {}) {
      const a = newAssignment(principalId, roleKeyOrId, scope, opts);
      state.assignments.push(a);
      return a;
    },
    revoke(idOrPrincipal, roleKeyOrId, scope) {
      const before = state.assignments.length;
      const key = idOrPrincipal.toLowerCase();
      const roleId = roleKeyOrId === undefined ? undefined : resolveRole(roleKeyOrId).id;
      const doomed = (a: Assignment): boolean =>
        a.id.toLowerCase() === key ||
        (a.principalId.toLowerCase() === key &&
          (roleId === undefined || a.roleDefinitionId === roleId) &&
          (scope === undefined || normalizeScope(a.scope) === normalizeScope(scope)));
      const kept = state.assignments.filter((a) => !doomed(a));
      state.assignments.splice(0, state.assignments.length, ...kept);
      return before - kept.length;
    },
    secretValues: () => [
      // Key Vault secrets, App Configuration values, Cosmos DB item contents, queue message texts, table entity
      // properties (not keys) alike: a probe reports shapes and counts, never these.
      ...state.vaults.flatMap((v) => Object.values(v.secrets)),
      ...state.configStores.flatMap((s) => s.keyValues.map((kv) => kv.value)),
      ...cosmosItemValues(state),
      ...state.accounts.flatMap((a) => [
        ...Object.values(a.queues ?? {}).flat(),
        ...Object.values(a.tables ?? {}).flat().flatMap(({ PartitionKey: _p, RowKey: _r, ...props }) => Object.values(props)),
      ]),
    ],
    closedPort: () =>
      new Promise<number>((resolve, reject) => {
        const probe = net.createServer();
        probe.once('error', reject);
        probe.listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as net.AddressInfo;
          probe.close(() => resolve(port));
        });
      }),
    async syncStorage() {
      await azurite.sync(state.accounts);
    },
    stop() {
      stopping ??= stopAll();
      return stopping;
    },
    appConfigUrl: (name, dnsSuffix = 'azconfig.io') => `https://${name}.${dnsSuffix}:${appConfiguration.port}`,
    graphEndpoint: `https://graph.microsoft.com:${graph.port}`,
    grantAppRole(principalId, permission, opts = {}) {
      const id = graphAppRole(permission)?.id ?? permission;
      const a: AppRoleAssignment = { id: randomBytes(16).toString('base64url'), principalId, appRoleId: id, createdDateTime: opts.createdDateTime ?? new Date() };
      state.graph.appRoleAssignments.push(a);
      return a;
    },
    sqlPort: sql.port,
  };
  return world;
}

export * from './scenario';
