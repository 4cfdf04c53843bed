import type { Check, Verdict } from '../verdict';
import { STATUS_LABEL } from './describe';

/**
 * text/plain for pipeline logs: a fixed-width table, one line per target (status, target, cause, HTTP status, the
 * first fix line), then each problem's fix commands in full, then the summary — last, because a failed step's log is
 * read from the bottom. Plain ASCII layout, no colour codes, no line longer than TEXT_WIDTH. Long commands are wrapped
 * with shell line continuations, so they can still be pasted as they are.
 */

export const TEXT_WIDTH = 160;
const GAP = '  ';
const ELLIPSIS = '...';
const TARGET_MAX = 40;

function fit(s: string, width: number): string {
  const flat = s.replace(/\s+/g, ' ');
  return flat.length <= width ? flat : `${flat.slice(0, Math.max(0, width - ELLIPSIS.length))}${ELLIPSIS}`;
}

/** Words of a shell line, split at spaces outside quotes, with the unquoted `# comment` tail kept apart. */
export function shellWords(line: string): { words: string[]; comment?: string } {
  const words: string[] = [];
  let word = '';
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote === "'") {
      word += ch;
      if (ch === "'") quote = undefined;
    } else if (ch === '\\' && i + 1 < line.length) {
      word += ch + line[++i];
    } else if (quote === '"') {
      word += ch;
      if (ch === '"') quote = undefined;
    } else if (ch === '"' || ch === "'") {
      word += ch;
      quote = ch;
    } else if (ch === ' ') {
      if (word) words.push(word);
      word = '';
    } else if (ch === '#' && word === '') {
      return { words, comment: line.slice(i) };
    } else {
      word += ch;
    }
  }
  if (word) words.push(word);
  return { words };
}

function wrapWords(words: string[], width: number, first: string, next: string, lineEnd: string): string[] {
  const lines: string[] = [];
  let current = first;
  let empty = true;
  for (const w of words) {
    if (!empty && current.length + 1 + w.length + lineEnd.length > width) {
      lines.push(current + lineEnd);
      current = next;
      empty = true;
    }
    current += (empty ? '' : ' ') + w;
    empty = false;
  }
  lines.push(current);
  return lines;
}

/** Prose lines still too long (one huge word) are cut, the rest continuing after `prefix`. */
function chop(lines: string[], width: number, prefix: string): string[] {
  return lines.flatMap((line) => {
    const pieces = [line.slice(0, width)];
    for (let i = width; i < line.length; i += width - prefix.length) pieces.push(prefix + line.slice(i, i + width - prefix.length));
    return pieces;
  });
}

/**
 * One fix line as shell lines of at most `width` characters. Commands break between words with ` \`; a single word
 * too long for any line (a deep resource id) is cut with a bare `\` and the rest starts at column 0, because shell
 * continuation joins the two halves only if no indentation comes between them.
 */
