import {
  diffCounters,
  expectedTokenRequests,
  parallelPathMs,
  parallelRoundTrips,
  requestsOn,
  roundTripsFromCalibration,
  sequentialPathMs,
  snapshotCounters,
  type CounterSnapshot,
  type PathTarget,
} from '../../../bench/criticalPath';

const kv: PathTarget = { name: 'kv', kind: 'keyVaultSecret', audience: 'https://vault.azure.net', upstream: 'keyVault:kv' };
const st: PathTarget = { name: 'st', kind: 'storageBlob', audience: 'https://storage.azure.com', upstream: 'storage:st' };
const arm: PathTarget = { name: 'arm', kind: 'armResource', audience: 'https://management.azure.com', upstream: 'arm' };
const queue: PathTarget = { name: 'q', kind: 'storageQueue', audience: 'https://storage.azure.com', upstream: 'storage:qt' };
const table: PathTarget = { name: 't', kind: 'storageTable', audience: 'https://storage.azure.com', upstream: 'storage:qt' };

const counters = (c: Partial<CounterSnapshot>): CounterSnapshot => ({ identity: 0, identityByResource: {}, keyVault: {}, storage: {}, arm: 0, ...c });

/** What the world counts for one single-target diagnose on a cold token. */
const calibration = [
  { target: kv, delta: counters({ identity: 1, identityByResource: { 'https://vault.azure.net': 1 }, keyVault: { kv: 2 } }) },
  { target: st, delta: counters({ identity: 1, identityByResource: { 'https://storage.azure.com': 1 }, storage: { st: 1 } }) },
  { target: arm, delta: counters({ identity: 1, identityByResource: { 'https://management.azure.com': 1 }, arm: 1 }) },
  { target: queue, delta: counters({ identity: 1, identityByResource: { 'https://storage.azure.com': 1 }, storage: { qt: 1 } }) },
  { target: table, delta: counters({ identity: 1, identityByResource: { 'https://storage.azure.com': 1 }, storage: { qt: 1 } }) },
];

describe('the critical-path model', () => {
  const rt = roundTripsFromCalibration(calibration);

  it('reads the round trips of each chain from the calibration counters', () => {
    expect(rt).toEqual({ tokenPerAudience: 1, chain: { keyVaultSecret: 2, storageBlob: 1, armResource: 1, storageQueue: 1, storageTable: 1 } });
  });

  it('puts one token round trip plus the longest chain on the parallel critical path', () => {
    expect(parallelRoundTrips([kv], rt, 'cold')).toBe(3);
    expect(parallelPathMs([kv, st, arm], rt, 40, 'cold')).toBe(120);
    expect(parallelPathMs([st, arm, st, arm], rt, 40, 'cold')).toBe(80);
  });

  it('drops the token round trip when the token comes from the cache', () => {
    expect(parallelPathMs([kv, st, arm], rt, 40, 'warm')).toBe(80);
  });

  it('sums every target, its own token included, for the sequential baseline', () => {
    expect(sequentialPathMs([kv, st, arm], rt, 40, 'cold')).toBe(40 * (3 + 2 + 2));
    expect(sequentialPathMs([kv, kv, kv], rt, 10, 'warm')).toBe(60);
  });

  it('expects one identity request per distinct audience, however many targets share it', () => {
    expect(expectedTokenRequests([kv, kv, st, arm, arm], rt)).toBe(3);
    expect(expectedTokenRequests([{ ...kv, audience: 'https://vault.azure.net/' }, kv], rt)).toBe(1);
  });

  it('refuses a calibration whose token was cached or whose target was never called', () => {
    const cached = [{ target: kv, delta: counters({ keyVault: { kv: 2 } }) }, ...calibration.slice(1)];
    expect(() => roundTripsFromCalibration(cached)).toThrow(/no identity request/);
    const silent = [{ target: kv, delta: counters({ identityByResource: { 'https://vault.azure.net': 1 } }) }, ...calibration.slice(1)];
    expect(() => roundTripsFromCalibration(silent)).toThrow(/no request reached keyVault:kv/);
    expect(() => roundTripsFromCalibration(calibration.slice(0, 2))).toThrow(/no armResource target/);
  });

  it('diffs counter snapshots per host and audience', () => {
    const before = snapshotCounters(counters({ identity: 2, identityByResource: { a: 2 }, keyVault: { kv: 4, other: 1 }, arm: 3 }));
    const after = counters({ identity: 3, identityByResource: { a: 2, b: 1 }, keyVault: { kv: 6, other: 1 }, storage: { st: 1 }, arm: 3 });
    const d = diffCounters(after, before);
    expect(d).toEqual({ identity: 1, identityByResource: { b: 1 }, keyVault: { kv: 2 }, storage: { st: 1 }, arm: 0 });
    expect(requestsOn(d, 'keyVault:kv')).toBe(2);
    expect(requestsOn(d, 'identity:b/')).toBe(1);
    expect(requestsOn(d, 'identity')).toBe(1);
    expect(() => requestsOn(d, 'dns')).toThrow(/unknown upstream/);
  });
});
