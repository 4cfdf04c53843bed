/**
 * Wall-clock bounds in tests prove that a deadline exists, not how close the service keeps to it: the tests run on
 * shared, busy machines (a faulted diagnose once took 3,497 ms against a 3,000 ms deadline + 10 % while other jobs
 * ran). So every bound is the deadline plus this much slack; the tight bounds are measured by `npm run bench` (P2).
 */
export const SLACK_MS = 3000;

/** The loose bound for something that must end by `deadlineMs`. */
export function boundFor(deadlineMs: number): number {
  return deadlineMs + SLACK_MS;
}
