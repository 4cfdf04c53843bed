/**
 * Upstream accounting for the probe storm (P3). The bench samples the world's cumulative request counters every few
 * milliseconds; here those samples become "rounds" — bursts of requests one diagnose sends to one upstream — and the
 * rounds are checked against the service's cache window: at most one round per target in any window-long interval.
 */

/** One sample: the cumulative request count of one upstream at time `t` (ms). */
export interface CountSample {
  t: number;
  count: number;
}

export interface Rounds {
  /** Requests between the first and the last sample. */
  requests: number;
  /** When each round's first request was seen (ms, sample clock). */
  starts: number[];
  /** Requests in each round. */
  sizes: number[];
  /** Smallest distance between two consecutive round starts, or null with fewer than two rounds. */
  minGapMs: number | null;
}

/**
 * Groups the increments of a cumulative series into rounds: an increment more than `gapMs` after the previous one
 * starts a new round. A diagnose's requests to one upstream (challenge, then GET) come within a few latencies of
 * each other; rounds of a cached health endpoint are a whole cache window apart.
 */
export function roundsOf(series: readonly CountSample[], gapMs: number): Rounds {
  const starts: number[] = [];
  const sizes: number[] = [];
  let last: number | undefined;
  for (let i = 1; i < series.length; i++) {
    const d = series[i]!.count - series[i - 1]!.count;
    if (d <= 0) continue;
    const t = series[i]!.t;
    if (last === undefined || t - last > gapMs) {
      starts.push(t);
      sizes.push(d);
    } else {
      sizes[sizes.length - 1]! += d;
    }
    last = t;
  }
  let minGapMs: number | null = null;
  for (let i = 1; i < starts.length; i++) {
    const g = starts[i]! - starts[i - 1]!;
    minGapMs = minGapMs === null ? g : Math.min(minGapMs, g);
  }
  const requests = series.length ? series[series.length - 1]!.count - series[0]!.count : 0;
  return { requests, starts, sizes, minGapMs };
}

/** The largest number of round starts inside any half-open interval of length `windowMs`. */
export function maxRoundsInWindow(starts: readonly number[], windowMs: number): number {
  let best = 0;
  let lo = 0;
  const sorted = [...starts].sort((a, b) => a - b);
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

export interface WindowCheck {
  rounds: number;
  /** Whole cache windows the storm lasted, plus the one it started in: the most rounds a correct cache allows. */
  allowedRounds: number;
  /** Rounds in the busiest window-long interval (the goal: ≤ 1). */
  maxRoundsPerWindow: number;
  /** Requests in the largest round (the calls one diagnose makes to this upstream). */
  maxRequestsPerRound: number;
  pass: boolean;
}

/**
 * `slackMs` shortens the window used for counting to absorb sampling granularity: a round seen one sample late must
 * not make a correct cache look like it refreshed early.
 */
export function checkWindows(r: Rounds, windowMs: number, spanMs: number, slackMs: number): WindowCheck {
  const allowedRounds = Math.floor(spanMs / windowMs) + 1;
  const maxRoundsPerWindow = maxRoundsInWindow(r.starts, Math.max(1, windowMs - slackMs));
  return {
    rounds: r.starts.length,
    allowedRounds,
    maxRoundsPerWindow,
    maxRequestsPerRound: r.sizes.length ? Math.max(...r.sizes) : 0,
    pass: maxRoundsPerWindow <= 1 && r.starts.length <= allowedRounds,
  };
}
