import { Admission, Ceiling } from '../../../src/engine/admission';

describe('Admission', () => {
  const limits = { maxConcurrent: 2, maxQueued: 1 };

  it('admits up to maxConcurrent, queues up to maxQueued, and refuses one more at once', async () => {
    const gate = new Admission();
    const [a, b] = await Promise.all([gate.enter(limits, 10_000), gate.enter(limits, 10_000)]);
    expect(a!.ok && b!.ok).toBe(true);
    const queued = gate.enter(limits, 10_000);
    expect(await gate.enter(limits, 10_000)).toEqual({ ok: false, refusal: 'queue_full' });
    expect(gate.load).toEqual({ active: 2, queued: 1 });
    if (a!.ok) a!.release();
    const turn = await queued;
    expect(turn.ok).toBe(true);
    if (b!.ok) b!.release();
    if (turn.ok) turn.release();
    expect(gate.load).toEqual({ active: 0, queued: 0 });
  });

  it('refuses a queued request that gets no turn within its wait, and forgets it', async () => {
    const gate = new Admission();
    const held = await Promise.all([gate.enter(limits, 0), gate.enter(limits, 0)]);
    expect(await gate.enter(limits, 20)).toEqual({ ok: false, refusal: 'no_turn_in_time' });
    expect(gate.load).toEqual({ active: 2, queued: 0 });
    for (const h of held) if (h.ok) { h.release(); h.release(); }
    expect(gate.load).toEqual({ active: 0, queued: 0 });
  });
});

describe('Ceiling', () => {
  it('holds at most max, and a release is idempotent', () => {
    const c = new Ceiling();
    const one = c.tryEnter(1);
    expect(one).toBeDefined();
    expect(c.tryEnter(1)).toBeUndefined();
    one!();
    one!();
    expect(c.count).toBe(0);
    expect(c.tryEnter(1)).toBeDefined();
  });
});
