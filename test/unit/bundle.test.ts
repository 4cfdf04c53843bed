import fs from 'node:fs';
import path from 'node:path';
import { EXTERNAL, EXTENSION, OUT_DIR, loadedAtStart } from '../../scripts/bundle';
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
    const probes = fs.readdirSync(path.join(dir, 'chunks')).filter((f) => f.startsWith('probe-') && f.endsWith(EXTENSION));
    const kinds = fs.readdirSync(path.join(REPO_ROOT, 'src', 'targets'), { withFileTypes: true }).filter((d) => d.isDirectory());
    expect(probes.length).toBe(kinds.length);
    for (const entry of ['index', 'server']) {
      const atStart = [...loadedAtStart(path.join(dir, `${entry}${EXTENSION}`))].map((f) => path.basename(f));
      expect(atStart.length).toBeGreaterThan(1);
      expect(atStart.filter((f) => probes.includes(f))).toEqual([]);
    }
  });

  it('carries zod\'s English messages and none of its other locales', () => {
    const dir = path.join(REPO_ROOT, OUT_DIR, 'chunks');
    const all = fs.readdirSync(dir).filter((f) => f.endsWith(EXTENSION)).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
    // From zod's locales/de.js and locales/en.js ("Invalid input: expected …").
    expect(all).not.toContain('erwartet');
    expect(all).toContain('Invalid input: expected');
  });
});
