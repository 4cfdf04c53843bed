import { performance } from 'node:perf_hooks';
import { SYSTEM_IDENTITY, USER_IDENTITY, serviceEnv } from '../test/world';
import { ms, ratio, type BenchContext, type GoalRow } from './context';
import {
  TARGET_KINDS,
  diffCounters,
  expectedTokenRequests,
  parallelPathMs,
  parallelRoundTrips,
  requestsOn,
  roundTripsFromCalibration,
  sequentialPathMs,
  snapshotCounters,
  type RoundTrips,
  type TokenPath,
} from './criticalPath';
import { spawnService, type BenchService } from './service';
import { SIZES, targetQuery, targetsEnv, type BenchTarget } from './stage';
import { median, round, summarize, type Summary } from './stats';

/**
 * P1 — parallelism vs the critical path. `/api/diagnose` over 1, 3 and 9 healthy targets, against the limit the
 * injected latency sets (see criticalPath.ts), on both token paths:
 *
 * - cold token: every diagnose fetches its tokens. MSAL caches tokens process-wide and treats a token within 5 minutes
 *   of expiry as expired, so the identity this service runs as is given 2-minute tokens: each getToken goes to the
 *   identity endpoint, in a process that is otherwise warm (the world's counters prove it: one identity request per
 *   audience per diagnose). Process start-up is P4's subject, not this one's.
 * - warm token: a second service process, running as the system-assigned identity with normal 1-hour tokens, which
 *   MSAL answers from its cache after the warm-up.
 * - sequential baseline: the same targets requested one at a time (`?target=<one>`, cold token), back to back.
 *
 * Sizes and paths are interleaved sample by sample, so background load on a shared machine hits all of them alike.
 */

// Under MSAL's 5-minute refresh margin (every diagnose re-acquires) yet past the 2 minutes Event Hubs and Service Bus
// subtract before they renew a CBS token: at 120 s their renewal timer fired at once, over and over (a bench artifact —
// real managed-identity tokens live for hours — that broke the AMQP link).
export const COLD_TOKEN_LIFETIME_SECONDS = 290;
export const RATIO_GOAL = 1.2;

export interface PathResult {
  wallMs: Summary;
  /** The verdict's own durationMs (inside the service). */
  serverMs: Summary;
  roundTrips: number;
  criticalPathMs: number;
  /** Median wall time / critical path. */
  ratio: number;
  pass: boolean;
  /** Identity requests per diagnose (cold: one per audience; warm: 0). */
  identityRequests: Summary;
  /**
   * Time the bench process's event loop was busy during the diagnose: the simulated services (TLS handshakes, token
   * minting, the Storage front) plus the bench's own HTTP client. Azure spreads that work over many hosts; the
   * simulator does it on one thread, so part of it lands on the critical path.
   */
  worldBusyMs: Summary;
  /** CPU the service process used for the diagnose, all threads (from /proc/<pid>/task/<tid>/schedstat). */
  serviceCpuMs: Summary;
  /** Time the service's main thread was runnable but waited for a CPU: the shared machine's noise, measured. */
  serviceWaitMs: Summary;
}

export interface P1Size {
  size: number;
  targets: string[];
  audiences: number;
  cold: PathResult;
  warm: PathResult;
  sequential: { wallMs: Summary; modelMs: number; ratio: number; speedupVsParallel: number };
}

export interface P1Result {
  latencyMs: number;
  samples: number;
  warmup: number;
  roundTrips: RoundTrips;
  calibration: { target: string; kind: string; identityRequests: number; upstreamRequests: number }[];
  sizes: P1Size[];
  /** Peak RSS (VmHWM) of the two P1 service processes at the end: context for P3's number. */
  peakRssMb: { coldToken: number; warmToken: number };
  anomalies: string[];
}

