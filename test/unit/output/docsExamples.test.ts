import fs from 'node:fs';
import path from 'node:path';
import { renderHtml } from '../../../src/output/html';
import { renderJunit } from '../../../src/output/junit';
import { renderText, TEXT_WIDTH } from '../../../src/output/text';
import { roleMissing, verdictOf } from './verdicts';

/**
 * The output examples in docs/outputs.md were captured from the sandbox; these checks catch a renderer changing shape without
 * the README following (re-capture them with `npm start` and the curl lines shown above each example).
 */

const readme = fs.readFileSync(path.resolve(__dirname, '../../../docs/outputs.md'), 'utf8');

function example(name: string): string {
  const m = readme.match(new RegExp(`<!-- example:${name} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\\n\`\`\``));
  if (!m) throw new Error(`docs/outputs.md has no example:${name}`);
  return m[1]!;
}

describe('docs/outputs.md examples', () => {
  it('shows the text table as the renderer lays it out', () => {
    const shown = example('text').split('\n');
    const rendered = renderText(verdictOf([roleMissing('kv-norole')])).split('\n');
    expect(shown[0]).toMatch(/^Identity Doctor: FAIL \(checked \S+ in \d+ ms\)$/);
    expect(rendered[0]).toMatch(/^Identity Doctor: FAIL \(checked \S+ in \d+ ms\)$/);
    expect(shown.some((l) => /^STATUS {2}TARGET {14}CAUSE {15}HTTP {2}FIX$/.test(l))).toBe(true);
    expect(shown).toContain('Fixes:');
    for (const line of shown) expect(line.length).toBeLessThanOrEqual(TEXT_WIDTH);
  });

  it('shows a JUnit failure exactly as rendered', () => {
    const failureLine = example('junit').split('\n').find((l) => l.includes('<failure '))!;
    const rendered = renderJunit(verdictOf([roleMissing('kv-norole')]));
    expect(rendered).toContain(failureLine.slice(0, failureLine.indexOf('">') + 2));
  });

  it('shows the HTML chain exactly as rendered', () => {
    const chain = example('html').replace(/\n/g, '');
    expect(renderHtml(verdictOf([roleMissing('kv-norole')]))).toContain(chain);
  });

  it('shows health entries with exactly the anonymous fields', () => {
    const entries = [...example('health').matchAll(/\{\s*"componentType"[^}]*\}/g)].map((m) => JSON.parse(m[0]) as object);
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) expect(Object.keys(e)).toEqual(['componentType', 'status', 'time', 'output']);
  });
});
