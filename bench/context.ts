import type { World } from '../test/world';
import type { BenchOptions } from './options';
import type { BenchTargets } from './stage';

/** What every measurement gets: the running simulated world, the staged targets, the options and a logger. */
export interface BenchContext {
  world: World;
  targets: BenchTargets;
  options: BenchOptions;
  log(message: string): void;
}

/** One line of the summary table: a number, its goal and whether it was met (null: not measured). */
export interface GoalRow {
  id: string;
  measure: string;
  value: string;
  goal: string;
  pass: boolean | null;
  note?: string;
}

export const ms = (v: number): string => (Number.isFinite(v) ? `${Math.round(v)} ms` : 'n/a');
/** Two decimals; beside a goal it would round onto, which side of it (1.2004 shows "1.20×" beside "≤ 1.2×: FAIL"). */
export const ratio = (v: number, verdict?: { goal: number; pass: boolean }): string => {
  if (!Number.isFinite(v)) return 'n/a';
  const two = v.toFixed(2);
  return verdict && Number(two) === verdict.goal ? `${two}× (just ${verdict.pass ? 'within' : 'above'})` : `${two}×`;
};
