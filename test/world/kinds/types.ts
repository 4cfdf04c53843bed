import type { TargetKindName } from '../../../src/targets/registry';
import type { Cause } from '../../../src/verdict';
import type { World } from '../index';
import type { DiagnoseTarget } from '../scenario';

/**
 * A kind's scenarios in the simulated world: what to stage so that every cause its kind module declares happens,
 * each on a target of its own, all in one diagnose. The conformance suite (test/conformance/) and the `npm start`
 * sandbox read them from KIND_WORLDS (./index.ts), registered once per kind.
 */
export interface KindWorld {
  kind: TargetKindName;
  /** The simulator module that speaks this service's protocol (under test/world/). */
  simulator: string;
  /** Adds the resources, grants and faults the cases need (after stageStandardWorld). */
  stage(world: World): void;
  /** One target per declared cause; names are unique across kinds. */
  cases(world: World): Partial<Record<Cause, DiagnoseTarget>>;
  /** A target of this kind whose token would go to `url` (for the ad-hoc host policy). */
  adHoc(url: string): Record<string, unknown>;
}

export const ago = (seconds: number): Date => new Date(Date.now() - seconds * 1000);
export const DAY = 86_400;
export const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
