import { checkOf, startService, type RunningService } from './harness';
import { RG_APP, serviceEnv, stageStandardWorld, startWorld, TENANT_ID, USER_IDENTITY, type World } from '../world';
import type { Verdict } from '../../src/verdict';

/**
 * Service Bus and Event Hubs `access`: send is proven by opening a sender link, never by sending; the role a refusal
 * asks for follows the claim the service named ('Listen' → Data Receiver, 'Send' → Data Sender).
 */
const SB = `${RG_APP}/providers/Microsoft.ServiceBus/namespaces/acc-sb`;
const EH = `${RG_APP}/providers/Microsoft.EventHub/namespaces/acc-eh`;
let world: World;
let service: RunningService;
let verdict: Verdict;

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  world.state.namespaces = [
    { name: 'acc-sb', kind: 'serviceBus', resourceId: SB, tenantId: TENANT_ID, queues: { orders: { messages: 1 }, outbox: {} }, topics: { events: { subscriptions: { audit: {} } } } },
    { name: 'acc-eh', kind: 'eventHubs', resourceId: EH, tenantId: TENANT_ID, eventHubs: { telemetry: { partitions: 4 }, stream: { partitions: 2 } } },
  ];
  world.state.arm.resources.push(SB, EH);
  const oid = USER_IDENTITY.principalId;
  world.grant(oid, 'serviceBusDataReceiver', `${SB}/queues/orders`, { createdOn: new Date(Date.now() - 86_400_000) });
  world.grant(oid, 'serviceBusDataSender', `${SB}/queues/outbox`, { createdOn: new Date(Date.now() - 86_400_000) });
  world.grant(oid, 'serviceBusDataReceiver', `${SB}/topics/events/subscriptions/audit`, { createdOn: new Date(Date.now() - 86_400_000) });
  world.grant(oid, 'eventHubsDataSender', `${EH}/eventhubs/telemetry`, { createdOn: new Date(Date.now() - 86_400_000) });
  world.grant(oid, 'eventHubsDataReceiver', `${EH}/eventhubs/stream`, { createdOn: new Date(Date.now() - 86_400_000) });
  const sb = (name: string, extra: Record<string, unknown>) => ({ name, kind: 'serviceBus', fullyQualifiedNamespace: 'acc-sb.servicebus.windows.net', endpoint: world.namespaceEndpoint('acc-sb'), resourceId: SB, ...extra });
  const eh = (name: string, extra: Record<string, unknown>) => ({ name, kind: 'eventHubs', fullyQualifiedNamespace: 'acc-eh.servicebus.windows.net', endpoint: world.namespaceEndpoint('acc-eh'), eventHubName: 'telemetry', resourceId: EH, ...extra });
  const targets = [
    sb('sb-send', { queueName: 'outbox', access: 'send' }),
    sb('sb-both-no-send', { queueName: 'orders', access: 'both' }),
    sb('sb-subscription', { topicName: 'events', subscriptionName: 'audit' }),
    eh('eh-send', { access: 'send' }),
    eh('eh-receive-as-sender', {}),
    eh('eh-receiver-link', { eventHubName: 'stream', openReceiver: true }),
  ];
  service = await startService(serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(targets), DIAGNOSE_TIMEOUT_MS: '15000' }));
  verdict = (await service.diagnose()).verdict;
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await world?.stop();
});

describe('Service Bus and Event Hubs access', () => {
  it('proves send by opening a sender link: authorized, and not one message reaches the entity', () => {
    expect(checkOf(verdict, 'sb-send')).toMatchObject({ cause: 'authorized', evidence: { result: { access: 'send', senderLinkOpened: true } } });
    expect(checkOf(verdict, 'eh-send')).toMatchObject({ cause: 'authorized', evidence: { result: { access: 'send', senderLinkOpened: true } } });
    expect(world.state.namespaces!.map((n) => n.messagesReceived ?? 0)).toEqual([0, 0]);
  });

  it('asks for Azure Service Bus Data Sender when the Send claim is what the service refused', () => {
    const check = checkOf(verdict, 'sb-both-no-send');
    expect(check.cause).toBe('role_missing');
    expect(check.evidence.message).toMatch(/'Send' claim\(s\) are required/);
    expect(check.fix.join('\n')).toContain(`--role "Azure Service Bus Data Sender" --scope ${SB}/queues/orders`);
  });

  it('peeks a topic subscription with the role granted on that subscription', () => {
    expect(checkOf(verdict, 'sb-subscription')).toMatchObject({ cause: 'authorized', evidence: { result: { access: 'receive', peekable: true, messagesPeeked: 0 } } });
  });

  it('opens a receiver link on a partition when asked (from the latest event: nothing is read)', () => {
    expect(checkOf(verdict, 'eh-receiver-link')).toMatchObject({ cause: 'authorized', evidence: { result: { access: 'receive', receiverLinkOpened: true, partitions: 2 } } });
    expect(checkOf(verdict, 'eh-send').evidence.result).not.toHaveProperty('receiverLinkOpened');
  });

  it('asks a sender-only identity for Azure Event Hubs Data Receiver to read the hub', () => {
    const check = checkOf(verdict, 'eh-receive-as-sender');
    expect(check.cause).toBe('role_missing');
    expect(check.evidence.amqpCondition).toBe('amqp:unauthorized-access');
    expect(check.fix.join('\n')).toContain(`--role "Azure Event Hubs Data Receiver" --scope ${EH}/eventhubs/telemetry`);
  });
});
