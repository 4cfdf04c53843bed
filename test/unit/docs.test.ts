import fs from 'node:fs';
import path from 'node:path';
import { SETTING_NAMES, TargetListSchema } from '../../src/config';
import { DiagnoseQuerySchema } from '../../src/http/diagnoseRequest';
import { openApiDocument } from '../../src/openapi/document';
import { createRoutes } from '../../src/routes';
import { VerdictSchema } from '../../src/verdict';
import { HealthSchema } from '../../src/output/health';
import { fillPlaceholders } from '../support/docs';
import type { World } from '../world';
import { standardTargets } from '../world/scenario';

/**
 * Every page a user reads — README.md, docs/*.md, TROUBLESHOOTING.md — held to the code: links resolve, routes exist,
 * every query string in a command parses, JSON examples fit the schemas, npm scripts exist, and the status table of
 * the HTTP API agrees with the OpenAPI document. A page that drifts from the code fails here, not in a user's pipeline.
 */
const ROOT = path.resolve(__dirname, '../..');
const PAGES = ['README.md', 'TROUBLESHOOTING.md', 'SECURITY.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const pages = PAGES.map((file) => ({ file, text: read(file) }));
const ROUTES = createRoutes();

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}
function anchorsOf(text: string): Set<string> {
  const withoutCode = text.replace(/```[\s\S]*?```/g, '');
  return new Set([...withoutCode.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

function codeBlocks(text: string, lang: string): string[] {
  return [...text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)\\n```', 'g'))].map((m) => m[1]!);
}

describe.each(pages)('$file', ({ file, text }) => {
  it('links only to files and headings that exist', () => {
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^https?:/.test(l));
    for (const link of links) {
      const [target, anchor] = link.split('#') as [string, string | undefined];
      const resolved = target ? path.join(path.dirname(path.join(ROOT, file)), target) : path.join(ROOT, file);
      expect({ link, exists: fs.existsSync(resolved) }).toEqual({ link, exists: true });
      if (anchor && resolved.endsWith('.md')) expect({ link, anchors: [...anchorsOf(fs.readFileSync(resolved, 'utf8'))] }).toEqual({ link, anchors: expect.arrayContaining([anchor]) });
    }
  });

  it('names only routes the service serves', () => {
    const named = [...text.matchAll(/\/api\/([a-z][a-z./-]*[a-z]|[a-z])/g)].map((m) => m[1]!);
    const known = ROUTES.map((r) => r.route);
    // An embedding app serves the same routes under its prefix (/api/<prefix>/<route>).
    const unknown = named.filter((r) => !known.includes(r) && !known.some((k) => r.endsWith(`/${k}`)));
    expect(unknown).toEqual([]);
  });

  it('uses only query strings /api/diagnose accepts', () => {
    const queries = [...text.matchAll(/(?:\/api\/diagnose|\$DIAGNOSE_URL)\?([^"'\s`)|]+)/g)].map((m) => m[1]!);
    for (const q of queries) {
      const params = Object.fromEntries(
        [...new URLSearchParams(q).entries()].map(([k, v]) => [k, /[<$…]/.test(v) || v === '' ? placeholderFor(k) : v]),
      );
      expect({ q, ok: DiagnoseQuerySchema.safeParse(params).success }).toEqual({ q, ok: true });
    }
  });

  it('asks the sandbox (npm start) only for targets it stages', () => {
    const sandboxNames = standardTargets(SANDBOX_URLS).map((x) => x.name);
    const asked = [...text.matchAll(/127\.0\.0\.1:7071\/api\/diagnose\?[^"'\s`]*?target=([^&"'\s`]+)/g)].flatMap((m) => m[1]!.split(','));
    expect(asked.filter((n) => !sandboxNames.includes(n))).toEqual([]);
  });

  it('shows JSON examples that parse, and fit their schema when they are a verdict, a health answer or targets', () => {
    for (const block of codeBlocks(text, 'json')) {
      if (block.includes('…')) continue; // shortened on purpose (e.g. "2 of 13 checks shown")
      const json = JSON.parse(fillPlaceholders(block)) as unknown;
      if (Array.isArray(json)) expect(TargetListSchema.safeParse(json).success).toBe(true);
      else if (json && typeof json === 'object' && 'identity' in json) VerdictSchema.parse(json);
      else if (json && typeof json === 'object' && 'checks' in json) HealthSchema.parse(json);
    }
  });

  it('runs only npm scripts package.json has', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
    const used = [...text.matchAll(/npm run ([a-z][\w:-]*)/g)].map((m) => m[1]!);
    expect(used.filter((s) => !scripts.includes(s))).toEqual([]);
  });

  it('names as app settings only settings the service reads', () => {
    // Tables headed "setting" list app settings (README); `az … appsettings set --settings NAME=…` sets them.
    const set = [...text.matchAll(/appsettings set[^\n]*(?:\\\n[^\n]*)*/g)].flatMap((m) => [...m[0].matchAll(/\b([A-Z][A-Z0-9_]+)=/g)].map((n) => n[1]!));
    expect(set.filter((n) => !(SETTING_NAMES as string[]).includes(n))).toEqual([]);
  });
});

