import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { build, type BuildOptions, type Plugin } from 'esbuild';

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
 * - Whitespace and syntax minified (less for V8 to parse at every cold start), identifiers kept: a stack trace names
 *   the real functions; the `.map` beside each bundle maps it to the TypeScript source with
 *   `NODE_OPTIONS=--enable-source-maps` (not on by default: loading an 8 MB map at start costs more than the
 *   bundle saves — measured, see the bench's P4). No `keepNames`: where two modules of a chunk declare the same
 *   name, esbuild renames one (`delay2`), and keepNames would restore its `.name` property with a call per function
 *   at load — ~25 ms of every start (measured, P4). Without it a stack trace shows such a function as `delay2`, still
 *   its name in the source (the map says which file); no code of ours reads function names, the SDKs only for log
 *   and span labels.
 * - ES modules with code splitting: a kind's probe (src/targets/<kind>/probe.ts, imported dynamically) becomes a chunk
 *   of its own under chunks/, with its SDK. Node reads and parses a chunk only when a target of that kind is configured
 *   or requested; what several chunks share is one chunk, so every module still has one instance. (In one CommonJS
 *   file the probes of every kind were parsed at each start, ~5 MB for the ten SDKs — measured in the bench's P4.)
 *   The banner gives bundled CommonJS packages the `require`, `__filename` and `__dirname` an ES module lacks.
 */
export const ENTRIES = { index: 'src/index.ts', server: 'src/serverMain.ts' } as const;
/** The bundles are ES modules (code splitting needs them): `.mjs`, whatever package.json's `type`. */
export const EXTENSION = '.mjs';
export const OUT_DIR = 'dist/bundle';
export const EXTERNAL = ['@azure/functions-core', '@azure/monitor-opentelemetry'];

/**
 * zod re-exports all ~50 of its locales as `z.locales` (a namespace esbuild cannot tree-shake): ~300 KB parsed at
 * every start for error messages in languages the service never uses. Its English default comes from its own import
 * of `locales/en.js`, untouched; only the namespace is narrowed to English.
 */
const englishOnlyZod: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: path.join(path.dirname(args.importer), '..', 'locales', 'index.js'), namespace: 'zod-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
  },
};

export function options(root: string): BuildOptions {
  return {
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [name, path.join(root, file)])),
    outdir: path.join(root, OUT_DIR),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    splitting: true,
    outExtension: { '.js': EXTENSION },
    chunkNames: 'chunks/[name]-[hash]',
    external: EXTERNAL,
    sourcemap: 'linked',
    // Named apart: an ES module package may declare its own top-level __filename (the `open` package does); `define`
    // rewrites only the free references of CommonJS code. `require` keeps its name: esbuild's own __require helper reads it.
    banner: {
      js: [
        "import { createRequire as __bundleCreateRequire } from 'node:module';",
        "import { fileURLToPath as __bundleFileURLToPath } from 'node:url';",
        'const require = __bundleCreateRequire(import.meta.url);',
        'const __bundle_filename = __bundleFileURLToPath(import.meta.url);',
        "const __bundle_dirname = __bundle_filename.slice(0, __bundle_filename.lastIndexOf('/'));",
      ].join(' '),
    },
    define: { __filename: '__bundle_filename', __dirname: '__bundle_dirname' },
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'linked',
    logLevel: 'warning',
    plugins: [englishOnlyZod],
  };
}

/**
 * Every output file must parse as a module: the banner's names are invisible to esbuild, so a package declaring a
 * top-level `require` would collide with it only at load time — in a chunk first needed on Azure. Caught here instead.
 */
export function checkParses(root: string): void {
  const dir = path.join(root, OUT_DIR);
  const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith(EXTENSION));
  for (const f of files) {
    const r = spawnSync(process.execPath, ['--check', path.join(dir, f)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${OUT_DIR}/${f} does not parse:\n${r.stderr}`);
  }
}

/** The files an entry point loads before it runs: its static imports, transitively (a dynamic import() is not followed). */
export function loadedAtStart(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const code = fs.readFileSync(file, 'utf8');
  for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*)["'](\.[^"']+)["']/g)) loadedAtStart(path.resolve(path.dirname(file), m[1]!), seen);
  return seen;
}

if (require.main === module) {
  const root = path.resolve(__dirname, '..', '..');
  build(options(root))
    .then(() => checkParses(root))
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
