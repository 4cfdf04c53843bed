/**
 * Content negotiation for /api/diagnose: the Accept header's media ranges, by quality, mapped onto the formats we
 * render. Wildcards and media types we do not render never select anything, so `*\/*` (curl's default) and any
 * unknown Accept fall back to JSON, the contract.
 */

export type NegotiableFormat = 'json' | 'text' | 'junit' | 'html';

const MEDIA_TYPES: Readonly<Record<string, NegotiableFormat>> = {
  'application/json': 'json',
  'text/plain': 'text',
  'application/xml': 'junit',
  'application/junit+xml': 'junit',
  'text/xml': 'junit',
  'text/html': 'html',
  'application/xhtml+xml': 'html',
};

/** RFC 9110 qvalue: 0 to 1 with at most three decimals. Anything else makes the media range unusable. */
const QVALUE = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/;

/**
 * The format the Accept header prefers, or undefined when it names none we render. Highest quality wins; between
 * equal qualities the first listed wins — a browser sends `text/html,…,application/xml;q=0.9,*\/*;q=0.8` and gets HTML,
 * not JUnit.
 */
export function formatFromAccept(accept: string | null | undefined): NegotiableFormat | undefined {
  if (!accept) return undefined;
  let best: { format: NegotiableFormat; q: number } | undefined;
  for (const range of accept.slice(0, 4096).split(',')) {
    const [type = '', ...params] = range.split(';').map((p) => p.trim());
    const format = MEDIA_TYPES[type.toLowerCase()];
    if (!format) continue;
    let q = 1;
    for (const p of params) {
      const [k, v = ''] = p.split('=').map((s) => s.trim());
      if (k?.toLowerCase() !== 'q') continue;
      q = QVALUE.test(v) ? Number(v) : -1;
    }
    // q=0 means "not acceptable"; a malformed q is ignored rather than guessed at.
    if (q <= 0) continue;
    if (!best || q > best.q) best = { format, q };
  }
  return best?.format;
}
