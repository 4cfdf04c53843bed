import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { stageStandardWorld, startWorld } from '../test/world';
import { REPO_ROOT } from '../test/world/paths';
import type { BenchContext, GoalRow } from './context';
import { parseBenchOptions, USAGE, type BenchOptions } from './options';
import { runP1 } from './p1Parallelism';
import { runP1PerKind } from './p1PerKind';
import { runP2, startSdkAlone, type SdkAloneRuns } from './p2Deadline';
import { runP3 } from './p3Storm';
import { runP4 } from './p4ColdStart';
import { renderMarkdown, writeAtomic, type BenchResult, type Machine } from './report';
import { stageBenchTargets } from './stage';
import { round } from './stats';

/**
 * `npm run bench`: starts the simulated world with injected latency, stages healthy targets of every kind, and runs
 * P1 (parallelism vs critical path), P2 (deadline under faults), P3 (probe storm on /api/health, with peak RSS) and
 * P4 (cold start) against the built service in its own processes. Writes bench/results/latest.json and latest.md
 * (docs/performance.md links them). Goals are reported, never asserted: the exit code says only whether the
 * bench itself ran.
 */
async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseBenchOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  const started = performance.now();
  const loadStart = os.loadavg()[0]!;
  const log = (msg: string) => console.log(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${msg}`);

  log(`starting the simulated world (latency ${options.latencyMs} ms per response)`);
  const world = await startWorld({ latencyMs: options.latencyMs });
  let sdkAlone: SdkAloneRuns | undefined;
  const result: Partial<BenchResult> = {};
  const goals: GoalRow[] = [];
  try {
    await stageStandardWorld(world);
    const targets = await stageBenchTargets(world);
    const ctx: BenchContext = { world, targets, options, log };

    // The bare SDK calls wait up to a minute on a silent socket: start them first so the wait overlaps the rest
    // (they idle on a socket meanwhile, in child processes and a second world of their own).
    if (options.only.has('p2')) sdkAlone = await startSdkAlone(ctx);
    if (options.only.has('p1')) {
      const p1 = await runP1(ctx);
      result.p1 = p1.result;
      goals.push(...p1.goals);
      const perKind = await runP1PerKind(ctx);
      result.p1PerKind = perKind.result;
      goals.push(...perKind.goals);
    }
    if (options.only.has('p3')) {
      const p3 = await runP3(ctx);
      result.p3 = p3.result;
      goals.push(...p3.goals);
    }
    if (options.only.has('p4')) {
      const p4 = await runP4(ctx);
      result.p4 = p4.result;
      goals.push(...p4.goals);
    }
    // Last, so the minute the bare SDK calls may wait has passed meanwhile.
    if (sdkAlone) {
      const p2 = await runP2(ctx, sdkAlone);
      result.p2 = p2.result;
      goals.push(...p2.goals);
    }
  } finally {
    await sdkAlone?.stop();
    await world.stop();
  }

  const cpus = os.cpus();
  const machine: Machine = {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGb: round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: { start: round(loadStart, 2), end: round(os.loadavg()[0]!, 2) },
  };
  const full: BenchResult = {
    schema: 'identity-doctor-bench/1',
    date: new Date().toISOString(),
    durationSeconds: round((performance.now() - started) / 1000),
    machine,
    settings: {
      latencyMs: options.latencyMs,
      samples: options.samples,
      warmup: options.warmup,
      deadlineMs: options.deadlineMs,
      deadlineSamples: options.deadlineSamples,
      sdkBoundSeconds: options.sdkBoundSeconds,
      healthCacheSeconds: options.healthCacheSeconds,
      stormRequests: options.stormRequests,
      stormConnections: options.stormConnections,
      stormWindows: options.stormWindows,
      coldStartSamples: options.coldStartSamples,
      measurements: [...options.only].join(','),
    },
    // In the order of the issue (P1…P4, memory), whatever order they ran in.
    goals: [...goals].sort((a, b) => goalOrder(a.id) - goalOrder(b.id)),
    ...result,
  };
  const markdown = renderMarkdown(full);
  writeAtomic(path.join(options.outDir, 'latest.json'), `${JSON.stringify(full, null, 2)}\n`);
  writeAtomic(path.join(options.outDir, 'latest.md'), `${markdown}\n`);
  log(`wrote ${path.relative(REPO_ROOT, path.join(options.outDir, 'latest.json'))} and latest.md`);
  console.log(`\n${markdown}\n`);
  // Sockets of the bare SDK children and autocannon's agents may linger: the bench is done.
  process.exit(0);
}

function goalOrder(id: string): number {
  const m = /^P(\d)/.exec(id);
  return m ? Number(m[1]) : 9;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
