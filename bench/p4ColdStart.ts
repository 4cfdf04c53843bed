import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { serviceEnv } from '../test/world';
import { authorizedPerKind } from '../test/world/kinds';
import { REPO_ROOT } from '../test/world/paths';
import { ms, type BenchContext, type GoalRow } from './context';
import { diffCounters, parallelPathMs, roundTripsFromCalibration, snapshotCounters } from './criticalPath';
import { measurePackage, type PackageSize } from './packageSize';
import { imageCommand, readDockerfile } from '../scripts/dockerfile';
import { SERVER_JS, SERVER_JS_UNBUNDLED, spawnService } from './service';
import { targetQuery, targetsEnv } from './stage';
import { median, round, summarize, type Summary } from './stats';

/**
 * P4 — cold start.
 * (a) Import time of the app module (package.json `main`: the bundle the Functions host loads) and of the server, in
 *     a fresh `node` with the service's environment, with the packages the app requires directly timed beside it.
 * (b) Process spawn → "listening" → first `/api/diagnose` response (3 targets, one per kind, cold token), against the
 *     diagnose's own network time: the critical path of that first diagnose, from the round trips the world counted.
 */

export const COLD_START_GOAL_MS = 300;

export interface ImportTiming {
  module: string;
  totalMs: Summary;
  /** Node's own start-up before the first line of the script ran (includes the DNS preload). */
  nodeBootMs: Summary;
  /** Median ms per package required directly by app files (inclusive; a shared dependency counts where first loaded). */
  packagesMs: Record<string, number>;
}

export interface P4Result {
  samples: number;
  imports: ImportTiming[];
  /** The shipped bundle. */
  coldStart: ColdStart;
  /** tsc's output, for comparison. */
  coldStartUnbundled: ColdStart;
  /** What a deployment uploads, and the bundle the host loads. */
  packageSize?: PackageSize;
  /** What the container image starts (its Dockerfile's command), and whether an engine could start the image itself. */
  container?: ContainerStart;
  /** The bundle with one target of every registered kind configured (each kind's SDK chunk preloaded at start). */
  allKinds?: { kinds: number; listeningMs: Summary; firstResponseMs: Summary; diagnoseDurationMs: Summary; beyondDurationMs: number };
}

export interface ContainerStart {
  /** ENTRYPOINT + CMD of the Dockerfile's last stage. */
  command: string;
  /** The image's command is the server measured as "bundle" (no separate runs), or it was measured on its own. */
  measuredAs: 'bundle' | 'own';
  coldStart?: ColdStart;
  /** Why the image itself was not started. */
  imageNotStarted: string;
}

export interface ColdStart {
  listeningMs: Summary;
  firstResponseMs: Summary;
  diagnoseDurationMs: Summary;
  networkMs: number;
  beyondNetworkMs: number;
  beyondDurationMs: number;
  pass: boolean;
}

const IMPORT_SCRIPT = `
const { performance } = require('node:perf_hooks');
const bootMs = performance.now();
const Module = require('node:module');
const appDir = process.env.BENCH_APP_DIR;
const packages = {};
const original = Module.prototype.require;
Module.prototype.require = function (id) {
  if (!this.filename || !this.filename.startsWith(appDir) || id.startsWith('.') || id.startsWith('node:')) return original.apply(this, arguments);
  const t = performance.now();
  try { return original.apply(this, arguments); } finally { packages[id] = (packages[id] || 0) + performance.now() - t; }
};
const t = performance.now();
// The bundle is an ES module (import); tsc's output is CommonJS (require).
const done = () => {
  const totalMs = performance.now() - t;
  process.stdout.write(JSON.stringify({ bootMs, totalMs, packages }) + '\\n');
  process.exit(0);
};
if (process.env.BENCH_MODULE.endsWith('.mjs')) import(require('node:url').pathToFileURL(process.env.BENCH_MODULE).href).then(done);
else { require(process.env.BENCH_MODULE); done(); }
`;

interface ImportSample {
  bootMs: number;
  totalMs: number;
  packages: Record<string, number>;
}

function importOnce(module: string, env: Record<string, string>): Promise<ImportSample> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', IMPORT_SCRIPT], {
      cwd: REPO_ROOT,
      env: { ...env, BENCH_MODULE: module, BENCH_APP_DIR: path.join(REPO_ROOT, 'dist', 'src') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return reject(new Error(`import of ${module} printed nothing:\n${err}`));
      resolve(JSON.parse(line) as ImportSample);
    });
  });
}

/** What ships (the esbuild bundles, package.json `main`) and tsc's plain output, measured side by side. */
export const VARIANTS = [
  { name: 'bundle', index: 'dist/bundle/index.mjs', server: path.relative(REPO_ROOT, SERVER_JS) },
  { name: 'unbundled', index: 'dist/src/index.js', server: path.relative(REPO_ROOT, SERVER_JS_UNBUNDLED) },
] as const;

