import { OTHER_TENANT_ID, RG_APP, TENANT_ID, USER_IDENTITY } from '../scenario';
import type { MessagingNamespace } from '../amqpBroker';
import type { World } from '../index';
import { ago, DAY, type KindWorld } from './types';

const namespaceId = (name: string) => `${RG_APP}/providers/Microsoft.ServiceBus/namespaces/${name}`;
const NAMES = {
  ok: 'csb-ok', tenant: 'csb-tenant', expired: 'csb-expired', norole: 'csb-norole', firewall: 'csb-firewall', young: 'csb-young',
  cond: 'csb-cond', busy: 'csb-busy', down: 'csb-down',
} as const;

function namespace(world: World, name: string, extra: Partial<MessagingNamespace> = {}): void {
  (world.state.namespaces ??= []).push({ name, kind: 'serviceBus', resourceId: namespaceId(name), tenantId: TENANT_ID, queues: { orders: { messages: 2 } }, ...extra });
  world.state.arm.resources.push(namespaceId(name));
}

/** Service Bus (test/world/amqpBroker.ts): one namespace per cause, each answering over AMQP as the service does. */
export const serviceBus: KindWorld = {
  kind: 'serviceBus',
  simulator: 'test/world/amqpBroker.ts',
  stage(world) {
    const oid = USER_IDENTITY.principalId;
    namespace(world, NAMES.ok);
    namespace(world, NAMES.tenant, { tenantId: OTHER_TENANT_ID });
    namespace(world, NAMES.expired, { fault: 'expiredToken' });
    namespace(world, NAMES.norole);
    namespace(world, NAMES.firewall, { network: 'ipFilter' });
    namespace(world, NAMES.young);
    namespace(world, NAMES.cond);
    namespace(world, NAMES.busy, { fault: 'busy' });
    namespace(world, NAMES.down, { fault: 'error' });
    // Granted on the queue, the narrowest scope (what the role_missing fix names too).
    for (const name of [NAMES.ok, NAMES.tenant, NAMES.expired, NAMES.firewall, NAMES.busy, NAMES.down]) {
      world.grant(oid, 'serviceBusDataReceiver', `${namespaceId(name)}/queues/orders`, { createdOn: ago(DAY) });
    }
    world.grant(oid, 'serviceBusDataReceiver', namespaceId(NAMES.young), { createdOn: ago(60), propagationDelaySeconds: 3600 });
    world.grant(oid, 'serviceBusDataReceiver', namespaceId(NAMES.cond), { createdOn: ago(2 * DAY), condition: "@Resource[Microsoft.ServiceBus/namespaces/queues:name] StringEquals 'other'" });
    // A principal holding only control-plane Reader on the no-role namespace: the control-plane vs data-plane trap.
    world.grant(oid, 'reader', namespaceId(NAMES.norole), { createdOn: ago(DAY) });
  },
  cases(world) {
    const t = (name: string, ns: string, extra: Record<string, unknown> = {}) => ({
      name,
      kind: 'serviceBus' as const,
      fullyQualifiedNamespace: `${ns}.servicebus.windows.net`,
      endpoint: world.namespaceEndpoint(ns),
      queueName: 'orders',
      resourceId: namespaceId(ns),
      ...extra,
    });
    return {
      authorized: t('sb-c-authorized', NAMES.ok),
      wrong_audience: t('sb-c-wrong-audience', NAMES.ok, { audience: 'https://management.azure.com/' }),
      wrong_tenant: t('sb-c-wrong-tenant', NAMES.tenant),
      token_expired: t('sb-c-token-expired', NAMES.expired),
      role_missing: t('sb-c-role-missing', NAMES.norole),
      network_blocked: t('sb-c-network', NAMES.firewall),
      propagation_pending: t('sb-c-propagation', NAMES.young),
      grant_ineffective: t('sb-c-grant-ineffective', NAMES.cond),
      resource_not_found: t('sb-c-not-found', NAMES.ok, { queueName: 'no-such-queue' }),
      throttled: t('sb-c-throttled', NAMES.busy),
      target_unreachable: { name: 'sb-c-unreachable', kind: 'serviceBus', fullyQualifiedNamespace: 'nxdomain-csb.servicebus.windows.net', endpoint: world.namespaceEndpoint('nxdomain-csb'), queueName: 'orders' },
      target_error: t('sb-c-error', NAMES.down),
    };
  },
  adHoc: (url) => ({ name: 'adhoc', kind: 'serviceBus', fullyQualifiedNamespace: 'adhocns.servicebus.windows.net', endpoint: url, queueName: 'orders' }),
};
