import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Counters, HostState, Identity, IdentityFault, WorldState } from './model';
import { handleHostProtocol, HOST_PROTOCOL_PATHS, type HostProtocol } from './hostIdentity';
import { applyFault } from './faults';
import { sendJson, startService, type Service } from './service';

/**
 * One plain-HTTP server speaking both managed-identity protocols:
 *  - App Service / Functions (`IDENTITY_ENDPOINT`, api-version 2019-08-01, `X-IDENTITY-HEADER`),
 *  - IMDS (`/metadata/identity/oauth2/token`, api-version 2018-02-01, `Metadata: true`), which the SDK reaches
 *    through `AZURE_POD_IDENTITY_AUTHORITY_HOST`.
 * Errors use the bodies MSAL parses (`error` / `error_description`, or App Service's `statusCode` / `message`).
 */
export interface IdentityDeps {
  state: WorldState;
  counters: Counters;
  identityHeader: string;
  mint(identity: Identity, resource: string): { token: string; exp: number };
  nowSeconds(): number;
}

type Protocol = 'appService' | 'imds' | HostProtocol;

const IDENTITY_NOT_FOUND = { error: 'invalid_request', error_description: 'Identity not found' };

interface Selector {
  param: string;
  value: string;
  matches(i: Identity): boolean;
}

export function selectorOf(q: URLSearchParams, protocol: Protocol): Selector | undefined | 'ambiguous' {
  const eq = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
  const candidates: Selector[] = [];
  const add = (param: string, field: 'clientId' | 'principalId' | 'resourceId'): void => {
    const value = q.get(param);
    if (value) candidates.push({ param, value, matches: (i) => eq(i[field], value) });
  };
  add('client_id', 'clientId');
  add('object_id', 'principalId');
  if (protocol === 'appService' || protocol === 'serviceFabric') {
    add('principal_id', 'principalId');
    add('mi_res_id', 'resourceId');
  } else {
    add('msi_res_id', 'resourceId');
  }
  if (candidates.length > 1) return 'ambiguous';
  return candidates[0];
}

type Resolution = { identity: Identity } | { status: number; body: unknown };

function appServiceError(status: number, message: string): { status: number; body: unknown } {
  return { status, body: { statusCode: status, message, correlationId: randomUUID() } };
}

/** The identity a request selects among those attached to its host (IMDS rules unless the App Service protocol). */
export function resolveIdentity(state: WorldState, q: URLSearchParams, protocol: Protocol, host: { attached: string[] } = state.host): Resolution {
  const attached = state.identities.filter((i) => host.attached.includes(i.name));
  const selector = selectorOf(q, protocol);
  if (selector === 'ambiguous') {
    return protocol === 'imds'
      ? { status: 400, body: { error: 'invalid_request', error_description: 'Only one of client_id, object_id or msi_res_id may be specified' } }
      : appServiceError(400, 'Only one of client_id, principal_id, object_id or mi_res_id may be specified.');
  }
  if (selector) {
    const identity = attached.find((i) => i.kind === 'user' && selector.matches(i)) ?? attached.find((i) => selector.matches(i));
    return identity ? { identity } : { status: 400, body: IDENTITY_NOT_FOUND };
  }
  const system = attached.find((i) => i.kind === 'system');
  if (system) return { identity: system };
  if (protocol === 'appService') {
    return appServiceError(
      400,
      'No managed identity found for the request. Enable the system-assigned identity or pass the client_id, principal_id or mi_res_id of an assigned user-assigned identity.',
    );
  }
  const users = attached.filter((i) => i.kind === 'user');
  // IMDS picks the only user-assigned identity when exactly one is attached and none is named.
  if (users.length === 1 && users[0]) return { identity: users[0] };
  if (users.length > 1) {
    return {
      status: 400,
      body: {
        error: 'invalid_request',
        error_description:
          'Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request',
      },
    };
  }
  return { status: 400, body: IDENTITY_NOT_FOUND };
}

function protocolOf(path: string): Protocol | undefined {
  const p = path.replace(/\/+$/, '');
  if (p === '/msi/token') return 'appService';
  if (p === '/metadata/identity/oauth2/token') return 'imds';
  return HOST_PROTOCOL_PATHS[p];
}

/** `/hosts/<name>/rest` → that host's state and the rest of the path; anything else is the default app host. */
function hostOf(state: WorldState, pathname: string): { host: HostState; fault: IdentityFault | undefined; path: string } | undefined {
  const m = /^\/hosts\/([^/]+)(\/.*)$/.exec(pathname);
  if (!m) return { host: state.host, fault: state.identityFault, path: pathname };
  const host = state.hosts[decodeURIComponent(m[1]!)];
  return host ? { host, fault: host.fault, path: m[2]! } : undefined;
}

