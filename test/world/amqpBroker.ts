import { randomUUID } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import rhea, { type Connection, type EventContext, type Message, type Receiver, type Sender } from 'rhea';
import { sameAudience } from '../../src/catalog/clouds';
import { CLOUDS, type TargetKindName } from '../../src/targets/registry';
import type { WorldState } from './model';
import { callerOf, findDataActionGrant } from './rbac';
import type { Service } from './service';
import { decodeJwt, issuerTenant, type TokenClaims } from './tokens';

/**
 * Service Bus and Event Hubs as their SDKs see them: one AMQP 1.0 broker (on rhea, the AMQP library the Azure SDK
 * itself uses) on 127.0.0.1 with TLS. The namespace is the first label of the AMQP open frame's hostname (the SDK sends
 * the namespace's own host there even through a customEndpointAddress; else the TLS SNI). It reproduces what the SDKs
 * walk through:
 *
 * - SASL: the SDKs send none with a TokenCredential (rhea starts SASL only for a user name — a connection string's
 *   key name); rhea's selective server takes both, as the service does (SASL ANONYMOUS, then CBS).
 * - `$cbs` put-token (application properties `operation`, `name` = the entity audience `sb://<host>/<entity>…`,
 *   `type` = `jwt`; the token is the body): the JWT's audience, issuer tenant and expiry are checked, then the entity;
 *   the answer is `status-code` / `status-description` as the service words it. A valid token is remembered for its
 *   entity audience on this connection.
 * - Link attach to an entity (a sender to `<queue|topic|hub>`, a receiver from `<queue>`, `<topic>/Subscriptions/<s>`,
 *   `<hub>/ConsumerGroups/<cg>/Partitions/<p>`): authorized by the role assignments of the token put for that entity,
 *   via the data actions of src/catalog/roles.ts; refused by a detach with `amqp:unauthorized-access` and the claim text.
 * - `$management`: Service Bus `com.microsoft:peek-message` (Listen; 204 when empty, else one message) and Event Hubs
 *   `READ` of `com.microsoft:eventhub` / `com.microsoft:partition` (Listen), with Service Bus's `statusCode` and Event
 *   Hubs' `status-code` answer properties.
 * - Faults per namespace: an IP filter / disabled public access (401 "Ip has been prevented…" at put-token), busy
 *   (`com.microsoft:server-busy` on requests).
 */

/** A Service Bus queue. `messages` is how many a peek finds (their bodies are never shown). */
export interface SbQueue {
  messages?: number;
}

/** A Service Bus or Event Hubs namespace in `state.namespaces`. */
export interface MessagingNamespace {
  /** First label of `<name>.servicebus.windows.net` (6–50 letters, digits, hyphens). */
  name: string;
  kind: Extract<TargetKindName, 'serviceBus' | 'eventHubs'>;
  resourceId: string;
  tenantId: string;
  /** `ipFilter`: the client address is outside the IP rules; `private`: public network access disabled. Both refuse at put-token. */
  network?: 'open' | 'ipFilter' | 'private';
  /**
   * `busy`: every management request and sender attach is answered com.microsoft:server-busy; `error`: amqp:internal-error;
   * `expiredToken`: put-token answers as it does for a token past its life (the world's tokens are fresh).
   */
  fault?: 'busy' | 'error' | 'expiredToken';
  queues?: Record<string, SbQueue>;
  topics?: Record<string, { subscriptions: Record<string, SbQueue> }>;
  /** Event hubs: partition count and consumer groups (`$Default` always exists). */
  eventHubs?: Record<string, { partitions: number; consumerGroups?: string[] }>;
  /** Set by the broker: messages that arrived on an entity's sender link (the probes must leave it at 0). */
  messagesReceived?: number;
}

export interface AmqpBrokerDeps {
  state: WorldState;
  tls: { cert: string; key: string };
  nowMs(): number;
}

