/**
 * Last line of defence before anything leaves the process. By content: every value this process sent that is a
 * secret — each minted token and each of its three parts, the identity header, proxy credentials — is remembered
 * (with its base64, base64url and URL-encoded forms) and removed wherever it appears, however a proxy or a hostile
 * service echoes it. By shape, as a backstop: JWT-shaped strings, bearer values and URL credentials (a proxy's
 * user:password@). The engine never puts a token into a verdict; this makes sure an echo of one cannot either.
 */
const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const BEARER = /(Bearer\s+)[A-Za-z0-9._~+/=-]{16,}/gi;
/** user:password@ in any URL (a proxy's credentials, most likely). */
const USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi;

/** Shorter values are not matched by content (they would blot out ordinary words); their longer forms still are. */
export const MIN_SECRET_LENGTH = 8;
/**
 * Secrets remembered at most; the least recently sent go first. A token lives an hour to a day and MSAL reuses it
 * meanwhile — each reuse is remembered again, so tokens in use stay — and every output is searched for every needle.
 */
const MAX_SECRETS = 64;
/** secret → the needles it stands for (itself, its parts, its encodings). */
const remembered = new Map<string, string[]>();
/**
 * Every needle by its first MIN_SECRET_LENGTH characters, longest first: a text is scanned once, looking up each
 * position, so redaction costs the same however many secrets are remembered (hundreds of needles, every output).
 */
let byPrefix = new Map<string, string[]>();

/**
 * Remember a value the process sent (or received to send): from now on it never appears in anything the process
 * outputs. A three-part token also has each part remembered, so an echo of only its signature is caught too.
 */
export function rememberSecret(value: string | undefined): void {
  if (!value || value.length < MIN_SECRET_LENGTH) return;
  const known = remembered.get(value);
  if (known) {
    // Sent again: it moves to the back of the eviction queue.
    remembered.delete(value);
    remembered.set(value, known);
    return;
  }
  const parts = value.split('.');
  const pieces = [value, ...(parts.length === 3 ? parts : [])].filter((p) => p.length >= MIN_SECRET_LENGTH);
  const forms = new Set(pieces.flatMap((p) => [p, ...encodings(p)]).filter((f) => f.length >= MIN_SECRET_LENGTH));
  remembered.set(value, [...forms]);
  while (remembered.size > MAX_SECRETS) remembered.delete(remembered.keys().next().value!);
  byPrefix = new Map();
  for (const needle of [...new Set([...remembered.values()].flat())].sort((a, b) => b.length - a.length)) {
    const key = needle.slice(0, MIN_SECRET_LENGTH);
    const list = byPrefix.get(key);
    if (list) list.push(needle);
    else byPrefix.set(key, [needle]);
  }
}

/**
 * The encoded forms an echo might use: URL-encoded, and base64/base64url as the value would appear inside a longer
 * encoded text at any of the three byte alignments (the characters that depend only on the value's own bytes).
 */
function encodings(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const out = [encodeURIComponent(value)];
  for (let lead = 0; lead < 3; lead++) {
    const b64 = Buffer.concat([Buffer.alloc(lead), bytes]).toString('base64').replace(/=+$/, '');
    const start = lead === 0 ? 0 : 4;
    const whole = Math.floor((lead + bytes.length) / 3) * 4;
    // At lead 0 the full encoding (with its tail) is what a standalone echo looks like; inside a text, only whole groups.
    const inner = b64.slice(start, lead === 0 ? b64.length : whole);
    const innerWhole = b64.slice(start, whole);
    for (const form of new Set([inner, innerWhole])) {
      out.push(form, form.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return out;
}

/** Forget every remembered secret (tests). */
export function forgetSecrets(): void {
  remembered.clear();
  byPrefix = new Map();
}

/** Replace every remembered needle in `s`, the longest at each position first. */
function redactKnown(s: string): string {
  if (byPrefix.size === 0 || s.length < MIN_SECRET_LENGTH) return s;
  let out = '';
  let last = 0;
  let i = 0;
  while (i <= s.length - MIN_SECRET_LENGTH) {
    const hit = byPrefix.get(s.slice(i, i + MIN_SECRET_LENGTH))?.find((n) => s.startsWith(n, i));
    if (hit) {
      out += `${s.slice(last, i)}[REDACTED]`;
      i += hit.length;
      last = i;
    } else {
      i++;
    }
  }
  return last === 0 ? s : out + s.slice(last);
}

export function redactText(s: string): string {
  return redactKnown(s).replace(JWT, '[REDACTED]').replace(BEARER, '$1[REDACTED]').replace(USERINFO, '$1[REDACTED]@');
}

export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redactText(value) as T;
  if (Array.isArray(value)) return value.map(redactDeep) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactDeep(v)])) as T;
  }
  return value;
}
