import { randomUUID } from 'node:crypto';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { CLOUDS, OPERATIONS } from '../../src/targets/registry';
import { grantsAction } from '../../src/catalog/roles';
import type { Azurite, AzuriteService } from './azurite';
import { applyFault } from './faults';
import type { Account, Counters, WorldState } from './model';
import { callerOf, effectiveGrants, findDataActionGrant } from './rbac';
import { hostName, parseUrl, startService, type Service } from './service';
import { checkToken } from './tokens';

/**
 * The Azure side of Storage — blobs, queues and tables — in front of Azurite: Azurite has no RBAC and answers bad
 * tokens with 403 `AuthenticationFailed`, so this front does what real Storage does first (401 + `WWW-Authenticate`,
 * network rules, data-action checks against the world's role assignments) and only then forwards the untouched
 * request to Azurite's service of the same name. The Host says both: `<account>.<blob|queue|table>.core.windows.net`.
 * Blobs and queues answer errors in XML, tables in OData JSON; all three carry the code in `x-ms-error-code`.
 */
export interface StorageFrontDeps {
  state: WorldState;
  counters: Counters;
  tls: { cert: string; key: string };
  azurite: Azurite;
  nowMs(): number;
}

const BLOB_READ = OPERATIONS.storageBlob.permission;
const QUEUES = 'Microsoft.Storage/storageAccounts/queueServices/queues';
const TABLES = 'Microsoft.Storage/storageAccounts/tableServices/tables';
const BLOB_WRITE = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write';
const BLOB_DELETE = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete';
const CONTAINERS = 'Microsoft.Storage/storageAccounts/blobServices/containers';
/** Storage's first-party application id: accepted as an audience next to the resource URI. */
const STORAGE_APP_ID = 'e406a681-f3d4-42a8-90b6-c2b029497af1';
const DEFAULT_VERSION = '2025-11-05';
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/** What a request needs: a data action (blob contents) or a control action (container objects), and where. */
interface Requirement {
  kind: 'data' | 'action';
  permission: string;
  scope: string;
}

function requirementOf(req: IncomingMessage, account: Account, container: string | undefined, blob: string | undefined, q: URLSearchParams): Requirement {
  const service = `${account.resourceId}/blobServices/default`;
  const method = (req.method ?? 'GET').toUpperCase();
  if (!container) {
    if (q.get('comp') === 'list') return { kind: 'action', permission: `${CONTAINERS}/read`, scope: service };
    return { kind: 'data', permission: BLOB_READ, scope: service };
  }
  const scope = `${service}/containers/${container}`;
  if (blob) {
    if (method === 'PUT') return { kind: 'data', permission: BLOB_WRITE, scope };
    if (method === 'DELETE') return { kind: 'data', permission: BLOB_DELETE, scope };
    return { kind: 'data', permission: BLOB_READ, scope };
  }
  if (q.get('comp') === 'list') return { kind: 'data', permission: BLOB_READ, scope };
  if (method === 'PUT') return { kind: 'action', permission: `${CONTAINERS}/write`, scope };
  if (method === 'DELETE') return { kind: 'action', permission: `${CONTAINERS}/delete`, scope };
  return { kind: 'action', permission: `${CONTAINERS}/read`, scope };
}

/**
 * Queue operations (https://learn.microsoft.com/rest/api/storageservices/authorize-with-azure-active-directory,
 * "Permissions for calling data operations"): peek needs messages/read; a dequeue (GET without peekonly) messages/process/action.
 */
function queueRequirement(req: IncomingMessage, account: Account, segments: string[], q: URLSearchParams): Requirement {
  const service = `${account.resourceId}/queueServices/default`;
  const method = (req.method ?? 'GET').toUpperCase();
  const [queue, messages] = segments;
  if (!queue) return { kind: 'action', permission: `${QUEUES}/read`, scope: service };
  const scope = `${service}/queues/${queue}`;
  if (messages === 'messages') {
    if (method === 'GET') return { kind: 'data', permission: q.get('peekonly') === 'true' ? `${QUEUES}/messages/read` : `${QUEUES}/messages/process/action`, scope };
    if (method === 'POST') return { kind: 'data', permission: `${QUEUES}/messages/add/action`, scope };
    if (method === 'DELETE') return { kind: 'data', permission: `${QUEUES}/messages/delete`, scope };
    return { kind: 'data', permission: `${QUEUES}/messages/write`, scope };
  }
  if (method === 'PUT') return { kind: 'action', permission: `${QUEUES}/write`, scope };
  if (method === 'DELETE') return { kind: 'action', permission: `${QUEUES}/delete`, scope };
  return { kind: 'action', permission: `${QUEUES}/read`, scope };
}

