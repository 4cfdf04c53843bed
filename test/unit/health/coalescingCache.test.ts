import { CoalescingCache } from '../../../src/health/coalescingCache';

/** A load the test finishes by hand, so "in flight" is a state, not a race. */
function deferredLoads<T>() {
  const pending: { resolve: (v: T) => void; reject: (e: unknown) => void }[] = [];
  let started = 0;
  const load = () =>
    new Promise<T>((resolve, reject) => {
      started++;
      pending.push({ resolve, reject });
    });
  return { load, pending, started: () => started };
}

describe('the coalescing cache', () => {
  it('runs one load for many concurrent callers and hands each the same value', async () => {
    const cache = new CoalescingCache<string>(() => 0);
    const loads = deferredLoads<string>();
    const calls = Array.from({ length: 50 }, () => cache.get(loads.load, 30_000));
    expect(loads.started()).toBe(1);
    loads.pending[0]!.resolve('verdict');
    const results = await Promise.all(calls);
    expect(new Set(results.map((r) => r.value))).toEqual(new Set(['verdict']));
    expect(results.filter((r) => r.source === 'loaded')).toHaveLength(1);
    expect(results.filter((r) => r.source === 'joined')).toHaveLength(49);
  });

  it('serves the stored value until the TTL has passed, then loads again', async () => {
    let now = 1_000;
    const cache = new CoalescingCache<number>(() => now);
    let n = 0;
    const load = async () => ++n;
    expect(await cache.get(load, 30_000)).toEqual({ value: 1, source: 'loaded', storedAt: 1_000 });
    now += 29_999;
    expect(await cache.get(load, 30_000)).toEqual({ value: 1, source: 'cached', storedAt: 1_000 });
    now += 1;
    expect(await cache.get(load, 30_000)).toEqual({ value: 2, source: 'loaded', storedAt: 31_000 });
  });

  it('still shares a load in flight when the TTL is zero', async () => {
    const cache = new CoalescingCache<string>(() => 0);
    const loads = deferredLoads<string>();
    const a = cache.get(loads.load, 0);
    const b = cache.get(loads.load, 0);
    loads.pending[0]!.resolve('x');
    expect((await Promise.all([a, b])).map((r) => r.source)).toEqual(['loaded', 'joined']);
    const c = cache.get(loads.load, 0);
    expect(loads.started()).toBe(2);
    loads.pending[1]!.resolve('y');
    expect((await c).value).toBe('y');
  });

  it('does not store a failed load: everyone sharing it sees the error, the next call starts afresh', async () => {
    const cache = new CoalescingCache<string>(() => 0);
    const loads = deferredLoads<string>();
    const a = cache.get(loads.load, 30_000);
    const b = cache.get(loads.load, 30_000);
    loads.pending[0]!.reject(new Error('boom'));
    await expect(a).rejects.toThrow('boom');
    await expect(b).rejects.toThrow('boom');
    const c = cache.get(loads.load, 30_000);
    expect(loads.started()).toBe(2);
    loads.pending[1]!.resolve('recovered');
    expect(await c).toMatchObject({ value: 'recovered', source: 'loaded' });
  });

  it('turns a load that throws synchronously into a rejection', async () => {
    const cache = new CoalescingCache<string>();
    await expect(cache.get(() => { throw new Error('sync'); }, 1000)).rejects.toThrow('sync');
  });
});
