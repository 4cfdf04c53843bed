import fs from 'node:fs';
import path from 'node:path';
import { CHECK_EVENT_NAME, eventAttributes } from '../../../src/watch/telemetry';
import { VerdictSchema } from '../../../src/verdict';

/**
 * The alert recipes are only useful while they match what the watch emits and what the Bicep module deploys. KQL and
 * Bicep cannot run here, so these checks hold the three together: the .kql files are the source, docs/embedding-and-watch.md shows
 * them verbatim, alerts.bicep loads them and rewrites nothing but their window line, and every field they read is one
 * the watch writes.
 */
const ROOT = path.resolve(__dirname, '../../..');
const read = (p: string) => fs.readFileSync(path.join(ROOT, p), 'utf8');
const QUERIES = ['not-authorized.kql', 'status-changed.kql'];
const WINDOW_LINE = 'let windowMinutes = 15;';
const bicep = read('infra/app/alerts.bicep');

const sampleVerdict = VerdictSchema.parse({
  status: 'fail',
  summary: 's',
  durationMs: 1,
  checkedAt: '2026-11-22T05:00:00.000Z',
  identity: { hostKind: 'functions' },
  checks: [
    {
      target: 'kv',
      kind: 'keyVaultSecret',
      audience: 'https://vault.azure.net',
      status: 'fail',
      category: 'authorization',
      cause: 'role_missing',
      title: 'Role missing',
      stage: 'call',
      httpStatus: 403,
      evidence: { errorCode: 'Forbidden' },
      explanation: 'e',
      fix: ['f'],
      durationMs: 1,
    },
  ],
});
const emittedKeys = Object.keys(eventAttributes(sampleVerdict.checks[0]!, sampleVerdict));

describe.each(QUERIES)('infra/alerts/%s', (file) => {
  const kql = read(`infra/alerts/${file}`);

  it('appears verbatim in docs/embedding-and-watch.md', () => {
    expect(read('docs/embedding-and-watch.md')).toContain('```kql\n' + kql + '```');
  });

  it('is loaded by alerts.bicep, which replaces exactly its one window line', () => {
    expect(kql.split(WINDOW_LINE)).toHaveLength(2);
    expect(bicep).toContain(`loadTextContent('../alerts/${file}')`);
    expect(bicep).toContain(`var windowLine = '${WINDOW_LINE}'`);
  });

  it('reads the watch\'s events, and only fields the watch writes', () => {
    expect(kql).toContain('customEvents');
    expect(kql).toContain(`name == "${CHECK_EVENT_NAME}"`);
    const read = [...kql.matchAll(/customDimensions\.(\w+)/g)].map((m) => m[1]!);
    expect(read.length).toBeGreaterThan(0);
    expect(read.filter((k) => !emittedKeys.includes(k))).toEqual([]);
  });

  it('outputs the columns the rule splits alerts by', () => {
    const dimensions = [...bicep.matchAll(/\{ name: '(\w+)', operator: 'Include'/g)].map((m) => m[1]!);
    expect(dimensions).toEqual(['app', 'target']);
    const projected = kql.slice(kql.lastIndexOf('| project')).split(/[\s,]+/);
    for (const d of dimensions) expect(projected).toContain(d);
  });
});

describe('infra/app/alerts.bicep', () => {
  it('takes the parameters main.bicep passes, with alerts and notifications off unless asked for', () => {
    expect(bicep).toMatch(/^param name string$/m);
    expect(bicep).toMatch(/^param location string$/m);
    expect(bicep).toMatch(/^param appInsightsId string$/m);
    expect(bicep).toMatch(/^param actionGroupId string = ''$/m);
    expect(bicep).toMatch(/^param windowMinutes int = 15$/m);
    expect(bicep).toMatch(/^param alertOnStatusChange bool = false$/m);
  });

  it('declares scheduled query rules scoped to the Application Insights component', () => {
    expect(bicep.match(/'Microsoft\.Insights\/scheduledQueryRules@2023-12-01'/g)).toHaveLength(2);
    expect(bicep.match(/scopes: \[ appInsightsId \]/g)).toHaveLength(2);
    expect(bicep.match(/kind: 'LogAlert'/g)).toHaveLength(2);
  });

  it('has an ISO 8601 window and look-back for every allowed window', () => {
    const allowed = bicep.match(/@allowed\(\[([\d, ]+)\]\)\nparam windowMinutes/)![1]!.split(',').map((s) => s.trim());
    const table = [...bicep.matchAll(/^ {2}'(\d+)': \{ window: '(PT[\dHM]+)', lookback: '(PT[\dHM]+)' \}$/gm)];
    expect(table.map((m) => m[1])).toEqual(allowed);
    const minutes = (iso: string) => {
      const m = iso.match(/^PT(?:(\d+)H)?(?:(\d+)M)?$/)!;
      return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
    };
    for (const [, w, window, lookback] of table) {
      expect(minutes(window!)).toBe(Number(w));
      expect(minutes(lookback!)).toBe(3 * Number(w));
    }
  });
});
