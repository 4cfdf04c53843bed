import { z } from 'zod';
import type { CloudName } from '../catalog/clouds';
import { comment, idOr, sh } from '../advice/shell';
import type { Cause } from '../verdict';
import type { CallFailure } from '../wire/callFailure';
import { httpsUrl } from './fields';

/**
 * What Service Bus and Event Hubs share: one namespace host per cloud (both services live under servicebus.windows.net:
 * the host alone does not tell them apart — services-and-hosts.md §1), the AMQP client settings, and how their AMQP
 * refusals read. Kinds: src/targets/serviceBus/, src/targets/eventHubs/.
 */

/** PE-DNS "Public DNS zone forwarders" (MicrosoftDocs/azure-docs articles/private-link/private-endpoint-dns.md). */
export const NAMESPACE_SUFFIXES: Readonly<Record<CloudName, string>> = {
  AzurePublicCloud: 'servicebus.windows.net',
  AzureChinaCloud: 'servicebus.chinacloudapi.cn',
  AzureUSGovernment: 'servicebus.usgovcloudapi.net',
};

/**
 * `<namespace>.servicebus.windows.net` (or a sovereign cloud's suffix). Namespace names are 6–50 letters, digits and
 * hyphens, starting with a letter (https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules).
 * Only such a host is accepted: without `endpoint` the token travels to it, so it must be the service's own.
 */
export const fullyQualifiedNamespace = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z][A-Za-z0-9-]{4,48}[A-Za-z0-9]\.servicebus\.(windows\.net|chinacloudapi\.cn|usgovcloudapi\.net)$/,
    'expected <namespace>.servicebus.windows.net (or .servicebus.chinacloudapi.cn / .servicebus.usgovcloudapi.net), without scheme or path',
  );

/** The SDKs' customEndpointAddress: an application gateway or private path in front of the namespace. */
export const customEndpoint = httpsUrl('https://<gateway-host>[:<port>]').optional();

/** What a target proves: receive (the default), send, or both. */
export const accessField = z.enum(['receive', 'send', 'both']).optional();
export type Access = 'receive' | 'send' | 'both';

/** The namespace's first label. */
export const namespaceName = (fqns: string): string => fqns.split('.')[0]!.toLowerCase();
const NAMESPACE = /^[a-z][a-z0-9-]{4,48}[a-z0-9]$/;
/** The namespace name as a shell word. */
export const namespaceArg = (fqns: string): string => idOr(namespaceName(fqns), (v) => NAMESPACE.test(v), 'namespace-name');
/** An entity name (queue, topic, subscription, event hub, consumer group) as a shell word. */
export const entityArg = (v: string, placeholder: string): string => idOr(v, (x) => /^[A-Za-z0-9$][A-Za-z0-9._/-]{0,259}$/.test(x), placeholder);

/** Where the token and the AMQP connection go: the custom endpoint, else the namespace host. */
export const namespaceEndpoint = (t: { fullyQualifiedNamespace: string; endpoint?: string }): string =>
  (t.endpoint ?? `https://${t.fullyQualifiedNamespace}`).replace(/\/+$/, '');

/**
 * The SDK client options of every probe: no retries (a verdict reports the first answer; core-amqp's default would
 * retry an UnauthorizedError three times, 30 s apart — services-and-hosts.md §9.3), an operation timeout, and the
 * custom endpoint when set. The AMQP transport takes no HTTP client, so DIAGNOSE_MAX_RESPONSE_BYTES cannot wrap it: the
 * probes ask for at most one message (Service Bus) or two small property maps (Event Hubs), which the service bounds.
 */
export function amqpClientOptions(t: { endpoint?: string }): { retryOptions: { maxRetries: number; timeoutInMs: number }; customEndpointAddress?: string } {
  return { retryOptions: { maxRetries: 0, timeoutInMs: 60_000 }, ...(t.endpoint ? { customEndpointAddress: t.endpoint } : {}) };
}

/**
 * How Service Bus and Event Hubs refusals read (the SDKs keep the code and the service's description, not the AMQP
 * status): the description's reason code when it has one, else the words that are its only code.
 */