/** Table operations: `/Tables…` is the table list (actions), `/<table>(…)` its entities (data actions). */
function tableRequirement(req: IncomingMessage, account: Account, segments: string[]): Requirement {
  const service = `${account.resourceId}/tableServices/default`;
  const method = (req.method ?? 'GET').toUpperCase();
  const first = segments[0] ?? '';
  const name = first.replace(/\(.*$/, '');
  if (name === '' || name === 'Tables') {
    const table = /^Tables\('([^']*)'\)$/.exec(first)?.[1];
    const scope = table ? `${service}/tables/${table}` : service;
    if (method === 'POST') return { kind: 'action', permission: `${TABLES}/write`, scope };
    if (method === 'DELETE') return { kind: 'action', permission: `${TABLES}/delete`, scope };
    return { kind: 'action', permission: `${TABLES}/read`, scope };
  }
  const scope = `${service}/tables/${name}`;
  if (method === 'GET') return { kind: 'data', permission: `${TABLES}/entities/read`, scope };
  if (method === 'POST') return { kind: 'data', permission: `${TABLES}/entities/add/action`, scope };
  if (method === 'DELETE') return { kind: 'data', permission: `${TABLES}/entities/delete`, scope };
  return { kind: 'data', permission: `${TABLES}/entities/write`, scope };
}

/** The storage kind whose host suffixes name `service` (for the audiences an account URL may be). */
const KIND_OF_SERVICE = { blob: 'storageBlob', queue: 'storageQueue', table: 'storageTable' } as const;
/** What each service's front end calls itself in the Server header. */
const SERVER = {
  blob: 'Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0',
  queue: 'Windows-Azure-Queue/1.0 Microsoft-HTTPAPI/2.0',
  table: 'Windows-Azure-Table/1.0 Microsoft-HTTPAPI/2.0',
} as const;

function serviceOf(host: string): AzuriteService {
  const label = host.split('.')[1];
  return label === 'queue' || label === 'table' ? label : 'blob';
}

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

/** Storage prints times with seven fractional digits. */
function storageTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** Storage's audience, its app id, or the account's own URL for this service (Azure/Azurite src/{queue,table}/utils/constants.ts VALID_QUEUE_AUDIENCES, VALID_TABLE_AUDIENCES). */
function audienceOk(aud: string, account: Account, service: AzuriteService): boolean {
  const a = aud.toLowerCase().replace(/\/+$/, '');
  if (a === 'https://storage.azure.com' || a === STORAGE_APP_ID) return true;
  return Object.values(CLOUDS).some((c) => a === `https://${account.name.toLowerCase()}.${c.dnsSuffixes[KIND_OF_SERVICE[service]]}`);
}

function forwardHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