/** standardTargets only needs the world's URLs to name the sandbox's targets. */
const SANDBOX_URLS = {
  vaultUrl: (name: string) => `https://${name}.vault.azure.net`,
  accountUrl: (name: string) => `https://${name}.blob.core.windows.net`,
  armEndpoint: 'https://management.azure.com',
} as unknown as World;

/** A value that satisfies a parameter whose example value is a placeholder. */
function placeholderFor(name: string): string {
  return { target: 'a', format: 'json', probe: 'raw', waitSeconds: '1', failOn: 'fail', code: 'k' }[name] ?? 'x';
}

describe('the docs as a whole', () => {
  it('show sandbox commands at all (so the per-page checks above are not vacuous)', () => {
    const all = pages.map((p) => p.text).join('\n');
    expect(all.match(/127\.0\.0\.1:7071\/api\/diagnose\?[^"'\s`]*target=/g)?.length).toBeGreaterThanOrEqual(4);
    expect(all.match(/(?:\/api\/diagnose|\$DIAGNOSE_URL)\?/g)?.length).toBeGreaterThanOrEqual(8);
    expect(all.match(/```json\n/g)?.length).toBeGreaterThanOrEqual(4);
  });
});

describe('docs/http-api.md', () => {
  const text = read('docs/http-api.md');

  it('lists every query parameter /api/diagnose accepts, and no other', () => {
    const start = text.indexOf('| parameter | values | meaning |');
    const rows = text.slice(start).split('\n').slice(2);
    const names = rows.slice(0, rows.findIndex((r) => !r.startsWith('|'))).map((r) => r.split('|')[1]!.trim().replace(/`/g, ''));
    expect(names.sort()).toEqual(Object.keys(DiagnoseQuerySchema.shape).sort());
  });

  it('lists statuses of the service\'s own routes that the OpenAPI document describes', () => {
    const doc = openApiDocument() as unknown as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    const start = text.indexOf('| status | route | when | body |');
    const rows = text.slice(start).split('\n').slice(2);
    const table = rows.slice(0, rows.findIndex((r) => !r.startsWith('|'))).map((r) => r.split('|').map((c) => c.trim()));
    expect(table.length).toBeGreaterThan(8);
    for (const [, statuses, routes] of table) {
      if (routes!.includes('local server only')) continue;
      for (const route of [...routes!.matchAll(/`(\/api\/[^`]+)`/g)].map((m) => m[1]!)) {
        for (const status of statuses!.split('/').map((s) => s.trim())) {
          const described = Object.values(doc.paths[route] ?? {}).some((op) => status in op.responses);
          expect({ route, status, described }).toEqual({ route, status, described: true });
        }
      }
    }
  });
});

describe('docs/verdict-and-causes.md', () => {
  it('shows a full sandbox response that still fits the verdict schema', () => {
    const example = read('docs/verdict-and-causes.md').match(/<!-- example:start -->\n```json\n([\s\S]*?)\n```\n<!-- example:end -->/)?.[1];
    const verdict = VerdictSchema.parse(JSON.parse(example!));
    expect(verdict.checks[0]?.cause).toBe('role_missing');
    expect(verdict.checks[0]?.evidence.roles?.lookedUp).toBe(true);
  });
});

describe('SECURITY.md', () => {
  it('names, for its guarantees, only tests that exist', () => {
    const named = [...read('SECURITY.md').matchAll(/`(test\/[\w./-]+\.(?:ts|cjs))`/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(10);
    for (const file of new Set(named)) expect({ file, exists: fs.existsSync(path.join(ROOT, file)) }).toEqual({ file, exists: true });
  });
});
