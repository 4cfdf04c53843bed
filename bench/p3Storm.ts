import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';
import { serviceEnv } from '../test/world';
import { ms, type BenchContext, type GoalRow } from './context';
import { requestsOn } from './criticalPath';
import { checkWindows, roundsOf, type CountSample, type WindowCheck } from './rounds';
import { spawnService } from './service';
import { targetsEnv } from './stage';
import { round } from './stats';

/**
 * P3 — probe storm. `GET /api/health` (anonymous, one cached diagnose per HEALTH_CACHE_SECONDS, concurrent callers
 * sharing the one in flight) under two phases of `stormRequests` requests on `stormConnections` connections:
 *
 * - paced: spread over at least `stormWindows` cache windows (autocannon's overallRate), so the cache expires at
 *   least twice under load and "≤ 1 upstream round per target per window" is tested more than once. autocannon sends
 *   each connection's share at the start of every second, so each second opens with a burst on every connection —
 *   the shape of many probers on the same schedule;
 * - burst: as fast as the service answers, for the latency under full concurrency.
 *
 * Meanwhile the bench samples the world's request counters (every SAMPLE_MS) and the service's RSS. Upstream
 * requests are grouped into rounds (rounds.ts); the goal is at most one round per target in any window. When the
 * build has no /api/health (404), P3 says so and measures nothing.
 */

export const SAMPLE_MS = 20;
const MEMORY_EVERY = 5;

