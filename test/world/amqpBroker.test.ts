import { OTHER_TENANT_ID, RG_APP, serviceEnv, startWorld, TENANT_ID, USER_IDENTITY, type World } from './index';
import { runChild as runSharedChild } from './childProcess';

/**
 * The AMQP broker (amqpBroker.ts) checked against the real @azure/service-bus and @azure/event-hubs clients, in a child
 * process with the service's environment (DNS preload, the world's CA): what each refusal looks like to the SDK — its
 * error name, code and the service's words — is what the serviceBus and eventHubs kinds classify.
 */
const SB_ID = `${RG_APP}/providers/Microsoft.ServiceBus/namespaces/wsbroker`;
const EH_ID = `${RG_APP}/providers/Microsoft.EventHub/namespaces/wehbroker`;

const runChild = (script: string, env: Record<string, string>) => runSharedChild(script, env, 40_000);

const SCRIPT = `
const { ServiceBusClient } = require('@azure/service-bus');
const { EventHubConsumerClient, EventHubProducerClient } = require('@azure/event-hubs');
const input = JSON.parse(process.env.PROBE_INPUT);
const cred = (token) => ({ getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }) });
const summarize = (e) => ({ name: e && e.name, code: e && e.code, message: String(e && e.message).slice(0, 600) });
const attempt = async (fn) => { try { return { ok: true, value: await fn() }; } catch (e) { return { ok: false, error: summarize(e) }; } };
const opts = { retryOptions: { maxRetries: 0, timeoutInMs: 10000 }, customEndpointAddress: input.sbEndpoint };
const peek = async (token, queue, endpoint = input.sbEndpoint, ns = input.sbHost) => {
  const c = new ServiceBusClient(ns, cred(token), { ...opts, customEndpointAddress: endpoint });
  try { return (await c.createReceiver(queue).peekMessages(1)).length; } finally { await c.close(); }
};
const sendLink = async (token, queue) => {
  const c = new ServiceBusClient(input.sbHost, cred(token), opts);
  try { return (await c.createSender(queue).createMessageBatch()).maxSizeInBytes; } finally { await c.close(); }
};
const ehOpts = { retryOptions: { maxRetries: 0, timeoutInMs: 10000 }, customEndpointAddress: input.ehEndpoint };
const hub = async (token) => {
  const c = new EventHubConsumerClient('$Default', input.ehHost, 'telemetry', cred(token), ehOpts);
  try { const p = await c.getEventHubProperties(); const q = await c.getPartitionProperties(p.partitionIds[0]); return { ids: p.partitionIds, empty: q.isEmpty }; } finally { await c.close(); }
};
const ehSend = async (token) => {
  const c = new EventHubProducerClient(input.ehHost, 'telemetry', cred(token), ehOpts);
  try { return (await c.createBatch()).maxSizeInBytes; } finally { await c.close(); }
};
(async () => {
  const t = input.tokens;
  const out = {};
  out.peekOk = await attempt(() => peek(t.ok, 'orders'));
  out.peekFull = await attempt(() => peek(t.ok, 'full'));
  out.peekNoRole = await attempt(() => peek(t.ok, 'locked'));
  out.peekMissing = await attempt(() => peek(t.ok, 'nosuchqueue'));
  out.peekAudience = await attempt(() => peek(t.arm, 'orders'));
  out.peekTenant = await attempt(() => peek(t.tenant, 'orders'));
  out.peekExpired = await attempt(() => peek(t.expired, 'orders'));
  out.peekFirewall = await attempt(() => peek(t.ok, 'orders', input.fwEndpoint, input.fwHost));
  out.peekBusy = await attempt(() => peek(t.ok, 'orders', input.busyEndpoint, input.busyHost));
  out.sendOk = await attempt(() => sendLink(t.ok, 'outbox'));
  out.sendNoRole = await attempt(() => sendLink(t.ok, 'orders'));
  out.hubOk = await attempt(() => hub(t.eh));
  out.hubSend = await attempt(() => ehSend(t.eh));
  out.hubNoRole = await attempt(() => hub(t.ehOther));
  process.stdout.write(JSON.stringify(out));
})().catch((e) => process.stdout.write(JSON.stringify({ crashed: summarize(e) })));
`;

let world: World;
let out: Record<string, any>;

