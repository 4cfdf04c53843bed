import type { Check, Status } from '../verdict';

/**
 * Small readings of a check that every human-facing format shares, so the text table, the JUnit failure and the HTML
 * report say the same thing in the same words.
 */

/** The service's (or identity endpoint's, or socket's) own code, as the user would search for it. */
export function serviceCode(check: Check): string | undefined {
  const e = check.evidence;
  const codes = [e.errorCode, e.innerErrorCode].filter((c): c is string => Boolean(c));
  if (codes.length) return [...new Set(codes)].join('/');
  const ie = e.identityEndpoint;
  if (ie?.error) return ie.error;
  const transport = e.transport ?? ie?.transport;
  if (transport) return transport.code ?? transport.kind;
  return undefined;
}

/** A fix line is a command to run unless it is a `#` comment (advice, or what to edit). */
export function isCommand(fixLine: string): boolean {
  return !fixLine.trimStart().startsWith('#');
}

/**
 * What to tell someone who may have just granted the role: assignments take minutes to take effect, and the right
 * move then is to wait, not to grant something broader. Present only where it can be the explanation.
 */
export function propagationHint(check: Check): string | undefined {
  const noted = (check.evidence.notes ?? []).filter((n) => /propagat/i.test(n));
  // The engine's own hint, when it could read the assignment: its age, the window left, group caveats.
  if (check.propagation) {
    return [check.propagation.advice, `Retry in about ${check.propagation.retryAfterSeconds} s (or re-run with ?waitSeconds=200).`, ...noted].join(' ');
  }
  if (check.cause === 'propagation_pending') {
    return [
      'A role that covers this call is assigned but not effective yet: role assignments take up to 10 minutes to take effect (longer at management-group scope).',
      'Re-run with ?waitSeconds=200 instead of granting a broader role.',
      ...noted,
    ].join(' ');
  }
  // With the roles read and nothing granted, there is nothing to wait for.
  if (check.cause === 'role_missing' && !check.evidence.roles?.lookedUp) {
    return [
      'Granted the role minutes ago? Assignments take up to 10 minutes to take effect.',
      'Re-run with ?waitSeconds=200 before granting anything broader.',
      ...noted,
    ].join(' ');
  }
  return noted.length ? noted.join(' ') : undefined;
}

export const STATUS_LABEL: Readonly<Record<Status, string>> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' };

const SEVERITY: Readonly<Record<Status, number>> = { fail: 0, warn: 1, pass: 2 };

/** Failures first, then warnings, then passes; configuration order within each. */
export function bySeverity(checks: readonly Check[]): Check[] {
  return checks.map((c, i) => ({ c, i })).sort((a, b) => SEVERITY[a.c.status] - SEVERITY[b.c.status] || a.i - b.i).map((x) => x.c);
}
