import { STATUS_CODES } from 'node:http';
import { ClaimsSchema, type Check, type Claims, type Verdict } from '../verdict';
import { chainOf, SUSPECT_CLAIMS } from './chain';
import { kindOf } from '../targets/registry';
import { bySeverity, isCommand, propagationHint, serviceCode, STATUS_LABEL } from './describe';
import { REPORT_CSP_META, REPORT_CSS, REPORT_JS } from './htmlAssets';
import { html, trusted, type SafeHtml } from './htmlTemplate';

/**
 * text/html: the report a person opens after a failed deploy. One page, no external assets: the overall status and
 * summary first, a table of every target, then one card per target (failures first) with the chain
 * acquire → claims → call → verdict and its broken step marked, the explanation, the propagation hint, the fix
 * commands with copy buttons, and the service's answer and the token's claims. Everything from a service, a claim or
 * a setting goes through the escaping `html` tag.
 */

const MARK = { ok: '\u2713', warn: '!', failed: '\u2717', skipped: '\u2013', unknown: '?' } as const;
const CLAIM_KEYS = Object.keys(ClaimsSchema.shape) as (keyof Claims)[];

const statusClass = (s: Check['status']) => `s-${s}`;
const anchor = (target: string) => `target-${target}`;

function definitionList(className: string, rows: [string, string | number | undefined][]): SafeHtml {
  const present = rows.filter(([, v]) => v !== undefined && v !== '');
  return html`<dl class="${className}">${present.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}

const pairs = (record: Record<string, unknown> | undefined) =>
  record && Object.keys(record).length ? Object.entries(record).map(([k, v]) => `${k}=${String(v)}`).join(', ') : undefined;

function evidenceRows(check: Check): [string, string | number | undefined][] {
  const e = check.evidence;
  const ie = e.identityEndpoint;
  const t = e.transport ?? ie?.transport;
  const status = check.httpStatus !== undefined ? `${check.httpStatus} ${STATUS_CODES[check.httpStatus] ?? ''}`.trim() : undefined;
  return [
    ['HTTP status', status],
    ['error code', e.errorCode],
    ['inner error code', e.innerErrorCode],
    ['request id', e.requestId],
    ['client request id', e.clientRequestId],
    ['correlation id', e.correlationId],
    ['Retry-After', e.retryAfter],
    ['WWW-Authenticate', e.wwwAuthenticate],
    ['challenge', e.challenge && [e.challenge.scopes?.join(' '), e.challenge.tenantId && `tenant ${e.challenge.tenantId}`].filter(Boolean).join(' · ')],
    ['audience requested', check.audience],
    ['token audience', e.tokenAudience],
    ['expected audience', e.expectedAudience],
    ['expected principal', e.expectedPrincipalId],
    ['expected tenant', e.expectedTenantId],
    ['identity endpoint', ie && [ie.protocol, ie.endpoint, ie.selector].filter(Boolean).join(' · ')],
    ['identity endpoint answer', ie && [ie.status, ie.error, ie.errorDescription].filter((x) => x !== undefined).join(' · ')],
    ['SDK error', ie?.sdkError],
    ['transport', t && [t.kind, t.code, t.endpoint, t.detail, t.elapsedMs !== undefined ? `${t.elapsedMs} ms` : undefined].filter(Boolean).join(' · ')],
    ['stage cut by deadline', e.stageCut],
    ['settings', pairs(e.settings)],
    ['result', pairs(e.result)],
    ['notes', e.notes?.join(' ')],
  ];
}

function claimsTable(check: Check): SafeHtml {
  const claims = check.claims;
  if (!claims) {
    return html`<p class="note">${check.stage === 'token' ? 'No token was issued, so there are no claims.' : 'The token was not a JWT: its claims could not be read.'}</p>`;
  }
  const suspect = new Set<string>(SUSPECT_CLAIMS[check.cause] ?? []);
  const expected: Partial<Record<keyof Claims, string | undefined>> = {
    aud: check.evidence.expectedAudience,
    tid: check.evidence.expectedTenantId,
    oid: check.evidence.expectedPrincipalId,
  };
  const rows = CLAIM_KEYS.filter((k) => claims[k] !== undefined).map((k) => {
    const isSuspect = suspect.has(k);
    const want = isSuspect ? expected[k] : undefined;
    return html`<tr${isSuspect ? trusted(' class="suspect"') : ''} data-claim="${k}"><td>${k}</td><td>${String(claims[k])}${want ? html` (expected ${want})` : ''}</td></tr>`;
  });
  return html`<table class="claims"><tbody>${rows}</tbody></table>`;
}

function fixBlock(check: Check): SafeHtml | '' {
  if (!check.fix.length) return '';
  return html`<div class="fixes"><h3>Fix</h3>${check.fix.map((line) =>
    isCommand(line)
      ? html`<div class="fix"><pre><code>${line}</code></pre><button type="button" class="copy" aria-live="polite">Copy</button></div>`
      : html`<p class="note">${line.replace(/^\s*#\s*/, '')}</p>`,
  )}</div>`;
}

function card(check: Check): SafeHtml {
  const hint = propagationHint(check);
  const code = serviceCode(check);
  const steps = chainOf(check).map(
    (s) =>
      html`<li class="step" data-step="${s.step}" data-state="${s.state}"${s.here ? trusted(' data-here="true" aria-current="step"') : ''}><span class="mark" aria-hidden="true">${MARK[s.state]}</span><strong>${s.title}</strong><span class="detail">${s.detail}</span>${
        s.here ? html`<span class="here">${check.status === 'warn' ? 'warning here' : 'failed here'}</span>` : ''
      }</li>`,
  );
  return html`<section class="check ${statusClass(check.status)}" id="${anchor(check.target)}" data-target="${check.target}" data-status="${check.status}" data-cause="${check.cause}">
<h2><span class="badge">${STATUS_LABEL[check.status]}</span> <span class="name">${check.target}</span> <span class="kind">${kindOf(check.kind).nouns.target}</span></h2>
<p class="cause"><strong>${check.title}</strong> · <code>${check.cause}</code> · ${check.category}${code ? html` · <code class="service-code">${code}</code>` : ''} · ${check.durationMs} ms</p>
<ol class="chain" aria-label="acquire, claims, call, verdict">${steps}</ol>
<p class="explanation">${check.explanation}</p>
${hint ? html`<p class="hint" data-hint="propagation"><strong>Propagation:</strong> ${hint}</p>` : ''}
${fixBlock(check)}
<details${check.status === 'pass' ? '' : trusted(' open')}><summary>What the service said, and the token's claims</summary>
<div class="facts"><div><h3>Evidence</h3>${definitionList('evidence', evidenceRows(check))}${
    check.evidence.message ? html`<pre class="message">${check.evidence.message.trimEnd()}</pre>` : ''
  }</div><div><h3>Claims</h3>${claimsTable(check)}</div></div>
</details>
</section>`;
}

export function renderHtml(verdict: Verdict): string {
  const checks = bySeverity(verdict.checks);
  const id = verdict.identity;
  const overview = checks.length
    ? html`<table class="overview"><thead><tr><th>status</th><th>target</th><th>kind</th><th>cause</th><th>HTTP</th></tr></thead><tbody>${checks.map(
        (c) =>
          html`<tr class="${statusClass(c.status)}"><td><span class="badge">${STATUS_LABEL[c.status]}</span></td><td><a href="#${anchor(c.target)}">${c.target}</a></td><td>${kindOf(c.kind).nouns.target}</td><td><code>${c.cause}</code></td><td>${c.httpStatus ?? '\u2013'}</td></tr>`,
      )}</tbody></table>`
    : html`<p>No targets were diagnosed.</p>`;
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP_META}">
<meta name="referrer" content="no-referrer">
<title>${STATUS_LABEL[verdict.status]} · Identity Doctor · ${verdict.summary}</title>
<style>${trusted(REPORT_CSS)}</style>
</head>
<body>
<header class="banner ${statusClass(verdict.status)}" data-status="${verdict.status}">
<h1><span class="badge">${STATUS_LABEL[verdict.status]}</span> Identity Doctor</h1>
<p class="summary">${verdict.summary}</p>
${definitionList('identity', [
  ['host', id.hostKind],
  ['client id', id.clientId],
  ['principal id', id.principalId],
  ['tenant id', id.tenantId],
  ['identity resource', id.resourceId],
  ['checked at', verdict.checkedAt],
  ['took', `${verdict.durationMs} ms`],
])}
</header>
<main>
${overview}
${checks.map(card)}
</main>
<footer>Identity Doctor report. The same verdict as JSON: <code>?format=json</code>; for pipeline logs <code>?format=text</code>; as JUnit <code>?format=junit</code>. This page loads nothing from the network.</footer>
<script>${trusted(REPORT_JS)}</script>
</body>
</html>
`;
  return page.value;
}
