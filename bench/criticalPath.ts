/**
 * The physical limit of a diagnose under injected latency, and how its round trips are counted.
 *
 * Model: every simulated service answers `L` ms after a request arrives, so a chain of `n` sequential requests costs
 * `n × L`. A diagnose acquires one token per distinct audience — all audiences at once, one identity round trip each —
 * and then runs every target's call chain in parallel; each chain starts when its token has arrived. So
 *
 *   parallel limit   = L × max over targets (token round trips + the target's chain)
 *   sequential limit = L × Σ over targets (token round trips + the target's chain)   (each target diagnosed alone)
 *
 * with token round trips = 1 on a cold token and 0 when MSAL's process-wide cache answers. The chains are not
 * hard-coded: `roundTripsFromCalibration` reads them from the world's request counters after one diagnose per kind
 * (Key Vault: the unauthenticated challenge + the retried GET = 2; Storage: 1; ARM: 1). Each probe sends its requests
 * one after another (the challenge must come back before the GET), so requests counted = sequential round trips.
 * TLS handshakes, JSON and CPU are not in the model: they are the overhead the ratio shows.
 */

import { KIND_NAMES, type TargetKindName } from '../src/targets/registry';

/** A registered target kind (src/targets/registry.ts). */
export type TargetKind = TargetKindName;
/**
 * The kinds whose chains this model counts: their simulators count requests per vault, account and ARM. Every other
 * kind is measured by P1 per kind (p1PerKind.ts) against its slowest target alone.
 */
export const TARGET_KINDS: readonly TargetKind[] = KIND_NAMES.filter((k) => ['keyVaultSecret', 'storageBlob', 'armResource'].includes(k));

/** A diagnose target as the model sees it. */
export interface PathTarget {
  name: string;
  kind: TargetKind;
  /** Audience as the identity endpoint sees it in `resource=` (no `/.default`). */
  audience: string;
  /** Which world counter its calls land on: `keyVault:<vault>`, `storage:<account>` or `arm`. */
  upstream: string;
}

/** The world's request counters (a structural copy of test/world's Counters). */
export interface CounterSnapshot {
  identity: number;
  identityByResource: Record<string, number>;
  keyVault: Record<string, number>;
  storage: Record<string, number>;
  arm: number;
}

export interface RoundTrips {
  /** Sequential identity-endpoint round trips per audience on a cold token. */
  tokenPerAudience: number;
  /** Sequential round trips of each kind's call chain once its token is there. */
  chain: Record<TargetKind, number>;
}

export type TokenPath = 'cold' | 'warm';

export function snapshotCounters(c: CounterSnapshot): CounterSnapshot {
  return {
    identity: c.identity,
    identityByResource: { ...c.identityByResource },
    keyVault: { ...c.keyVault },
    storage: { ...c.storage },
    arm: c.arm,
  };
}

function diffRecord(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/** Requests that arrived between two snapshots. */
export function diffCounters(after: CounterSnapshot, before: CounterSnapshot): CounterSnapshot {
  return {
    identity: after.identity - before.identity,
    identityByResource: diffRecord(after.identityByResource, before.identityByResource),
    keyVault: diffRecord(after.keyVault, before.keyVault),
    storage: diffRecord(after.storage, before.storage),
    arm: after.arm - before.arm,
  };
}

/** Requests counted on one upstream key (`keyVault:<vault>`, `storage:<account>`, `arm`, `identity`, `identity:<aud>`). */
export function requestsOn(c: CounterSnapshot, upstream: string): number {
  const [service, name = ''] = splitKey(upstream);
  switch (service) {
    case 'keyVault':
      return c.keyVault[name] ?? 0;
    case 'storage':
      return c.storage[name] ?? 0;
    case 'arm':
      return c.arm;
    case 'identity':
      return name ? c.identityByResource[trimSlash(name)] ?? 0 : c.identity;
    default:
      throw new Error(`unknown upstream key ${upstream}`);
  }
}

function splitKey(key: string): [string, string?] {
  const i = key.indexOf(':');
  return i < 0 ? [key] : [key.slice(0, i), key.slice(i + 1)];
}

export function trimSlash(s: string): string {
  return s.replace(/\/+$/, '');
}

/**
 * Round trips per kind from one calibration diagnose per kind (a single target each, cold token): the identity
 * requests for its audience and the requests on its upstream. Throws when a kind was not calibrated or a calibration
 * diagnose sent nothing, so the model never silently assumes a count.
 */
export function roundTripsFromCalibration(runs: readonly { target: PathTarget; delta: CounterSnapshot }[]): RoundTrips {
  const chain: Partial<Record<TargetKind, number>> = {};
  let tokenPerAudience = 0;
  for (const { target, delta } of runs) {
    const token = requestsOn(delta, `identity:${target.audience}`);
    const calls = requestsOn(delta, target.upstream);
    if (token < 1) throw new Error(`calibration of ${target.name}: no identity request for ${target.audience} (was the token cached?)`);
    if (calls < 1) throw new Error(`calibration of ${target.name}: no request reached ${target.upstream}`);
    tokenPerAudience = Math.max(tokenPerAudience, token);
    chain[target.kind] = Math.max(chain[target.kind] ?? 0, calls);
  }
  for (const kind of TARGET_KINDS) if (chain[kind] === undefined) throw new Error(`calibration has no ${kind} target`);
  return { tokenPerAudience, chain: chain as Record<TargetKind, number> };
}

function pathOf(target: PathTarget, rt: RoundTrips, tokens: TokenPath): number {
  return (tokens === 'cold' ? rt.tokenPerAudience : 0) + rt.chain[target.kind];
}

/** Sequential round trips on the longest path of a parallel diagnose of `targets`. */
export function parallelRoundTrips(targets: readonly PathTarget[], rt: RoundTrips, tokens: TokenPath): number {
  return targets.reduce((m, t) => Math.max(m, pathOf(t, rt, tokens)), 0);
}

/** The parallel diagnose's physical limit in ms. */
export function parallelPathMs(targets: readonly PathTarget[], rt: RoundTrips, latencyMs: number, tokens: TokenPath): number {
  return latencyMs * parallelRoundTrips(targets, rt, tokens);
}

/** The limit of diagnosing the same targets one request after another (each its own diagnose and token). */
export function sequentialPathMs(targets: readonly PathTarget[], rt: RoundTrips, latencyMs: number, tokens: TokenPath): number {
  return latencyMs * targets.reduce((s, t) => s + pathOf(t, rt, tokens), 0);
}

/** Identity requests a parallel diagnose should send on a cold token: one per distinct audience. */
export function expectedTokenRequests(targets: readonly PathTarget[], rt: RoundTrips): number {
  return new Set(targets.map((t) => trimSlash(t.audience))).size * rt.tokenPerAudience;
}
