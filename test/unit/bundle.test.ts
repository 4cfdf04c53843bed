import fs from 'node:fs';
import path from 'node:path';
import { EXTERNAL, EXTENSION, OUT_DIR } from '../../scripts/bundle';
import { REPO_ROOT } from '../world/paths';

/**
 * The deployment bundle is ES modules split per kind (scripts/bundle.ts). What breaks it silently — only when the
 * code path first runs on Azure — is checked here against the source and the built output.
 */
const sources = (dir: string): string[] =>
  fs.readdirSync(path.join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f));

describe('the bundle', () => {
  it('is loaded lazily only through modules of our own (a package\'s named exports survive only a static import)', () => {
    const offending = sources('src').flatMap((file) =>
      [...fs.readFileSync(path.join(REPO_ROOT, file), 'utf8').matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)]
        .map((m) => m[1]!)
        .filter((spec) => !spec.startsWith('.') && !EXTERNAL.includes(spec) && spec !== '@azure/identity')
        .map((spec) => `${file}: import('${spec}')`),
    );
    expect(offending).toEqual([]);
  });

  it('gives each kind\'s probe a chunk of its own, outside what the entry points load at start', () => {
    const dir = path.join(REPO_ROOT, OUT_DIR);
    // The files an entry point loads before it runs: its static imports, transitively (dynamic import() excluded).
    const loadedAtStart = (file: string, seen = new Set<string>()): Set<string> => {
      if (seen.has(file)) return seen;
      seen.add(file);
      const code = fs.readFileSync(file, 'utf8');
      for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*)["'](\.[^"']+)["']/g)) loadedAtStart(path.resolve(path.dirname(file), m[1]!), seen);
      return seen;
    };
    const probes = fs.readdirSync(path.join(dir, 'chunks')).filter((f) => f.startsWith('probe-') && f.endsWith(EXTENSION));
    const kinds = fs.readdirSync(path.join(REPO_ROOT, 'src', 'targets'), { withFileTypes: true }).filter((d) => d.isDirectory());
    expect(probes.length).toBe(kinds.length);
    for (const entry of ['index', 'server']) {
      const atStart = [...loadedAtStart(path.join(dir, `${entry}${EXTENSION}`))].map((f) => path.basename(f));
      expect(atStart.length).toBeGreaterThan(1);
      expect(atStart.filter((f) => probes.includes(f))).toEqual([]);
    }
  });
});