/** The audiences each namespace kind accepts (its kind module's, every cloud: the SDKs hard-code them). */
function acceptedAudiences(kind: MessagingNamespace['kind']): string[] {
  return Object.values(CLOUDS).flatMap((c) => [c.audiences[kind], ...c.alsoAccepted[kind]]);
}

const DATA_ACTIONS = {
  serviceBus: { receive: 'Microsoft.ServiceBus/namespaces/messages/receive/action', send: 'Microsoft.ServiceBus/namespaces/messages/send/action' },
  eventHubs: { receive: 'Microsoft.EventHub/namespaces/messages/receive/action', send: 'Microsoft.EventHub/namespaces/messages/send/action' },
} as const;

/** The entity an address or audience path names, and the ARM scope below the namespace that governs it. */
interface Entity {
  /** The path as the service prints it in errors (`queue`, `topic/subscriptions/sub`, `hub`). */
  path: string;
  exists: boolean;
  /** ARM scope below the namespace id, for receive (a subscription) and for send (its topic). */
  receiveScope: string;
  sendScope: string;
  /** Peekable message count (Service Bus queue or subscription). */
  messages: number;
  partitions: number;
}

function entityOf(ns: MessagingNamespace, rawPath: string): Entity | undefined {
  const segs = rawPath.split('/').filter(Boolean).filter((s) => s.toLowerCase() !== '$management');
  if (segs.length === 0) return undefined;
  const [first, second, third] = segs;
  const lower = (s: string | undefined) => (s ?? '').toLowerCase();
  if (ns.kind === 'serviceBus') {
    const queue = Object.entries(ns.queues ?? {}).find(([q]) => q.toLowerCase() === lower(first));
    if (queue) return { path: lower(first), exists: true, receiveScope: `/queues/${queue[0]}`, sendScope: `/queues/${queue[0]}`, messages: queue[1].messages ?? 0, partitions: 0 };
    const topic = Object.entries(ns.topics ?? {}).find(([t]) => t.toLowerCase() === lower(first));
    if (topic && lower(second) === 'subscriptions' && third !== undefined) {
      const sub = Object.entries(topic[1].subscriptions).find(([s]) => s.toLowerCase() === lower(third));
      const path = `${lower(first)}/subscriptions/${lower(third)}`;
      return sub
        ? { path, exists: true, receiveScope: `/topics/${topic[0]}/subscriptions/${sub[0]}`, sendScope: `/topics/${topic[0]}`, messages: sub[1].messages ?? 0, partitions: 0 }
        : { path, exists: false, receiveScope: '', sendScope: '', messages: 0, partitions: 0 };
    }
    if (topic) return { path: lower(first), exists: true, receiveScope: `/topics/${topic[0]}`, sendScope: `/topics/${topic[0]}`, messages: 0, partitions: 0 };
    return { path: segs.map(lower).join('/'), exists: false, receiveScope: '', sendScope: '', messages: 0, partitions: 0 };
  }
  const hub = Object.entries(ns.eventHubs ?? {}).find(([h]) => h.toLowerCase() === lower(first));
  if (!hub) return { path: lower(first), exists: false, receiveScope: '', sendScope: '', messages: 0, partitions: 0 };
  const scope = `/eventhubs/${hub[0]}`;
  if (lower(second) === 'consumergroups' && third !== undefined) {
    const groups = ['$default', ...(hub[1].consumerGroups ?? []).map(lower)];
    if (!groups.includes(lower(third))) return { path: `${lower(first)}/consumergroups/${lower(third)}`, exists: false, receiveScope: '', sendScope: '', messages: 0, partitions: 0 };
  }
  return { path: lower(first), exists: true, receiveScope: scope, sendScope: scope, messages: 0, partitions: hub[1].partitions };
}

/** "TrackingId:<id>_G<n>, SystemTracker:<host>:<entity>, Timestamp:<utc>" — the tail of every service description. */
function tracker(host: string, entity: string | undefined, nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().slice(0, 19);
  return `TrackingId:${randomUUID()}_G${1 + Math.floor(Math.random() * 30)}, SystemTracker:${entity ? `${host}:${entity}` : 'NoSystemTracker'}, Timestamp:${stamp}`;
}

