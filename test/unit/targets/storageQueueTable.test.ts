import { CAUSE_CATALOG, explainCause, type CauseContext } from '../../../src/advice/causes';
import { ConfigError, loadSettings, type Target } from '../../../src/config';
import { kindOf } from '../../../src/targets/registry';
import { settingsFor } from '../fixtures/settings';

/** The settings of the queue and table kinds: Storage's naming rules, and errors that name the bad field. */
function problemsOf(target: Record<string, unknown>): { setting: string; expected: string }[] {
  try {
    loadSettings({ DIAGNOSE_TARGETS: JSON.stringify([target]) });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

const queue = { name: 'jobs', kind: 'storageQueue', accountUrl: 'https://st1.queue.core.windows.net', queueName: 'jobs-2' };
const table = { name: 'orders', kind: 'storageTable', accountUrl: 'https://st1.table.core.windows.net', tableName: 'Orders2' };

describe('storageQueue settings', () => {
  it('accepts a queue named by Storage\'s rules', () => {
    expect(problemsOf(queue)).toEqual([]);
  });

  it.each(['ab', 'Jobs', '-jobs', 'jobs-', 'jo--bs', 'j'.repeat(64), 'jobs_1'])('refuses the queue name %j, naming queueName', (queueName) => {
    expect(problemsOf({ ...queue, queueName })).toEqual([{ setting: 'DIAGNOSE_TARGETS[0].queueName', expected: expect.stringContaining('queue name') }]);
  });

  it('refuses a missing queue name and a plain-http account URL, naming each field', () => {
    const { queueName: _q, ...noQueue } = queue;
    expect(problemsOf({ ...noQueue, accountUrl: 'http://st1.queue.core.windows.net' }).map((p) => p.setting).sort()).toEqual([
      'DIAGNOSE_TARGETS[0].accountUrl',
      'DIAGNOSE_TARGETS[0].queueName',
    ]);
  });
});

describe('storageTable settings', () => {
  it('accepts a table named by Storage\'s rules, and no table at all (the probe then lists tables)', () => {
    expect(problemsOf(table)).toEqual([]);
    const { tableName: _t, ...noTable } = table;
    expect(problemsOf(noTable)).toEqual([]);
  });

  it.each(['ab', '1orders', 'or-ders', 'o'.repeat(64), 'Tables', ''])('refuses the table name %j, naming tableName', (tableName) => {
    expect(problemsOf({ ...table, tableName })).toEqual([{ setting: 'DIAGNOSE_TARGETS[0].tableName', expected: expect.stringContaining('table name') }]);
  });
});

describe('scopes and fixes', () => {
  it('grants at the queue, at the table, or at the account when no table is named', () => {
    const q = kindOf('storageQueue');
    const t = kindOf('storageTable');
    expect(q.scopes.grant({ ...queue } as never)).toBe('/queueServices/default/queues/jobs-2');
    expect(t.scopes.grant({ ...table } as never)).toBe('/tableServices/default/tables/Orders2');
    expect(t.scopes.grant({ ...table, tableName: undefined } as never)).toBe('');
  });

  it('offers each service\'s own private endpoint group and DNS zone when the network refuses', () => {
    for (const [kind, target, service] of [['storageQueue', queue, 'queue'], ['storageTable', table, 'table']] as const) {
      const fix = kindOf(kind).fixes.network_blocked!({ target } as never, undefined).join('\n');
      expect(fix).toContain(`--group-id ${service} `);
      expect(fix).toContain(`privatelink.${service}.core.windows.net`);
      expect(fix).toContain('--account-name st1 ');
    }
  });
});

describe('explanations', () => {
  const settings = settingsFor();
  const ctx = (target: Target): CauseContext => ({ target, settings, hostKind: 'functions', evidence: {}, expectedAudience: 'https://storage.azure.com/', stage: 'call' });

  it('tells a queue\'s consumer that the probe only peeks and a dequeue needs Message Processor or Contributor', () => {
    const target = loadSettings({ DIAGNOSE_TARGETS: JSON.stringify([queue]) }).targets[0]!;
    for (const cause of ['authorized', 'role_missing'] as const) {
      const text = explainCause(cause, ctx(target));
      expect(text).toContain(CAUSE_CATALOG[cause].explain(ctx(target)));
      expect(text).toMatch(/only peeks.*Storage Queue Data Message Processor.*Storage Queue Data Contributor/);
    }
  });

  it('adds nothing to a table\'s explanations: the catalog\'s wording holds', () => {
    const target = loadSettings({ DIAGNOSE_TARGETS: JSON.stringify([table]) }).targets[0]!;
    expect(explainCause('role_missing', ctx(target))).toBe(CAUSE_CATALOG.role_missing.explain(ctx(target)));
  });
});
