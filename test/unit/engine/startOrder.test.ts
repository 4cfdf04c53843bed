import type { Target } from '../../../src/config';
import { REMEMBERED_TARGETS, rememberDuration, runInStartOrder, startOrder } from '../../../src/engine/startOrder';

let serial = 0;
/** Targets unseen by the module's memory: each test names its own. */
const targets = (...names: string[]): Target[] => {
  serial++;
  return names.map((n) => ({ name: `${n}-${serial}`, kind: 'armResource', resourceId: `/subscriptions/s/resourceGroups/${n}-${serial}` }) as Target);
};

describe('startOrder', () => {
  it('starts unseen targets in their configured order, then the slowest of the last diagnose first', () => {
    const [a, b, c] = targets('a', 'b', 'c');
    expect(startOrder([a!, b!, c!])).toEqual([0, 1, 2]);
    rememberDuration(a!, 40);
    rememberDuration(b!, 120);
    rememberDuration(c!, 80);
    expect(startOrder([a!, b!, c!])).toEqual([1, 2, 0]);
    // A target not seen before may be slow: it goes ahead of the known ones.
    const [d] = targets('d');
    expect(startOrder([a!, b!, d!])).toEqual([2, 1, 0]);
  });

  it('keeps its memory bounded: the least recently seen target is forgotten first', () => {
    const [old, kept, fresh] = targets('old', 'kept', 'fresh');
    rememberDuration(old!, 500);
    for (const t of targets(...Array.from({ length: REMEMBERED_TARGETS - 2 }, (_, i) => `filler${i}`))) rememberDuration(t, 1);
    rememberDuration(kept!, 10);
    rememberDuration(fresh!, 200);
    // `old` fell out (unseen again: first); `kept` is still known as the fastest.
    expect(startOrder([kept!, fresh!, old!])).toEqual([2, 1, 0]);
  });
});

describe('runInStartOrder', () => {
  it('lets each target\'s first request leave before the next target\'s setup runs, and keeps the configured order', async () => {
    const [slow, fast] = targets('slow', 'fast');
    rememberDuration(slow!, 300);
    rememberDuration(fast!, 30);
    const events: string[] = [];
    const results = await runInStartOrder([fast!, slow!], async (t) => {
      events.push(`setup ${t.name}`);
      // Node writes a request to its socket on a later tick, as the HTTP client does.
      await new Promise<void>((resolve) => process.nextTick(() => {
        events.push(`sent ${t.name}`);
        resolve();
      }));
      return t.name;
    });
    expect(events).toEqual([`setup ${slow!.name}`, `sent ${slow!.name}`, `setup ${fast!.name}`, `sent ${fast!.name}`]);
    expect(results).toEqual([fast!.name, slow!.name]);
  });

  it('surfaces a rejection as its own, never as an unhandled one while later targets start', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (r: unknown) => unhandled.push(r);
    process.on('unhandledRejection', onUnhandled);
    try {
      const run = runInStartOrder(targets('x', 'y', 'z'), async (t) => {
        if (t.name.startsWith('x')) throw new Error('bug');
        await new Promise((r) => setTimeout(r, 5));
        return t.name;
      });
      await expect(run).rejects.toThrow('bug');
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
