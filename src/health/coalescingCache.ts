/**
 * One value, loaded at most once per time-to-live, with concurrent callers sharing the load in flight. For
 * /api/health: a probe storm (every instance's load balancer, App Service Health check, kubelet) becomes one diagnose
 * per TTL, never one Key Vault read per probe — Key Vault throttles, and IMDS allows ~20 requests per second.
 */

export type CacheSource = 'cached' | 'joined' | 'loaded';

export interface CacheResult<T> {
  value: T;
  /** cached: served from a fresh stored value; joined: shared a load already in flight; loaded: started the load. */
  source: CacheSource;
  /** When the value was stored (after its load finished), in the clock's milliseconds. */
  storedAt: number;
}

export class CoalescingCache<T> {
  private stored?: { value: T; at: number };
  private inFlight?: Promise<{ value: T; at: number }>;

  /** `now` is injectable so tests can step a clock instead of sleeping. */
  constructor(private readonly now: () => number = Date.now) {}

  /**
   * The stored value if it is younger than `ttlMs`, else the load in flight, else a new `load()`. The age counts from
   * when a load finished. A failed load is not stored: every caller that shared it sees the error, the next call
   * starts afresh.
   */
  async get(load: () => Promise<T>, ttlMs: number): Promise<CacheResult<T>> {
    const stored = this.stored;
    if (stored && this.now() - stored.at < ttlMs) return { value: stored.value, source: 'cached', storedAt: stored.at };
    if (this.inFlight) {
      const shared = await this.inFlight;
      return { value: shared.value, source: 'joined', storedAt: shared.at };
    }
    const flight = (async () => {
      const value = await load();
      const entry = { value, at: this.now() };
      this.stored = entry;
      return entry;
    })();
    this.inFlight = flight;
    try {
      const entry = await flight;
      return { value: entry.value, source: 'loaded', storedAt: entry.at };
    } finally {
      if (this.inFlight === flight) this.inFlight = undefined;
    }
  }
}
