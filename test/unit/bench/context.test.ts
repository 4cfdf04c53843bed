import { ratio } from '../../../bench/context';

describe('ratio', () => {
  it('shows two decimals, and beside a goal it rounds onto, which side of the goal it is', () => {
    expect(ratio(1.234)).toBe('1.23×');
    expect(ratio(1.234, { goal: 1.2, pass: false })).toBe('1.23×');
    // 1.2004 beside "≤ 1.2×" is a miss; "1.20×" alone would read as a pass.
    expect(ratio(1.2004, { goal: 1.2, pass: false })).toBe('1.20× (just above)');
    expect(ratio(1.196, { goal: 1.2, pass: true })).toBe('1.20× (just within)');
    expect(ratio(Number.NaN)).toBe('n/a');
  });
});
