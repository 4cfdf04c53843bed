import type { Settings, Target } from '../config';
import { worstStatus, type Cause, type Check, type Verdict } from '../verdict';
import { diagnose, summarise, type DiagnoseOptions } from './diagnose';

/**
 * Wait mode for pipelines (`?waitSeconds=N`): re-probe the failing checks with backoff until all pass or N runs out,
 * then answer once. N is capped so the answer arrives before the Azure Functions front end cuts an HTTP request at
 * 230 s; for longer waits, poll. A cause that waiting cannot cure stops the wait at once — the overall answer could
 * not turn into a pass anyway.
 *
 * Re-probes use the SDK's token cache (ManagedIdentityCredential offers no force-refresh). That is right for a role
 * granted directly to the identity, which Azure evaluates server-side; a grant through a group needs a new token,
 * which the platform caches ~24 h — the propagation hint says so.
 */
export const MAX_WAIT_SECONDS = 200;
const FIRST_DELAY_MS = 2000;
const MAX_DELAY_MS = 15_000;
const BACKOFF = 1.5;

/** Causes that can heal while you wait: propagation, throttling, transient service and endpoint trouble. */
const CAN_HEAL: ReadonlySet<Cause> = new Set([
  'propagation_pending',
  'throttled',
  'target_error',
  'target_unreachable',
  'deadline_exceeded',
  'identity_endpoint_error',
  'identity_endpoint_unreachable',
  // A federated credential takes a few seconds to propagate: one created just now is refused with AADSTS70021.
  'federation_mismatch',
]);

export function canHeal(check: Check): boolean {
  if (CAN_HEAL.has(check.cause)) return true;
  // A 403 whose roles could not be read may be a fresh grant: give it the benefit of the doubt.
  return check.cause === 'role_missing' && !!check.evidence.roles && !check.evidence.roles.lookedUp;
}

export async function diagnoseWithWait(
  settings: Settings,
  targets: Target[],
  waitSeconds: number,
  options: DiagnoseOptions & { sleep?: (ms: number) => Promise<void> } = {},
): Promise<Verdict> {
  const applied = Math.min(Math.max(0, waitSeconds), MAX_WAIT_SECONDS);
  const started = Date.now();
  const until = started + applied * 1000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const first = await diagnose(settings, targets, options);
  const checks = new Map(first.checks.map((c) => [c.target, { ...c, attempts: 1, ...(c.status !== 'fail' ? { secondsUntilAuthorized: 0 } : {}) }]));
  let rounds = 1;
  let delay = FIRST_DELAY_MS;
  let stoppedBecause: NonNullable<Verdict['wait']>['stoppedBecause'] = 'all_passed';
  let cannotHeal: string[] = [];
  for (;;) {
    const failing = [...checks.values()].filter((c) => c.status === 'fail');
    if (!failing.length) break;
    cannotHeal = failing.filter((c) => !canHeal(c)).map((c) => c.target);
    if (cannotHeal.length) {
      stoppedBecause = 'cannot_heal';
      break;
    }
    const remaining = until - Date.now();
    if (remaining < delay + 500) {
      stoppedBecause = 'time_up';
      break;
    }
    await sleep(delay);
    delay = Math.min(MAX_DELAY_MS, Math.round(delay * BACKOFF));
    const budget = Math.min(settings.timeoutMs, until - Date.now());
    if (budget < 500) {
      stoppedBecause = 'time_up';
      break;
    }
    const names = new Set(failing.map((c) => c.target));
    const again = await diagnose({ ...settings, timeoutMs: budget }, targets.filter((t) => names.has(t.name)), options);
    rounds++;
    for (const c of again.checks) {
      const before = checks.get(c.target)!;
      checks.set(c.target, {
        ...c,
        attempts: (before.attempts ?? 1) + 1,
        ...(c.status !== 'fail' ? { secondsUntilAuthorized: Math.round((Date.now() - started) / 100) / 10 } : {}),
      });
    }
  }
  const all = first.checks.map((c) => checks.get(c.target)!);
  const claims = all.find((c) => c.claims)?.claims;
  return {
    ...first,
    status: all.length ? worstStatus(all.map((c) => c.status)) : first.status,
    summary: summarise(all),
    durationMs: Date.now() - started,
    identity: { ...first.identity, ...(claims?.oid && !first.identity.principalId ? { principalId: claims.oid } : {}) },
    checks: all,
    wait: {
      requestedSeconds: waitSeconds,
      appliedSeconds: applied,
      waitedSeconds: Math.round((Date.now() - started) / 100) / 10,
      rounds,
      stoppedBecause,
      ...(cannotHeal.length ? { cannotHeal } : {}),
    },
  };
}
