import { randomUUID } from 'node:crypto';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { CLOUDS, OPERATIONS } from '../../src/targets/registry';
import { grantsAction } from '../../src/catalog/roles';
import type { Azurite } from './azurite';
import { applyFault } from './faults';
import type { Account, Counters, WorldState } from './model';
import { callerOf, effectiveGrants, findDataActionGrant } from './rbac';
import { hostName, parseUrl, startService, type Service } from './service';
import { checkToken } from './tokens';

/**
 * The Azure side of Blob Storage in front of Azurite: Azurite has no RBAC and answers bad tokens with 403
 * `AuthenticationFailed`, so this front does what real Storage does first (401 + `WWW-Authenticate`, network
 * rules, data-action checks against the world's role assignments) and only then forwards the untouched request.
 */
export interface StorageFrontDeps {
  state: WorldState;
  counters: Counters;
  tls: { cert: string; key: string };
  azurite: Azurite;
  nowMs(): number;
}

const BLOB_READ = OPERATIONS.storageBlob.permission;
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

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

/** Storage prints times with seven fractional digits. */
function storageTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

function blobAudienceOk(aud: string, account: Account): boolean {
  const a = aud.toLowerCase().replace(/\/+$/, '');
  if (a === 'https://storage.azure.com' || a === STORAGE_APP_ID) return true;
  return Object.values(CLOUDS).some((c) => a === `https://${account.name.toLowerCase()}.${c.dnsSuffixes.storageBlob}`);
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
    deps.counters.storage[accountName] = (deps.counters.storage[accountName] ?? 0) + 1;
    const account = state.accounts.find((a) => a.name.toLowerCase() === accountName);
    const now = deps.nowMs();
    const requestId = randomUUID();

    const fail = (status: number, code: string, message: string, detail?: string, extra: Record<string, string> = {}): void => {
      req.resume();
      const body =
        '<?xml version="1.0" encoding="utf-8"?><Error><Code>' +
        code +
        '</Code><Message>' +
        xmlEscape(`${message}\nRequestId:${requestId}\nTime:${storageTime(now)}`) +
        '</Message>' +
        (detail ? `<AuthenticationErrorDetail>${xmlEscape(detail)}</AuthenticationErrorDetail>` : '') +
        '</Error>';
      const clientRequestId = req.headers['x-ms-client-request-id'];
      res.writeHead(status, {
        'content-type': 'application/xml',
        'content-length': Buffer.byteLength(body),
        server: 'Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0',
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

    if (account && applyFault(account.fault, { req, res, contentType: 'application/xml', track: tools.track })) {
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
    const check = checkToken(req, (aud) => blobAudienceOk(aud, account), account.tenantId, Math.floor(now / 1000));
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
    const container = segments[0];
    const blob = segments.length > 1 ? segments.slice(1).join('/') : undefined;
    const need = requirementOf(req, account, container, blob, url.searchParams);
    const allowed =
      need.kind === 'data'
        ? findDataActionGrant(state.assignments, oid, need.scope, need.permission, now) !== undefined
        : effectiveGrants(state.assignments, oid, need.scope, now).some(
            // Storage authorizes container operations with the data roles' control actions only: a plain Reader
            // on the account can see the container in ARM but not through the data plane.
            (g) => g.role.plane === 'data' && grantsAction(g.role, need.permission),
          );
    if (!allowed) {
      return fail(403, 'AuthorizationPermissionMismatch', 'This request is not authorized to perform this operation using this permission.');
    }

    let azuritePort: number;
    try {
      azuritePort = await deps.azurite.sync(state.accounts);
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
          // Production code must never see it is talking to an emulator: answer as the Azure blob front end does.
          const headers = { ...forwardHeaders(up.headers), server: 'Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0' };
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
