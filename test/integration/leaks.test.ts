import { randomBytes } from 'node:crypto';
import { startWorld, type IdentityFault, type World } from '../world';
import { OTHER_IDENTITY, OTHER_TENANT_ID, RG_APP, TENANT_ID, USER_IDENTITY, serviceEnv, stageStandardWorld, standardTargets } from '../world/scenario';
import { FORMATS } from '../../src/output';
import { createRoutes } from '../../src/routes';
import { startService, type RunningService } from './harness';
import { startFakeVault, type FakeVault } from './fakeVault';

/**
 * No token, identity header, function key, proxy credential or secret value leaves the process: every scenario the simulated world
 * can stage is driven through every route of the route table, with every method and every output format (and the
 * Accept headers a client might send), with and without ad-hoc bodies; then everything captured — status lines,
 * response headers, bodies and every line the process printed — is searched for each needle. Zero hits.
 *
 * Routes come from createRoutes() and formats from FORMATS, so routes and formats added later are covered as they land.
 */
// Short enough that silent targets end soon; long enough that, on a busy shared machine, a token is still acquired
// and sent to the targets that should see one (2 s once left the fake vault without a token under load).
const TIMEOUT_MS = 5000;
const ACCEPTS = ['*/*', 'application/json', 'text/plain', 'text/html', 'application/xml', 'application/health+json'];
const ONE_PER_KIND = ['kv-ok', 'blob-ok', 'arm-ok'];

let world: World;
let fake: FakeVault;
const captured: string[] = [];
const services: RunningService[] = [];
/** Needles beyond the world's own (minted tokens, identity header, vault secrets). */
const extraNeedles: string[] = [];
const proxyPassword = `pr0xy-${randomBytes(10).toString('hex')}`;
/** What a caller sends as the function key (?code= or x-functions-key): the host's secret, never to be repeated. */
const functionKey = `fkey-${randomBytes(10).toString('hex')}`;
/** Scenario → HTTP statuses seen, so the test shows what it drove. */
const seen: Record<string, number[]> = {};

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  fake = await startFakeVault(world, { name: 'kv-fake' });
  extraNeedles.push(fake.secretValue, proxyPassword, functionKey);
  const vault = (name: string, extra: object) =>
    world.state.vaults.push({ name, resourceId: `${RG_APP}/providers/Microsoft.KeyVault/vaults/${name}`, tenantId: TENANT_ID, authorization: 'rbac', secrets: { 'app-secret': `s3cr3t-${randomBytes(12).toString('hex')}` }, ...extra });
  const account = (name: string, extra: object) =>
    world.state.accounts.push({ name, resourceId: `${RG_APP}/providers/Microsoft.Storage/storageAccounts/${name}`, tenantId: TENANT_ID, containers: { data: { 'a.txt': 'a\n' } }, ...extra });
  vault('kv-policy', { authorization: 'accessPolicy', accessPolicies: [] });
  vault('kv-firewall', { network: 'firewall' });
  vault('kv-private', { network: 'private' });
  vault('kv-pending', {});
  world.grant(USER_IDENTITY.principalId, 'keyVaultSecretsUser', `${RG_APP}/providers/Microsoft.KeyVault/vaults/kv-pending`, { createdOn: new Date(), propagationDelaySeconds: 3600 });
  vault('kv-throttled', { fault: { status: 429, headers: { 'Retry-After': '3' }, body: JSON.stringify({ error: { code: 'Throttled', message: 'slow down' } }) } });
  vault('kv-reset', { fault: 'reset' });
  vault('kv-garbage', { fault: 'malformed' });
  vault('kv-silent', { fault: 'silent' });
  account('stfw', { network: 'firewall' });
  account('stbusy', { fault: { status: 503, headers: { 'x-ms-error-code': 'ServerBusy' }, body: '<?xml version="1.0"?><Error><Code>ServerBusy</Code><Message>busy</Message></Error>' } });
  account('stmidbody', { fault: 'reset_mid_body' });
  account('stslow', { fault: 'slowloris' });
  await world.syncStorage();
}, 60_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await fake?.close();
  await world?.stop();
});