export function wrapFixLine(line: string, width: number, indent: string): string[] {
  const trimmed = line.trim();
  if (trimmed.startsWith('#')) {
    return chop(wrapWords(trimmed.replace(/^#\s*/, '').split(/\s+/), width, `${indent}# `, `${indent}# `, ''), width, `${indent}# `);
  }
  const { words, comment } = shellWords(trimmed);
  const cont = `${indent}    `;
  const out: string[] = [];
  for (const wrapped of wrapWords(words, width, indent, cont, ' \\')) {
    if (wrapped.length <= width) {
      out.push(wrapped);
      continue;
    }
    // A continuation line may start at column 0: better than cutting a word that fits there.
    if (wrapped.trimStart().length <= width && wrapped !== wrapped.trimStart() && out.length) {
      out.push(wrapped.trimStart());
      continue;
    }
    // Only a lone over-long word gets here: cut it with bare backslashes, never right after one of its own.
    const continued = wrapped.endsWith(' \\');
    let rest = continued ? wrapped.slice(0, -2) : wrapped;
    while (rest.length > width - 1) {
      let cut = width - 1;
      while (cut > 1 && rest[cut - 1] === '\\') cut--;
      out.push(`${rest.slice(0, cut)}\\`);
      rest = rest.slice(cut);
    }
    // A bare backslash before the indented next line still separates the words, as ` \` would.
    out.push(continued ? `${rest}${rest.length + 2 <= width ? ' \\' : '\\'}` : rest);
  }
  if (comment) out.push(...wrapFixLine(comment, width, indent));
  return out;
}

function wrapProse(text: string, width: number, indent: string): string[] {
  return chop(wrapWords(text.split(/\s+/).filter(Boolean), width, '', indent, ''), width, indent);
}

export function renderText(raw: Verdict): string {
  const verdict = printable(raw);
  const checks = verdict.checks;
  const id = verdict.identity;
  const out: string[] = [];
  out.push(
    `Identity Doctor: ${STATUS_LABEL[verdict.status]} (checked ${verdict.checkedAt} in ${verdict.durationMs} ms)`,
    ...wrapProse(
      [`identity: host ${id.hostKind}`, id.principalId && `principal ${id.principalId}`, id.clientId && `client ${id.clientId}`].filter(Boolean).join(', '),
      TEXT_WIDTH,
      '  ',
    ),
    '',
  );

  if (checks.length) {
    const targetWidth = Math.min(TARGET_MAX, Math.max('TARGET'.length, ...checks.map((c) => c.target.length)));
    const causeWidth = Math.max('CAUSE'.length, ...checks.map((c) => c.cause.length));
    const fixWidth = TEXT_WIDTH - ['STATUS', 'x'.repeat(targetWidth), 'x'.repeat(causeWidth), 'HTTP'].join(GAP).length - GAP.length;
    const row = (status: string, target: string, cause: string, http: string, fix: string) =>
      [status.padEnd(6), fit(target, targetWidth).padEnd(targetWidth), cause.padEnd(causeWidth), http.padEnd(4), fit(fix, fixWidth)].join(GAP).trimEnd();
    out.push(row('STATUS', 'TARGET', 'CAUSE', 'HTTP', 'FIX'));
    for (const c of checks) {
      out.push(row(STATUS_LABEL[c.status], c.target, c.cause, c.httpStatus !== undefined ? String(c.httpStatus) : '-', c.status === 'pass' ? '-' : (c.fix[0] ?? '-')));
    }
    const problems = checks.filter((c): c is Check => c.status !== 'pass' && c.fix.length > 0);
    if (problems.length) {
      out.push('', 'Fixes:');
      for (const c of problems) {
        out.push(fit(`${c.target}: ${c.cause} (${c.title})`, TEXT_WIDTH));
        for (const line of c.fix) out.push(...wrapFixLine(line, TEXT_WIDTH, '  '));
      }
    }
    out.push(...localChainLines(raw.checks));
    out.push('');
  }
  out.push(...wrapProse(`${STATUS_LABEL[verdict.status]}: ${verdict.summary}`, TEXT_WIDTH, '  '));
  return `${out.join('\n')}\n`;
}

/** Off Azure (DIAGNOSE_LOCAL_CHAIN / --local-chain): the developer credential chain, once per audience it ran for. */
function localChainLines(checks: Check[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const c of checks) {
    const chain = c.evidence.localChain;
    if (!chain || seen.has(c.audience)) continue;
    seen.add(c.audience);
    const clean = (s: string) => s.replace(/[\t\r\n]/g, ' ').replace(CONTROLS, '');
    out.push('', fit(`Local credential chain for ${clean(c.audience)} (no managed identity here):`, TEXT_WIDTH));
    for (const step of chain.steps) {
      const detail = step.outcome === 'succeeded'
        ? [step.principalId && `principal ${step.principalId}`, step.tenantId && `tenant ${step.tenantId}`].filter(Boolean).join(', ')
        : step.reason ?? '';
      const head = `  ${fit(step.credential, 28).padEnd(28)} ${step.outcome.padEnd(11)} `;
      out.push(`${head}${fit(clean(detail), TEXT_WIDTH - head.length)}`.trimEnd());
    }
    out.push(...wrapProse(clean(chain.hint), TEXT_WIDTH - 2, '  ').map((l) => `  ${l}`));
  }
  return out;
}

// C0/C1 controls (an escape sequence in a claim, a stray tab) would colour a log or break the columns.
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Strings from outside (claims, settings) reach the table only through here. */
function printable(verdict: Verdict): Verdict {
  const clean = (s: string) => s.replace(/[\t\r\n]/g, ' ').replace(CONTROLS, '');
  return {
    ...verdict,
    summary: clean(verdict.summary),
    identity: Object.fromEntries(Object.entries(verdict.identity).map(([k, v]) => [k, typeof v === 'string' ? clean(v) : v])) as Verdict['identity'],
    checks: verdict.checks.map((c) => ({ ...c, target: clean(c.target), title: clean(c.title), fix: c.fix.map(clean) })),
  };
}
