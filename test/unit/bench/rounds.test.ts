import { checkWindows, maxRoundsInWindow, roundsOf, type CountSample } from '../../../bench/rounds';

/** Cumulative samples every 20 ms from 0 to `endMs`, with `bursts` as [atMs, requests]. */
function series(endMs: number, bursts: [number, number][]): CountSample[] {
  const out: CountSample[] = [];
  let count = 0;
  for (let t = 0; t <= endMs; t += 20) {
    for (const [at, n] of bursts) if (at > t - 20 && at <= t) count += n;
    out.push({ t, count });
  }
  return out;
}

describe('upstream rounds of the probe storm', () => {
  it('counts only requests after the first sample: the bench samples before the storm starts', () => {
    expect(roundsOf(series(1_000, [[0, 5], [500, 1]]), 100)).toMatchObject({ requests: 1, starts: [500] });
  });

  it('groups a diagnose\'s requests (challenge, then GET) into one round and separates rounds a window apart', () => {
    const r = roundsOf(series(12_000, [[100, 1], [140, 1], [5_300, 1], [5_340, 1], [10_500, 2]]), 1000);
    expect(r.requests).toBe(6);
    expect(r.starts).toEqual([100, 5_300, 10_500]);
    expect(r.sizes).toEqual([2, 2, 2]);
    expect(r.minGapMs).toBe(5_200);
  });

  it('passes a cache that refreshes once per window', () => {
    const r = roundsOf(series(12_000, [[100, 2], [5_300, 2], [10_500, 2]]), 1000);
    expect(checkWindows(r, 5_000, 12_000, 40)).toEqual({ rounds: 3, allowedRounds: 3, maxRoundsPerWindow: 1, maxRequestsPerRound: 2, pass: true });
  });

  it('fails a cache that lets a second round through inside one window', () => {
    const r = roundsOf(series(12_000, [[100, 1], [2_500, 1], [10_500, 1]]), 1000);
    const check = checkWindows(r, 5_000, 12_000, 40);
    expect(check.maxRoundsPerWindow).toBe(2);
    expect(check.pass).toBe(false);
  });

  it('fails a storm with more rounds than windows even when they are spread out', () => {
    const r = roundsOf(series(6_000, [[20, 1], [3_020, 1], [6_000, 1]]), 500);
    expect(checkWindows(r, 2_900, 6_000, 0)).toMatchObject({ rounds: 3, allowedRounds: 3, maxRoundsPerWindow: 1, pass: true });
    expect(checkWindows(r, 3_100, 6_000, 0)).toMatchObject({ allowedRounds: 2, pass: false });
  });

  it('counts round starts in the busiest window-long interval', () => {
    expect(maxRoundsInWindow([], 1000)).toBe(0);
    expect(maxRoundsInWindow([0, 999, 1000, 1500, 5000], 1000)).toBe(3);
  });
});