/** Everything a response carries: status, every header, the body. */
async function capture(svc: RunningService, scenario: string, path: string, init: RequestInit = {}): Promise<void> {
  const res = await fetch(`${svc.url}${path}`, init);
  const body = await res.text();
  captured.push(`${res.status} ${res.statusText}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${body}`);
  (seen[scenario] ??= []).push(res.status);
}

/** Every route × method × (no format, each format, each Accept), plus ad-hoc bodies on every POST route. */
async function driveEverything(svc: RunningService, scenario: string, adHocBodies: unknown[] = []): Promise<void> {
  const requests: Promise<void>[] = [];
  for (const route of createRoutes()) {
    for (const method of route.methods) {
      const path = `/api/${route.route}`;
      for (const format of FORMATS) requests.push(capture(svc, scenario, `${path}?format=${format}`, { method }));
      for (const accept of ACCEPTS) requests.push(capture(svc, scenario, path, { method, headers: { accept } }));
      requests.push(capture(svc, scenario, `${path}?code=${functionKey}`, { method, headers: { 'x-functions-key': functionKey } }));
      if (method === 'POST') {
        for (const body of adHocBodies) {
          for (const format of FORMATS) {
            requests.push(capture(svc, scenario, `${path}?format=${format}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
          }
        }
      }
    }
  }
  await Promise.all(requests);
}

async function serve(env: Record<string, string | undefined>): Promise<RunningService> {
  const svc = await startService(serviceEnv(world, { DIAGNOSE_TIMEOUT_MS: String(TIMEOUT_MS), ...env }));
  services.push(svc);
  return svc;
}

describe('every target-level scenario, through every route and format', () => {
  it('drives the standard world, every staged fault and policy refusals, with proxy credentials in the environment', async () => {
    const closed = await world.closedPort();
    const p = world.ports;
    const extra = [
      ...['kv-policy', 'kv-firewall', 'kv-private', 'kv-pending', 'kv-throttled', 'kv-reset', 'kv-garbage', 'kv-silent'].map((name) => ({
        name,
        kind: 'keyVaultSecret',
        vaultUrl: world.vaultUrl(name),
        secretName: 'app-secret',
        resourceId: `${RG_APP}/providers/Microsoft.KeyVault/vaults/${name}`,
      })),
      ...['stfw', 'stbusy', 'stmidbody', 'stslow'].map((name) => ({ name, kind: 'storageBlob', accountUrl: world.accountUrl(name), container: 'data' })),
      { name: 'kv-fake', kind: 'keyVaultSecret', vaultUrl: fake.url, secretName: 'x' },
      { name: 'kv-tls', kind: 'keyVaultSecret', vaultUrl: `https://kv-ok.eu.vault.azure.net:${p.keyVault}`, secretName: 'app-secret' },
      { name: 'kv-dns', kind: 'keyVaultSecret', vaultUrl: 'https://nxdomain-kv.vault.azure.net', secretName: 'app-secret' },
      { name: 'kv-refused', kind: 'keyVaultSecret', vaultUrl: `https://kv-ok.vault.azure.net:${closed}`, secretName: 'app-secret' },
      { name: 'arm-tls', kind: 'armResource', resourceId: RG_APP, endpoint: `https://management.contoso.example:${p.arm}` },
    ];
    const allowed = [`kv-ok.vault.azure.net:${p.keyVault}`, `stok.blob.core.windows.net:${p.storage}`, `management.azure.com:${p.arm}`, fake.host];
    const proxy = `http://proxy-user:${proxyPassword}@127.0.0.1:${closed}`;
    const svc = await serve({
      DIAGNOSE_TARGETS: JSON.stringify([...standardTargets(world), ...extra]),
      DIAGNOSE_ALLOWED_HOSTS: allowed.join(','),
      // Everything the world serves bypasses the proxy; its credentials must still never be repeated anywhere.
      HTTPS_PROXY: proxy,
      HTTP_PROXY: proxy,
      NO_PROXY: '127.0.0.1,localhost,.vault.azure.net,.blob.core.windows.net,.management.azure.com,.contoso.example',
    });
    await driveEverything(svc, 'world', [
      [
        { name: 'adhoc-kv', kind: 'keyVaultSecret', vaultUrl: world.vaultUrl('kv-ok'), secretName: 'app-secret' },
        { name: 'adhoc-fake', kind: 'keyVaultSecret', vaultUrl: fake.url, secretName: 'y' },
        { name: 'adhoc-blob', kind: 'storageBlob', accountUrl: world.accountUrl('stok'), container: 'data', blobName: 'hello.txt' },
        { name: 'adhoc-arm', kind: 'armResource', resourceId: RG_APP, endpoint: world.armEndpoint },
      ],
      [{ name: 'refused', kind: 'keyVaultSecret', vaultUrl: `https://user:${proxyPassword}@attacker.example`, secretName: 's' }],
    ]);
    // Every diagnose over the whole world fails somewhere (503); ad-hoc refusals are 403.
    expect(seen.world).toContain(503);
    expect(seen.world).toContain(403);
    expect(world.mintedTokens.length).toBeGreaterThanOrEqual(3);
    expect(fake.withToken).toBeGreaterThan(0);
  }, 60_000);
});

describe('every token-stage scenario, each in a fresh process', () => {
  const targets = () => JSON.stringify(standardTargets(world).filter((t) => ONE_PER_KIND.includes(t.name)));
  const scenarios: [string, IdentityFault | undefined, () => Promise<Record<string, string | undefined>>][] = [
    ['no identity on the host', undefined, async () => ({ IDENTITY_ENDPOINT: undefined, IDENTITY_HEADER: undefined })],
    ['the requested identity not attached', undefined, async () => ({ AZURE_CLIENT_ID: OTHER_IDENTITY.clientId })],
    ['a token of another principal than expected', undefined, async () => ({ EXPECTED_PRINCIPAL_ID: OTHER_IDENTITY.principalId })],
    ['a token of another tenant than expected', undefined, async () => ({ EXPECTED_TENANT_ID: OTHER_TENANT_ID })],
    ['the identity endpoint refusing', undefined, async () => ({ IDENTITY_ENDPOINT: `http://127.0.0.1:${await world.closedPort()}/msi/token` })],
    ['the identity endpoint resetting', 'refuse', async () => ({})],
    ['the identity endpoint silent', 'silent', async () => ({})],
    ['the identity endpoint answering 500', { status: 500 }, async () => ({})],
    ['a 404 storm', { status: 404 }, async () => ({})],
    ['malformed JSON', 'malformed', async () => ({})],
    ['a token that is not a JWT', 'non_jwt', async () => ({})],
    ['no expires_on', 'no_expires_on', async () => ({})],
    ['IMDS instead of App Service', undefined, async () => ({ IDENTITY_ENDPOINT: undefined, IDENTITY_HEADER: undefined, WEBSITE_SITE_NAME: undefined, FUNCTIONS_WORKER_RUNTIME: undefined })],
  ];

  it.each(scenarios)('drives %s', async (name, fault, env) => {
    const svc = await serve({ DIAGNOSE_TARGETS: targets(), ...(await env()) });
    world.state.identityFault = fault;
    try {
      await driveEverything(svc, name);
    } finally {
      world.state.identityFault = undefined;
    }
    expect(seen[name]!.length).toBeGreaterThan(0);
    await svc.stop();
  });

  it('drives an expired token', async () => {
    const user = world.state.identities.find((i) => i.name === USER_IDENTITY.name)!;
    user.tokenLifetimeSeconds = -600;
    try {
      const svc = await serve({ DIAGNOSE_TARGETS: targets() });
      await driveEverything(svc, 'expired');
      await svc.stop();
    } finally {
      delete user.tokenLifetimeSeconds;
    }
  });
});

describe('what was captured', () => {
  it('holds no minted token, identity header, function key, proxy credential or secret value — in any response, header or log line', () => {
    const haystack = [...captured, ...services.map((s) => s.logs())].join('\n');
    // The search runs over real verdicts: target names and causes are there.
    expect(haystack).toContain('"target": "kv-ok"');
    expect(haystack).toContain('token_expired');
    const needles = [...world.mintedTokens, 'not-a-jwt', world.identityHeader, ...world.secretValues(), ...extraNeedles];
    expect(needles.length).toBeGreaterThan(20);
    expect(needles.filter((n) => haystack.includes(n))).toEqual([]);
  });
});
