import type { Target } from './registry';
import { kindOf } from './registry';
import type { CallOutcome, ProbeContext } from './probe';

/**
 * Dispatch: a target goes to its kind's probe. Each kind's probe — and with it its SDK, the bulk of the app's import
 * time — is loaded on first use, or up front by `preloadProbes` for the kinds a deployment configures, so a start
 * never pays for SDKs of kinds nobody asked about (measured in `npm run bench`, P4).
 */
export async function probe(target: Target, ctx: ProbeContext): Promise<CallOutcome> {
  const run = await kindOf(target).loadProbe();
  return run(target, ctx);
}

/** Load the probes (and SDKs) of these targets' kinds now, at start-up, instead of during the first diagnose. */
export function preloadProbes(targets: readonly Target[]): Promise<unknown> {
  return Promise.all([...new Set(targets.map((t) => t.kind))].map((kind) => kindOf(kind).loadProbe()));
}

export type { CallOutcome, CallFailure, ProbeContext, Correlation } from './probe';
