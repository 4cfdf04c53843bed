import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IdentityDeps } from './identityEndpoint';
import type { HostState, Identity, IdentityFault } from './model';
import { sendJson } from './service';

/**
 * The identity protocols of the hosts beyond App Service and IMDS, as MSAL 5.6 speaks them (its
 * `ManagedIdentitySources/*.ts`), served by the identity server under their own paths:
 *  - Service Fabric: GET …/sf/metadata/identity/oauth2/token?api-version=2019-07-01-preview&resource=… with header
 *    `secret` (= IDENTITY_HEADER); errors `{"error":{"code","message","correlationId"}}` (SecretHeaderNotFound, …).
 *  - Cloud Shell: POST …/cloudshell/oauth2/token, `Metadata: true`, form body `resource=…`.
 *  - Azure Arc: GET …/arc/metadata/identity/oauth2/token?api-version=2020-06-01&resource=…, `Metadata: true`; first a
 *    401 with `WWW-Authenticate: Basic realm=<key file>`, then `Authorization: Basic <key file content>`.
 *  - Azure Machine Learning: GET …/ml/token?api-version=2017-09-01&resource=…&clientid=…, `Metadata: true` and
 *    `secret` (= MSI_SECRET, here the world's identity header); the 2017 protocol always names the client id.
 */
export type HostProtocol = 'serviceFabric' | 'cloudShell' | 'arc' | 'machineLearning';

export const HOST_PROTOCOL_PATHS: Readonly<Record<string, HostProtocol>> = {
  '/sf/metadata/identity/oauth2/token': 'serviceFabric',
  '/cloudshell/oauth2/token': 'cloudShell',
  '/arc/metadata/identity/oauth2/token': 'arc',
  '/ml/token': 'machineLearning',
};

type Resolution = { identity: Identity } | { status: number; body: unknown };

export interface HostRequest {
  deps: IdentityDeps;
  protocol: HostProtocol;
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  host: HostState;
  fault: IdentityFault | undefined;
  /** The identity the request selects among the host's (IMDS rules for Arc; App Service's for Service Fabric). */
  resolve(protocol: HostProtocol): Resolution;
}

const sfError = (status: number, code: string, message: string) => ({ status, body: { error: { code, message, correlationId: randomUUID() } } });

export function handleHostProtocol(r: HostRequest): void {
  if (r.protocol === 'serviceFabric') return serviceFabric(r);
  if (r.protocol === 'arc') return arc(r);
  if (r.protocol === 'machineLearning') return machineLearning(r);
  return cloudShell(r);
}

function send(res: ServerResponse, e: { status: number; body: unknown }): void {
  sendJson(res, e.status, e.body);
}

function serviceFabric(r: HostRequest): void {
  const { req, res, query, deps } = r;
  if (req.method !== 'GET') return send(res, sfError(405, 'MethodNotAllowed', 'Only GET is supported.'));
  const secret = req.headers['secret'];
  if (secret === undefined) return send(res, sfError(401, 'SecretHeaderNotFound', 'Secret is not found in the request headers.'));
  if (secret !== deps.identityHeader) return send(res, sfError(401, 'InvalidSecret', 'The secret in the request headers is not valid.'));
  if (query.get('api-version') !== '2019-07-01-preview') return send(res, sfError(400, 'InvalidApiVersion', `The api-version '${query.get('api-version') ?? ''}' is not supported.`));
  const resource = query.get('resource');
  if (!resource) return send(res, sfError(400, 'ArgumentNullOrEmpty', "The parameter 'resource' is null or empty."));
  if (r.fault === 'identity_not_found') return send(res, sfError(404, 'ManagedIdentityNotFound', 'No managed identity is assigned to this application.'));
  // The application manifest picks the identity: the first attached one stands for it.
  const identity = r.deps.state.identities.find((i) => r.host.attached.includes(i.name));
  if (!identity) return send(res, sfError(404, 'ManagedIdentityNotFound', 'No managed identity is assigned to this application.'));
  const minted = deps.mint(identity, resource);
  sendJson(res, 200, { token_type: 'Bearer', access_token: minted.token, expires_on: minted.exp, resource });
}

