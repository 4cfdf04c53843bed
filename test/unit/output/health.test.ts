import { HealthSchema } from '../../../src/output/health';
import { COMPONENT_TYPES, healthOf, renderHealth } from '../../../src/output/health';
import { authorized, CLIENT_ID, noIdentity, notFound, OID, roleMissing, TID, verdictOf } from './verdicts';

describe('the health+json body', () => {
  const failing = verdictOf([authorized('kv-ok'), roleMissing('kv-norole'), notFound('kv-missing'), noIdentity('blob-ok')]);

  it('keys one check per target "<target>:authorized" with the cause code as output', () => {
    const health = healthOf(failing, { details: false });
    expect(health.status).toBe('fail');
    expect(Object.keys(health.checks)).toEqual(['kv-ok:authorized', 'kv-norole:authorized', 'kv-missing:authorized', 'blob-ok:authorized']);
    expect(health.checks['kv-norole:authorized']).toEqual([{ componentType: 'datastore', status: 'fail', time: failing.checkedAt, output: 'role_missing' }]);
    expect(health.checks['kv-ok:authorized']![0]!.output).toBe('authorized');
    expect(health.checks['kv-missing:authorized']![0]!.status).toBe('warn');
  });

  it('tells an anonymous caller nothing about the identity, the token or the service\'s words', () => {
    const text = JSON.stringify(healthOf(failing, { details: false }));
    for (const secretish of [OID, TID, CLIENT_ID, 'Caller is not authorized', 'ForbiddenByRbac', 'az role assignment', 'Principal']) {
      expect(text).not.toContain(secretish);
    }
    for (const entry of Object.values(healthOf(failing, { details: false }).checks).flat()) {
      expect(Object.keys(entry).sort()).toEqual(['componentType', 'output', 'status', 'time']);
    }
  });

  it('adds the explanation, HTTP status and summary only with HEALTH_DETAILS', () => {
    const health = healthOf(failing, { details: true });
    expect(health.output).toBe(failing.summary);
    expect(health.checks['kv-norole:authorized']![0]).toMatchObject({
      output: expect.stringMatching(/^role_missing: Principal c3f5a7e9/),
      observedValue: 'HTTP 403 Forbidden/ForbiddenByRbac',
    });
  });

  it('answers 200 for pass and warn, 503 for fail, never cached, as application/health+json', () => {
    const pass = renderHealth(healthOf(verdictOf([authorized()]), { details: false }));
    const warn = renderHealth(healthOf(verdictOf([authorized(), notFound()]), { details: false }));
    const fail = renderHealth(healthOf(failing, { details: false }));
    expect([pass.status, warn.status, fail.status]).toEqual([200, 200, 503]);
    expect(fail.headers).toMatchObject({ 'content-type': 'application/health+json', 'cache-control': 'no-store' });
    expect(HealthSchema.parse(JSON.parse(fail.body as string)).status).toBe('fail');
  });

  it('documents each kind as a datastore or a system', () => {
    expect(COMPONENT_TYPES).toEqual({ keyVaultSecret: 'datastore', storageBlob: 'datastore', armResource: 'system', azureSql: 'datastore' });
  });
});
