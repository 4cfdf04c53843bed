import type { Claims } from '../verdict';

/**
 * Decode a JWT's payload into Claims. Never verifies anything (the service does that) and never keeps the token:
 * callers pass the token in and get plain data back. Returns undefined for anything that is not a JWT.
 */
export function decodeClaims(token: string): Claims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
  const p = payload as Record<string, unknown>;
  const str = (k: string) => (typeof p[k] === 'string' ? (p[k] as string) : undefined);
  const num = (k: string) => (typeof p[k] === 'number' && Number.isFinite(p[k]) ? (p[k] as number) : undefined);
  const aud = Array.isArray(p.aud) ? p.aud.filter((a): a is string => typeof a === 'string').join(' ') : str('aud');
  const claims: Claims = {
    aud,
    iss: str('iss'),
    tid: str('tid'),
    oid: str('oid'),
    sub: str('sub'),
    appid: str('appid'),
    azp: str('azp'),
    idtyp: str('idtyp'),
    ver: str('ver'),
    xms_mirid: str('xms_mirid'),
    // App roles (application permissions): the names only, as the token lists them; bounded like everything we echo.
    roles: Array.isArray(p.roles) ? p.roles.filter((r): r is string => typeof r === 'string').slice(0, 200).map((r) => r.slice(0, 200)) : undefined,
    iat: num('iat'),
    nbf: num('nbf'),
    exp: num('exp'),
  };
  if (claims.iat !== undefined) claims.issuedAt = isoOrUndefined(claims.iat);
  if (claims.exp !== undefined) claims.expiresAt = isoOrUndefined(claims.exp);
  return Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined)) as Claims;
}

function isoOrUndefined(epochSeconds: number): string | undefined {
  const d = new Date(epochSeconds * 1000);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The tenant a v1/v2 issuer names (https://sts.windows.net/<tid>/ or https://login.microsoftonline.com/<tid>/v2.0). */
export function issuerTenant(iss: string | undefined): string | undefined {
  return iss?.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i)?.[0]?.toLowerCase();
}