async function importTimings(rel: string, env: Record<string, string>, n: number): Promise<ImportTiming> {
  const samples: ImportSample[] = [];
  for (let i = 0; i < n; i++) samples.push(await importOnce(path.join(REPO_ROOT, rel), env));
  const names = [...new Set(samples.flatMap((s) => Object.keys(s.packages)))];
  const packagesMs: Record<string, number> = {};
  for (const name of names) packagesMs[name] = round(median(samples.map((s) => s.packages[name] ?? 0)));
  return {
    module: rel,
    totalMs: summarize(samples.map((s) => s.totalMs)),
    nodeBootMs: summarize(samples.map((s) => s.bootMs)),
    packagesMs: Object.fromEntries(Object.entries(packagesMs).sort((a, b) => b[1] - a[1])),
  };
}

interface ColdSamples {
  listening: number[];
  first: number[];
  duration: number[];
  network: number[];
}

/** One fresh process of `serverJs`: spawn → listening → first diagnose, with that diagnose's network time. */
async function coldStartOnce(ctx: BenchContext, env: Record<string, string>, serverJs: string, into: ColdSamples): Promise<void> {
  const { world, targets, options } = ctx;
  const set = targets.sizes[3];
  const svc = await spawnService(env, { serverJs });
  try {
    const sent = performance.now();
    const before = snapshotCounters(world.counters);
    const r = await svc.diagnose(targetQuery(set));
    const delta = diffCounters(world.counters, before);
    into.listening.push(svc.listeningAt - svc.spawnedAt);
    into.first.push(sent + r.ms - svc.spawnedAt);
    into.duration.push(r.value.durationMs);
    // Every target of the set has its own upstream and audience: one diagnose calibrates all three chains.
    const rt = roundTripsFromCalibration(set.map((t) => ({ target: t.path, delta })));
    into.network.push(parallelPathMs(set.map((t) => t.path), rt, options.latencyMs, 'cold'));
    const bad = r.value.checks.filter((c) => c.cause !== 'authorized');
    if (bad.length) throw new Error(`P4: the first diagnose was not authorized: ${bad.map((c) => `${c.target}=${c.cause}`).join(', ')}`);
  } finally {
    await svc.stop();
  }
}

function coldStartOf(c: ColdSamples): ColdStart {
  const networkMs = median(c.network);
  const beyondNetworkMs = round(median(c.first) - networkMs);
  return {
    listeningMs: summarize(c.listening),
    firstResponseMs: summarize(c.first),
    diagnoseDurationMs: summarize(c.duration),
    networkMs,
    beyondNetworkMs,
    beyondDurationMs: round(median(c.first) - median(c.duration)),
    pass: beyondNetworkMs <= COLD_START_GOAL_MS,
  };
}

