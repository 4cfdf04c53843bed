import { ROLES } from '../../src/catalog/roles';
import { RG_APP, serviceEnv, stageStandardWorld, startWorld, USER_IDENTITY, type World } from './index';
import { runChild as runSharedChild } from './childProcess';

/**
 * The Cosmos DB simulator against the unmodified @azure/cosmos client in its default configuration (endpoint
 * discovery on: it reads the database account first and follows its locations), in a process of its own with only the
 * service's environment — and the ARM list of the account's SQL role assignments the diagnosis reads.
 */
const ACCOUNT = `${RG_APP}/providers/Microsoft.DocumentDB/databaseAccounts/wcos-ok`;

const CHILD = `
const { ManagedIdentityCredential } = require('@azure/identity');
const { CosmosClient } = require('@azure/cosmos');
const input = JSON.parse(process.env.PROBE_INPUT);
const summarize = (e) => ({ code: e && e.code, substatus: e && e.substatus, bodyCode: e && e.body && e.body.code, message: String(e && e.body && e.body.message || e && e.message).slice(0, 600), retryAfterInMs: e && e.retryAfterInMs, activityId: e && e.activityId });
const attempt = async (fn) => { try { return { ok: true, value: await fn() }; } catch (e) { return { ok: false, error: summarize(e) }; } };
(async () => {
  const mi = new ManagedIdentityCredential({ clientId: process.env.AZURE_CLIENT_ID });
  const scopes = [];
  const recording = (forScope) => ({ getToken: async (s) => { scopes.push(s); return mi.getToken(forScope ?? s); } });
  const client = (endpoint, cred) => new CosmosClient({ endpoint, aadCredentials: cred, connectionPolicy: { retryOptions: { maxRetryAttemptCount: 0 } } });
  const out = {};
  const ok = client(input.ok, recording());
  out.account = await attempt(async () => { const a = await ok.getDatabaseAccount(); return { writable: a.resource.writableLocations, readable: a.resource.readableLocations, consistency: a.resource.consistencyPolicy }; });
  const container = ok.database('app').container('orders');
  out.container = await attempt(async () => (await container.read()).resource.partitionKey);
  out.item = await attempt(async () => { const r = await container.item('order-1', 'contoso').read(); return { status: r.statusCode, id: r.resource && r.resource.id, charge: r.requestCharge, session: r.headers['x-ms-session-token'] }; });
  out.missingItem = await attempt(async () => (await container.item('nope', 'contoso').read()).statusCode);
  out.page = await attempt(async () => { const p = await container.items.readAll({ maxItemCount: 1 }).fetchNext(); return { count: p.resources.length, more: p.hasMoreResults }; });
  out.scopes = scopes;
  ok.dispose();
  const norole = client(input.norole, recording());
  out.norole = await attempt(() => norole.database('app').container('orders').read());
  norole.dispose();
  const wrongAudience = client(input.ok, recording('https://management.azure.com/.default'));
  out.wrongAudience = await attempt(() => wrongAudience.database('app').container('orders').read());
  wrongAudience.dispose();
  process.stdout.write(JSON.stringify(out));
})().catch((e) => process.stdout.write(JSON.stringify({ crashed: String(e && e.stack) })));
`;

const runChild = (env: Record<string, string>) => runSharedChild(CHILD, env, 40_000);

