import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { roleById, grantsDataAction, type BuiltInRole } from '../../src/catalog/roles';
import { CLOUDS, type Cloud } from '../../src/targets/registry';
import { armTime } from './arm';
import { applyFault } from './faults';
import type { CosmosAccount, CosmosSqlAssignment, WorldState } from './model';
import { hostName, parseUrl, startService, type Service } from './service';
import { checkToken } from './tokens';

/**
 * Cosmos DB for NoSQL, gateway mode, for every account: one HTTPS server, the account is the first label of the Host
 * header (`<account>.documents.azure.com|cn|us`). What @azure/cosmos sends with `aadCredentials` and what the gateway
 * answers:
 * - `Authorization: type=aad&ver=1.0&sig=<token>` (@azure/cosmos ClientContext.js, AAD_AUTH_PREFIX), the token checked
 *   like every world service (audience, issuer, lifetime) and refused in Cosmos's words: 401 sub-status 5008 for the
 *   audience (the accepted list as Azure/azure-sdk-for-java#42800 prints it: the account endpoint without a trailing
 *   slash, then https://cosmos.azure.com), 401/5007 for the tenant (Azure/azure-cosmos-dotnet-v3#3339), 401 "Provided
 *   AAD token has been expired since …" (Azure/azure-sdk-for-js#22620).
 * - Data-plane authorization by the account's Cosmos DB SQL role assignments (`state.cosmos.sqlAssignments`), never by
 *   Azure RBAC: 403/5301 "… does not have required RBAC permissions to perform action [<data action>] on resource
 *   [<path>] …" (Azure/azure-cosmos-dotnet-v3#2891, #3110). An assignment is honoured from its `effectiveAt` on
 *   (staged propagation; Cosmos itself records no creation time, and ARM lists the assignment at once).
 * - The firewall: 403 sub-status 0 "Request originated from IP … This is blocked by your Cosmos DB account firewall
 *   settings." (microsoft/azure-tools-for-java#7123); `network: 'blocked'` answers the generic 403/0 "Request is
 *   blocked. Please check your authorization token and Cosmos DB account firewall settings." (azure-cosmos-dotnet-v3#2298).
 * - GET / (the database account, read first by a client with endpoint discovery on: its writable and readable
 *   locations point back to this host:port), GET dbs/{db}, dbs/{db}/colls/{c}, dbs/{db}/colls/{c}/docs/{id} (partition
 *   key in x-ms-documentdb-partitionkey), POST …/docs with x-ms-documentdb-isquery (one page, x-ms-max-item-count) and
 *   with x-ms-cosmos-is-query-plan-request (a plan for a plain query: no rewrite, the full range).
 * - Every answer carries x-ms-activity-id, x-ms-request-charge, x-ms-session-token, x-ms-gatewayversion; errors
 *   x-ms-substatus and a JSON body `{"code":"Forbidden","message":"…"}` (the SDK parses every error body as JSON).
 */
export interface CosmosDeps {
  state: WorldState;
  tls: { cert: string; key: string };
  nowMs(): number;
}

const READ_METADATA = 'Microsoft.DocumentDB/databaseAccounts/readMetadata';
const READ_ITEM = 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/read';
const EXECUTE_QUERY = 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/executeQuery';
const GATEWAY_VERSION = '2.14.0';
const SYSTEM = new Set(['_rid', '_self', '_etag', '_attachments', '_ts']);

function cloudOf(host: string): Cloud {
  return Object.values(CLOUDS).find((c) => host.endsWith('.' + c.dnsSuffixes.cosmosDb)) ?? CLOUDS.AzurePublicCloud;
}

/** The token in `type=aad&ver=1.0&sig=<token>` (also URL-encoded, as key signatures are sent). */
export function aadToken(header: string | undefined): { type?: string; sig?: string } {
  if (!header) return {};
  const text = /^type%3d/i.test(header) ? decodeURIComponent(header) : header;
  const params = new URLSearchParams(text);
  return { type: params.get('type') ?? undefined, sig: params.get('sig') ?? undefined };
}

