import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { EXTENSION, OUT_DIR, loadedAtStart } from '../scripts/bundle';
import { REPO_ROOT } from '../test/world/paths';

/**
 * What a deployment ships: the files `azd deploy` zips (the working tree minus `.funcignore`; the Flex plan then runs
 * `npm install` and `npm run build` remotely), and the bundle the Functions host loads (`main`). Sizes in bytes.
 */
export interface PackageSize {
  files: number;
  bytes: number;
  /** Every ES module file of dist/bundle/ (entry points and chunks). */
  bundleBytes: number;
  bundleMapBytes: number;
  /** What the Functions host reads before `main` runs: index.mjs and its static imports (no kind's probe chunk). */
  bundleAtStartBytes: number;
}

/** `.funcignore` lines as the Functions tooling reads them: a name or glob matched against every path segment. */
function ignoredBy(patterns: string[]): (rel: string) => boolean {
  const res = patterns.map((p) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`));
  return (rel) => rel.split('/').some((seg, i, all) => res.some((re) => re.test(seg) || re.test(all.slice(0, i + 1).join('/'))));
}

export function measurePackage(root = REPO_ROOT): PackageSize {
  const patterns = fs
    .readFileSync(path.join(root, '.funcignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const ignored = ignoredBy(patterns);
  // Tracked and untracked-but-not-gitignored files, plus the build output (gitignored, yet zipped when present).
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\n');
  const built: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else built.push(rel);
    }
  };
  if (fs.existsSync(path.join(root, 'dist'))) walk('dist');
  const files = [...new Set([...listed, ...built])].filter((f) => f && !ignored(f) && fs.existsSync(path.join(root, f)));
  const size = (f: string) => fs.statSync(path.join(root, f)).size;
  const bundleFiles = files.filter((f) => f.startsWith(`${OUT_DIR}/`));
  const main = path.join(root, OUT_DIR, `index${EXTENSION}`);
  return {
    files: files.length,
    bytes: files.reduce((n, f) => n + size(f), 0),
    bundleBytes: bundleFiles.filter((f) => f.endsWith(EXTENSION)).reduce((n, f) => n + size(f), 0),
    bundleMapBytes: bundleFiles.filter((f) => f.endsWith('.map')).reduce((n, f) => n + size(f), 0),
    bundleAtStartBytes: fs.existsSync(main) ? [...loadedAtStart(main)].reduce((n, f) => n + fs.statSync(f).size, 0) : 0,
  };
}
