import { performance } from 'node:perf_hooks';
import { USER_IDENTITY, type DiagnoseTarget } from '../test/world';
import { authorizedPerKind } from '../test/world/kinds';
import { serviceEnv } from '../test/world/scenario';
import { ms, ratio, type BenchContext, type GoalRow } from './context';
import { COLD_TOKEN_LIFETIME_SECONDS, RATIO_GOAL } from './p1Parallelism';
import { spawnService, type BenchService } from './service';
import { median, round, summarize, type Summary } from './stats';

/**
 * P1 for every registered kind at once: one healthy target per kind — each kind's `authorized` case from its simulated
 * world (test/world/kinds/) — diagnosed together, against the slowest of them diagnosed alone.
 *
 * The 3-kind P1 (p1Parallelism.ts) models the critical path from round trips the world counts per service; the
 * newer simulators (AMQP, TDS, …) have no such counters, and a round trip is not one unit across protocols. Here the
 * critical path is measured instead: a parallel diagnose can be no faster than its slowest target alone, with the same
 * token state, in the same process. The ratio is parallel median ÷ the largest per-target median.
 */

export interface PerKindPath {
  wallMs: Summary;
  /** Median of each target diagnosed alone, by kind. */
  aloneMs: Record<string, number>;
  slowestKind: string;
  criticalPathMs: number;
  ratio: number;
  pass: boolean;
  /** The service's CPU per diagnose of all kinds (from /proc, when readable). */
  serviceCpuMs?: Summary;
}

export interface P1PerKindResult {
  kinds: string[];
  samples: number;
  cold: PerKindPath;
  warm: PerKindPath;
  anomalies: string[];
}

const query = (names: string[]) => `?target=${names.map(encodeURIComponent).join(',')}`;

async function measurePath(
  svc: BenchService,
  targets: DiagnoseTarget[],
  samples: number,
  warmup: number,
  anomalies: string[],
  label: string,
): Promise<PerKindPath> {
  const check = (causes: string[], what: string) => {
    const bad = causes.filter((c) => c !== 'authorized');
    if (bad.length && anomalies.length < 20) anomalies.push(`${label} ${what}: ${causes.join(', ')}`);
  };
  const all = targets.map((t) => t.name);
  for (let i = 0; i < warmup; i++) check((await svc.diagnose(query(all))).value.checks.map((c) => c.cause), 'warm-up');
  const wall: number[] = [];
  const cpu: number[] = [];
  const alone = new Map<string, number[]>(targets.map((t) => [t.kind, []]));
  for (let i = 0; i < samples; i++) {
    const sched = svc.sched();
    const r = await svc.diagnose(query(all));
    const after = svc.sched();
    if (sched && after) cpu.push(after.cpuMs - sched.cpuMs);
    wall.push(r.ms);
    check(r.value.checks.map((c) => c.cause), 'all kinds');
    for (const t of targets) {
      const one = await svc.diagnose(query([t.name]));
      alone.get(t.kind)!.push(one.ms);
      check(one.value.checks.map((c) => c.cause), t.name);
    }
  }
  const aloneMs = Object.fromEntries([...alone].map(([k, v]) => [k, round(median(v))]));
  const [slowestKind, criticalPathMs] = Object.entries(aloneMs).sort((a, b) => b[1] - a[1])[0]!;
  const r = median(wall) / criticalPathMs;
  return {
    wallMs: summarize(wall),
    aloneMs,
    slowestKind,
    criticalPathMs,
    ratio: round(r, 3),
    pass: r <= RATIO_GOAL,
    ...(cpu.length ? { serviceCpuMs: summarize(cpu) } : {}),
  };
}

export async function runP1PerKind(ctx: BenchContext): Promise<{ result: P1PerKindResult; goals: GoalRow[] }> {
  const { world, options, log } = ctx;
  const targets = await authorizedPerKind(world);
  const env = serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(targets), DIAGNOSE_TIMEOUT_MS: String(Math.max(options.deadlineMs, 15_000)) });
  const anomalies: string[] = [];
  const user = world.state.identities.find((i) => i.clientId === USER_IDENTITY.clientId)!;
  log(`P1 per kind: ${targets.length} kinds, ${options.samples} samples × (all together, each alone) × (cold, warm)`);
  const started = performance.now();
  let cold: PerKindPath;
  let warm: PerKindPath;
  // Cold: tokens live under MSAL's 5-minute refresh margin, so every diagnose acquires each audience again. The
  // Graph world stages the platform's token cache (tokens minted 20 min ago): with short-lived tokens those would come
  // back expired, so the cold phase mints every token fresh.
  const cachedAges = user.cachedTokenAgeSeconds;
  user.tokenLifetimeSeconds = COLD_TOKEN_LIFETIME_SECONDS;
  user.cachedTokenAgeSeconds = undefined;
  let svc = await spawnService(env);
  try {
    cold = await measurePath(svc, targets, options.samples, 1, anomalies, 'cold');
  } finally {
    await svc.stop();
    user.tokenLifetimeSeconds = undefined;
    user.cachedTokenAgeSeconds = cachedAges;
  }
  svc = await spawnService(env);
  try {
    warm = await measurePath(svc, targets, options.samples, options.warmup, anomalies, 'warm');
  } finally {
    await svc.stop();
  }
  log(`P1 per kind: done in ${Math.round((performance.now() - started) / 1000)} s`);
  const goals: GoalRow[] = (
    [
      ['cold token', cold],
      ['warm token', warm],
    ] as const
  ).map(([label, p]) => ({
    id: `P1 per kind/${label}`,
    measure: `diagnose of one target per kind (${targets.length}), ${label}: median vs its slowest target alone (${p.slowestKind})`,
    value:
      `${ms(p.wallMs.median)} vs ${ms(p.criticalPathMs)} = ${ratio(p.ratio, { goal: RATIO_GOAL, pass: p.pass })}` +
      (p.pass || !p.serviceCpuMs ? '' : ` (the service's CPU over all ${targets.length} targets: ${ms(p.serviceCpuMs.median)}, on one thread)`),
    goal: `≤ ${RATIO_GOAL}×`,
    pass: p.pass && anomalies.length === 0,
  }));
  return { result: { kinds: targets.map((t) => t.kind), samples: options.samples, cold, warm, anomalies }, goals };
}