/** A SQL role definition of the account: the two built-in ones (fixed GUIDs) or a custom one staged on the account. */
function sqlRole(account: CosmosAccount, roleDefinitionId: string): BuiltInRole | undefined {
  const guid = roleDefinitionId.split('/').pop()!.toLowerCase();
  const custom = account.customRoles?.find((r) => r.id.toLowerCase() === guid);
  if (custom) return custom;
  return /^0{8}-0{4}-0{4}-0{4}-0{11}[12]$/.test(guid) ? roleById(guid) : undefined;
}

/** Whether an account-relative SQL scope ("/", "/dbs/a", "/dbs/a/colls/b") reaches `path`, at a segment boundary. */
export function sqlScopeCovers(scope: string, path: string): boolean {
  const s = scope.replace(/\/+$/, '').toLowerCase();
  const p = path.replace(/\/+$/, '').toLowerCase();
  return s === '' || p === s || p.startsWith(`${s}/`);
}

/** The account-relative form of an assignment's scope (staged either way). */
function relativeScope(a: CosmosSqlAssignment, account: CosmosAccount): string {
  const full = account.resourceId.toLowerCase();
  return a.scope.toLowerCase().startsWith(full) ? a.scope.slice(full.length) || '/' : a.scope;
}

export function startCosmos(deps: CosmosDeps): Promise<Service> {
  const handler = (req: IncomingMessage, res: ServerResponse, tools: { track(t: NodeJS.Timeout): void }): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => serve(req, res, tools, Buffer.concat(chunks).toString('utf8')));
  };

  const serve = (req: IncomingMessage, res: ServerResponse, tools: { track(t: NodeJS.Timeout): void }, body: string): void => {
    const now = deps.nowMs();
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    const host = hostName(req);
    const accountName = host.split('.')[0] ?? '';
    const account = deps.state.cosmos.accounts.find((a) => a.name.toLowerCase() === accountName);
    const activityId = randomUUID();
    const headers: Record<string, string> = {
      'x-ms-activity-id': activityId,
      'x-ms-gatewayversion': GATEWAY_VERSION,
      'x-ms-serviceversion': 'version=2.14.0.0',
      'x-ms-last-state-change-utc': new Date(now - 86_400_000).toUTCString(),
      'strict-transport-security': 'max-age=31536000',
      'cache-control': 'no-store, no-cache',
      pragma: 'no-cache',
    };
    const send = (status: number, payload: unknown, extra: Record<string, string> = {}): void => {
      const text = JSON.stringify(payload);
      res.writeHead(status, {
        ...headers,
        'x-ms-request-charge': status < 300 ? '1' : '0',
        'x-ms-session-token': '0:-1#12',
        ...extra,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    const trailer = `\r\nActivityId: ${activityId}, Microsoft.Azure.Documents.Common/${GATEWAY_VERSION}`;
    const fail = (status: number, code: string, substatus: number | undefined, message: string, extra: Record<string, string> = {}): void =>
      send(status, { code, message: `${message}${trailer}` }, { ...(substatus !== undefined ? { 'x-ms-substatus': String(substatus) } : {}), ...extra });
    const blockedByAuth = (status: number, substatus: number | undefined, text: string): void =>
      fail(status, status === 401 ? 'Unauthorized' : 'Forbidden', substatus, `Request blocked by Auth ${accountName} : ${text}`);

    if (!account) {
      // Real accounts that do not exist fail at DNS: stage that with an `nxdomain-*` name.
      return fail(404, 'NotFound', 0, `The database account '${accountName}' does not exist in this simulated world.`);
    }
    if (applyFault(account.fault, { req, res, contentType: 'application/json', track: tools.track })) return;

    if (account.network === 'firewall') {
      return fail(403, 'Forbidden', 0, `Request originated from IP ${req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1'} through public internet. This is blocked by your Cosmos DB account firewall settings. More info: https://aka.ms/cosmosdb-tsg-forbidden`);
    }
    if (account.network === 'blocked') {
      return fail(403, 'Forbidden', 0, 'Request is blocked. Please check your authorization token and Cosmos DB account firewall settings. Learn more: https://aka.ms/cosmosdb-tsg-forbidden');
    }

    const { type, sig } = aadToken(req.headers.authorization);
    if (!type || !sig) return fail(401, 'Unauthorized', undefined, 'Required Header authorization is missing. Ensure a valid Authorization token is passed.');
    if (type !== 'aad') {
      // Keys and resource tokens are not simulated: the world's callers are identities.
      return fail(401, 'Unauthorized', 5202, 'Local Authorization is disabled. Use an AAD token to authorize all requests.');
    }
    const cloud = cloudOf(host);
    const bare = `https://${accountName}.${cloud.dnsSuffixes.cosmosDb}`;
    // The account endpoint as this client reaches it (with the world's port: what the SDK's `${endpoint}/.default` names).
    const asReached = `https://${hostHeader}`;
    const accepted = [...new Set([asReached, bare]), `https://${accountName}.sql.cosmos.azure.com`, `https://${accountName}.sqlx.cosmos.azure.com`, ...(cloud.name === 'AzurePublicCloud' ? ['https://cosmos.azure.com'] : [])];
    const shim = { headers: { authorization: `Bearer ${sig}` } } as unknown as IncomingMessage;
    const check = checkToken(shim, (aud) => accepted.includes(aud), account.tenantId, Math.floor(now / 1000));
    if (!check.ok) {
      switch (check.problem) {
        case 'missing':
        case 'malformed':
          return blockedByAuth(401, 5000, 'The provided AAD token could not be parsed.');
        case 'audience':
          return blockedByAuth(401, 5008, `Provided AAD token is intended for [${check.claims.aud}]. This database account accepts tokens intended for [${accepted.join(', ')}].`);
        case 'issuer':
          return blockedByAuth(401, 5007, `Provided AAD token was issued by the authority [${check.tenant ?? String(check.claims.iss)}] which is not trusted by this database account. Please ensure the token has been issued by the AAD tenant(s) [${account.tenantId}].`);
        case 'expired':
        case 'not_yet_valid':
          return blockedByAuth(401, undefined, `Provided AAD token has been expired since [${armTime(Number(check.claims.exp) * 1000)} (UTC)]. Current server time is [${armTime(now)} (UTC)]. Please refresh the AAD token.`);
      }
    }
    const oid = String(check.claims.oid ?? '');

    const url = parseUrl(req);
    const seg = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const isQuery = /^true$/i.test(String(req.headers['x-ms-documentdb-isquery'] ?? ''));
    const isPlan = /^true$/i.test(String(req.headers['x-ms-cosmos-is-query-plan-request'] ?? ''));

    const allowed = (action: string, path: string): boolean =>
      deps.state.cosmos.sqlAssignments.some((a) => {
        if (a.accountName.toLowerCase() !== account.name.toLowerCase() || a.principalId.toLowerCase() !== oid.toLowerCase()) return false;
        if (a.effectiveAt && now < a.effectiveAt.getTime()) return false;
        const role = sqlRole(account, a.roleDefinitionId);
        // The account read (GET /) is allowed to any principal holding readMetadata anywhere in the account: a
        // container-scoped reader's SDK reads it first (the world's assumption; the probe does not make this read).
        const reaches = path === '/' ? true : sqlScopeCovers(relativeScope(a, account), path);
        return !!role && reaches && grantsDataAction(role, action);
      });
    const deny = (action: string, path: string): void =>
      blockedByAuth(403, 5301, `Request is blocked because principal [${oid}] does not have required RBAC permissions to perform action [${action}] on resource [${path}]. Learn more: https://aka.ms/cosmos-native-rbac.`);
    const notFound = (): void =>
      fail(404, 'NotFound', 0, `Message: {"Errors":["Resource Not Found. Learn more: https:\\/\\/aka.ms\\/cosmosdb-tsg-not-found"]}`);
    const meta = (kind: string, id: string) => ({ id, _rid: Buffer.from(`${kind}:${id}`).toString('base64').slice(0, 8), _self: `${kind}/${id}/`, _etag: `"${randomUUID()}"`, _ts: Math.floor(now / 1000) - 86_400 });

    if (method === 'GET' && seg.length === 0) {
      if (!allowed(READ_METADATA, '/')) return deny(READ_METADATA, '/');
      const location = [{ name: account.location ?? 'East US', databaseAccountEndpoint: `https://${hostHeader}/` }];
      return send(200, {
        _self: '',
        id: account.name,
        _rid: `${account.name}.${cloud.dnsSuffixes.cosmosDb}`,
        media: '//media/',
        addresses: '//addresses/',
        _dbs: '//dbs/',
        writableLocations: location,
        readableLocations: location,
        enableMultipleWriteLocations: false,
        continuousBackupEnabled: false,
        enableNRegionSynchronousCommit: false,
        userReplicationPolicy: { asyncReplication: false, minReplicaSetSize: 3, maxReplicasetSize: 4 },
        userConsistencyPolicy: { defaultConsistencyLevel: 'Session' },
        systemReplicationPolicy: { minReplicaSetSize: 3, maxReplicasetSize: 4 },
        readPolicy: { primaryReadCoefficient: 1, secondaryReadCoefficient: 1 },
        queryEngineConfiguration: '{"maxSqlQueryInputLength":262144,"maxJoinsPerSqlQuery":5,"maxLogicalAndPerSqlQuery":500,"maxLogicalOrPerSqlQuery":500,"maxUdfRefPerSqlQuery":10,"maxInExpressionItemsCount":16000,"queryMaxInMemorySortDocumentCount":500,"maxQueryRequestTimeoutFraction":0.9,"sqlAllowNonFiniteNumbers":false,"sqlAllowAggregateFunctions":true,"sqlAllowSubQuery":true,"sqlAllowScalarSubQuery":true,"allowNewKeywords":true,"sqlAllowLike":true,"sqlAllowGroupByClause":true,"maxSpatialQueryCells":12,"spatialMaxGeometryPointCount":256,"sqlDisableOptimizationFlags":0,"sqlAllowTop":true,"enableSpatialIndexing":true}',
      });
    }
    if (seg[0]?.toLowerCase() !== 'dbs' || seg.length < 2 || seg.length > 6 || (seg.length > 2 && seg[2]?.toLowerCase() !== 'colls') || (seg.length > 4 && seg[4]?.toLowerCase() !== 'docs')) {
      return fail(400, 'BadRequest', 0, `The simulated Cosmos DB gateway does not serve ${method} ${url.pathname}`);
    }
    const [, dbId, , collId, , docId] = seg as [string, string, string?, string?, string?, string?];
    const dbPath = `/dbs/${dbId}`;
    const collPath = `${dbPath}/colls/${collId}`;

    if (seg.length === 2 && method === 'GET') {
      if (!allowed(READ_METADATA, dbPath)) return deny(READ_METADATA, dbPath);
      if (!account.databases[dbId]) return notFound();
      return send(200, { ...meta('dbs', dbId), _colls: 'colls/', _users: 'users/' });
    }
    if (seg.length === 4 && method === 'GET') {
      if (!allowed(READ_METADATA, collPath)) return deny(READ_METADATA, collPath);
      const coll = account.databases[dbId]?.[collId!];
      if (!coll) return notFound();
      return send(200, {
        ...meta('colls', collId!),
        indexingPolicy: { indexingMode: 'consistent', automatic: true, includedPaths: [{ path: '/*' }], excludedPaths: [{ path: '/"_etag"/?' }] },
        partitionKey: { paths: [coll.partitionKeyPath], kind: 'Hash', version: 2 },
        conflictResolutionPolicy: { mode: 'LastWriterWins', conflictResolutionPath: '/_ts', conflictResolutionProcedure: '' },
        geospatialConfig: { type: 'Geography' },
        _docs: 'docs/',
        _sprocs: 'sprocs/',
        _triggers: 'triggers/',
        _udfs: 'udfs/',
        _conflicts: 'conflicts/',
      }, { 'x-ms-resource-quota': 'documentSize=51200;documentsSize=52428800;collectionSize=52428800;', 'x-ms-resource-usage': 'documentSize=0;documentsSize=1;collectionSize=1;' });
    }
    if (seg.length === 6 && method === 'GET') {
      const docPath = `${collPath}/docs/${docId}`;
      if (!allowed(READ_ITEM, docPath)) return deny(READ_ITEM, docPath);
      const coll = account.databases[dbId]?.[collId!];
      if (!coll) return notFound();
      const pk = String(req.headers['x-ms-documentdb-partitionkey'] ?? '');
      const field = coll.partitionKeyPath.replace(/^\//, '');
      const item = coll.items.find((i) => i.id === docId && JSON.stringify([i[field] ?? null]) === pk);
      if (!item) return notFound();
      return send(200, { ...item, ...meta('docs', docId!), _attachments: 'attachments/' });
    }
    if (seg.length === 5 && method === 'POST' && (isQuery || isPlan)) {
      if (!allowed(EXECUTE_QUERY, collPath)) return deny(EXECUTE_QUERY, collPath);
      const coll = account.databases[dbId]?.[collId!];
      if (!coll) return notFound();
      if (isPlan) {
        return send(200, {
          partitionedQueryExecutionInfoVersion: 2,
          queryInfo: {
            distinctType: 'None', top: null, offset: null, limit: null, orderBy: [], orderByExpressions: [], groupByExpressions: [], groupByAliases: [],
            aggregates: [], groupByAliasToAggregateType: {}, rewrittenQuery: '', hasSelectValue: false, dCountInfo: null, hasNonStreamingOrderBy: false,
          },
          queryRanges: [{ min: '', max: 'FF', isMinInclusive: true, isMaxInclusive: false }],
        });
      }
      const query = (JSON.parse(body || '{}') as { query?: string }).query ?? '';
      if (!/^\s*select\s+\*\s+from\s+c\s*$/i.test(query)) return fail(400, 'BadRequest', 0, `The simulated gateway runs only SELECT * FROM c, not: ${query.slice(0, 100)}`);
      const max = Number(req.headers['x-ms-max-item-count'] ?? 100);
      const page = coll.items.slice(0, max > 0 ? max : 100).map((i) => ({ ...i, ...meta('docs', String(i.id)), _attachments: 'attachments/' }));
      const more = coll.items.length > page.length;
      return send(200, { _rid: meta('colls', collId!)._rid, Documents: page, _count: page.length }, {
        'x-ms-item-count': String(page.length),
        ...(more ? { 'x-ms-continuation': JSON.stringify({ token: `+RID:~${page.length}`, range: { min: '', max: 'FF' } }) } : {}),
      });
    }
    return fail(405, 'MethodNotAllowed', 0, `The simulated Cosmos DB gateway does not serve ${method} ${url.pathname}`);
  };

  return startService({ tls: deps.tls, latencyMs: () => deps.state.latencyMs, handler });
}

/** Every string value in every item of every account: what must never appear in the service's output. */
export function cosmosItemValues(state: WorldState): string[] {
  return state.cosmos.accounts.flatMap((a) =>
    Object.values(a.databases).flatMap((db) =>
      Object.values(db).flatMap((c) =>
        // The id and the partition key are what a target names (configuration); every other value is content.
        c.items.flatMap((i) => Object.entries(i).filter(([k, v]) => !SYSTEM.has(k) && k !== 'id' && `/${k}` !== c.partitionKeyPath && typeof v === 'string').map(([, v]) => v as string)),
      ),
    ),
  );
}