export async function runP4(ctx: BenchContext): Promise<{ result: P4Result; goals: GoalRow[] }> {
  const { world, targets, options, log } = ctx;
  const env = serviceEnv(world, { DIAGNOSE_TARGETS: targetsEnv(targets.sizes[3]) });
  const n = options.coldStartSamples;

  log(`P4: import time of the app module and the server, bundled and not, ${n} samples each`);
  const imports: ImportTiming[] = [];
  for (const v of VARIANTS) for (const rel of [v.index, v.server]) imports.push(await importTimings(rel, env, n));

  log(`P4: spawn → first /api/diagnose response, ${n} fresh processes per variant`);
  // Interleaved, so a change in the shared machine's load falls on both variants alike.
  const bundled: ColdSamples = { listening: [], first: [], duration: [], network: [] };
  const unbundled: ColdSamples = { listening: [], first: [], duration: [], network: [] };
  for (let i = 0; i < n; i++) {
    await coldStartOnce(ctx, env, SERVER_JS, bundled);
    await coldStartOnce(ctx, env, SERVER_JS_UNBUNDLED, unbundled);
  }
  const coldStart = coldStartOf(bundled);
  const coldStartUnbundled = coldStartOf(unbundled);
  const container = await containerStart(ctx, env, n);
  const allKinds = await coldStartAllKinds(ctx, n);
  const result: P4Result = { samples: n, imports, coldStart, coldStartUnbundled, packageSize: measurePackage(), container, allKinds };
  const { networkMs, beyondNetworkMs, beyondDurationMs } = coldStart;
  const app = imports[0]!;
  const server = imports[1]!;
  const goals: GoalRow[] = [
    {
      id: 'P4 first response',
      measure: 'process spawn → first /api/diagnose response (3 targets, cold), beyond its network time (the bundle)',
      value:
        `${ms(coldStart.firstResponseMs.median)} − ${ms(networkMs)} network = ${ms(beyondNetworkMs)} (− its durationMs instead: ${ms(beyondDurationMs)}; unbundled: ${ms(coldStartUnbundled.beyondNetworkMs)})` +
        (result.coldStart.pass ? '' : `; before a request can be read: node's own start ${ms(server.nodeBootMs.median)} + import of the server ${ms(server.totalMs.median)} = ${ms(server.nodeBootMs.median + server.totalMs.median)}`),
      goal: `≤ ${COLD_START_GOAL_MS} ms`,
      pass: result.coldStart.pass,
    },
    {
      id: 'P4 import',
      measure: `import of the app module (${app.module}, package.json main; ${(result.packageSize!.bundleAtStartBytes / 1048576).toFixed(1)} MB read at start)`,
      value: `${ms(app.totalMs.median)} (unbundled ${ms(imports[2]!.totalMs.median)}; node itself: ${ms(app.nodeBootMs.median)} before it)`,
      goal: 'reported',
      pass: null,
    },
  ];
  goals.push({
    id: 'P4 container image',
    measure: `process spawn → first /api/diagnose response of the image's command (${container.command})`,
    value:
      container.measuredAs === 'bundle'
        ? `the "bundle" rows: the image starts that same file (${container.imageNotStarted})`
        : `${ms(container.coldStart!.firstResponseMs.median)}, ${ms(container.coldStart!.beyondNetworkMs)} beyond network (${container.imageNotStarted})`,
    goal: 'reported',
    pass: null,
  });
  goals.push({
    id: 'P4 all kinds',
    measure: `process spawn → first /api/diagnose response with one target of every kind (${allKinds.kinds}) configured, beyond that diagnose's own durationMs`,
    value: `${ms(allKinds.firstResponseMs.median)} − ${ms(allKinds.diagnoseDurationMs.median)} = ${ms(allKinds.beyondDurationMs)} (listening after ${ms(allKinds.listeningMs.median)})`,
    goal: 'reported',
    pass: null,
  });
  return { result, goals };
}

/**
 * Cold start with every kind's SDK configured. No round-trip model spans every protocol, so the network time is not
 * subtracted; what is reported is the first response beyond that diagnose's own durationMs (start-up, import, request).
 */
async function coldStartAllKinds(ctx: BenchContext, n: number): Promise<NonNullable<P4Result['allKinds']>> {
  const targets = await authorizedPerKind(ctx.world);
  const env = serviceEnv(ctx.world, { DIAGNOSE_TARGETS: JSON.stringify(targets), DIAGNOSE_TIMEOUT_MS: '15000' });
  ctx.log(`P4: cold start with all ${targets.length} kinds configured, ${n} fresh processes`);
  const listening: number[] = [];
  const first: number[] = [];
  const duration: number[] = [];
  for (let i = 0; i < n; i++) {
    const svc = await spawnService(env, { serverJs: SERVER_JS });
    try {
      const sent = performance.now();
      const r = await svc.diagnose();
      listening.push(svc.listeningAt - svc.spawnedAt);
      first.push(sent + r.ms - svc.spawnedAt);
      duration.push(r.value.durationMs);
    } finally {
      await svc.stop();
    }
  }
  return {
    kinds: targets.length,
    listeningMs: summarize(listening),
    firstResponseMs: summarize(first),
    diagnoseDurationMs: summarize(duration),
    beyondDurationMs: round(median(first) - median(duration)),
  };
}

/**
 * The container image's cold start. No image is built here (its base images come from registries a bench machine
 * need not reach, and most have no engine): the image's own command is read from the Dockerfile and, when it is not
 * the server the "bundle" rows already start, started the same way, on this machine's Node.
 */
async function containerStart(ctx: BenchContext, env: Record<string, string>, n: number): Promise<ContainerStart> {
  const { argv } = imageCommand(readDockerfile(path.join(REPO_ROOT, 'Dockerfile')));
  const script = argv.slice(1).find((a) => !a.startsWith('-'));
  const engine = spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 });
  const imageNotStarted =
    engine.status === 0
      ? 'the bench does not build images: their base images come from registries it does not assume'
      : 'no container engine on this machine';
  const common = { command: argv.join(' '), imageNotStarted };
  if (!script) throw new Error(`P4: the Dockerfile's command names no script: ${argv.join(' ')}`);
  if (path.resolve(REPO_ROOT, script) === SERVER_JS) return { ...common, measuredAs: 'bundle' };
  ctx.log(`P4: the image's command (${argv.join(' ')}), ${n} fresh processes`);
  const samples: ColdSamples = { listening: [], first: [], duration: [], network: [] };
  for (let i = 0; i < n; i++) await coldStartOnce(ctx, env, path.resolve(REPO_ROOT, script), samples);
  return { ...common, measuredAs: 'own', coldStart: coldStartOf(samples) };
}
