import { HttpRequest } from '@azure/functions';
import { parseDiagnoseRequest } from '../../../src/http/diagnoseRequest';
import { FORMATS, renderVerdict } from '../../../src/output';
import { ProblemSchema } from '../../../src/http/problem';
import { settingsFor } from '../fixtures/settings';
import { authorized, notFound, roleMissing, verdictOf } from '../output/verdicts';

/** `?failOn=`: which overall status answers 503. The default gate is unchanged; `warn` makes it strict. */
const settings = settingsFor({
  DIAGNOSE_TARGETS: JSON.stringify([{ name: 'kv', kind: 'keyVaultSecret', vaultUrl: 'https://kv1.vault.azure.net', secretName: 's' }]),
});
const parse = (query: string) => parseDiagnoseRequest(new HttpRequest({ method: 'GET', url: `http://localhost/api/diagnose${query}` }), settings);

describe('failOn', () => {
  it('is fail unless the query says warn', async () => {
    const byDefault = await parse('');
    const strict = await parse('?failOn=warn');
    const explicit = await parse('?failOn=fail');
    expect([byDefault, strict, explicit].map((r) => r.ok && r.value.failOn)).toEqual(['fail', 'warn', 'fail']);
  });

  it.each(['warning', 'WARN', 'pass', ''])('refuses failOn=%j with a 400 problem naming the parameter', async (value) => {
    const r = await parse(`?failOn=${value}`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.response.status).toBe(400);
    const problem = ProblemSchema.parse(JSON.parse(r.response.body as string));
    expect(problem.errors).toEqual([{ parameter: 'failOn', message: 'expected one of fail, warn' }]);
  });

  it('answers a warn verdict 200 by default and 503 with failOn=warn, in every format; pass and fail are unchanged', () => {
    const verdicts = { pass: verdictOf([authorized()]), warn: verdictOf([authorized(), notFound()]), fail: verdictOf([roleMissing(), notFound()]) };
    expect(verdicts.warn.status).toBe('warn');
    for (const format of FORMATS) {
      const status = (v: keyof typeof verdicts, failOn?: 'fail' | 'warn') => renderVerdict(verdicts[v], format, failOn).status;
      expect([status('pass'), status('warn'), status('fail')]).toEqual([200, 200, 503]);
      expect([status('pass', 'warn'), status('warn', 'warn'), status('fail', 'warn')]).toEqual([200, 503, 503]);
    }
  });
});