interface ConnectionState {
  ns?: MessagingNamespace;
  host: string;
  /** Tokens accepted at $cbs, by the entity path their audience names (lowercase, without `$management`). */
  tokens: Map<string, TokenClaims>;
}

export async function startAmqpBroker(deps: AmqpBrokerDeps): Promise<Service> {
  const container = rhea.create_container({ id: `world-amqp-${randomUUID().slice(0, 8)}` });
  const connections = new WeakMap<Connection, ConnectionState>();
  const sockets = new Set<Socket>();

  const stateOf = (connection: Connection): ConnectionState => {
    let s = connections.get(connection);
    if (!s) {
      const open = (connection as unknown as { remote?: { open?: { hostname?: string } } }).remote?.open;
      const sni = ((connection as unknown as { socket?: TLSSocket }).socket?.servername as string | false | undefined) || '';
      const host = (open?.hostname || sni || '').toLowerCase();
      const label = host.split('.')[0] ?? '';
      const ns = /^[^.]+\.servicebus\.(windows\.net|chinacloudapi\.cn|usgovcloudapi\.net)$/.test(host)
        ? deps.state.namespaces?.find((n) => n.name.toLowerCase() === label)
        : undefined;
      s = { ns, host, tokens: new Map() };
      connections.set(connection, s);
    }
    return s;
  };

  /** The path below `sb://<host>/` an audience names (case kept as sent, compared lowercase). */
  const audiencePath = (audience: string, host: string): string | undefined => {
    const m = /^(?:sb|amqps?|https?):\/\/([^/]+)\/?(.*)$/i.exec(audience);
    if (!m || m[1]!.toLowerCase().split(':')[0] !== host) return undefined;
    return m[2] ?? '';
  };

  const authorized = (ns: MessagingNamespace, claims: TokenClaims, scope: string, action: 'receive' | 'send'): boolean =>
    findDataActionGrant(
      deps.state.assignments,
      callerOf(String(claims.oid ?? ''), deps.state.groups, claims.iat, deps.state.arm.managementGroups),
      `${ns.resourceId}${scope}`,
      DATA_ACTIONS[ns.kind][action],
      deps.nowMs(),
    ) !== undefined;

  const claimText = (claim: 'Listen' | 'Send', host: string, entity: string) =>
    `Unauthorized access. '${claim}' claim(s) are required to perform this operation. Resource: 'sb://${host}/${entity}'. ${tracker(host, entity, deps.nowMs())}`;

  /** The token put for this entity (its own audience, or its $management audience). */
  const tokenFor = (st: ConnectionState, entity: Entity): TokenClaims | undefined => st.tokens.get(entity.path);

  // ---- $cbs put-token --------------------------------------------------------------------------------------------
  const putToken = (st: ConnectionState, request: Message): { status: number; description: string } => {
    const props = (request.application_properties ?? {}) as Record<string, unknown>;
    const ns = st.ns;
    const now = deps.nowMs();
    if (props.operation !== 'put-token') return { status: 400, description: `The operation '${String(props.operation)}' is not supported by $cbs. ${tracker(st.host, undefined, now)}` };
    if (!ns) return { status: 404, description: `The messaging entity 'sb://${st.host}/' could not be found. ${tracker(st.host, undefined, now)}` };
    // Observed: "Put token failed. status-code: 401 … Ip has been prevented to connect to the endpoint." with links to
    // the VNet service-endpoint and IP-filter docs (both refusals read the same; Event Hubs answers in the same words).
    if (ns.network === 'ipFilter' || ns.network === 'private') {
      return {
        status: 401,
        description:
          'Ip has been prevented to connect to the endpoint.\nFor more information see:\nVirtual Network service endpoints:\nEvent Hubs: https://go.microsoft.com/fwlink/?linkid=2044192\nService Bus: https://go.microsoft.com/fwlink/?linkid=2044235\nIP Filters:\nEvent Hubs: https://go.microsoft.com/fwlink/?linkid=2044428\nService Bus: https://go.microsoft.com/fwlink/?linkid=2044183\n' +
          tracker(st.host, undefined, now),
      };
    }
    const token = typeof request.body === 'string' ? request.body : Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '';
    const claims = decodeJwt(token);
    // Azure/azure-sdk-for-net#27644 / MicrosoftDocs/azure-docs#19707: 401 "InvalidAudience: …"
    if (!claims || typeof claims.aud !== 'string') return { status: 401, description: `InvalidSignature: The token has an invalid signature. ${tracker(st.host, undefined, now)}` };
    if (!acceptedAudiences(ns.kind).some((a) => sameAudience(a, String(claims.aud)))) {
      return { status: 401, description: `InvalidAudience: Invalid authorization token audience. ${tracker(st.host, undefined, now)}` };
    }
    // Azure/logicapps#1390, Azure/azure-sdk-for-net#8627: 401 "InvalidIssuer: Token issuer is invalid. TrackingId:…, SystemTracker:NoSystemTracker, …"
    const tenant = issuerTenant(claims);
    if (!tenant || tenant.toLowerCase() !== ns.tenantId.toLowerCase()) {
      return { status: 401, description: `InvalidIssuer: Token issuer is invalid. ${tracker(st.host, undefined, now)}` };
    }
    // Azure/azure-sdk-for-python#23487, Azure/azure-service-bus-java#354: 401 "ExpiredToken: The token is expired. Expiration time: '…'"
    if (typeof claims.exp !== 'number' || claims.exp * 1000 < now || ns.fault === 'expiredToken') {
      const at = typeof claims.exp === 'number' ? new Date(claims.exp * 1000).toISOString().replace('T', ' ').slice(0, 19) + 'Z' : 'unknown';
      return { status: 401, description: `ExpiredToken: The token is expired. Expiration time: '${at}'. ${tracker(st.host, undefined, now)}` };
    }
    const path = audiencePath(String(props.name ?? ''), st.host);
    const entity = path === undefined ? undefined : entityOf(ns, path);
    if (!entity) return { status: 401, description: `InvalidAudience: The token audience '${String(props.name ?? '')}' does not match this namespace. ${tracker(st.host, undefined, now)}` };
    // Azure/azure-service-bus#451: "Put token failed. status-code: 404, status-description: The messaging entity
    // 'sb://<ns>.servicebus.windows.net/<entity>' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions. TrackingId:…"
    if (!entity.exists) {
      return {
        status: 404,
        description: `The messaging entity 'sb://${st.host}/${entity.path}' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions.  ${tracker(st.host, entity.path, now)}`,
      };
    }
    st.tokens.set(entity.path, claims);
    return { status: 202, description: 'Accepted' };
  };

  // ---- $management ---------------------------------------------------------------------------------------------------
  interface Answer {
    properties: Record<string, unknown>;
    body?: unknown;
  }
  const management = (st: ConnectionState, address: string, request: Message): Answer => {
    const props = (request.application_properties ?? {}) as Record<string, unknown>;
    const ns = st.ns!;
    const now = deps.nowMs();
    // Service Bus answers statusCode/statusDescription (camelCase, read by @azure/service-bus); Event Hubs answers
    // status-code/status-description (read by @azure/core-amqp's RequestResponseLink).
    const status = (code: number, description: string, condition?: string): Answer =>
      ns.kind === 'serviceBus'
        ? { properties: { statusCode: code, statusDescription: description, ...(condition ? { errorCondition: condition } : {}) } }
        : { properties: { 'status-code': code, 'status-description': description, ...(condition ? { 'error-condition': condition } : {}) } };
    const entityPath = ns.kind === 'serviceBus' ? address : String(props.name ?? '');
    const entity = entityOf(ns, entityPath);
    if (!entity || !entity.exists) {
      return status(404, `The messaging entity 'sb://${st.host}/${entity?.path ?? entityPath}' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions.  ${tracker(st.host, entity?.path, now)}`, 'amqp:not-found');
    }
    if (ns.fault === 'busy') {
      // https://learn.microsoft.com/azure/service-bus-messaging/service-bus-throttling: ServerBusy, error code 50009.
      return status(503, `The request was terminated because the entity is being throttled. Error code : 50009. Please wait 2 seconds and try again. ${tracker(st.host, entity.path, now)}`, 'com.microsoft:server-busy');
    }
    if (ns.fault === 'error') {
      return status(500, `The service was unable to process the request; please retry the operation. For more information on exception types and proper exception handling, please refer to https://aka.ms/ServiceBusExceptions . ${tracker(st.host, entity.path, now)}`, 'amqp:internal-error');
    }
    // Event Hubs also carries the token in the request (`security_token`); the one put at $cbs decides here.
    const claims = tokenFor(st, entity);
    if (!claims || !authorized(ns, claims, entity.receiveScope, 'receive')) {
      return status(401, claimText('Listen', st.host, `${entity.path}/$management`), 'amqp:unauthorized-access');
    }
    if (ns.kind === 'serviceBus') {
      if (props.operation !== 'com.microsoft:peek-message') return status(400, `The operation '${String(props.operation)}' is not supported by this simulated $management node.`, 'com.microsoft:argument-error');
      if (entity.messages === 0) return status(204, 'No messages available');
      // One message, its body a fixed placeholder: the probe reports counts only.
      const message = rhea.message.encode({
        body: 'simulated',
        message_annotations: { 'x-opt-sequence-number': rhea.types.wrap_long(1), 'x-opt-enqueued-time': new Date(now - 60_000) },
      } as Message);
      return { ...status(200, 'OK'), body: { messages: [{ message }] } };
    }
    if (props.operation !== 'READ') return status(400, `The operation '${String(props.operation)}' is not supported by this simulated $management node.`, 'com.microsoft:argument-error');
    const created = new Date(now - 86_400_000);
    if (props.type === 'com.microsoft:eventhub') {
      return { ...status(200, 'OK'), body: { name: entity.path, type: 'com.microsoft:eventhub', created_at: created, partition_count: entity.partitions, partition_ids: Array.from({ length: entity.partitions }, (_, i) => String(i)) } };
    }
    const partition = String(props.partition ?? '');
    if (!/^\d+$/.test(partition) || Number(partition) >= entity.partitions) return status(400, `The specified partition is invalid for an EventHub partition sender or receiver. ${tracker(st.host, entity.path, now)}`, 'com.microsoft:argument-out-of-range');
    return {
      ...status(200, 'OK'),
      body: {
        name: entity.path,
        type: 'com.microsoft:partition',
        partition,
        begin_sequence_number: rhea.types.wrap_long(0),
        last_enqueued_sequence_number: rhea.types.wrap_long(-1),
        last_enqueued_offset: '-1',
        last_enqueued_time_utc: created,
        is_partition_empty: true,
      },
    };
  };

  // ---- links ---------------------------------------------------------------------------------------------------------
  const addressOf = (terminus: unknown): string => String((terminus as { address?: unknown } | undefined)?.address ?? '');

  container.on('connection_open', (context: EventContext) => {
    const st = stateOf(context.connection);
    if (!st.ns) {
      context.connection.close({ condition: 'amqp:not-found', description: `The host '${st.host}' is not a namespace of this simulated world.` });
    }
  });

  // The client attaches a sender: the server side is a receiver (target = $cbs, an entity's $management, or an entity).
  container.on('receiver_open', (context: EventContext) => {
    const receiver = context.receiver as Receiver;
    const st = stateOf(context.connection);
    const address = addressOf(receiver.target);
    receiver.set_target({ address });
    receiver.set_source({ address: addressOf(receiver.source) });
    (receiver as unknown as { local: { attach: { max_message_size?: number } } }).local.attach.max_message_size = 262_144;
    if (address === '$cbs' || /\$management$/i.test(address) || !st.ns) return;
    const entity = entityOf(st.ns, address);
    const now = deps.nowMs();
    if (!entity || !entity.exists) {
      receiver.close({ condition: 'amqp:not-found', description: `The messaging entity 'sb://${st.host}/${address}' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions.  ${tracker(st.host, address, now)}` });
      return;
    }
    if (st.ns.fault === 'busy') {
      receiver.close({ condition: 'com.microsoft:server-busy', description: `The request was terminated because the entity is being throttled. Error code : 50009. Please wait 2 seconds and try again. ${tracker(st.host, entity.path, now)}` });
      return;
    }
    const claims = tokenFor(st, entity);
    // Azure/azure-service-bus-java#110: the sender link is detached with amqp:unauthorized-access "'Send' claim(s) are required".
    if (!claims || !authorized(st.ns, claims, entity.sendScope, 'send')) {
      receiver.close({ condition: 'amqp:unauthorized-access', description: claimText('Send', st.host, entity.path) });
    }
  });

  // The client attaches a receiver: the server side is a sender (source = $cbs / $management reply link, or an entity).
  container.on('sender_open', (context: EventContext) => {
    const sender = context.sender as Sender;
    const st = stateOf(context.connection);
    const address = addressOf(sender.source);
    sender.set_source({ address });
    sender.set_target({ address: addressOf(sender.target) });
    if (address === '$cbs' || /\$management$/i.test(address) || !st.ns) return;
    const entity = entityOf(st.ns, address);
    if (!entity || !entity.exists) {
      sender.close({ condition: 'amqp:not-found', description: `The messaging entity 'sb://${st.host}/${address}' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions.  ${tracker(st.host, address, deps.nowMs())}` });
      return;
    }
    const claims = tokenFor(st, entity);
    // Azure/azure-event-hubs-python#4: a receiver is detached with amqp:unauthorized-access "'Listen' claim(s) are required".
    if (!claims || !authorized(st.ns, claims, entity.receiveScope, 'receive')) {
      sender.close({ condition: 'amqp:unauthorized-access', description: claimText('Listen', st.host, address.toLowerCase()) });
    }
  });

  /** The reply link of a request: the client's receiver named in reply_to, else one from the same node. */
  const replyLink = (connection: Connection, request: Message, node: string): Sender | undefined => {
    const byName = connection.find_sender((s: Sender) => s.name === request.reply_to);
    return (byName ?? connection.find_sender((s: Sender) => addressOf(s.source) === node)) as Sender | undefined;
  };

  container.on('message', (context: EventContext) => {
    const receiver = context.receiver as Receiver;
    const request = context.message as Message;
    const st = stateOf(context.connection);
    const node = addressOf(receiver.target);
    if (node === '$cbs') {
      const { status, description } = putToken(st, request);
      replyLink(context.connection, request, node)?.send({
        correlation_id: request.message_id,
        application_properties: { 'status-code': status, 'status-description': description },
      } as unknown as Message);
      return;
    }
    if (/\$management$/i.test(node) && st.ns) {
      const answer = management(st, node.replace(/\/?\$management$/i, ''), request);
      replyLink(context.connection, request, node)?.send({ correlation_id: request.message_id, application_properties: answer.properties, body: answer.body } as Message);
      return;
    }
    // A message sent to an entity: the probe never sends one; counted (tests hold it at 0), then dropped.
    if (st.ns) st.ns.messagesReceived = (st.ns.messagesReceived ?? 0) + 1;
  });

  container.on('error', () => undefined);
  container.on('disconnected', () => undefined);

  const server = container.listen({ port: 0, host: '127.0.0.1', transport: 'tls', cert: deps.tls.cert, key: deps.tls.key } as never) as unknown as import('node:tls').Server;
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    if (server.listening) return resolve();
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        sockets.clear();
      }),
  };
}
