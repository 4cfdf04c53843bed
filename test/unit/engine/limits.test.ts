import { setMaxListeners } from 'node:events';
import type { Target } from '../../../src/config';
import { Deadline } from '../../../src/engine/deadline';
import type { Acquisition } from '../../../src/engine/identity';
import { MAX_CALLS_PER_HOST, sharedAcquisition, withTargetSlot } from '../../../src/engine/limits';
import type { CallOutcome } from '../../../src/targets/probe';
import { settingsFor } from '../fixtures/settings';

const settings = settingsFor();
const vault = (name: string, host = 'kv1.vault.azure.net'): Target => ({ name, kind: 'keyVaultSecret', vaultUrl: `https://${host}`, secretName: 's' });
const ok: CallOutcome = { ok: true, httpStatus: 200, result: {}, correlation: {} };
const failed: Acquisition = { ok: false, durationMs: 1, failure: { reason: 'sdk', protocol: 'appService', selector: 'system-assigned' } };

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('sharedAcquisition', () => {
  it('lets concurrent diagnoses share the one acquisition in flight for an audience', async () => {
    const gate = deferred<Acquisition>();
    const acquire = jest.fn(() => gate.promise);
    const d1 = new Deadline(5000);
    const d2 = new Deadline(5000);
    const a = sharedAcquisition(settings, 'https://vault.azure.net', d1, acquire);
    const b = sharedAcquisition(settings, 'https://vault.azure.net', d2, acquire);
    const other = sharedAcquisition(settings, 'https://storage.azure.com/', d2, acquire);
    expect(acquire).toHaveBeenCalledTimes(2);
    gate.resolve(failed);
    expect(await a).toBe(await b);
    await other;
    // Settled flights are forgotten: the next diagnose asks again (MSAL's cache decides whether that costs a request).
    void sharedAcquisition(settings, 'https://vault.azure.net', d1, acquire);
    expect(acquire).toHaveBeenCalledTimes(3);
    d1.dispose();
    d2.dispose();
  });

  it('gives the flight its own deadline, so the first caller going away does not cut it for the others', async () => {
    const caller = new AbortController();
    const first = new Deadline(5000, caller.signal);
    let seen: Deadline | undefined;
    const gate = deferred<Acquisition>();
    const flight = sharedAcquisition(settings, 'https://management.azure.com/', first, (_s, _a, d) => {
      seen = d;
      return gate.promise;
    });
    caller.abort();
    expect(first.passed).toBe(true);
    expect(seen!.passed).toBe(false);
    expect(seen!.budgetMs).toBe(5000);
    gate.resolve(failed);
    await flight;
    first.dispose();
  });
});

describe('withTargetSlot', () => {
  it(`runs at most ${MAX_CALLS_PER_HOST} calls at once per target host, and hosts do not wait on each other`, async () => {
    let inFlight = 0;
    let max = 0;
    const signal = new AbortController().signal;
    // One diagnose's deadline signal is shared by all its targets: many listeners on it are expected.
    setMaxListeners(0, signal);
    const call = async () => {
      inFlight++;
      max = Math.max(max, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return ok;
    };
    const otherHost = deferred<void>();
    const busy = Array.from({ length: 12 }, (_, i) => withTargetSlot(vault(`t${i}`), settings, signal, call));
    // A different vault is served at once even while kv1's slots are all taken.
    const elsewhere = withTargetSlot(vault('x', 'kv2.vault.azure.net'), settings, signal, async () => {
      otherHost.resolve();
      return ok;
    });
    await otherHost.promise;
    expect(await Promise.all(busy)).toEqual(Array(12).fill(ok));
    await elsewhere;
    expect(max).toBe(MAX_CALLS_PER_HOST);
  });

  it('answers a call still waiting at the deadline as cut by it, without running it', async () => {
    const hold = deferred<CallOutcome>();
    const free = new AbortController();
    const holders = Array.from({ length: MAX_CALLS_PER_HOST }, (_, i) => withTargetSlot(vault(`h${i}`, 'kv3.vault.azure.net'), settings, free.signal, () => hold.promise));
    const deadline = new AbortController();
    const late = jest.fn(async () => ok);
    const waiting = withTargetSlot(vault('late', 'kv3.vault.azure.net'), settings, deadline.signal, late);
    deadline.abort();
    const outcome = await waiting;
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.failure.transport).toMatchObject({ kind: 'aborted', endpoint: 'kv3.vault.azure.net' });
    expect(late).not.toHaveBeenCalled();
    hold.resolve(ok);
    await Promise.all(holders);
  });

  it('frees the slot of a call that ignores its deadline, so the host is not starved for the life of the process', async () => {
    const never = new Promise<CallOutcome>(() => undefined);
    const deadline = new AbortController();
    let started = 0;
    for (let i = 0; i < MAX_CALLS_PER_HOST; i++) {
      void withTargetSlot(vault(`hung${i}`, 'kv4.vault.azure.net'), settings, deadline.signal, () => {
        started++;
        return never;
      });
    }
    await new Promise((r) => setImmediate(r));
    expect(started).toBe(MAX_CALLS_PER_HOST);
    deadline.abort();
    const next = withTargetSlot(vault('next', 'kv4.vault.azure.net'), settings, new AbortController().signal, async () => ok);
    await expect(next).resolves.toBe(ok);
  });

  it('gives health its own slots at a host, so a probe never queues behind keyed diagnoses', async () => {
    const hold = deferred<CallOutcome>();
    const signal = new AbortController().signal;
    setMaxListeners(0, signal);
    // Every diagnose slot at kv5 is taken, and more diagnoses queue behind them.
    const diagnoses = Array.from({ length: 3 * MAX_CALLS_PER_HOST }, (_, i) => withTargetSlot(vault(`d${i}`, 'kv5.vault.azure.net'), settings, signal, () => hold.promise));
    const health = jest.fn(async () => ok);
    await expect(withTargetSlot(vault('probe', 'kv5.vault.azure.net'), settings, signal, health, 'health')).resolves.toBe(ok);
    expect(health).toHaveBeenCalledTimes(1);
    hold.resolve(ok);
    await Promise.all(diagnoses);
  });
});