export interface StormPhase {
  label: string;
  requests: number;
  durationS: number;
  rps: number;
  latencyMs: { p50: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  /** When some answers were not 2xx: what /api/health's output said right after the phase. */
  healthSaid?: string;
  statusCodes: Record<string, number>;
}

export interface UpstreamWindows extends WindowCheck {
  upstream: string;
  requests: number;
  minGapS: number | null;
  roundStartsS: number[];
}

export interface P3Result {
  measured: boolean;
  reason?: string;
  healthCacheSeconds: number;
  connections: number;
  requestsPerPhase: number;
  phases?: StormPhase[];
  spanS?: number;
  windowsSpanned?: number;
  upstream?: UpstreamWindows[];
  memory?: { rssBeforeMb: number; rssPeakSampledMb: number; hwmMb: number };
}

export const NOT_AVAILABLE = 'not measured: /api/health is not available in this build';

export async function runP3(ctx: BenchContext): Promise<{ result: P3Result; goals: GoalRow[] }> {
  const { world, targets, options, log } = ctx;
  const W = options.healthCacheSeconds;
  const base: P3Result = { measured: false, healthCacheSeconds: W, connections: options.stormConnections, requestsPerPhase: options.stormRequests };
  const set = targets.sizes[3];
  const svc = await spawnService(serviceEnv(world, { DIAGNOSE_TARGETS: targetsEnv(set), HEALTH_CACHE_SECONDS: String(W) }));
  try {
    const keys = [...set.map((t) => t.path.upstream), 'identity'];
    const series = new Map<string, CountSample[]>(keys.map((k) => [k, []]));
    const t0 = performance.now();
    let ticks = 0;
    let rssPeakKb = 0;
    const sample = () => {
      const t = performance.now() - t0;
      for (const k of keys) series.get(k)!.push({ t, count: requestsOn(world.counters, k) });
      if (ticks++ % MEMORY_EVERY === 0) rssPeakKb = Math.max(rssPeakKb, svc.memory()?.rssKb ?? 0);
    };
    const rssBeforeKb = svc.memory()?.rssKb ?? Number.NaN;
    sample();
    const sampler = setInterval(sample, SAMPLE_MS);
    let phases: StormPhase[];
    try {
      const first = await svc.get('/api/health');
      if (first.status === 404) {
        log(`P3: ${NOT_AVAILABLE} (GET /api/health answered 404)`);
        return {
          result: { ...base, reason: NOT_AVAILABLE },
          goals: [
            { id: 'P3 errors', measure: `/api/health under ${options.stormRequests} requests at concurrency ${options.stormConnections}`, value: NOT_AVAILABLE, goal: '0 errors', pass: null },
            { id: 'P3 upstream', measure: 'upstream rounds per target per cache window', value: NOT_AVAILABLE, goal: '≤ 1', pass: null },
            { id: 'Memory', measure: 'peak RSS of the service during P3', value: NOT_AVAILABLE, goal: 'reported', pass: null },
          ],
        };
      }
      const url = `${svc.url}/api/health`;
      // autocannon paces each connection separately (its share of the rate, sent at the start of every second), so
      // the rate is a whole number per connection: every connection then ends together, after ≥ stormWindows windows.
      const perConnection = Math.max(1, Math.floor(options.stormRequests / (options.stormWindows * W * options.stormConnections)));
      const rate = perConnection * options.stormConnections;
      log(`P3: paced storm, ${options.stormRequests} requests at ${rate}/s on ${options.stormConnections} connections (HEALTH_CACHE_SECONDS=${W})`);
      const paced = await storm(url, options.stormConnections, options.stormRequests, rate);
      const pacedSaid = paced.non2xx ? await saidBy(svc) : undefined;
      log(`P3: burst, ${options.stormRequests} requests as fast as they are answered`);
      const burst = await storm(url, options.stormConnections, options.stormRequests);
      const burstSaid = burst.non2xx ? await saidBy(svc) : undefined;
      phases = [toPhase(`paced (${rate}/s: ${perConnection} per connection at each second)`, paced, pacedSaid), toPhase('burst (unpaced)', burst, burstSaid)];
      sample();
    } finally {
      clearInterval(sampler);
    }
    const memory = svc.memory();
    const spanMs = performance.now() - t0;
    const upstream: UpstreamWindows[] = keys.map((k) => {
      const r = roundsOf(series.get(k)!, Math.min(1000, (W * 1000) / 2));
      return {
        upstream: k,
        requests: r.requests,
        minGapS: r.minGapMs === null ? null : round(r.minGapMs / 1000, 2),
        roundStartsS: r.starts.map((s) => round(s / 1000, 2)),
        ...checkWindows(r, W * 1000, spanMs, 2 * SAMPLE_MS),
      };
    });
    const result: P3Result = {
      ...base,
      measured: true,
      phases,
      spanS: round(spanMs / 1000, 2),
      windowsSpanned: round(spanMs / (W * 1000), 2),
      upstream,
      memory: {
        rssBeforeMb: round(rssBeforeKb / 1024),
        rssPeakSampledMb: round(Math.max(rssPeakKb, memory?.rssKb ?? 0) / 1024),
        hwmMb: round((memory?.hwmKb ?? Number.NaN) / 1024),
      },
    };
    const targetRows = upstream.filter((u) => u.upstream !== 'identity');
    const goals: GoalRow[] = [
      ...phases.map((p) => ({
        id: `P3 ${p.label.split(' ')[0]}`,
        measure: `/api/health, ${p.requests} requests at concurrency ${options.stormConnections}, ${p.label}`,
        value: `p50 ${ms(p.latencyMs.p50)}, p99 ${ms(p.latencyMs.p99)}, ${p.rps} req/s, ${p.errors} errors, ${p.non2xx} non-2xx${p.healthSaid ? ` (${Object.entries(p.statusCodes).map(([c, n]) => `${n}× ${c}`).join(', ')}; health then said: ${p.healthSaid})` : ''}`,
        goal: '0 errors',
        pass: p.errors === 0 && p.non2xx === 0,
      })),
      {
        id: 'P3 upstream',
        measure: `upstream rounds per target per ${W} s cache window, over ${result.windowsSpanned} windows`,
        value: targetRows.map((u) => `${u.upstream}: ${u.rounds} rounds, max ${u.maxRoundsPerWindow}/window`).join('; '),
        goal: '≤ 1',
        pass: targetRows.every((u) => u.pass),
      },
      {
        id: 'Memory',
        measure: 'peak RSS of the service during P3 (VmHWM)',
        value: `${result.memory!.hwmMb} MB (before the storm ${result.memory!.rssBeforeMb} MB)`,
        goal: 'reported',
        pass: null,
      },
    ];
    return { result, goals };
  } finally {
    await svc.stop();
  }
}

function storm(url: string, connections: number, amount: number, overallRate?: number): Promise<autocannon.Result> {
  return autocannon({ url, connections, amount, timeout: 10, ...(overallRate ? { overallRate } : {}) });
}

/** What /api/health said right after a phase that saw non-2xx answers (its cause codes), so the report shows why. */
async function saidBy(svc: { get(p: string): Promise<{ value: string }> }): Promise<string> {
  try {
    return (JSON.parse((await svc.get('/api/health')).value) as { output?: string }).output ?? '';
  } catch (err) {
    return `(could not read /api/health: ${(err as Error).message})`;
  }
}

function toPhase(label: string, r: autocannon.Result, said?: string): StormPhase {
  const statusCodes: Record<string, number> = {};
  for (const [code, v] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = v.count ?? 0;
  return {
    label,
    requests: r.requests.total,
    durationS: round(r.duration, 2),
    rps: Math.round(r.requests.total / r.duration),
    latencyMs: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    statusCodes,
    ...(said !== undefined ? { healthSaid: said } : {}),
  };
}
