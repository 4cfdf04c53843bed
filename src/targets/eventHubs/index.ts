import { z } from 'zod';
import { ROLES } from '../../catalog/roles';
import { comment } from '../../advice/shell';
import { baseFields } from '../fields';
import type { Operation, TargetKind } from '../kind';
import {
  accessField,
  classifyMessaging,
  customEndpoint,
  fullyQualifiedNamespace,
  NAMESPACE_SUFFIXES,
  namespaceArg,
  namespaceEndpoint,
  namespaceName,
  namespaceNetworkFix,
  namespaceResource,
  refusedSending,
  resourceGroupArg,
} from '../messaging';

const ENTITY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/;

/**
 * An event hub: the probe reads the hub's properties and one partition's (receive, the default) and, when `access`
 * asks for it, opens a producer link (no event is sent).
 */
export const EventHubsTargetSchema = z.object({
  ...baseFields,
  kind: z.literal('eventHubs'),
  fullyQualifiedNamespace,
  eventHubName: z.string().regex(ENTITY, 'expected an event hub name (letters, digits, ".", "_", "-")'),
  consumerGroup: z.string().regex(/^(\$Default|[A-Za-z0-9][A-Za-z0-9._-]{0,49})$/, 'expected a consumer group name ($Default, or letters, digits, ".", "_", "-")').optional(),
  /** receive (hub and partition properties), send (open a producer link), or both. Default receive. */
  access: accessField,
  /** With receive: also open a receiver link on the first partition, from the latest event (nothing is read). */
  openReceiver: z.boolean().optional(),
  /** customEndpointAddress: an application gateway or private path in front of the namespace. */
  endpoint: customEndpoint,
});
export type EventHubsTarget = z.infer<typeof EventHubsTargetSchema>;

/** Event Hubs data actions (https://learn.microsoft.com/azure/role-based-access-control/permissions/analytics). */
export const EVENT_HUBS_RECEIVE = 'Microsoft.EventHub/namespaces/messages/receive/action';
export const EVENT_HUBS_SEND = 'Microsoft.EventHub/namespaces/messages/send/action';

const RECEIVE: Operation = { description: 'read the event hub and its partitions', plane: 'data', permission: EVENT_HUBS_RECEIVE, leastRole: ROLES.eventHubsDataReceiver };
const SEND: Operation = { description: 'open a producer link', plane: 'data', permission: EVENT_HUBS_SEND, leastRole: ROLES.eventHubsDataSender };

const hubScope = (t: EventHubsTarget) => `/eventhubs/${t.eventHubName}`;

export const eventHubs: TargetKind<EventHubsTarget, typeof EventHubsTargetSchema> = {
  kind: 'eventHubs',
  schema: EventHubsTargetSchema,
  nouns: { service: 'Event Hubs', short: 'Event Hubs', target: 'event hub', hosts: 'Event Hubs', resource: 'namespace', sibling: 'event hub' },
  componentType: 'component',
  // @azure/core-amqp hard-codes https://eventhubs.azure.net//.default in every cloud (services-and-hosts.md §10.1) —
  // not the Service Bus audience, although both live under servicebus.windows.net.
  audiences: {
    AzurePublicCloud: ['https://eventhubs.azure.net/', 'https://eventhubs.azure.net'],
    AzureChinaCloud: ['https://eventhubs.azure.net/', 'https://eventhubs.azure.net'],
    AzureUSGovernment: ['https://eventhubs.azure.net/', 'https://eventhubs.azure.net'],
  },
  hosts: { suffixes: NAMESPACE_SUFFIXES, shape: 'one-label-under' },
  urlField: 'endpoint',
  endpoint: namespaceEndpoint,
  // Default (access receive): the $management READ of the hub and a partition; the world (and Azure/azure-event-hubs#195)
  // treat it as needing Listen — Azure Event Hubs Data Receiver.
  operation: RECEIVE,
  operationFor: (t, evidence) => (refusedSending(t, evidence?.message) ? SEND : RECEIVE),
  scopes: { grant: hubScope, touched: hubScope },
  object: () => 'event hub',
  resource: namespaceResource('eventhubs'),
  forbidden: {},
  classify: classifyMessaging,
  explain: {
    resource_not_found: ({ target: t, evidence }) =>
      `Event Hubs accepted the token but answered that the messaging entity does not exist (${evidence.errorCode ?? 'MessagingEntityNotFound'}): event hub ${t.eventHubName}${t.consumerGroup ? ` (consumer group ${t.consumerGroup})` : ''} is not in namespace ${namespaceName(t.fullyQualifiedNamespace)}.`,
    network_blocked: ({ target: t }) =>
      `Event Hubs refused the connection from this host's address ("Ip has been prevented to connect to the endpoint"): namespace ${namespaceName(t.fullyQualifiedNamespace)} has IP firewall or virtual-network rules that leave this host out, or public network access disabled. It reads like an authentication failure; no role change will fix it.`,
  },
  fixes: {
    resource_not_found: ({ target: t }) => [
      `az eventhubs eventhub list --namespace-name ${namespaceArg(t.fullyQualifiedNamespace)} --resource-group ${resourceGroupArg(t.resourceId)} --query "[].name" -o tsv`,
      comment(`fix "eventHubName"/"consumerGroup" of target "${t.name}", or create what is missing`),
    ],
    network_blocked: ({ target: t }) => namespaceNetworkFix('eventhubs', t.fullyQualifiedNamespace, resourceGroupArg(t.resourceId)),
  },
  causes: [
    'authorized', 'wrong_audience', 'wrong_tenant', 'token_expired', 'role_missing', 'network_blocked', 'propagation_pending',
    'grant_ineffective', 'resource_not_found', 'throttled', 'target_unreachable', 'target_error',
  ],
  loadProbe: async () => (await import('./probe')).probeEventHubs,
};
