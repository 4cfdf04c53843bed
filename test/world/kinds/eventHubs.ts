import { OTHER_TENANT_ID, RG_APP, TENANT_ID, USER_IDENTITY } from '../scenario';
import type { MessagingNamespace } from '../amqpBroker';
import type { World } from '../index';
import { ago, DAY, type KindWorld } from './types';

const namespaceId = (name: string) => `${RG_APP}/providers/Microsoft.EventHub/namespaces/${name}`;
const NAMES = {
  ok: 'ceh-ok', tenant: 'ceh-tenant', expired: 'ceh-expired', norole: 'ceh-norole', firewall: 'ceh-firewall', young: 'ceh-young',
  cond: 'ceh-cond', busy: 'ceh-busy', down: 'ceh-down',
} as const;

function namespace(world: World, name: string, extra: Partial<MessagingNamespace> = {}): void {
  (world.state.namespaces ??= []).push({ name, kind: 'eventHubs', resourceId: namespaceId(name), tenantId: TENANT_ID, eventHubs: { telemetry: { partitions: 2 } }, ...extra });
  world.state.arm.resources.push(namespaceId(name));
}

/** Event Hubs (test/world/amqpBroker.ts): one namespace per cause, each answering over AMQP as the service does. */
export const eventHubs: KindWorld = {
  kind: 'eventHubs',
  simulator: 'test/world/amqpBroker.ts',
  stage(world) {
    const oid = USER_IDENTITY.principalId;
    namespace(world, NAMES.ok);
    namespace(world, NAMES.tenant, { tenantId: OTHER_TENANT_ID });
    namespace(world, NAMES.expired, { fault: 'expiredToken' });
    namespace(world, NAMES.norole);
    namespace(world, NAMES.firewall, { network: 'private' });
    namespace(world, NAMES.young);
    namespace(world, NAMES.cond);
    namespace(world, NAMES.busy, { fault: 'busy' });
    namespace(world, NAMES.down, { fault: 'error' });
    for (const name of [NAMES.ok, NAMES.tenant, NAMES.expired, NAMES.firewall, NAMES.busy, NAMES.down]) {
      world.grant(oid, 'eventHubsDataReceiver', `${namespaceId(name)}/eventhubs/telemetry`, { createdOn: ago(DAY) });
    }
    world.grant(oid, 'eventHubsDataReceiver', namespaceId(NAMES.young), { createdOn: ago(60), propagationDelaySeconds: 3600 });
    world.grant(oid, 'eventHubsDataReceiver', namespaceId(NAMES.cond), { createdOn: ago(2 * DAY), condition: "@Resource[Microsoft.EventHub/namespaces/eventhubs:name] StringEquals 'other'" });
  },
  cases(world) {
    const t = (name: string, ns: string, extra: Record<string, unknown> = {}) => ({
      name,
      kind: 'eventHubs' as const,
      fullyQualifiedNamespace: `${ns}.servicebus.windows.net`,
      endpoint: world.namespaceEndpoint(ns),
      eventHubName: 'telemetry',
      resourceId: namespaceId(ns),
      ...extra,
    });
    return {
      authorized: t('eh-c-authorized', NAMES.ok),
      wrong_audience: t('eh-c-wrong-audience', NAMES.ok, { audience: 'https://servicebus.azure.net/' }),
      wrong_tenant: t('eh-c-wrong-tenant', NAMES.tenant),
      token_expired: t('eh-c-token-expired', NAMES.expired),
      role_missing: t('eh-c-role-missing', NAMES.norole),
      network_blocked: t('eh-c-network', NAMES.firewall),
      propagation_pending: t('eh-c-propagation', NAMES.young),
      grant_ineffective: t('eh-c-grant-ineffective', NAMES.cond),
      resource_not_found: t('eh-c-not-found', NAMES.ok, { eventHubName: 'no-such-hub' }),
      throttled: t('eh-c-throttled', NAMES.busy),
      target_unreachable: { name: 'eh-c-unreachable', kind: 'eventHubs', fullyQualifiedNamespace: 'nxdomain-ceh.servicebus.windows.net', endpoint: world.namespaceEndpoint('nxdomain-ceh'), eventHubName: 'telemetry' },
      target_error: t('eh-c-error', NAMES.down),
    };
  },
  adHoc: (url) => ({ name: 'adhoc', kind: 'eventHubs', fullyQualifiedNamespace: 'adhocns.servicebus.windows.net', endpoint: url, eventHubName: 'telemetry' }),
};
