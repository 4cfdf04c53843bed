import { createHash } from 'node:crypto';

/**
 * The report's only stylesheet and script, inlined so the page needs nothing from the network and can be saved as one
 * file. The Content-Security-Policy allows exactly these two by hash: even if some markup slipped through escaping,
 * no other script, inline handler, style or image would run or load.
 */

export const REPORT_CSS = `
:root{--pass:#1a7f37;--warn:#9a6700;--fail:#cf222e;--fail-bg:#ffebe9;--warn-bg:#fff8c5;--muted:#59636e;--bg:#fff;--fg:#1f2328;--card:#f6f8fa;--border:#d1d9e0;--code:#eef1f4}
@media (prefers-color-scheme:dark){:root{--pass:#3fb950;--warn:#d29922;--fail:#f85149;--fail-bg:#3c1618;--warn-bg:#332701;--muted:#9198a1;--bg:#0d1117;--fg:#e6edf3;--card:#151b23;--border:#3d444d;--code:#212830}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.s-pass{--status:var(--pass)}.s-warn{--status:var(--warn)}.s-fail{--status:var(--fail)}
.badge{display:inline-block;min-width:3.6em;text-align:center;padding:0 8px;border-radius:4px;background:var(--status);color:#fff;font-weight:700;font-size:.8em;letter-spacing:.05em;vertical-align:middle}
header.banner{padding:18px 28px;border-top:8px solid var(--status);border-bottom:1px solid var(--border)}
header.banner h1{margin:0 0 4px;font-size:1.5em}
header.banner .summary{margin:0 0 8px;font-size:1.1em}
dl.identity{display:grid;grid-template-columns:max-content 1fr;gap:0 16px;margin:0;color:var(--muted);font-size:.9em}
dl.identity dd{margin:0;overflow-wrap:anywhere}
main{padding:8px 28px 28px;max-width:1280px}
table{border-collapse:collapse}
th,td{padding:3px 12px 3px 0;border-bottom:1px solid var(--border);text-align:left;vertical-align:top}
table.overview a{color:inherit}
section.check{margin:18px 0;padding:12px 18px;border:1px solid var(--border);border-left:8px solid var(--status);border-radius:6px;background:var(--card)}
section.check h2{margin:0;font-size:1.2em}
section.check h2 .kind{color:var(--muted);font-weight:400;font-size:.8em}
section.check h3{margin:14px 0 4px;font-size:1em}
.cause{margin:2px 0 0;color:var(--muted)}
.cause strong{color:var(--fg)}
ol.chain{list-style:none;display:flex;flex-wrap:wrap;gap:10px 28px;padding:0;margin:12px 0}
li.step{position:relative;flex:1 1 170px;padding:6px 10px 6px 34px;border:2px solid var(--border);border-radius:6px;background:var(--bg)}
li.step::after{content:"\\2192";position:absolute;right:-22px;top:50%;transform:translateY(-50%);color:var(--muted);font-size:1.2em}
li.step:last-child::after{content:none}
li.step .mark{position:absolute;left:10px;top:6px;font-weight:700}
li.step strong{display:block}
li.step .detail{display:block;font-size:.85em;color:var(--muted);overflow-wrap:anywhere}
li.step[data-state=ok]{border-color:var(--pass)}li.step[data-state=ok] .mark{color:var(--pass)}
li.step[data-state=warn]{border-color:var(--warn)}li.step[data-state=warn] .mark{color:var(--warn)}
li.step[data-state=failed]{border-color:var(--fail)}li.step[data-state=failed] .mark{color:var(--fail)}
li.step[data-state=skipped],li.step[data-state=unknown]{border-style:dashed;color:var(--muted)}
li.step[data-here=true]{border-width:3px;box-shadow:0 0 0 3px var(--fail-bg)}
li.step[data-here=true][data-state=failed]{background:var(--fail-bg)}
li.step[data-here=true][data-state=warn]{background:var(--warn-bg)}
li.step .here{display:inline-block;margin-top:2px;padding:0 6px;border-radius:3px;background:var(--status);color:#fff;font-size:.75em;font-weight:700;text-transform:uppercase;letter-spacing:.04em}
.explanation{margin:8px 0}
.hint{margin:8px 0;padding:6px 12px;border-left:4px solid var(--warn);background:var(--warn-bg)}
.fix{display:flex;align-items:flex-start;gap:8px;margin:4px 0}
.fix pre{flex:1;margin:0;padding:6px 10px;background:var(--code);border-radius:4px;white-space:pre-wrap;overflow-wrap:anywhere}
.note{margin:4px 0;color:var(--muted);font-style:italic}
button.copy{flex:none;min-width:6.5em;padding:4px 10px;border:1px solid var(--border);border-radius:4px;background:var(--bg);color:var(--fg);font:inherit;font-size:.85em;cursor:pointer}
button.copy:hover{border-color:var(--fg)}
button.copy[data-copied]{border-color:var(--pass);color:var(--pass)}
details{margin:10px 0 0}
summary{cursor:pointer;font-weight:600}
.facts{display:flex;flex-wrap:wrap;gap:8px 40px}
.facts>div{flex:1 1 380px;min-width:0}
dl.evidence{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0}
dl.evidence dt{color:var(--muted)}
dl.evidence dd{margin:0;overflow-wrap:anywhere}
pre.message{margin:6px 0 0;padding:6px 10px;background:var(--code);border-radius:4px;white-space:pre-wrap;overflow-wrap:anywhere}
table.claims td:first-child{color:var(--muted);white-space:nowrap}
table.claims td{overflow-wrap:anywhere}
tr.suspect td{color:var(--fail);font-weight:600}
footer{padding:0 28px 28px;color:var(--muted);font-size:.85em}
.offscreen{position:fixed;left:-10000px;top:0;opacity:0}
`;

/**
 * Copy buttons: the Clipboard API where the page is a secure context (https, or localhost), else the old
 * select-and-execCommand way, else the command is selected so the user can press Ctrl+C. The text is the code
 * element's own textContent: exactly what is shown, nothing carried in attributes.
 */
export const REPORT_JS = `
(function () {
  'use strict';
  function legacyCopy(text) {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'offscreen';
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }
  function selectForManualCopy(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  function show(button, label) {
    button.textContent = label;
    button.setAttribute('data-copied', label);
    clearTimeout(button.copyTimer);
    button.copyTimer = setTimeout(function () {
      button.textContent = 'Copy';
      button.removeAttribute('data-copied');
    }, 4000);
  }
  document.addEventListener('click', function (event) {
    var button = event.target && event.target.closest ? event.target.closest('button.copy') : null;
    if (!button) return;
    var code = button.parentNode.querySelector('code');
    if (!code) return;
    var text = code.textContent;
    var fallback = function () {
      if (legacyCopy(text)) show(button, 'Copied');
      else { selectForManualCopy(code); show(button, 'Press Ctrl+C'); }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { show(button, 'Copied'); }, fallback);
    } else {
      fallback();
    }
  });
})();
`;

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

/** For the page's <meta> (which cannot carry frame-ancestors) and, with it, for the response header. */
export const REPORT_CSP_META = `default-src 'none'; style-src ${sha256(REPORT_CSS)}; script-src ${sha256(REPORT_JS)}; base-uri 'none'; form-action 'none'`;
export const REPORT_CSP_HEADER = `${REPORT_CSP_META}; frame-ancestors 'none'`;