export async function runP1(ctx: BenchContext): Promise<{ result: P1Result; goals: GoalRow[] }> {
  const { world, targets, options, log } = ctx;
  const L = options.latencyMs;
  const userIdentity = world.state.identities.find((i) => i.clientId === USER_IDENTITY.clientId)!;
  userIdentity.tokenLifetimeSeconds = COLD_TOKEN_LIFETIME_SECONDS;
  const anomalies: string[] = [];
  const services: BenchService[] = [];
  try {
    const cold = await spawnService(serviceEnv(world, { DIAGNOSE_TARGETS: targetsEnv(targets.all) }));
    services.push(cold);
    const warm = await spawnService(
      serviceEnv(world, {
        DIAGNOSE_TARGETS: targetsEnv(targets.all),
        AZURE_CLIENT_ID: undefined,
        EXPECTED_PRINCIPAL_ID: SYSTEM_IDENTITY.principalId,
      }),
    );
    services.push(warm);

    const expectAuthorized = (label: string, causes: string[]) => {
      const bad = causes.filter((c) => c !== 'authorized');
      if (bad.length && anomalies.length < 20) anomalies.push(`${label}: ${causes.join(', ')}`);
    };

    log(`P1: warm-up (${options.warmup} diagnoses of all ${targets.all.length} targets per service)`);
    for (let i = 0; i < options.warmup; i++) {
      for (const svc of [cold, warm]) {
        const r = await svc.diagnose(targetQuery(targets.all));
        expectAuthorized('warm-up', r.value.checks.map((c) => c.cause));
      }
    }

    // Calibration: one single-target diagnose per kind on the cold-token service; the counters say how many
    // sequential requests each chain takes.
    const calibrationRuns: { target: BenchTarget['path']; delta: ReturnType<typeof diffCounters> }[] = [];
    for (const kind of TARGET_KINDS) {
      const t = targets.all.find((x) => x.path.kind === kind)!;
      const before = snapshotCounters(world.counters);
      const r = await cold.diagnose(targetQuery([t]));
      expectAuthorized(`calibration ${t.config.name}`, r.value.checks.map((c) => c.cause));
      calibrationRuns.push({ target: t.path, delta: diffCounters(world.counters, before) });
    }
    const rt = roundTripsFromCalibration(calibrationRuns);
    log(`P1: round trips per chain ${JSON.stringify(rt.chain)}, token ${rt.tokenPerAudience} per audience`);

    type Acc = { wall: number[]; server: number[]; identity: number[]; worldBusy: number[]; cpu: number[]; wait: number[] };
    const acc = (): Acc => ({ wall: [], server: [], identity: [], worldBusy: [], cpu: [], wait: [] });
    const data = new Map<number, { cold: Acc; warm: Acc; seq: number[] }>(SIZES.map((s) => [s, { cold: acc(), warm: acc(), seq: [] }]));

    const measure = async (svc: BenchService, set: BenchTarget[], into: Acc, label: string) => {
      const before = snapshotCounters(world.counters);
      const elu = performance.eventLoopUtilization();
      const sched = svc.sched();
      const r = await svc.diagnose(targetQuery(set));
      into.worldBusy.push(performance.eventLoopUtilization(elu).active);
      const schedAfter = svc.sched();
      if (sched && schedAfter) {
        into.cpu.push(schedAfter.cpuMs - sched.cpuMs);
        into.wait.push(schedAfter.mainWaitMs - sched.mainWaitMs);
      }
      into.wall.push(r.ms);
      into.server.push(r.value.durationMs);
      into.identity.push(diffCounters(world.counters, before).identity);
      expectAuthorized(label, r.value.checks.map((c) => c.cause));
    };

    log(`P1: ${options.samples} samples × sizes ${SIZES.join('/')} × (cold, warm, sequential)`);
    for (let i = 0; i < options.samples; i++) {
      for (const size of SIZES) {
        const set = targets.sizes[size];
        const d = data.get(size)!;
        await measure(cold, set, d.cold, `cold ${size}`);
        await measure(warm, set, d.warm, `warm ${size}`);
        let total = 0;
        for (const t of set) {
          const r = await cold.diagnose(targetQuery([t]));
          total += r.ms;
          expectAuthorized(`sequential ${t.config.name}`, r.value.checks.map((c) => c.cause));
        }
        d.seq.push(total);
      }
    }

    const pathResult = (set: BenchTarget[], a: Acc, tokens: TokenPath): PathResult => {
      const paths = set.map((t) => t.path);
      const criticalPathMs = parallelPathMs(paths, rt, L, tokens);
      const r = median(a.wall) / criticalPathMs;
      return {
        wallMs: summarize(a.wall),
        serverMs: summarize(a.server),
        roundTrips: parallelRoundTrips(paths, rt, tokens),
        criticalPathMs,
        ratio: round(r, 3),
        pass: r <= RATIO_GOAL,
        identityRequests: summarize(a.identity),
        worldBusyMs: summarize(a.worldBusy),
        serviceCpuMs: summarize(a.cpu),
        serviceWaitMs: summarize(a.wait),
      };
    };

    const sizes: P1Size[] = SIZES.map((size) => {
      const set = targets.sizes[size];
      const d = data.get(size)!;
      const coldR = pathResult(set, d.cold, 'cold');
      const warmR = pathResult(set, d.warm, 'warm');
      const expected = expectedTokenRequests(set.map((t) => t.path), rt);
      if (coldR.identityRequests.median !== expected) {
        anomalies.push(`cold ${size}: ${coldR.identityRequests.median} identity requests per diagnose, expected ${expected} (one per audience)`);
      }
      if (warmR.identityRequests.max !== 0) anomalies.push(`warm ${size}: the token cache missed (${warmR.identityRequests.max} identity requests)`);
      const modelMs = sequentialPathMs(set.map((t) => t.path), rt, L, 'cold');
      return {
        size,
        targets: set.map((t) => t.config.name),
        audiences: new Set(set.map((t) => t.path.audience)).size,
        cold: coldR,
        warm: warmR,
        sequential: {
          wallMs: summarize(d.seq),
          modelMs,
          ratio: round(median(d.seq) / modelMs, 3),
          speedupVsParallel: round(median(d.seq) / median(d.cold.wall), 2),
        },
      };
    });

    const hwm = (svc: BenchService) => round((svc.memory()?.hwmKb ?? Number.NaN) / 1024);
    const peakRssMb = { coldToken: hwm(cold), warmToken: hwm(warm) };

    const calibration = calibrationRuns.map(({ target, delta }) => ({
      target: target.name,
      kind: target.kind,
      identityRequests: requestsOn(delta, `identity:${target.audience}`),
      upstreamRequests: requestsOn(delta, target.upstream),
    }));

    const goals: GoalRow[] = [];
    for (const s of sizes) {
      for (const [label, p] of [['cold token', s.cold], ['warm token', s.warm]] as const) {
        goals.push({
          id: `P1 ${s.size}/${label}`,
          measure: `diagnose of ${s.size} target${s.size > 1 ? 's' : ''}, ${label}: median vs critical path`,
          value: `${ms(p.wallMs.median)} vs ${ms(p.criticalPathMs)} = ${ratio(p.ratio, { goal: RATIO_GOAL, pass: p.pass })}${p.pass ? '' : ` (${missedBy(p)})`}`,
          goal: `≤ ${RATIO_GOAL}×`,
          pass: p.pass && anomalies.length === 0,
        });
      }
    }
    return {
      result: { latencyMs: L, samples: options.samples, warmup: options.warmup, roundTrips: rt, calibration, sizes, peakRssMb, anomalies },
      goals,
    };
  } finally {
    userIdentity.tokenLifetimeSeconds = undefined;
    await Promise.all(services.map((s) => s.stop()));
  }
}

/** Where a missed row's time went, from this run's own measurements (docs/performance.md, "Where P1's CPU goes"). */
function missedBy(p: PathResult): string {
  const outside = p.wallMs.median - p.serverMs.median;
  return `in the service ${ms(p.serverMs.median)}, its CPU ${ms(p.serviceCpuMs.median)} of which it waited ${ms(p.serviceWaitMs.median)} for a core; the world's thread busy ${ms(p.worldBusyMs.median)}; ${ms(outside)} between the bench's client and the service`;
}
