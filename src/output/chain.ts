import type { Check, Claims } from '../verdict';
import { serviceCode } from './describe';
import { kindOf } from '../targets/registry';

/**
 * A check read as the chain it went through — acquire a token → read its claims → call the service → verdict — with
 * the one step where it went wrong marked. The HTML report draws this; it is data so it can be tested apart.
 */

export type StepName = 'acquire' | 'claims' | 'call' | 'verdict';
export type StepState = 'ok' | 'warn' | 'failed' | 'skipped' | 'unknown';

export interface ChainStep {
  step: StepName;
  state: StepState;
  /** The step where the check went wrong (for a warn: where the warning came from). At most one per chain. */
  here: boolean;
  title: string;
  detail: string;
}


/** Claims that explain the cause, when the cause is about the token itself. */
export const SUSPECT_CLAIMS: Partial<Record<Check['cause'], (keyof Claims)[]>> = {
  wrong_audience: ['aud'],
  wrong_tenant: ['tid', 'iss'],
  token_expired: ['exp', 'expiresAt'],
  wrong_identity: ['oid'],
};

/** Where the chain broke: undefined for a pass. */
export function brokenStep(check: Check): Exclude<StepName, 'verdict'> | undefined {
  if (check.status === 'pass') return undefined;
  if (check.cause === 'deadline_exceeded') return (check.evidence.stageCut ?? check.stage) === 'token' ? 'acquire' : 'call';
  if (check.stage === 'token') return 'acquire';
  if (check.cause === 'wrong_identity') return 'claims';
  return 'call';
}

function acquireDetail(check: Check): string {
  const ie = check.evidence.identityEndpoint;
  const t = check.evidence.transport ?? ie?.transport;
  const parts = [
    ie?.status !== undefined ? `identity endpoint answered ${ie.status}` : undefined,
    ie?.error,
    ie?.errorDescription,
    t ? `${t.kind}${t.code ? ` ${t.code}` : ''}${t.endpoint ? ` at ${t.endpoint}` : ''}` : undefined,
  ].filter(Boolean);
  return parts.length ? parts.join(' · ') : check.title;
}

function callDetail(check: Check): string {
  const code = serviceCode(check);
  if (check.httpStatus !== undefined) return `HTTP ${check.httpStatus}${code ? ` · ${code}` : ''}`;
  return code ?? check.title;
}

export function chainOf(check: Check): ChainStep[] {
  const broken = brokenStep(check);
  const bad: StepState = check.status === 'warn' ? 'warn' : 'failed';
  const claims = check.claims;
  const suspect = SUSPECT_CLAIMS[check.cause]?.[0];
  const claimDetail = claims
    ? suspect && claims[suspect] !== undefined
      ? `${suspect} ${String(claims[suspect])}`
      : `oid ${claims.oid ?? '(none)'}`
    : 'not a JWT: claims unreadable';

  const acquire: ChainStep =
    broken === 'acquire'
      ? { step: 'acquire', state: bad, here: true, title: 'Acquire token', detail: acquireDetail(check) }
      : { step: 'acquire', state: 'ok', here: false, title: 'Acquire token', detail: `for ${check.audience}` };

  let claimStep: ChainStep;
  if (broken === 'acquire') claimStep = { step: 'claims', state: 'skipped', here: false, title: 'Read claims', detail: 'no token' };
  else if (broken === 'claims') claimStep = { step: 'claims', state: bad, here: true, title: 'Read claims', detail: claimDetail };
  else claimStep = { step: 'claims', state: claims ? (suspect ? 'warn' : 'ok') : 'unknown', here: false, title: 'Read claims', detail: claimDetail };

  const callTitle = `Call ${kindOf(check.kind).nouns.short}`;
  let call: ChainStep;
  if (broken === 'acquire') call = { step: 'call', state: 'skipped', here: false, title: callTitle, detail: 'not attempted' };
  else if (broken === 'call') call = { step: 'call', state: bad, here: true, title: callTitle, detail: callDetail(check) };
  else {
    const answered = check.httpStatus === undefined || check.httpStatus < 400;
    call = { step: 'call', state: answered ? 'ok' : 'warn', here: false, title: callTitle, detail: callDetail(check) };
  }

  const verdict: ChainStep = {
    step: 'verdict',
    state: check.status === 'pass' ? 'ok' : bad,
    here: false,
    title: 'Verdict',
    detail: `${check.status} · ${check.cause}`,
  };
  return [acquire, claimStep, call, verdict];
}