describe('the Cosmos DB simulator', () => {
  let world: World;
  let out: Record<string, any>;

  beforeAll(async () => {
    world = await startWorld();
    await stageStandardWorld(world);
    const databases = () => ({ app: { orders: { partitionKeyPath: '/tenant', items: [{ id: 'order-1', tenant: 'contoso', note: 'n' }] } } });
    world.state.cosmos.accounts.push(
      { name: 'wcos-ok', resourceId: ACCOUNT, tenantId: USER_IDENTITY.tenantId, databases: databases() },
      { name: 'wcos-norole', resourceId: `${RG_APP}/providers/Microsoft.DocumentDB/databaseAccounts/wcos-norole`, tenantId: USER_IDENTITY.tenantId, databases: databases() },
    );
    world.state.arm.resources.push(ACCOUNT);
    world.state.cosmos.sqlAssignments.push({ id: 'a1', accountName: 'wcos-ok', principalId: USER_IDENTITY.principalId, roleDefinitionId: ROLES.cosmosDbBuiltInDataReader.id, scope: '/dbs/app/colls/orders' });
    world.grant(USER_IDENTITY.principalId, 'cosmosDbAccountReader', `${RG_APP}/providers/Microsoft.DocumentDB/databaseAccounts/wcos-norole`);
    const input = { ok: world.cosmosUrl('wcos-ok'), norole: world.cosmosUrl('wcos-norole') };
    out = await runChild(serviceEnv(world, { PROBE_INPUT: JSON.stringify(input) }) as Record<string, string>);
  }, 90_000);

  afterAll(async () => {
    await world?.stop();
  });

  it('serves the unmodified SDK: the account read points back to the same host and port, then a point read and one page of a query', () => {
    expect(out.crashed).toBeUndefined();
    const endpoint = `${world.cosmosUrl('wcos-ok')}/`;
    expect(out.account).toEqual({ ok: true, value: expect.objectContaining({ writable: [{ name: 'East US', databaseAccountEndpoint: endpoint }], readable: [{ name: 'East US', databaseAccountEndpoint: endpoint }] }) });
    expect(out.container).toEqual({ ok: true, value: { paths: ['/tenant'], kind: 'Hash', version: 2 } });
    expect(out.item).toEqual({ ok: true, value: { status: 200, id: 'order-1', charge: 1, session: '0:-1#12' } });
    expect(out.missingItem).toEqual({ ok: true, value: 404 });
    expect(out.page).toEqual({ ok: true, value: { count: 1, more: false } });
  });

  it('is asked for a token for the account\'s own endpoint, as @azure/cosmos requests it', () => {
    // Each client asks for its own account's endpoint (the wrong-audience client too: it is handed another token).
    expect([...new Set((out.scopes as string[][]).flat())].sort()).toEqual([`${world.cosmosUrl('wcos-norole')}/.default`, `${world.cosmosUrl('wcos-ok')}/.default`]);
  });

  it('refuses a principal with only Azure roles on the account with 403/5301 naming readMetadata', () => {
    expect(out.norole.ok).toBe(false);
    expect(out.norole.error).toMatchObject({ code: 403, substatus: 5301, bodyCode: 'Forbidden' });
    expect(out.norole.error.message).toContain('does not have required RBAC permissions to perform action [Microsoft.DocumentDB/databaseAccounts/readMetadata]');
  });

  it('answers a token for another audience with 401/5008 and the audiences the account accepts', () => {
    expect(out.wrongAudience.error).toMatchObject({ code: 401, substatus: 5008, bodyCode: 'Unauthorized' });
    expect(out.wrongAudience.error.message).toContain('Provided AAD token is intended for [https://management.azure.com]');
    expect(out.wrongAudience.error.message).toContain('https://cosmos.azure.com]');
  });

  it('lists the account\'s SQL role assignments and definitions on ARM, scopes in their ARM form', async () => {
    const token = world.mintToken(USER_IDENTITY, 'https://management.azure.com/');
    const get = async (what: string) => {
      const res = await fetchWithWorld(`${world.armEndpoint}${ACCOUNT}/${what}?api-version=2023-04-15`, token);
      return res as { value: { properties: Record<string, unknown> }[] };
    };
    const assignments = await get('sqlRoleAssignments');
    expect(assignments.value.map((a) => a.properties)).toEqual([
      { roleDefinitionId: `${ACCOUNT}/sqlRoleDefinitions/${ROLES.cosmosDbBuiltInDataReader.id}`, scope: `${ACCOUNT}/dbs/app/colls/orders`, principalId: USER_IDENTITY.principalId },
    ]);
    const definitions = await get('sqlRoleDefinitions');
    expect(definitions.value.map((d) => d.properties.roleName)).toEqual(['Cosmos DB Built-in Data Reader', 'Cosmos DB Built-in Data Contributor']);
  });

  /** GET through the world's CA and DNS names, in a child like the SDK calls (the test process has neither). */
  async function fetchWithWorld(url: string, token: string): Promise<unknown> {
    const script = `fetch(${JSON.stringify(url)}, { headers: { authorization: 'Bearer ' + process.env.T } }).then(async (r) => process.stdout.write(await r.text()), (e) => process.stdout.write(JSON.stringify({ error: String(e.cause || e) })))`;
    return runSharedChild(script, { ...(serviceEnv(world, {}) as Record<string, string>), T: token });
  }
});