beforeAll(async () => {
  world = await startWorld();
  world.state.arm.tenantId = TENANT_ID;
  const ns = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    kind: 'serviceBus' as const,
    resourceId: `${RG_APP}/providers/Microsoft.ServiceBus/namespaces/${name}`,
    tenantId: TENANT_ID,
    queues: { orders: {}, full: { messages: 3 }, locked: {}, outbox: {} },
    ...extra,
  });
  world.state.namespaces = [
    ns('wsbroker'),
    ns('wsbrokerfw', { network: 'ipFilter' }),
    ns('wsbrokerbusy', { fault: 'busy' }),
    { name: 'wehbroker', kind: 'eventHubs', resourceId: EH_ID, tenantId: TENANT_ID, eventHubs: { telemetry: { partitions: 2 } } },
  ];
  const oid = USER_IDENTITY.principalId;
  for (const q of ['orders', 'full']) world.grant(oid, 'serviceBusDataReceiver', `${SB_ID}/queues/${q}`);
  world.grant(oid, 'serviceBusDataReceiver', `${RG_APP}/providers/Microsoft.ServiceBus/namespaces/wsbrokerbusy`);
  world.grant(oid, 'serviceBusDataSender', `${SB_ID}/queues/outbox`);
  world.grant(oid, 'eventHubsDataOwner', EH_ID);
  const mint = (resource: string, claims = {}) => world.mintToken(USER_IDENTITY, resource, claims);
  const now = Math.floor(Date.now() / 1000);
  const tokens = {
    ok: mint('https://servicebus.azure.net/'),
    arm: mint('https://management.azure.com/'),
    tenant: mint('https://servicebus.azure.net/', { iss: `https://sts.windows.net/${OTHER_TENANT_ID}/`, tid: OTHER_TENANT_ID }),
    expired: mint('https://servicebus.azure.net/', { exp: now - 600 }),
    eh: mint('https://eventhubs.azure.net/'),
    ehOther: mint('https://eventhubs.azure.net/', { oid: '00000000-0000-0000-0000-0000000000aa' }),
  };
  const input = {
    tokens,
    sbHost: 'wsbroker.servicebus.windows.net',
    sbEndpoint: world.namespaceEndpoint('wsbroker'),
    fwHost: 'wsbrokerfw.servicebus.windows.net',
    fwEndpoint: world.namespaceEndpoint('wsbrokerfw'),
    busyHost: 'wsbrokerbusy.servicebus.windows.net',
    busyEndpoint: world.namespaceEndpoint('wsbrokerbusy'),
    ehHost: 'wehbroker.servicebus.windows.net',
    ehEndpoint: world.namespaceEndpoint('wehbroker'),
  };
  out = await runChild(SCRIPT, { ...serviceEnv(world), PROBE_INPUT: JSON.stringify(input) } as Record<string, string>);
}, 90_000);

afterAll(async () => {
  await world?.stop();
});

describe('the AMQP broker, as the real Service Bus and Event Hubs SDKs see it', () => {
  it('lets a Data Receiver peek (an empty queue finds none, a full one finds one) without settling anything', () => {
    expect(out.crashed).toBeUndefined();
    expect(out.peekOk).toEqual({ ok: true, value: 0 });
    expect(out.peekFull).toEqual({ ok: true, value: 1 });
  });

  it('refuses a principal without the role with the Listen-claim text the service sends (UnauthorizedAccess)', () => {
    expect(out.peekNoRole.error).toMatchObject({ name: 'ServiceBusError', code: 'UnauthorizedAccess' });
    expect(out.peekNoRole.error.message).toMatch(/^Unauthorized access\. 'Listen' claim\(s\) are required to perform this operation\. Resource: 'sb:\/\/wsbroker\.servicebus\.windows\.net\/locked\/\$management'\. TrackingId:/);
  });

  it('answers a missing entity at put-token with MessagingEntityNotFound', () => {
    expect(out.peekMissing.error).toMatchObject({ name: 'ServiceBusError', code: 'MessagingEntityNotFound' });
    expect(out.peekMissing.error.message).toMatch(/The messaging entity 'sb:\/\/wsbroker\.servicebus\.windows\.net\/nosuchqueue' could not be found/);
  });

  it('rejects tokens at the CBS node with the service reason codes', () => {
    expect(out.peekAudience.error).toMatchObject({ code: 'UnauthorizedAccess' });
    expect(out.peekAudience.error.message).toMatch(/^InvalidAudience: /);
    expect(out.peekTenant.error.message).toMatch(/^InvalidIssuer: Token issuer is invalid\./);
    expect(out.peekExpired.error.message).toMatch(/^ExpiredToken: The token is expired\./);
  });

  it('refuses an address outside the IP rules and throttles a busy namespace', () => {
    expect(out.peekFirewall.error).toMatchObject({ code: 'UnauthorizedAccess' });
    expect(out.peekFirewall.error.message).toMatch(/^Ip has been prevented to connect to the endpoint\./);
    expect(out.peekBusy.error).toMatchObject({ code: 'ServiceBusy' });
  });

  it('opens a sender link (no message sent) for a Data Sender and detaches it with the Send-claim text otherwise', () => {
    expect(out.sendOk).toEqual({ ok: true, value: expect.any(Number) });
    expect(out.sendNoRole.error).toMatchObject({ code: 'UnauthorizedAccess' });
    expect(out.sendNoRole.error.message).toMatch(/'Send' claim\(s\) are required/);
  });

  it('reads an event hub and one partition, opens a producer link, and refuses another principal', () => {
    expect(out.hubOk).toEqual({ ok: true, value: { ids: ['0', '1'], empty: true } });
    expect(out.hubSend).toEqual({ ok: true, value: expect.any(Number) });
    expect(out.hubNoRole.error).toMatchObject({ name: 'MessagingError', code: 'UnauthorizedError' });
    expect(out.hubNoRole.error.message).toMatch(/'Listen' claim\(s\) are required/);
  });
});
