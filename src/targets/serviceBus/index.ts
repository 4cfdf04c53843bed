import { z } from 'zod';
import { ROLES } from '../../catalog/roles';
import { comment } from '../../advice/shell';
import { baseFields } from '../fields';
import type { Operation, TargetKind } from '../kind';
import {
  accessField,
  classifyMessaging,
  customEndpoint,
  entityArg,
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

const ENTITY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$/;

/**
 * A Service Bus queue, or a topic subscription: the probe peeks one message (receive, the default — nothing is locked
 * or settled) and, when `access` asks for it, opens a sender link (no message is sent).
 */
export const ServiceBusTargetSchema = z
  .object({
    ...baseFields,
    kind: z.literal('serviceBus'),
    fullyQualifiedNamespace,
    queueName: z.string().regex(ENTITY, 'expected a queue name (letters, digits, ".", "_", "-")').optional(),
    topicName: z.string().regex(ENTITY, 'expected a topic name (letters, digits, ".", "_", "-")').optional(),
    subscriptionName: z.string().regex(ENTITY, 'expected a subscription name (letters, digits, ".", "_", "-")').optional(),
    /** receive (peek one message), send (open a sender link), or both. Default receive. */
    access: accessField,
    /** customEndpointAddress: an application gateway or private path in front of the namespace. */
    endpoint: customEndpoint,
  })
  .superRefine((t, ctx) => {
    if (t.queueName && (t.topicName || t.subscriptionName)) {
      ctx.addIssue({ code: 'custom', path: ['queueName'], message: 'give either queueName or topicName (+ subscriptionName), not both' });
    } else if (!t.queueName && !t.topicName) {
      ctx.addIssue({ code: 'custom', path: ['queueName'], message: 'expected queueName, or topicName with subscriptionName' });
    } else if (t.topicName && !t.subscriptionName && t.access !== 'send') {
      ctx.addIssue({ code: 'custom', path: ['subscriptionName'], message: 'receiving from a topic needs subscriptionName (or set access to "send")' });
    }
  });
export type ServiceBusTarget = z.infer<typeof ServiceBusTargetSchema>;

/** Service Bus data actions (https://learn.microsoft.com/azure/role-based-access-control/permissions/integration). */
export const SERVICE_BUS_RECEIVE = 'Microsoft.ServiceBus/namespaces/messages/receive/action';
export const SERVICE_BUS_SEND = 'Microsoft.ServiceBus/namespaces/messages/send/action';

const RECEIVE: Operation = { description: 'peek messages', plane: 'data', permission: SERVICE_BUS_RECEIVE, leastRole: ROLES.serviceBusDataReceiver };
const SEND: Operation = { description: 'open a sender link', plane: 'data', permission: SERVICE_BUS_SEND, leastRole: ROLES.serviceBusDataSender };

/** The ARM scope below the namespace: the queue, the subscription (receive) or its topic (send). */
const entityScope = (t: ServiceBusTarget, sending: boolean) =>
  t.queueName ? `/queues/${t.queueName}` : sending || !t.subscriptionName ? `/topics/${t.topicName}` : `/topics/${t.topicName}/subscriptions/${t.subscriptionName}`;

const entityText = (t: ServiceBusTarget) => (t.queueName ? `queue ${t.queueName}` : `topic ${t.topicName}${t.subscriptionName ? ` subscription ${t.subscriptionName}` : ''}`);

export const serviceBus: TargetKind<ServiceBusTarget, typeof ServiceBusTargetSchema> = {
  kind: 'serviceBus',
  schema: ServiceBusTargetSchema,
  nouns: { service: 'Service Bus', short: 'Service Bus', target: 'Service Bus entity', hosts: 'Service Bus', resource: 'namespace', sibling: 'entity' },
  componentType: 'component',
  // @azure/core-amqp hard-codes https://servicebus.azure.net//.default in every cloud (services-and-hosts.md §9.1).
  audiences: {
    AzurePublicCloud: ['https://servicebus.azure.net/', 'https://servicebus.azure.net'],
    AzureChinaCloud: ['https://servicebus.azure.net/', 'https://servicebus.azure.net'],
    AzureUSGovernment: ['https://servicebus.azure.net/', 'https://servicebus.azure.net'],
  },
  // Event Hubs namespaces share these suffixes: the host does not tell the two services apart.
  hosts: { suffixes: NAMESPACE_SUFFIXES, shape: 'one-label-under' },
  urlField: 'endpoint',
  endpoint: namespaceEndpoint,
  // Default (access receive): peekMessages needs the Listen claim — Azure Service Bus Data Receiver.
  operation: RECEIVE,
  operationFor: (t, evidence) => (refusedSending(t, evidence?.message) ? SEND : RECEIVE),
  scopes: {
    grant: (t) => entityScope(t, t.access === 'send'),
    touched: (t) => entityScope(t, t.access === 'send'),
  },
  object: (t) => (t.queueName ? 'queue' : t.subscriptionName ? 'subscription' : 'topic'),
  resource: namespaceResource('servicebus'),
  // AMQP refusals have no 403: classify reads them (src/targets/messaging.ts).
  forbidden: {},
  classify: classifyMessaging,
  explain: {
    resource_not_found: ({ target: t, evidence }) =>
      `Service Bus accepted the token but answered that the messaging entity does not exist (${evidence.errorCode ?? 'MessagingEntityNotFound'}): ${entityText(t)} is not in namespace ${namespaceName(t.fullyQualifiedNamespace)}. Whether the identity may use it is only decided once it exists.`,
    network_blocked: ({ target: t }) =>
      `Service Bus refused the connection from this host's address ("Ip has been prevented to connect to the endpoint"): namespace ${namespaceName(t.fullyQualifiedNamespace)} has IP firewall or virtual-network rules that leave this host out, or public network access disabled (private endpoints only). It reads like an authentication failure (401 at put-token); no role change will fix it.`,
    throttled: () =>
      'Service Bus answered com.microsoft:server-busy: the namespace is throttling requests. Authorization was not evaluated; something is calling it too often (or the tier\'s capacity is exhausted).',
  },
  fixes: {
    resource_not_found: ({ target: t }) => {
      const ns = namespaceArg(t.fullyQualifiedNamespace);
      const rg = resourceGroupArg(t.resourceId);
      return t.queueName
        ? [`az servicebus queue list --namespace-name ${ns} --resource-group ${rg} --query "[].name" -o tsv`, comment(`create queue ${t.queueName}, or fix "queueName" of target "${t.name}"`)]
        : [
            `az servicebus topic subscription list --namespace-name ${ns} --resource-group ${rg} --topic-name ${entityArg(t.topicName ?? '', 'topic-name')} --query "[].name" -o tsv`,
            comment(`fix "topicName"/"subscriptionName" of target "${t.name}", or create what is missing`),
          ];
    },
    network_blocked: ({ target: t }) => namespaceNetworkFix('servicebus', t.fullyQualifiedNamespace, resourceGroupArg(t.resourceId)),
  },
  causes: [
    'authorized', 'wrong_audience', 'wrong_tenant', 'token_expired', 'role_missing', 'network_blocked', 'propagation_pending',
    'grant_ineffective', 'resource_not_found', 'throttled', 'target_unreachable', 'target_error',
  ],
  loadProbe: async () => (await import('./probe')).probeServiceBus,
};
