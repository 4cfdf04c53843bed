import type { Check, Verdict } from '../verdict';
import { propagationHint, serviceCode } from './describe';
import { xmlAttr, xmlText } from './xml';

/**
 * JUnit XML, the format Azure Pipelines' PublishTestResults and GitHub's test reporters read: one testcase per target,
 * so each dependency shows up as a test of its own.
 *
 * - fail → `<failure>`: the cause as `type`, cause and title (and the service's code) as `message`, and the
 *   explanation, fix and evidence as the body;
 * - `internal` category (`diagnostic_error`, a bug in Identity Doctor) → `<error>`, JUnit's "the test itself broke",
 *   so it is never counted against the dependency;
 * - warn → `<skipped>` with the cause: reported apart, without failing the run — as the HTTP status (200) does not;
 * - pass → an empty testcase.
 */

const SUITE = 'identity-doctor';

const seconds = (ms: number) => (ms / 1000).toFixed(3);

function outcome(check: Check): 'failure' | 'error' | 'skipped' | 'passed' {
  if (check.status === 'pass') return 'passed';
  if (check.status === 'warn') return 'skipped';
  return check.category === 'internal' ? 'error' : 'failure';
}

function headline(check: Check): string {
  const code = serviceCode(check);
  const http = check.httpStatus !== undefined ? `HTTP ${check.httpStatus}` : `no answer at the ${check.stage} stage`;
  return `${check.cause}: ${check.title} (${http}${code ? `, ${code}` : ''})`;
}

function body(check: Check): string {
  const e = check.evidence;
  const transport = e.transport ?? e.identityEndpoint?.transport;
  const lines = [check.explanation];
  const hint = propagationHint(check);
  // Some explanations already say it (role_missing does); once is enough in a log.
  if (hint && !/propagation/i.test(check.explanation)) lines.push('', hint);
  if (check.fix.length) lines.push('', 'Fix:', ...check.fix.map((f) => `  ${f}`));
  const facts: [string, string | number | undefined][] = [
    ['stage', check.stage],
    ['audience', check.audience],
    ['httpStatus', check.httpStatus],
    ['errorCode', e.errorCode],
    ['innerErrorCode', e.innerErrorCode],
    ['requestId', e.requestId],
    ['clientRequestId', e.clientRequestId],
    ['correlationId', e.correlationId],
    ['retryAfter', e.retryAfter],
    ['tokenAudience', e.tokenAudience],
    ['expectedAudience', e.expectedAudience],
    ['identityEndpoint', e.identityEndpoint && [e.identityEndpoint.status, e.identityEndpoint.error, e.identityEndpoint.errorDescription].filter((x) => x !== undefined).join(' ')],
    ['transport', transport && [transport.kind, transport.code, transport.endpoint].filter(Boolean).join(' ')],
    ['stageCut', e.stageCut],
  ];
  lines.push('', 'Evidence:', ...facts.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `  ${k}: ${v}`));
  if (e.message) lines.push('', 'Service message:', ...e.message.trimEnd().split(/\r?\n/).map((l) => `  ${l}`));
  for (const note of e.notes ?? []) lines.push(`Note: ${note}`);
  return lines.join('\n');
}

function testcase(check: Check): string {
  const open = `    <testcase name="${xmlAttr(check.target)}" classname="${xmlAttr(`${SUITE}.${check.kind}`)}" time="${seconds(check.durationMs)}"`;
  switch (outcome(check)) {
    case 'passed':
      return `${open}/>`;
    case 'skipped':
      return `${open}>\n      <skipped message="${xmlAttr(`warn: ${headline(check)}`)}">${xmlText(body(check))}</skipped>\n    </testcase>`;
    case 'failure':
    case 'error': {
      const tag = outcome(check);
      return `${open}>\n      <${tag} message="${xmlAttr(headline(check))}" type="${xmlAttr(check.cause)}">${xmlText(body(check))}</${tag}>\n    </testcase>`;
    }
  }
}

export function renderJunit(verdict: Verdict): string {
  const counts = { tests: verdict.checks.length, failures: 0, errors: 0, skipped: 0 };
  for (const c of verdict.checks) {
    const o = outcome(c);
    if (o === 'failure') counts.failures++;
    else if (o === 'error') counts.errors++;
    else if (o === 'skipped') counts.skipped++;
  }
  const totals = `tests="${counts.tests}" failures="${counts.failures}" errors="${counts.errors}" skipped="${counts.skipped}" time="${seconds(verdict.durationMs)}"`;
  // JUnit's timestamp has no zone designator; checkedAt is UTC.
  const timestamp = verdict.checkedAt.slice(0, 19);
  const id = verdict.identity;
  const properties: [string, string | undefined][] = [
    ['status', verdict.status],
    ['summary', verdict.summary],
    ['checkedAt', verdict.checkedAt],
    ['hostKind', id.hostKind],
    ['clientId', id.clientId],
    ['principalId', id.principalId],
    ['tenantId', id.tenantId],
    ['identityResourceId', id.resourceId],
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${SUITE}" ${totals}>`,
    `  <testsuite name="${SUITE}" ${totals} timestamp="${timestamp}">`,
    '    <properties>',
    ...properties.filter(([, v]) => v !== undefined).map(([k, v]) => `      <property name="${k}" value="${xmlAttr(v!)}"/>`),
    '    </properties>',
    ...verdict.checks.map(testcase),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
