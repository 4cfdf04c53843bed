import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../test/world/paths';

/** What `npm run bench -- --flag value` can change. Defaults keep the whole run well under five minutes. */
export interface BenchOptions {
  /** Delay before every simulated service answers (identity endpoint, Key Vault, Storage front, ARM). */
  latencyMs: number;
  /** P1: measured diagnoses per size and path (after the warm-up). */
  samples: number;
  /** P1: diagnoses per service process thrown away first (JIT, connection pools). */
  warmup: number;
  /** P2: DIAGNOSE_TIMEOUT_MS of the service under each fault. */
  deadlineMs: number;
  /** P2: diagnoses per fault. */
  deadlineSamples: number;
  /** P2: the bare SDK call is killed after this many seconds and reported as "> bound". */
  sdkBoundSeconds: number;
  /** P3: HEALTH_CACHE_SECONDS of the service under the storm. */
  healthCacheSeconds: number;
  /** P3: requests per storm phase, and concurrent connections. */
  stormRequests: number;
  stormConnections: number;
  /** P3: cache windows the paced phase spans (≥ 2 so "one round per window" is tested more than once). */
  stormWindows: number;
  /** P4: cold starts and import timings. */
  coldStartSamples: number;
  /** Which measurements to run. */
  only: Set<Measurement>;
  /** Where latest.json and latest.md go. */
  outDir: string;
}

export type Measurement = 'p1' | 'p2' | 'p3' | 'p4';
const ALL: Measurement[] = ['p1', 'p2', 'p3', 'p4'];

export const USAGE = `npm run bench [-- options]
  --latency-ms N           injected latency per simulated response (default 40)
  --samples N              P1 diagnoses per size and path (default 11)
  --deadline-ms N          P2 DIAGNOSE_TIMEOUT_MS (default 3000)
  --deadline-samples N     P2 diagnoses per fault (default 3)
  --sdk-bound-s N          P2 kill the bare SDK call after N s (default 60)
  --health-cache-s N       P3 HEALTH_CACHE_SECONDS (default 5)
  --storm-requests N       P3 requests per phase (default 2000)
  --storm-connections N    P3 concurrent connections (default 64)
  --storm-windows X        P3 cache windows the paced phase spans (default 2.5)
  --cold-start-samples N   P4 samples (default 7)
  --only p1,p2,p3,p4       run a subset
  --out DIR                results directory (default bench/results)`;

export function parseBenchOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      'latency-ms': { type: 'string' },
      samples: { type: 'string' },
      'deadline-ms': { type: 'string' },
      'deadline-samples': { type: 'string' },
      'sdk-bound-s': { type: 'string' },
      'health-cache-s': { type: 'string' },
      'storm-requests': { type: 'string' },
      'storm-connections': { type: 'string' },
      'storm-windows': { type: 'string' },
      'cold-start-samples': { type: 'string' },
      only: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const num = (name: keyof typeof values, def: number, min: number, max: number, integer = true): number => {
    const raw = values[name];
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new Error(`--${String(name)}: expected ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${String(raw)}`);
    }
    return n;
  };
  const only = values.only
    ? new Set(
        values.only.split(',').map((s) => {
          const m = s.trim().toLowerCase();
          if (!(ALL as string[]).includes(m)) throw new Error(`--only: unknown measurement ${s} (expected ${ALL.join(', ')})`);
          return m as Measurement;
        }),
      )
    : new Set(ALL);
  return {
    latencyMs: num('latency-ms', 40, 1, 1000),
    samples: num('samples', 11, 3, 101),
    warmup: 3,
    // The service refuses DIAGNOSE_TIMEOUT_MS below 500.
    deadlineMs: num('deadline-ms', 3000, 500, 60_000),
    deadlineSamples: num('deadline-samples', 3, 1, 20),
    sdkBoundSeconds: num('sdk-bound-s', 60, 5, 600),
    healthCacheSeconds: num('health-cache-s', 5, 1, 60),
    stormRequests: num('storm-requests', 2000, 100, 100_000),
    stormConnections: num('storm-connections', 64, 1, 1024),
    stormWindows: num('storm-windows', 2.5, 2, 10, false),
    coldStartSamples: num('cold-start-samples', 7, 1, 51),
    only,
    outDir: path.resolve(REPO_ROOT, values.out ?? 'bench/results'),
  };
}