export function startStorageFront(deps: StorageFrontDeps): Promise<Service> {
  const { state } = deps;

  const handler = async (req: IncomingMessage, res: ServerResponse, tools: { track(t: NodeJS.Timeout): void }): Promise<void> => {
    const host = hostName(req);
    const accountName = host.split('.')[0] ?? '';
    const service = serviceOf(host);
    deps.counters.storage[accountName] = (deps.counters.storage[accountName] ?? 0) + 1;
    const account = state.accounts.find((a) => a.name.toLowerCase() === accountName);
    const now = deps.nowMs();
    const requestId = randomUUID();

    const fail = (status: number, code: string, message: string, detail?: string, extra: Record<string, string> = {}): void => {
      req.resume();
      const text = `${message}\nRequestId:${requestId}\nTime:${storageTime(now)}`;
      // Tables answer OData JSON (Azure/Azurite src/table/errors/StorageError.ts; observed in
      // microsoft/AzureStorageExplorer#5553): {"odata.error":{"code","message":{"lang","value"}}}; blobs and queues XML.
      const body =
        service === 'table'
          ? JSON.stringify({ 'odata.error': { code, message: { lang: 'en-US', value: text }, ...(detail ? { AuthenticationErrorDetail: detail } : {}) } })
          : '<?xml version="1.0" encoding="utf-8"?><Error><Code>' +
            code +
            '</Code><Message>' +
            xmlEscape(text) +
            '</Message>' +
            (detail ? `<AuthenticationErrorDetail>${xmlEscape(detail)}</AuthenticationErrorDetail>` : '') +
            '</Error>';
      const clientRequestId = req.headers['x-ms-client-request-id'];
      res.writeHead(status, {
        'content-type': service === 'table' ? 'application/json;odata=minimalmetadata;streaming=true;charset=utf-8' : 'application/xml',
        'content-length': Buffer.byteLength(body),
        server: SERVER[service],
        'x-ms-request-id': requestId,
        'x-ms-version': String(req.headers['x-ms-version'] ?? DEFAULT_VERSION),
        'x-ms-error-code': code,
        ...(clientRequestId ? { 'x-ms-client-request-id': String(clientRequestId) } : {}),
        date: new Date(now).toUTCString(),
        ...extra,
      });
      // HEAD answers carry no body: the SDK reads x-ms-error-code instead.
      res.end(req.method === 'HEAD' ? undefined : body);
    };

    if (account && applyFault(account.fault, { req, res, contentType: service === 'table' ? 'application/json' : 'application/xml', track: tools.track })) {
      req.resume();
      return;
    }
    if (!account) {
      // Real Storage fails at DNS for an account that does not exist; stage that with an `nxdomain-*` name.
      return fail(404, 'ResourceNotFound', 'The specified resource does not exist.');
    }

    const challenge = {
      'www-authenticate': `Bearer authorization_uri=https://login.microsoftonline.com/${account.tenantId}/oauth2/authorize resource_id=https://storage.azure.com`,
    };
    const invalidAuth = (detail: string): void =>
      fail(
        401,
        'InvalidAuthenticationInfo',
        'Server failed to authenticate the request. Please refer to the information in the www-authenticate header.',
        detail,
        challenge,
      );
    const check = checkToken(req, (aud) => audienceOk(aud, account, service), account.tenantId, Math.floor(now / 1000));
    if (!check.ok) {
      switch (check.problem) {
        case 'missing':
          return fail(
            401,
            'NoAuthenticationInformation',
            'Server failed to authenticate the request. Please refer to the information in the www-authenticate header.',
            undefined,
            challenge,
          );
        case 'malformed':
          return invalidAuth('Signature validation failed. The token is not a well-formed JWT.');
        case 'audience':
          return invalidAuth('Audience validation failed. Audience did not match.');
        case 'issuer':
          return fail(
            403,
            'AuthenticationFailed',
            'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.',
            'Issuer validation failed. Issuer did not match.',
          );
        case 'expired':
          return invalidAuth('Lifetime validation failed. The token is expired.');
        case 'not_yet_valid':
          return invalidAuth('Lifetime validation failed. The token is not yet valid.');
      }
    }
    const oid = callerOf(String(check.claims.oid ?? ''), state.groups, check.claims.iat, state.arm.managementGroups);

    if (account.disabled) {
      // https://learn.microsoft.com/rest/api/storageservices/common-rest-api-error-codes : AccountIsDisabled (403).
      return fail(403, 'AccountIsDisabled', 'The specified account is disabled.');
    }
    // A firewall rule and disabled public network access answer alike (AuthorizationFailure).
    if (account.network === 'firewall' || account.network === 'private') {
      return fail(403, 'AuthorizationFailure', 'This request is not authorized to perform this operation.');
    }

    const url = parseUrl(req);
    const segments = url.pathname.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
    const need =
      service === 'queue'
        ? queueRequirement(req, account, segments, url.searchParams)
        : service === 'table'
          ? tableRequirement(req, account, segments)
          : requirementOf(req, account, segments[0], segments.length > 1 ? segments.slice(1).join('/') : undefined, url.searchParams);
    const allowed =
      need.kind === 'data'
        ? findDataActionGrant(state.assignments, oid, need.scope, need.permission, now) !== undefined
        : effectiveGrants(state.assignments, oid, need.scope, now).some(
            // Storage authorizes container (queue, table) operations with the data roles' control actions only: a
            // plain Reader on the account can see the container in ARM but not through the data plane.
            (g) => g.role.plane === 'data' && grantsAction(g.role, need.permission),
          );
    if (!allowed) {
      return fail(403, 'AuthorizationPermissionMismatch', 'This request is not authorized to perform this operation using this permission.');
    }

    let azuritePort: number;
    try {
      azuritePort = (await deps.azurite.sync(state.accounts))[service];
    } catch (err) {
      return fail(500, 'InternalError', `The simulated storage back end (Azurite) is unavailable: ${String(err)}`);
    }
    if (res.destroyed) return;

    await new Promise<void>((resolve) => {
      const upstream = https.request(
        {
          host: '127.0.0.1',
          port: azuritePort,
          servername: host,
          method: req.method,
          path: req.url,
          agent: deps.azurite.httpsAgent,
          // Host goes through unchanged: Azurite takes the account from its first label and builds the
          // ServiceEndpoint of listings from it, so URLs in answers point back at this front.
          headers: forwardHeaders(req.headers),
        },
        (up) => {
          // Production code must never see it is talking to an emulator: answer as the Azure front end does.
          const headers = { ...forwardHeaders(up.headers), server: SERVER[service] };
          res.writeHead(up.statusCode ?? 502, headers);
          up.pipe(res);
          up.on('end', resolve);
          up.on('error', () => {
            res.destroy();
            resolve();
          });
        },
      );
      upstream.on('error', (err) => {
        if (!res.headersSent) fail(500, 'InternalError', `Forwarding to Azurite failed: ${err.message}`);
        else res.destroy();
        resolve();
      });
      res.on('close', () => {
        // The client went away mid-exchange: drop the upstream exchange too.
        if (!res.writableFinished) upstream.destroy();
        resolve();
      });
      req.pipe(upstream);
    });
  };

  return startService({ tls: deps.tls, latencyMs: () => state.latencyMs, handler });
}