function cloudShell(r: HostRequest): void {
  const { req, res, deps } = r;
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (res.destroyed) return;
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'invalid_request', error_description: 'Only POST is supported.' });
    if ((req.headers['metadata'] ?? '').toString().toLowerCase() !== 'true') {
      return sendJson(res, 400, { error: 'invalid_request', error_description: 'Required metadata header not specified' });
    }
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const resource = form.get('resource');
    if (!resource) return sendJson(res, 400, { error: 'invalid_request', error_description: 'Required audience parameter not specified' });
    deps.counters.identityByResource[resource] = (deps.counters.identityByResource[resource] ?? 0) + 1;
    // Cloud Shell hands out the signed-in user's token; the first attached identity stands for that user.
    const identity = deps.state.identities.find((i) => r.host.attached.includes(i.name));
    if (!identity || r.fault === 'identity_not_found') return sendJson(res, 400, { error: 'invalid_request', error_description: 'Identity not found' });
    const minted = deps.mint(identity, resource);
    sendJson(res, 200, { access_token: minted.token, expires_on: String(minted.exp), resource, token_type: 'Bearer' });
  });
}

function arc(r: HostRequest): void {
  const { req, res, query, deps, host } = r;
  if ((req.headers['metadata'] ?? '').toString().toLowerCase() !== 'true') {
    return sendJson(res, 400, { error: 'invalid_request', error_description: 'Required metadata header not specified' });
  }
  const authorization = req.headers.authorization;
  if (!authorization || !host.arcSecret || authorization !== `Basic ${host.arcSecret}`) {
    // The agent issues a fresh challenge for every request without the right proof.
    res.writeHead(401, { 'www-authenticate': `Basic realm=${host.arcKeyFile ?? '/var/opt/azcmagent/tokens/missing.key'}`, 'content-length': '0' });
    res.end();
    return;
  }
  const resource = query.get('resource');
  if (query.get('api-version') === null) return sendJson(res, 400, { error: 'invalid_request', error_description: "Required query variable 'api-version' is missing" });
  if (!resource) return sendJson(res, 400, { error: 'invalid_request', error_description: 'Required audience parameter not specified' });
  if (r.fault === 'identity_not_found') return sendJson(res, 400, { error: 'invalid_request', error_description: 'Identity not found' });
  const resolved = r.resolve('arc');
  if (!('identity' in resolved)) return sendJson(res, resolved.status, resolved.body);
  const { identity } = resolved;
  const minted = deps.mint(identity, resource);
  const now = deps.nowSeconds();
  sendJson(res, 200, {
    access_token: minted.token,
    expires_in: String(minted.exp - now),
    expires_on: String(minted.exp),
    not_before: String(now - 300),
    resource,
    token_type: 'Bearer',
    // MSAL fails closed unless Arc echoes the user-assigned identity it was asked for.
    ...(query.get('client_id') ? { client_id: identity.clientId } : {}),
    ...(query.get('object_id') ? { object_id: identity.principalId } : {}),
    ...(query.get('msi_res_id') ? { msi_res_id: identity.resourceId } : {}),
  });
}

function machineLearning(r: HostRequest): void {
  const { req, res, query, deps } = r;
  if ((req.headers['metadata'] ?? '').toString().toLowerCase() !== 'true') {
    return sendJson(res, 400, { error: 'invalid_request', error_description: 'Required metadata header not specified' });
  }
  if (req.headers['secret'] !== deps.identityHeader) return sendJson(res, 401, { error: 'unauthorized', error_description: 'The secret header is missing or not valid.' });
  if (query.get('api-version') !== '2017-09-01') return sendJson(res, 400, { error: 'invalid_request', error_description: 'Unsupported api-version.' });
  const resource = query.get('resource');
  if (!resource) return sendJson(res, 400, { error: 'invalid_request', error_description: 'Required audience parameter not specified' });
  const clientId = (query.get('clientid') ?? '').toLowerCase();
  const identity = deps.state.identities.find((i) => r.host.attached.includes(i.name) && i.clientId.toLowerCase() === clientId);
  if (!identity || r.fault === 'identity_not_found') return sendJson(res, 400, { error: 'invalid_request', error_description: 'Identity not found' });
  const minted = deps.mint(identity, resource);
  sendJson(res, 200, { access_token: minted.token, expires_on: String(minted.exp), resource, token_type: 'Bearer', client_id: identity.clientId });
}
