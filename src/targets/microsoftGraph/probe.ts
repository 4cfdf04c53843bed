import { guarded, type CallOutcome, type Probe } from '../probe';
import { asRestError, graphGet } from './http';
import type { MicrosoftGraphTarget } from './index';

/**
 * The configured GET, and only a GET: Graph checks the application permission the path needs (the target names it,
 * e.g. User.Read.All for GET /v1.0/users) against the token's `roles` claim. The answer is reduced to its shape on
 * the spot — a collection's item count and whether a next page exists, or an object's property count — so no
 * directory, mail or file data ever reaches the verdict.
 */
export const probeMicrosoftGraph: Probe<MicrosoftGraphTarget> = (target, ctx) => {
  const url = `${ctx.endpoint}${target.path}`;
  return guarded(url, ctx, async (): Promise<CallOutcome> => {
    const answer = await graphGet(url, { credential: ctx.credential, audience: ctx.audience, signal: ctx.signal, maxResponseBytes: ctx.maxResponseBytes });
    if (answer.status < 200 || answer.status > 299) {
      const failed = await guarded(url, ctx, () => Promise.reject(asRestError(answer, url)));
      // Graph names its correlation headers its own way (request-id, client-request-id, x-ms-ags-diagnostic).
      return failed.ok ? failed : { ok: false, failure: { ...failed.failure, ...answer.correlation } };
    }
    return { ok: true, httpStatus: answer.status, result: shapeOf(answer.body), correlation: answer.correlation };
  });
};

/** What the answer looks like, never what it says. */
export function shapeOf(body: string): Record<string, string | number | boolean | null> {
  let json: unknown;
  try {
    json = body ? JSON.parse(body) : undefined;
  } catch {
    return { readable: true, shape: 'not JSON', bytes: Buffer.byteLength(body) };
  }
  if (json && typeof json === 'object' && !Array.isArray(json)) {
    const rec = json as Record<string, unknown>;
    if (Array.isArray(rec.value)) return { readable: true, shape: 'collection', items: rec.value.length, morePages: typeof rec['@odata.nextLink'] === 'string' };
    return { readable: true, shape: 'object', properties: Object.keys(rec).filter((k) => !k.startsWith('@odata.')).length };
  }
  return { readable: true, shape: json === undefined ? 'empty' : typeof json };
}
