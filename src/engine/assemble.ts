import { CAUSE_CATALOG, categoryOf, explainCause } from '../advice/causes';
import { HOST_CAUSES, hostSpecificFix } from '../advice/hostCauses';
import type { Settings } from '../config';
import { worstStatus, type Check, type HostKind, type Verdict } from '../verdict';
import { defaultAudienceOf } from '../targets/registry';
import { resolveHostKind } from './hostKind';
import type { Finding } from './runTarget';

/** Findings → the verdict: one check per target (status, category, title, explanation, fix from the cause catalog), the worst status, the summary and the host kind. */

export function assemble(settings: Settings, findings: Finding[], started: number): Verdict {
  const hostKind = resolveHostKind(settings, findings);
  const checks: Check[] = findings.map((f) => toCheck(f, settings, hostKind));
  const status = checks.length ? worstStatus(checks.map((c) => c.status)) : 'warn';
  const claims = findings.find((f) => f.claims)?.claims;
  return {
    status,
    summary: summarise(checks),
    durationMs: Date.now() - started,
    checkedAt: new Date(started).toISOString(),
    identity: {
      hostKind,
      ...(settings.clientId ?? claims?.appid ? { clientId: settings.clientId ?? claims?.appid } : {}),
      ...(claims?.oid ? { principalId: claims.oid } : {}),
      ...(claims?.tid ? { tenantId: claims.tid } : {}),
      ...(claims?.xms_mirid ? { resourceId: claims.xms_mirid } : {}),
    },
    checks,
  };
}

export function toCheck(f: Finding, settings: Settings, hostKind: HostKind): Check {
  const entry = CAUSE_CATALOG[f.cause];
  const ctx = {
    target: f.target,
    settings,
    claims: f.claims,
    hostKind,
    evidence: f.evidence,
    expectedAudience: defaultAudienceOf(f.target, settings.cloud),
    stage: f.stage,
    propagation: f.propagation,
  };
  return {
    target: f.target.name,
    kind: f.target.kind,
    audience: f.audience,
    status: entry.status,
    category: categoryOf(f.cause, f.stage),
    cause: f.cause,
    title: entry.title,
    stage: f.stage,
    ...(f.httpStatus !== undefined ? { httpStatus: f.httpStatus } : {}),
    ...(f.claims ? { claims: f.claims } : {}),
    evidence: f.evidence,
    // A source's own cause already reads its raw probe (Entra's answer, the key file); the generic reading would blur it.
    explanation: [explainCause(f.cause, ctx), f.stage === 'token' && !(f.cause in HOST_CAUSES) ? f.evidence.identityEndpoint?.rawProbe?.explanation : undefined].filter(Boolean).join(' '),
    ...(f.propagation ? { propagation: f.propagation } : {}),
    fix: hostSpecificFix(f.cause, ctx) ?? entry.fix(ctx),
    durationMs: f.durationMs,
  };
}

export function summarise(checks: Check[]): string {
  if (checks.length === 0) return 'No targets to diagnose: DIAGNOSE_TARGETS is empty (or the request selected none).';
  const passed = checks.filter((c) => c.status === 'pass').length;
  const problems = checks.filter((c) => c.status !== 'pass').map((c) => `${c.target}: ${c.cause}`);
  if (!problems.length) return `All ${checks.length} ${checks.length === 1 ? 'dependency is' : 'dependencies are'} authorized.`;
  return `${passed} of ${checks.length} ${checks.length === 1 ? 'dependency' : 'dependencies'} authorized; ${problems.join(', ')}.`;
}
