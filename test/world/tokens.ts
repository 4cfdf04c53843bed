import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Identity } from './model';

/**
 * Claims of a v1 managed-identity access token (what the App Service and IMDS endpoints hand out). The signature is
 * random bytes: nothing in the world verifies signatures, exactly as Azurite doesn't, and production code must not.
 */
export interface TokenClaims {
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  tid: string;
  oid: string;
  sub: string;
  appid: string;
  appidacr: string;
  idtyp: string;
  ver: string;
  xms_mirid: string;
  uti: string;
  [claim: string]: unknown;
}

const HEADER = { typ: 'JWT', alg: 'RS256', kid: 'sim' };

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

export function encodeJwt(claims: Record<string, unknown>): string {
  return [b64url(JSON.stringify(HEADER)), b64url(JSON.stringify(claims)), b64url(randomBytes(32))].join('.');
}

export function claimsFor(
  identity: Identity,
  resource: string,
  nowSeconds: number,
  overrides: Partial<TokenClaims> = {},
): TokenClaims {
  const lifetime = identity.tokenLifetimeByResource?.[resource] ?? identity.tokenLifetimeSeconds ?? 3600;
  return {
    // v1 tokens carry the resource exactly as requested: `https://vault.azure.net` and `.../` stay distinct.
    aud: resource,
    iss: `https://sts.windows.net/${identity.tenantId}/`,
    // AAD backdates iat/nbf by five minutes to absorb clock skew.
    iat: nowSeconds - 300,
    nbf: nowSeconds - 300,
    exp: nowSeconds + lifetime,
    tid: identity.tenantId,
    oid: identity.principalId,
    sub: identity.principalId,
    appid: identity.clientId,
    appidacr: '2',
    idtyp: 'app',
    ver: '1.0',
    xms_mirid: identity.resourceId,
    uti: randomBytes(16).toString('base64url'),
    rh: '0.' + randomUUID(),
    ...overrides,
  };
}

/** Decodes without verifying. Undefined for anything that is not three dot-separated parts with a JSON payload. */
export function decodeJwt(token: string): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
    return payload as TokenClaims;
  } catch {
    return undefined;
  }
}

/** The token after `Bearer ` (scheme case-insensitive, as the services treat it), or undefined. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/** The tenant a v1 (`sts.windows.net/<tid>/`) or v2 (`login.microsoftonline.com/<tid>/v2.0`) issuer names. */
export function issuerTenant(claims: TokenClaims): string | undefined {
  const iss = typeof claims.iss === 'string' ? claims.iss : '';
  const m = /^https:\/\/[^/]+\/([^/]+)\//.exec(iss);
  return m?.[1] ?? (typeof claims.tid === 'string' ? claims.tid : undefined);
}

/** Who the token names, as services print it in 403 messages: `appid=..;oid=..;iss=..`. */
export function callerDescription(claims: TokenClaims): string {
  return `appid=${String(claims.appid ?? claims.azp ?? '')};oid=${String(claims.oid ?? '')};iss=${String(claims.iss ?? '')}`;
}

/** Authentication outcome shared by the three token-checking services; each renders it in its own dialect. */
export type TokenProblem =
  | { problem: 'missing' }
  | { problem: 'malformed' }
  | { problem: 'audience'; claims: TokenClaims }
  | { problem: 'issuer'; claims: TokenClaims; tenant: string | undefined }
  | { problem: 'expired'; claims: TokenClaims }
  | { problem: 'not_yet_valid'; claims: TokenClaims };

export type TokenCheck = { ok: true; claims: TokenClaims } | ({ ok: false } & TokenProblem);

/**
 * Checks common to all services, in the order they evaluate them: presence, shape, audience, issuer, lifetime.
 * `audienceOk` decides the audience; `tenantId` is the tenant the target belongs to.
 */
export function checkToken(
  req: IncomingMessage,
  audienceOk: (aud: string) => boolean,
  tenantId: string,
  nowSeconds: number,
): TokenCheck {
  const token = bearerToken(req);
  if (!token) return { ok: false, problem: 'missing' };
  const claims = decodeJwt(token);
  if (!claims || typeof claims.aud !== 'string') return { ok: false, problem: 'malformed' };
  if (!audienceOk(claims.aud)) return { ok: false, problem: 'audience', claims };
  const tenant = issuerTenant(claims);
  if (!tenant || tenant.toLowerCase() !== tenantId.toLowerCase()) return { ok: false, problem: 'issuer', claims, tenant };
  if (typeof claims.exp !== 'number' || claims.exp < nowSeconds) return { ok: false, problem: 'expired', claims };
  if (typeof claims.nbf === 'number' && claims.nbf > nowSeconds + 300) return { ok: false, problem: 'not_yet_valid', claims };
  return { ok: true, claims };
}
