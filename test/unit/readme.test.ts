import fs from 'node:fs';
import path from 'node:path';
import { renderCauseTable, renderRoleTable } from '../../scripts/causeTable';
import { KINDS } from '../../src/targets/registry';
import { AppSettingsSchema, SETTING_NAMES, TargetListSchema } from '../../src/config';
import { CAUSES, VerdictSchema } from '../../src/verdict';
import { fillPlaceholders } from '../support/docs';

const ROOT = path.resolve(__dirname, '../..');
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

function between(text: string, name: string): string {
  const m = text.match(new RegExp(`<!-- ${name}:start -->\\n\`\`\`json\\n([\\s\\S]*?)\\n\`\`\`\\n<!-- ${name}:end -->`));
  if (!m) throw new Error(`no ${name} example`);
  return m[1]!;
}

/** The first column of the table whose header starts with `| <header> |`. */
function tableColumn(text: string, header: string): string[] {
  const start = text.indexOf(`| ${header} |`);
  if (start < 0) throw new Error(`no table headed ${header}`);
  const rows = text.slice(start).split('\n').slice(2);
  const end = rows.findIndex((r) => !r.startsWith('|'));
  return rows.slice(0, end < 0 ? undefined : end).map((r) => r.split('|')[1]!.trim().replace(/`/g, ''));
}

describe('README', () => {
  it('reads in five minutes: at most 300 lines, in run order', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(300);
    const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]!);
    expect(headings).toEqual(['Quick start (no Azure account needed)', 'Deploy with azd', 'Gate a pipeline', 'Where it runs', 'Settings', 'Reading a verdict', 'Causes', 'More']);
  });

  it('carries the cause table exactly as the catalog renders it (run `npm run docs` after changing causes)', () => {
    expect(readme).toContain(renderCauseTable());
    for (const cause of CAUSES) expect(renderCauseTable()).toContain(`| \`${cause}\` |`);
  });

  it('carries the role table exactly as the registry renders it: every kind, its least role and that role\'s id', () => {
    expect(readme).toContain(renderRoleTable());
    for (const k of KINDS) expect(renderRoleTable()).toContain(`| \`${k.kind}\` |`);
    for (const k of KINDS) expect(renderRoleTable()).toContain(k.operation.leastRole.id);
  });

  it('shows a short example response that still fits the verdict schema', () => {
    const verdict = VerdictSchema.parse(JSON.parse(between(readme, 'example')));
    expect(verdict.checks[0]?.cause).toBe('role_missing');
    expect(verdict.status).toBe('fail');
  });

  it('shows target examples that the DIAGNOSE_TARGETS schema accepts, one per kind', () => {
    const targets = TargetListSchema.parse(JSON.parse(fillPlaceholders(between(readme, 'targets'))));
    expect(new Set(targets.map((t) => t.kind))).toEqual(new Set(KINDS.map((k) => k.kind)));
  });

  it('documents every app setting the service reads, and no setting it does not read', () => {
    const documented = tableColumn(readme, 'setting');
    expect([...documented].sort()).toEqual([...SETTING_NAMES].sort());
  });

  it('states each setting\'s default as the settings schema applies it', () => {
    const start = readme.indexOf('| setting | default | meaning |');
    const rows = readme.slice(start).split('\n').slice(2);
    const table = rows.slice(0, rows.findIndex((r) => !r.startsWith('|'))).map((r) => r.split('|').map((c) => c.trim()));
    const literal = table.filter(([, , d]) => /^`[^`]+`$/.test(d!));
    expect(literal.length).toBeGreaterThanOrEqual(6);
    for (const [, name, stated] of literal) {
      const schema = AppSettingsSchema.shape[name!.replace(/`/g, '') as keyof typeof AppSettingsSchema.shape];
      const applied = schema.parse(undefined) as unknown;
      expect({ name, stated: stated!.replace(/`/g, '') }).toEqual({ name, stated: typeof applied === 'string' ? applied : JSON.stringify(applied) });
    }
    // "—" (none) where the schema has no default, or an empty list.
    for (const [, name] of table.filter(([, , d]) => d!.startsWith('—'))) {
      const applied = AppSettingsSchema.shape[name!.replace(/`/g, '') as keyof typeof AppSettingsSchema.shape].parse(undefined) as unknown;
      expect({ name, none: applied === undefined || (Array.isArray(applied) && applied.length === 0) }).toEqual({ name, none: true });
    }
  });

  it('keeps local.settings.sample.json in step with the settings schema', () => {
    const sample = JSON.parse(fs.readFileSync(path.join(ROOT, 'local.settings.sample.json'), 'utf8')) as {
      Values: Record<string, string>;
      _comment: Record<string, string>;
    };
    for (const name of SETTING_NAMES) expect(Object.keys(sample.Values).concat(Object.keys(sample._comment))).toContain(name);
  });
});
