/**
 * Last line of defence before anything leaves the process: JWT-shaped strings, bearer values and URL credentials
 * (a proxy's user:password@) become [REDACTED]. The engine never puts a token into a verdict; this makes sure an SDK
 * message quoting one cannot either.
 */
const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const BEARER = /(Bearer\s+)[A-Za-z0-9._~+/=-]{16,}/gi;
/** user:password@ in any URL (a proxy's credentials, most likely). */
const USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi;

export function redactText(s: string): string {
  return s.replace(JWT, '[REDACTED]').replace(BEARER, '$1[REDACTED]').replace(USERINFO, '$1[REDACTED]@');
}

export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redactText(value) as T;
  if (Array.isArray(value)) return value.map(redactDeep) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactDeep(v)])) as T;
  }
  return value;
}