export function classifyMessaging(f: CallFailure): Cause | 'authentication' | undefined {
  if (!f.errorCode && !f.amqpCondition) return undefined;
  const text = f.message ?? '';
  // Observed (put-token 401, Service Bus and Event Hubs alike): "Ip has been prevented to connect to the endpoint. For
  // more information see: Virtual Network service endpoints … IP Filters …" — an IP rule or disabled public access, not a token problem.
  if (/Ip has been prevented to connect to the endpoint/i.test(text)) return 'network_blocked';
  // Observed: "Unauthorized access. 'Listen' claim(s) are required to perform this operation. Resource: 'sb://…'"
  // (Azure/azure-sdk-for-net#24289, Azure/azure-service-bus-java#110, Azure/azure-event-hubs-python#4): a valid token
  // without a data role — amqp:unauthorized-access looks like authentication and is a missing role.
  if (/claim\(s\) are required to perform this operation/i.test(text)) return 'role_missing';
  // core-amqp: "status-code: 404" / "The messaging entity … could not be found" → MessagingEntityNotFoundError (errors.ts).
  if (f.errorCode === 'MessagingEntityNotFound' || f.errorCode === 'MessagingEntityNotFoundError') return 'resource_not_found';
  // com.microsoft:server-busy → ServerBusyError / ServiceBusy (service-bus-throttling: error code 50009).
  if (f.amqpCondition === 'com.microsoft:server-busy') return 'throttled';
  if (f.amqpCondition === 'amqp:unauthorized-access') {
    // put-token 401 reason codes: Azure/azure-sdk-for-net#27644 (InvalidAudience), Azure/logicapps#1390 (InvalidIssuer),
    // Azure/azure-sdk-for-python#23487 (ExpiredToken).
    switch (f.innerErrorCode) {
      case 'InvalidAudience':
        return 'wrong_audience';
      case 'InvalidIssuer':
        return 'wrong_tenant';
      case 'ExpiredToken':
        return 'token_expired';
      default:
        return 'authentication';
    }
  }
  return undefined;
}

/** Whether a target's refusal was about sending: its access, or (both) the claim the service named ("'Send' claim"). */
export const refusedSending = (t: { access?: Access }, message: string | undefined): boolean =>
  t.access === 'send' || (t.access === 'both' && /'Send' claim/.test(message ?? ''));

/** How a fix finds a namespace's ARM id, names it in prose and lists the others: the `resource` of both kinds. */
export function namespaceResource(group: 'servicebus' | 'eventhubs') {
  return {
    lookup: (t: { fullyQualifiedNamespace: string }) =>
      `az ${group} namespace list --query "[?name=='${namespaceName(t.fullyQualifiedNamespace).replace(/[^a-z0-9-]/g, '')}'].id" -o tsv`,
    text: (t: { fullyQualifiedNamespace: string }) => `the namespace ${namespaceName(t.fullyQualifiedNamespace)}`,
    listNames: `az ${group} namespace list --query "[].name" -o tsv`,
  };
}

/** The network fix of a namespace (IP rules; private endpoint when public access is off). */
export function namespaceNetworkFix(group: 'servicebus' | 'eventhubs', fqns: string, resourceGroup: string): string[] {
  const ns = namespaceArg(fqns);
  return [
    `az ${group} namespace show --name ${ns} --resource-group ${resourceGroup} --query "{publicNetworkAccess:publicNetworkAccess}" -o json`,
    `az ${group} namespace network-rule-set ip-rule add --namespace-name ${ns} --resource-group ${resourceGroup} --ip-rule ip-address=<workload-outbound-ip> action=Allow   ${comment('or a virtual-network rule for the workload subnet')}`,
    comment(`if publicNetworkAccess is Disabled: reach ${sh(fqns)} through a private endpoint (zone privatelink.servicebus.windows.net) — never open it to all networks`),
  ];
}

/** The resource group of an ARM id, as a shell word (a placeholder without one). */
export const resourceGroupArg = (resourceId: string | undefined): string =>
  idOr(/\/resourceGroups\/([^/]+)/i.exec(resourceId ?? '')?.[1] ?? '', (v) => /^[-\w._()]{1,90}$/.test(v), 'resource-group');
