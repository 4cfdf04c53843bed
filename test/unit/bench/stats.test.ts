import { median, percentile, round, summarize } from '../../../bench/stats';

describe('bench statistics', () => {
  it('takes the median of an odd sample as its middle value and of an even one as the mean of the middle two', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('interpolates percentiles between closest ranks and leaves its input unsorted', () => {
    const values = [40, 10, 30, 20, 50];
    expect(percentile(values, 0)).toBe(10);
    expect(percentile(values, 1)).toBe(50);
    expect(percentile(values, 0.25)).toBe(20);
    expect(percentile(values, 0.9)).toBeCloseTo(46);
    expect(values).toEqual([40, 10, 30, 20, 50]);
  });

  it('answers NaN for no values and refuses a quantile outside [0, 1]', () => {
    expect(median([])).toBeNaN();
    expect(() => percentile([1], 1.5)).toThrow(RangeError);
  });

  it('summarizes a sample with rounded order statistics', () => {
    expect(summarize([1.04, 2.26, 3.5])).toEqual({ n: 3, median: 2.3, p25: 1.7, p75: 2.9, min: 1, max: 3.5 });
    expect(round(1.23456, 3)).toBe(1.235);
  });
});
