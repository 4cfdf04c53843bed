import path from 'node:path';
import { build, type BuildOptions } from 'esbuild';

/**
 * The deployment bundles: each entry point (the Functions app's `main`, the local/container server) with everything it
 * requires in one file. Node then resolves and reads one file instead of ~1,500, which is most of a cold start's
 * import time (measured in `npm run bench`, P4). Input is the TypeScript source, after tsc has type-checked it
 * (`isolatedModules` keeps esbuild's per-file transpile equivalent to tsc's), so packages resolve to their ES module
 * builds, which esbuild can tree-shake.
 *
 * - `@azure/functions-core` is provided by the Functions worker at run time: never bundled.
 * - `@azure/monitor-opentelemetry` is imported lazily by the watch only when an Application Insights connection is
 *   configured; it stays a package so a start without it never pays for it.
 * - Whitespace and syntax minified (less for V8 to parse at every cold start), identifiers and names kept: a stack
 *   trace names the real functions; the `.map` beside each bundle maps it to the TypeScript source with
 *   `NODE_OPTIONS=--enable-source-maps` (not on by default: loading an 8 MB map at start costs more than the
 *   bundle saves — measured, see the bench's P4).
 * - A kind's probe module is imported dynamically (src/targets/index.ts): in the bundle it stays a closure that runs
 *   only when first called, so an SDK no configured target needs is parsed lazily and never evaluated.
 */
export const ENTRIES = { index: 'src/index.ts', server: 'src/server.ts' } as const;
export const OUT_DIR = 'dist/bundle';
export const EXTERNAL = ['@azure/functions-core', '@azure/monitor-opentelemetry'];

export function options(root: string): BuildOptions {
  return {
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [name, path.join(root, file)])),
    outdir: path.join(root, OUT_DIR),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: EXTERNAL,
    sourcemap: 'linked',
    // ES module builds of some SDKs call createRequire(import.meta.url); in a CommonJS bundle that is this file.
    banner: { js: "var __bundle_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': '__bundle_import_meta_url' },
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    legalComments: 'linked',
    logLevel: 'warning',
  };
}

if (require.main === module) {
  const root = path.resolve(__dirname, '..', '..');
  build(options(root)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
