import fs from 'node:fs';
import path from 'node:path';

/**
 * The world runs from test/world under ts-jest and from dist/test/world after `npm run build` (`npm start`). tsc does
 * not copy the .cjs helpers, so they are always taken from the source tree, found by walking up to the repo root.
 */
function findRepoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'test', 'world', 'dns-preload.cjs'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the repository root above ${__dirname}`);
    dir = parent;
  }
}

export const REPO_ROOT = findRepoRoot();
export const DNS_PRELOAD = path.join(REPO_ROOT, 'test', 'world', 'dns-preload.cjs');
export const AZURITE_GUARD = path.join(REPO_ROOT, 'test', 'world', 'azurite-guard.cjs');
/** The service as it ships (`npm run build` bundles it with esbuild: scripts/bundle.ts); tests run what deploys. */
export const SERVER_JS = path.join(REPO_ROOT, 'dist', 'bundle', 'server.mjs');
/**
 * Azurite's all-in-one entry (the `azurite` bin: blob, queue and table services in one process, ~as fast to start as
 * blob alone, since loading the modules dominates). Resolved like any dependency, so a hoisted or nested node_modules both work.
 */
export const AZURITE_MAIN = require.resolve('azurite/dist/src/azurite.js', { paths: [REPO_ROOT] });
