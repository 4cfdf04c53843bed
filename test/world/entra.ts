import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FederatedCredential, Identity, WorldState } from './model';
import { parseUrl, sendJson, startService, type Service } from './service';
import { decodeJwt } from './tokens';

/**
 * Microsoft Entra's token endpoint for the AKS workload-identity exchange, at `https://login.microsoftonline.com:<port>`
 * (AZURE_AUTHORITY_HOST): the OpenID configuration MSAL reads first, and
 * POST /{tenant}/oauth2/v2.0/token (client_credentials with a jwt-bearer client assertion). The assertion — the
 * pod's projected service-account token — is checked as Entra does: the client id must be an identity in the tenant
 * (AADSTS700016), the assertion within its time range (AADSTS700024), and a federated credential of that identity
 * must match its issuer, subject and audience exactly (AADSTS70021), once propagated. Errors carry Entra's body:
 * error, error_description, error_codes, timestamp, trace_id, correlation_id.
 */
export interface EntraDeps {
  state: WorldState;
  tls: { cert: string; key: string };
  mint(identity: Identity, resource: string): { token: string; exp: number };
  nowMs(): number;
  /** Origin the OpenID configuration names (its own https://login.microsoftonline.com:<port>). */
  origin(): string;
}

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

function entraError(res: ServerResponse, status: number, error: string, code: number, text: string): void {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  sendJson(res, status, {
    error,
    error_description: `AADSTS${code}: ${text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  });
}

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
  });
}

function matches(fic: FederatedCredential, iss: string, sub: string, aud: string): boolean {
  // Entra compares exactly: a missing trailing "/" on the issuer or a different case in the subject is a mismatch.
  return fic.issuer === iss && fic.subject === sub && fic.audiences.includes(aud);
}

async function handle(deps: EntraDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = parseUrl(req);
  const openId = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(url.pathname);
  if (req.method === 'GET' && openId) {
    req.resume();
    const tenant = openId[1]!;
    const base = `${deps.origin()}/${tenant}`;
    sendJson(res, 200, {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      jwks_uri: `${deps.origin()}/${tenant}/discovery/v2.0/keys`,
      issuer: `${deps.origin()}/${tenant}/v2.0`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      tenant_region_scope: 'WW',
    });
    return;
  }
  const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
  if (req.method !== 'POST' || !token) {
    req.resume();
    sendJson(res, 404, { error: 'not_found', error_description: `No such endpoint: ${url.pathname}` });
    return;
  }
  const tenant = token[1]!.toLowerCase();
  const form = await readForm(req);
  const clientId = form.get('client_id') ?? '';
  const scope = form.get('scope') ?? '';
  if (form.get('grant_type') !== 'client_credentials' || form.get('client_assertion_type') !== JWT_BEARER || !form.get('client_assertion')) {
    return entraError(res, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_assertion'.");
  }
  const identity = deps.state.identities.find((i) => i.clientId.toLowerCase() === clientId.toLowerCase() && i.tenantId.toLowerCase() === tenant);
  if (!identity) {
    return entraError(res, 400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
  }
  const assertion = decodeJwt(form.get('client_assertion')!);
  if (!assertion) return entraError(res, 400, 'invalid_client', 50027, 'JWT token is invalid or malformed.');
  const now = Math.floor(deps.nowMs() / 1000);
  const nbf = typeof assertion.nbf === 'number' ? assertion.nbf : typeof assertion.iat === 'number' ? assertion.iat : now;
  if (typeof assertion.exp !== 'number' || assertion.exp < now || nbf > now + 300) {
    const iso = (s: number) => new Date(s * 1000).toISOString();
    return entraError(res, 401, 'invalid_client', 700024, `Client assertion is not within its valid time range. Current time: ${iso(now)}, assertion valid from ${iso(nbf)}, expiry time of assertion ${typeof assertion.exp === 'number' ? iso(assertion.exp) : '(none)'}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`);
  }
  const iss = String(assertion.iss ?? '');
  const sub = String(assertion.sub ?? '');
  const aud = Array.isArray(assertion.aud) ? String(assertion.aud[0] ?? '') : String(assertion.aud ?? '');
  const effective = (f: FederatedCredential) => deps.nowMs() >= f.createdOn.getTime() + (f.propagationDelaySeconds ?? 0) * 1000;
  const fic = deps.state.federatedCredentials.find((f) => f.identity === identity.name && effective(f) && matches(f, iss, sub, aud));
  if (!fic) {
    return entraError(res, 400, 'invalid_request', 70021, `No matching federated identity record found for presented assertion. Assertion Issuer: '${iss}'. Assertion Subject: '${sub}'. Assertion Audience: '${aud}'. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`);
  }
  const resource = scope.replace(/\/\.default$/, '');
  const minted = deps.mint(identity, resource);
  const expiresIn = Math.max(0, minted.exp - now);
  sendJson(res, 200, { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: minted.token });
}

export function startEntra(deps: EntraDeps): Promise<Service> {
  return startService({ tls: deps.tls, latencyMs: () => deps.state.latencyMs, handler: (req, res) => handle(deps, req, res) });
}
