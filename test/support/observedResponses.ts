import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../world/paths';

/**
 * Every answer the integration tests receive from the service is recorded here — route, method, status, media type —
 * and at the end of the run (test/support/globalTeardown.ts) each one must be described by the OpenAPI document.
 * So a status or content type the service really answers cannot stay undocumented: the first test that sees it
 * fails the run, naming it.
 */
export const OBSERVED_DIR = path.join(REPO_ROOT, 'artifacts', 'observed-responses');

export interface Observation {
  method: string;
  /** The path without the query. */
  path: string;
  status: number;
  /** The media type without parameters; '' when the answer has no body type. */
  mediaType: string;
}

/** The path as the server saw it: `//` stays `//` (new URL(url, base) would read it as a host). */
function pathOf(url: string): string {
  try {
    return new URL(/^https?:/.test(url) ? url : `http://localhost${url}`).pathname;
  } catch {
    return url.split('?')[0]!;
  }
}

/** Records under jest only: the sandbox (`npm start`) drives the same service helpers and must not write here. */
export function recordObservation(method: string, url: string, status: number, contentType: string | null): void {
  if (!process.env.JEST_WORKER_ID) return;
  const observation: Observation = {
    method: method.toUpperCase(),
    path: pathOf(url),
    status,
    mediaType: (contentType ?? '').split(';')[0]!.trim().toLowerCase(),
  };
  fs.mkdirSync(OBSERVED_DIR, { recursive: true });
  fs.appendFileSync(path.join(OBSERVED_DIR, `${process.pid}.jsonl`), `${JSON.stringify(observation)}\n`);
}

export function readObservations(): Observation[] {
  if (!fs.existsSync(OBSERVED_DIR)) return [];
  return fs
    .readdirSync(OBSERVED_DIR)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => fs.readFileSync(path.join(OBSERVED_DIR, f), 'utf8').split('\n').filter(Boolean))
    .map((line) => JSON.parse(line) as Observation);
}

interface Described {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
}

/**
 * The observations the document does not describe, one line each. A path the document has no operation for may
 * only have been answered by the local server's own 404 (no such route) or 405 (no such method), or by its refusal of
 * a request Node's parser rejects before routing (431, 400), as problems.
 */
export function undescribed(observations: Observation[], doc: Described): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const o of observations) {
    const key = `${o.method} ${o.path} → ${o.status} ${o.mediaType || '(no body type)'}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const item = doc.paths[o.path];
    const op = item?.[o.method.toLowerCase()];
    if (!op) {
      const expected = item ? 405 : 404;
      // Node's parser refuses an oversized or malformed request (431, 400) before any route or method is known: the
      // local server answers those as problems whatever the method (src/server.ts, clientError).
      const beforeRouting = o.status === 431 || o.status === 400;
      if ((o.status !== expected && !beforeRouting) || o.mediaType !== 'application/problem+json') problems.push(`${key}: not in the document, and not the local server's ${expected} problem`);
      continue;
    }
    const response = op.responses[String(o.status)];
    if (!response) problems.push(`${key}: status not described`);
    else if (o.mediaType && !response.content?.[o.mediaType]) problems.push(`${key}: media type not described for this status`);
  }
  return problems;
}
