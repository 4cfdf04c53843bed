import path from 'node:path';
import { RG_APP, OTHER_TENANT_ID, TENANT_ID, USER_IDENTITY, serviceEnv, stageStandardWorld, startWorld, type World } from './index';
import type { Registry } from './model';
import { runChild as runSharedChild } from './childProcess';

/**
 * The Container Registry simulator against the real ContainerRegistryClient (run in its own Node process with the
 * service's environment: DNS preload, the world's CA, the App Service identity endpoint): the challenge, the two token
 * requests with ACR's form fields, paging by Link header, and the answers of each permission mode.
 */
const id = (name: string) => `${RG_APP}/providers/Microsoft.ContainerRegistry/registries/${name}`;

const CHILD = `
const { ManagedIdentityCredential } = require('@azure/identity');
const { ContainerRegistryClient } = require('@azure/container-registry');
const { createDefaultHttpClient } = require('@azure/core-rest-pipeline');
const input = JSON.parse(process.env.PROBE_INPUT);
const cred = new ManagedIdentityCredential({ clientId: process.env.AZURE_CLIENT_ID });
(async () => {
  const out = {};
  for (const c of input.cases) {
    const exchanges = [];
    const inner = createDefaultHttpClient();
    const httpClient = { async sendRequest(req) {
      // The pipeline has turned the form into an urlencoded body by now: keep its field names, never a token.
      const fields = typeof req.body === 'string' ? new URLSearchParams(req.body) : undefined;
      const res = await inner.sendRequest(req);
      exchanges.push({ method: req.method, path: new URL(req.url).pathname, status: res.status,
        form: fields ? [...fields.keys()].sort() : undefined, grant: fields ? fields.get('grant_type') : undefined,
        scope: fields ? fields.get('scope') : undefined, challenge: res.headers.get('www-authenticate') || undefined });
      return res;
    } };
    const client = new ContainerRegistryClient(c.endpoint, cred, { retryOptions: { maxRetries: 0 }, httpClient });
    try {
      let value;
      if (c.repository) {
        const p = await client.getRepository(c.repository).getProperties();
        value = { name: p.name, tagCount: p.tagCount, manifestCount: p.manifestCount, canRead: p.canRead };
      } else {
        const pages = client.listRepositoryNames().byPage({ maxPageSize: 2 });
        const first = await pages.next();
        const all = [...first.value];
        for await (const page of pages) all.push(...page);
        value = { firstPage: [...first.value], continuation: first.value.continuationToken, all };
      }
      out[c.name] = { ok: true, value, exchanges };
    } catch (e) {
      out[c.name] = { ok: false, status: e.statusCode, name: e.name, errors: e.details && e.details.errors, exchanges };
    }
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => process.stdout.write(JSON.stringify({ crashed: String(e && e.stack) })));
`;

const runChild = (env: Record<string, string>, input: unknown) => runSharedChild(CHILD, { ...env, PROBE_INPUT: JSON.stringify(input) }, 40_000);

let world: World;
let out: Record<string, any>;
const repos = { 'app/api': { tagCount: 3, manifestCount: 4 }, 'app/web': { tagCount: 1, manifestCount: 1 }, base: { tagCount: 2, manifestCount: 2 } };

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  const add = (name: string, extra: Partial<Registry> = {}) => {
    world.state.registries.push({ name, resourceId: id(name), tenantId: TENANT_ID, repositories: { ...repos }, ...extra });
    world.state.arm.resources.push(id(name));
  };
  const oid = USER_IDENTITY.principalId;
  const old = new Date(Date.now() - 86_400_000);
  add('wacrrbac');
  add('wacrtenant', { tenantId: OTHER_TENANT_ID });
  add('wacrabac', { roleAssignmentMode: 'abac' });
  add('wacrlister', { roleAssignmentMode: 'abac' });
  add('wacrfirewall', { network: 'firewall' });
  // rbac mode: the standard world's Reader on rg-app pulls (Reader's */read), AcrPull would too.
  world.grant(oid, 'containerRegistryRepositoryReader', id('wacrabac'), { createdOn: old });
  world.grant(oid, 'acrPull', id('wacrabac'), { createdOn: old });
  world.grant(oid, 'containerRegistryRepositoryCatalogLister', id('wacrlister'), { createdOn: old });
  const cases = [
    { name: 'catalog', endpoint: world.registryUrl('wacrrbac') },
    { name: 'properties', endpoint: world.registryUrl('wacrrbac'), repository: 'app/api' },
    { name: 'missing', endpoint: world.registryUrl('wacrrbac'), repository: 'app/gone' },
    { name: 'otherTenant', endpoint: world.registryUrl('wacrtenant') },
    { name: 'abacRepository', endpoint: world.registryUrl('wacrabac'), repository: 'app/api' },
    { name: 'abacCatalog', endpoint: world.registryUrl('wacrabac') },
    { name: 'listerCatalog', endpoint: world.registryUrl('wacrlister') },
    { name: 'listerRepository', endpoint: world.registryUrl('wacrlister'), repository: 'base' },
    { name: 'firewall', endpoint: world.registryUrl('wacrfirewall') },
  ];
  out = await runChild(serviceEnv(world), { cases });
}, 90_000);