function handle(deps: IdentityDeps, req: IncomingMessage, res: ServerResponse): void {
  const { state, counters } = deps;
  counters.identity++;
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const q = url.searchParams;
  const resource = q.get('resource') ?? undefined;
  if (resource !== undefined) counters.identityByResource[resource] = (counters.identityByResource[resource] ?? 0) + 1;

  const target = hostOf(state, url.pathname);
  const protocol = target && protocolOf(target.path);
  // Cloud Shell's resource comes in a form body; every other protocol ignores the body.
  if (protocol !== 'cloudShell') req.resume();
  if (!target || !protocol) {
    sendJson(res, 404, { error: 'not_found', error_description: `No such endpoint: ${url.pathname}` });
    return;
  }

  // A broken endpoint is broken for every request, well-formed or not.
  const fault = target.fault;
  if (fault === 'silent') return;
  if (fault === 'huge_body' || fault === 'gzip_bomb') {
    applyFault(fault, { req, res, contentType: 'application/json; charset=utf-8', track: () => undefined });
    return;
  }
  if (typeof fault === 'object') {
    res.writeHead(fault.status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(fault.body ?? JSON.stringify({ error: 'server_error', error_description: `HTTP ${fault.status}` }));
    return;
  }

  if (protocol !== 'appService' && protocol !== 'imds') {
    handleHostProtocol({ deps, protocol, req, res, query: q, host: target.host, fault, resolve: (p) => resolveIdentity(state, q, p, target.host) });
    return;
  }

  // Header checks come before anything else: that is how IMDS answers the SDK's header-less availability probe.
  if (protocol === 'imds') {
    if ((req.headers['metadata'] ?? '').toString().toLowerCase() !== 'true') {
      sendJson(res, 400, { error: 'bad_request_102', error_description: 'Required metadata header not specified' });
      return;
    }
  } else {
    const header = req.headers['x-identity-header'];
    if (header === undefined) {
      const e = appServiceError(400, 'The request is missing the X-IDENTITY-HEADER header.');
      sendJson(res, e.status, e.body);
      return;
    }
    if (header !== deps.identityHeader) {
      const e = appServiceError(401, 'Unauthorized: the X-IDENTITY-HEADER value is not valid.');
      sendJson(res, e.status, e.body);
      return;
    }
  }

  if (fault === 'identity_not_found') {
    sendJson(res, 400, IDENTITY_NOT_FOUND);
    return;
  }

  const apiVersion = q.get('api-version');
  if (!apiVersion) {
    sendJson(
      res,
      400,
      protocol === 'imds'
        ? { error: 'invalid_request', error_description: "Required query variable 'api-version' is missing" }
        : appServiceError(400, "The 'api-version' query parameter is missing.").body,
    );
    return;
  }
  if (!resource) {
    sendJson(
      res,
      400,
      protocol === 'imds'
        ? { error: 'invalid_request', error_description: 'Required audience parameter not specified' }
        : appServiceError(400, "The 'resource' query parameter is missing.").body,
    );
    return;
  }

  const resolved = resolveIdentity(state, q, protocol, target.host);
  if (!('identity' in resolved)) {
    sendJson(res, resolved.status, resolved.body);
    return;
  }
  const identity = resolved.identity;

  if (fault === 'malformed') {
    const body = '{"access_token":"eyJ0eXAi';
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }

  const minted = fault === 'non_jwt' ? { token: 'not-a-jwt', exp: deps.nowSeconds() + 3600 } : deps.mint(identity, resource);
  const now = deps.nowSeconds();
  const withExpiry = fault !== 'no_expires_on';
  if (protocol === 'appService') {
    sendJson(res, 200, {
      access_token: minted.token,
      ...(withExpiry ? { expires_on: String(minted.exp) } : {}),
      resource,
      token_type: 'Bearer',
      client_id: identity.clientId,
    });
  } else {
    // IMDS sends every number as a string.
    sendJson(res, 200, {
      access_token: minted.token,
      refresh_token: '',
      ...(withExpiry
        ? { expires_in: String(minted.exp - now), expires_on: String(minted.exp), ext_expires_in: String(minted.exp - now) }
        : {}),
      not_before: String(now - 300),
      resource,
      token_type: 'Bearer',
    });
  }
}

/**
 * IMDS answers 429 to identity requests past its limit in flight per host (`state.imdsMaxConcurrent`). The body of
 * that 429 is not documented; MSAL reads only the status (and retries 429 with backoff from 1 s).
 */
function imdsLimit(deps: IdentityDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const inFlight = new Map<HostState, number>();
  return (req, res) => {
    const target = hostOf(deps.state, new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    // A staged fault decides the endpoint's every answer on its own.
    if (!target || target.fault || protocolOf(target.path) !== 'imds') return true;
    const n = inFlight.get(target.host) ?? 0;
    if (n >= deps.state.imdsMaxConcurrent) {
      deps.counters.identity++;
      deps.counters.imdsOverLimit++;
      req.resume();
      sendJson(res, 429, { error: 'too_many_requests', error_description: 'Too many requests. Please retry after some time.' });
      return false;
    }
    inFlight.set(target.host, n + 1);
    res.once('close', () => inFlight.set(target.host, (inFlight.get(target.host) ?? 1) - 1));
    return true;
  };
}

export function startIdentityEndpoint(deps: IdentityDeps): Promise<Service> {
  return startService({
    latencyMs: () => deps.state.latencyMs,
    handler: (req, res) => handle(deps, req, res),
    admit: imdsLimit(deps),
    onConnection(socket: Socket) {
      // 'refuse' is a fault of the whole server, set for the default host.
      if (deps.state.identityFault !== 'refuse') return true;
      // A listening port cannot refuse a SYN; an immediate RST is the closest a live server gets.
      deps.counters.identity++;
      socket.resetAndDestroy();
      return false;
    },
  });
}
