import fs from 'node:fs';
import path from 'node:path';
import { renderCauseTable } from '../../scripts/causeTable';
import { SETTING_NAMES } from '../../src/config';
import { CAUSES, VerdictSchema } from '../../src/verdict';

const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');

describe('README', () => {
  it('carries the cause table exactly as the catalog renders it (run `npm run docs` after changing causes)', () => {
    expect(readme).toContain(renderCauseTable());
    for (const cause of CAUSES) expect(renderCauseTable()).toContain(`| \`${cause}\` |`);
  });

  it('shows a real example response that still fits the verdict schema', () => {
    const example = readme.match(/<!-- example:start -->\n```json\n([\s\S]*?)\n```\n<!-- example:end -->/)?.[1];
    expect(example).toBeDefined();
    const verdict = VerdictSchema.parse(JSON.parse(example!));
    expect(verdict.checks[0]?.cause).toBe('role_missing');
    expect(verdict.checks[0]?.evidence.roles?.lookedUp).toBe(true);
  });

  it('documents every app setting the service reads', () => {
    for (const name of SETTING_NAMES) expect(readme).toContain(`\`${name}\``);
  });

  it('keeps local.settings.sample.json in step with the settings schema', () => {
    const sample = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../local.settings.sample.json'), 'utf8')) as {
      Values: Record<string, string>;
      _comment: Record<string, string>;
    };
    for (const name of SETTING_NAMES) expect(Object.keys(sample.Values).concat(Object.keys(sample._comment))).toContain(name);
  });
});
