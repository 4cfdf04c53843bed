import { serviceEnv, stageStandardWorld, startWorld, type World } from './index';
import { KIND_WORLDS } from './kinds';
import { storageAccountId } from './kinds/storageShared';
import { USER_IDENTITY } from './scenario';
import { runChild as runSharedChild } from './childProcess';

/**
 * The queue and table front (storageFront.ts before Azurite's queue and table services), checked with the real
 * @azure/storage-queue and @azure/data-tables clients in a process of their own, as the service runs them: a peek
 * leaves the message where it was, a dequeue needs more than Storage Queue Data Reader, tables answer in OData JSON.
 */

const SCRIPT = `
const { ManagedIdentityCredential } = require('@azure/identity');
const { QueueClient } = require('@azure/storage-queue');
const { TableClient, TableServiceClient } = require('@azure/data-tables');
const input = JSON.parse(process.env.PROBE_INPUT);
const summarize = (e) => ({
  statusCode: e && e.statusCode,
  headerCode: e && e.response && e.response.headers && e.response.headers.get('x-ms-error-code'),
  contentType: e && e.response && e.response.headers && e.response.headers.get('content-type'),
  body: e && e.response && e.response.bodyAsText,
});
const attempt = async (fn) => { try { return { ok: true, value: await fn() }; } catch (e) { return { ok: false, error: summarize(e) }; } };
(async () => {
  const cred = new ManagedIdentityCredential({ clientId: process.env.AZURE_CLIENT_ID });
  const opts = { retryOptions: { maxTries: 1 } };
  input.queueUrl = (account) => 'https://' + account + '.queue.core.windows.net:' + input.port;
  input.tableUrl = (account) => 'https://' + account + '.table.core.windows.net:' + input.port;
  const queue = (account, name) => new QueueClient(input.queueUrl(account) + '/' + name, cred, opts);
  const peek = async (account, name) => (await queue(account, name).peekMessages({ numberOfMessages: 1 })).peekedMessageItems.map((m) => m.messageText);
  const out = {};
  out.peek1 = await attempt(() => peek(input.ok, 'jobs'));
  out.peek2 = await attempt(() => peek(input.ok, 'jobs'));
  out.receive = await attempt(async () => (await queue(input.ok, 'jobs').receiveMessages()).receivedMessageItems.length);
  out.receiveProcessor = await attempt(async () => (await queue(input.processor, 'jobs').receiveMessages()).receivedMessageItems.map((m) => m.messageText));
  out.peekNoRole = await attempt(() => peek(input.norole, 'jobs'));
  out.peekMissing = await attempt(() => peek(input.ok, 'nope'));
  const tOpts = { retryOptions: { maxRetries: 0 } };
  const entities = async (account, table) =>
    (await new TableClient(input.tableUrl(account), table, cred, tOpts).listEntities({ queryOptions: { select: ['PartitionKey'] } }).byPage({ maxPageSize: 1 }).next()).value;
  out.entities = await attempt(() => entities(input.tok, 'orders'));
  out.tables = await attempt(async () => (await new TableServiceClient(input.tableUrl(input.tok), cred, tOpts).listTables().byPage({ maxPageSize: 1 }).next()).value.map((t) => t.name));
  out.entitiesNoRole = await attempt(() => entities(input.tnorole, 'orders'));
  out.tablesNoRole = await attempt(() => new TableServiceClient(input.tableUrl(input.tnorole), cred, tOpts).listTables().byPage({ maxPageSize: 1 }).next());
  out.entitiesMissing = await attempt(() => entities(input.tok, 'nope'));
  process.stdout.write(JSON.stringify(out));
})().catch((e) => process.stdout.write(JSON.stringify({ crashed: String(e && e.stack) })));
`;

const runChild = (env: Record<string, string>) => runSharedChild(SCRIPT, env, 40_000);

let world: World;
let probe: Record<string, any>;

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  KIND_WORLDS.storageQueue.stage(world);
  KIND_WORLDS.storageTable.stage(world);
  // A consumer's role: Message Processor may dequeue (messages/process/action), which Reader may not.
  world.state.accounts.push({ name: 'cqprocessor', resourceId: storageAccountId('cqprocessor'), tenantId: world.state.arm.tenantId, containers: {}, queues: { jobs: ['to-be-processed'] } });
  world.grant(USER_IDENTITY.principalId, 'storageQueueDataMessageProcessor', storageAccountId('cqprocessor'), { createdOn: new Date(Date.now() - 86_400_000) });
  await world.syncStorage();
  const port = new URL(world.accountUrl('x')).port;
  // The child builds each URL from the account name and the front's port.
  const input = { port, ok: 'cqok', norole: 'cqnorole', processor: 'cqprocessor', tok: 'ctbok', tnorole: 'ctbnorole' };
  probe = await runChild(serviceEnv(world, { PROBE_INPUT: JSON.stringify(input) }));
  if (probe.crashed) throw new Error(probe.crashed);
}, 60_000);

afterAll(async () => {
  await world?.stop();
});

describe('Queue Storage through the front', () => {
  it('lets a peek see the front message and leaves it there for the next peek', () => {
    expect(probe.peek1).toEqual({ ok: true, value: ['job-payload-cqok'] });
    expect(probe.peek2).toEqual({ ok: true, value: ['job-payload-cqok'] });
  });

  it('refuses a dequeue to Storage Queue Data Reader and allows it to Message Processor', () => {
    expect(probe.receive).toMatchObject({ ok: false, error: { statusCode: 403, headerCode: 'AuthorizationPermissionMismatch' } });
    expect(probe.receiveProcessor).toEqual({ ok: true, value: ['to-be-processed'] });
  });

  it('answers a peek without a data role with 403 AuthorizationPermissionMismatch in XML, and a missing queue with 404 QueueNotFound', () => {
    expect(probe.peekNoRole).toMatchObject({ ok: false, error: { statusCode: 403, headerCode: 'AuthorizationPermissionMismatch', contentType: 'application/xml' } });
    expect(probe.peekNoRole.error.body).toContain('<Code>AuthorizationPermissionMismatch</Code>');
    expect(probe.peekMissing).toMatchObject({ ok: false, error: { statusCode: 404, headerCode: 'QueueNotFound' } });
  });
});

describe('Table Storage through the front', () => {
  it('queries one entity ($top=1, PartitionKey only) and lists one page of tables', () => {
    expect(probe.entities.ok).toBe(true);
    expect(probe.entities.value).toHaveLength(1);
    expect(JSON.stringify(probe.entities.value)).not.toContain('customer-');
    expect(probe.tables).toEqual({ ok: true, value: ['orders'] });
  });

  it('answers without a data role in OData JSON with the code in x-ms-error-code, for entities and for the table list', () => {
    for (const refused of [probe.entitiesNoRole, probe.tablesNoRole]) {
      expect(refused).toMatchObject({ ok: false, error: { statusCode: 403, headerCode: 'AuthorizationPermissionMismatch' } });
      expect(refused.error.contentType).toMatch(/^application\/json;odata=minimalmetadata/);
      expect(JSON.parse(refused.error.body)).toEqual({
        'odata.error': { code: 'AuthorizationPermissionMismatch', message: { lang: 'en-US', value: expect.stringMatching(/^This request is not authorized to perform this operation using this permission\.\nRequestId:/) } },
      });
    }
  });

  it('answers a missing table with 404 TableNotFound from Azurite', () => {
    expect(probe.entitiesMissing).toMatchObject({ ok: false, error: { statusCode: 404, headerCode: 'TableNotFound' } });
  });
});