afterAll(async () => {
  await world?.stop();
});

describe('the simulated Container Registry, driven by ContainerRegistryClient', () => {
  it('challenges, then takes the SDK through /oauth2/exchange and /oauth2/token with ACR\'s form fields', () => {
    const { exchanges } = out.properties;
    expect(exchanges.map((x: any) => `${x.method} ${x.path} ${x.status}`)).toEqual([
      'GET /acr/v1/app%2Fapi 401',
      'POST /oauth2/exchange 200',
      'POST /oauth2/token 200',
      'GET /acr/v1/app%2Fapi 200',
    ]);
    expect(exchanges[0].challenge).toBe(`Bearer realm="https://wacrrbac.azurecr.io:${world.ports.containerRegistry}/oauth2/token",service="wacrrbac.azurecr.io",scope="repository:app/api:metadata_read"`);
    expect(exchanges[1]).toMatchObject({ form: ['access_token', 'grant_type', 'service'], grant: 'access_token' });
    expect(exchanges[2]).toMatchObject({ form: ['grant_type', 'refresh_token', 'scope', 'service'], grant: 'refresh_token', scope: 'repository:app/api:metadata_read' });
    expect(out.properties).toMatchObject({ ok: true, value: { name: 'app/api', tagCount: 3, manifestCount: 4, canRead: true } });
  });

  it('pages the catalog by its Link header, reusing the access token', () => {
    expect(out.catalog.ok).toBe(true);
    expect(out.catalog.value).toMatchObject({ firstPage: ['app/api', 'app/web'], all: ['app/api', 'app/web', 'base'] });
    expect(out.catalog.value.continuation).toContain('/acr/v1/_catalog?last=app%2Fweb&n=2');
    expect(out.catalog.exchanges[0].challenge).toContain('scope="registry:catalog:*"');
    expect(out.catalog.exchanges.filter((x: any) => x.path === '/oauth2/exchange')).toHaveLength(1);
  });

  it('answers a missing repository with 404 NAME_UNKNOWN, after authorization', () => {
    expect(out.missing).toMatchObject({ ok: false, status: 404, errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] });
  });

  it('refuses an Entra token from another tenant at /oauth2/exchange, before any registry token exists', () => {
    expect(out.otherTenant).toMatchObject({ ok: false, status: 401, errors: [{ code: 'UNAUTHORIZED' }] });
    expect(out.otherTenant.exchanges.at(-1)).toMatchObject({ path: '/oauth2/exchange', status: 401 });
  });

  it('honours the Repository roles and not AcrPull in ABAC mode, and catalog listing only through Catalog Lister', () => {
    expect(out.abacRepository).toMatchObject({ ok: true, value: { tagCount: 3 } });
    // The token request succeeds with no access granted; the registry then refuses with 401 insufficient_scope.
    expect(out.abacCatalog).toMatchObject({ ok: false, status: 401, errors: [{ code: 'UNAUTHORIZED' }] });
    expect(out.abacCatalog.exchanges.map((x: any) => `${x.path} ${x.status}`)).toEqual([
      '/acr/v1/_catalog 401',
      '/oauth2/exchange 200',
      '/oauth2/token 200',
      '/acr/v1/_catalog 401',
    ]);
    expect(out.abacCatalog.exchanges.at(-1).challenge).toContain('error="insufficient_scope"');
    expect(out.listerCatalog).toMatchObject({ ok: true, value: { all: ['app/api', 'app/web', 'base'] } });
    expect(out.listerRepository).toMatchObject({ ok: false, status: 401 });
  });

  it('refuses every request from outside its network rules with 403 DENIED', () => {
    expect(out.firewall).toMatchObject({ ok: false, status: 403, errors: [{ code: 'DENIED' }] });
    expect(out.firewall.errors[0].message).toMatch(/^client with IP '.+' is not allowed access\. Refer https:\/\/aka\.ms\/acr\/firewall to grant access\.$/);
    expect(out.firewall.exchanges).toHaveLength(1);
  });

  it('keeps every registry token it issued in mintedTokens, for the leak checks', () => {
    const registryTokens = world.mintedTokens.filter((t) => {
      const payload = JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as { iss?: string };
      return payload.iss === 'Azure Container Registry';
    });
    // One refresh and one access token per successful exchange (catalog, properties, missing, abac ×2, lister ×2).
    expect(registryTokens.length).toBeGreaterThanOrEqual(14);
  });
});
