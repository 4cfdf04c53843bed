import type { Target } from '../config';
import type { CallOutcome, Probe, ProbeContext } from './probe';

/**
 * The one place a target kind is dispatched to its probe. Each kind's module — and with it its SDK, the bulk of the
 * app's import time — is loaded on first use, or up front by `preloadProbes` for the kinds a deployment configures,
 * so a start never pays for SDKs of kinds nobody asked about (measured in `npm run bench`, P4).
 */
const LOADERS: { [K in Target['kind']]: () => Promise<Probe<Extract<Target, { kind: K }>>> } = {
  keyVaultSecret: async () => (await import('./keyVaultSecret')).probeKeyVaultSecret,
  storageBlob: async () => (await import('./storageBlob')).probeStorageBlob,
  armResource: async () => (await import('./armResource')).probeArmResource,
};

export async function probe(target: Target, ctx: ProbeContext): Promise<CallOutcome> {
  const run = (await LOADERS[target.kind]()) as Probe<Target>;
  return run(target, ctx);
}

/** Load the probes (and SDKs) of these targets' kinds now, at start-up, instead of during the first diagnose. */
export function preloadProbes(targets: readonly Target[]): Promise<unknown> {
  return Promise.all([...new Set(targets.map((t) => t.kind))].map((kind) => LOADERS[kind]()));
}

export type { CallOutcome, CallFailure, ProbeContext, Correlation } from './probe';
