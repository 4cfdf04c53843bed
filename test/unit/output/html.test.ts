import { createHash } from 'node:crypto';
import { renderHtml } from '../../../src/output/html';
import { REPORT_CSP_HEADER } from '../../../src/output/htmlAssets';
import { escapeHtml, html } from '../../../src/output/htmlTemplate';
import { authorized, HOSTILE, noIdentity, notFound, roleMissing, verdictOf } from './verdicts';

const sha = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
const inline = (page: string, tag: 'style' | 'script') => [...page.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]!);

describe('the HTML report (as markup)', () => {
  it('escapes every interpolated string, attribute values included', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(html`<p title="${HOSTILE}">${HOSTILE}</p>`.value).not.toMatch(/<img|<script|"'>/);
  });

  it('never turns a hostile service message, claim or setting into markup', () => {
    const page = renderHtml(
      verdictOf([
        roleMissing('kv-norole', {
          title: HOSTILE,
          explanation: HOSTILE,
          fix: [`az thing --name ${HOSTILE}`, `# ${HOSTILE}`],
          claims: { aud: HOSTILE, oid: HOSTILE },
          evidence: { errorCode: HOSTILE, message: HOSTILE, wwwAuthenticate: HOSTILE, settings: { [HOSTILE]: HOSTILE }, notes: [HOSTILE] },
        }),
      ], { summary: HOSTILE }),
    );
    expect(page).not.toContain('<img');
    expect(page).not.toContain('onerror=alert(1)>');
    expect(inline(page, 'script')).toHaveLength(1);
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&gt;&lt;script&gt;');
  });

  it('allows exactly its own inline stylesheet and script by hash, and loads nothing from anywhere', () => {
    const page = renderHtml(verdictOf([authorized(), roleMissing()]));
    const [style] = inline(page, 'style');
    const [script] = inline(page, 'script');
    expect(REPORT_CSP_HEADER).toContain(`style-src ${sha(style!)}`);
    expect(REPORT_CSP_HEADER).toContain(`script-src ${sha(script!)}`);
    expect(REPORT_CSP_HEADER).toMatch(/^default-src 'none';/);
    expect(page).toContain(`<meta http-equiv="Content-Security-Policy" content="${escapeHtml(REPORT_CSP_HEADER.replace("; frame-ancestors 'none'", ''))}">`);
    expect(page).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    expect(page).not.toMatch(/ style="/);
    expect(page).not.toMatch(/ on[a-z]+="/);
  });

  it('puts failures first, each with its chain, fix and copy button', () => {
    const page = renderHtml(verdictOf([authorized('kv-ok'), notFound('kv-missing'), roleMissing('kv-norole'), noIdentity('blob-ok')]));
    const order = [...page.matchAll(/<section class="check [^"]*" id="target-([^"]+)"/g)].map((m) => m[1]);
    expect(order).toEqual(['kv-norole', 'blob-ok', 'kv-missing', 'kv-ok']);
    expect(page).toMatch(/data-step="call" data-state="failed" data-here="true" aria-current="step">.*failed here/);
    expect(page).toMatch(/data-step="acquire" data-state="failed" data-here="true"/);
    expect(page).toContain('<div class="fix"><pre><code>az role assignment create --assignee-object-id');
    expect(page.match(/<button type="button" class="copy"/g)).toHaveLength(1 + 1 + 2);
    expect(page).toContain('<p class="hint" data-hint="propagation">');
  });

  it('flags the claim that explains a token problem, with the value that was expected', () => {
    const page = renderHtml(
      verdictOf([
        roleMissing('kv-aud', {
          cause: 'wrong_audience',
          title: 'Token minted for the wrong audience',
          claims: { aud: 'https://management.azure.com/', oid: 'o' },
          evidence: { expectedAudience: 'https://vault.azure.net' },
        }),
      ]),
    );
    expect(page).toContain('<tr class="suspect" data-claim="aud"><td>aud</td><td>https://management.azure.com/ (expected https://vault.azure.net)</td></tr>');
    expect(page).not.toContain('<p class="hint"');
  });
});

describe('the propagation hint in the report', () => {
  it('shows the engine\'s own hint — the assignment\'s age and the time left — when it read the assignment', () => {
    const check = roleMissing('kv-fresh', {
      cause: 'propagation_pending',
      propagation: {
        assignmentAgeSeconds: 90,
        expectedWindowSeconds: 600,
        retryAfterSeconds: 510,
        advice: 'Key Vault Secrets User at /subscriptions/s/vaults/kv1 was granted 90 s ago; role assignments take up to 10 minutes to take effect.',
      },
    });
    const page = renderHtml(verdictOf([check]));
    expect(page).toContain('was granted 90 s ago');
    expect(page).toContain('Retry in about 510 s');
  });
});
