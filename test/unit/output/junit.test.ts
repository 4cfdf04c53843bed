import { renderJunit } from '../../../src/output/junit';
import { parseJunit } from './junitXml';
import { authorized, HOSTILE, internalError, noIdentity, notFound, roleMissing, verdictOf, VAULT_SCOPE } from './verdicts';

describe('JUnit XML for test reporters', () => {
  const verdict = verdictOf([authorized('kv-ok'), roleMissing('kv-norole'), notFound('kv-missing'), noIdentity('blob-ok'), internalError('arm-ok')]);
  const doc = parseJunit(renderJunit(verdict));
  const suite = doc.suites[0]!;
  const testcase = (name: string) => suite.testcases.find((c) => c.name === name)!;

  it('is one suite with one testcase per target and counts that add up', () => {
    expect(doc).toMatchObject({ name: 'identity-doctor', tests: 5, failures: 2, errors: 1, skipped: 1 });
    expect(doc.suites).toHaveLength(1);
    expect(suite).toMatchObject({ name: 'identity-doctor', tests: 5, failures: 2, errors: 1, skipped: 1, time: '0.012', timestamp: '2026-11-22T05:24:57' });
    expect(suite.testcases.map((c) => [c.name, c.classname])).toEqual([
      ['kv-ok', 'identity-doctor.keyVaultSecret'],
      ['kv-norole', 'identity-doctor.keyVaultSecret'],
      ['kv-missing', 'identity-doctor.keyVaultSecret'],
      ['blob-ok', 'identity-doctor.storageBlob'],
      ['arm-ok', 'identity-doctor.armResource'],
    ]);
    expect(testcase('kv-norole').time).toBe('0.008');
  });

  it('passes an authorized dependency with an empty testcase', () => {
    expect(testcase('kv-ok')).toEqual({ name: 'kv-ok', classname: 'identity-doctor.keyVaultSecret', time: '0.007' });
  });

  it('fails a refused dependency with its cause, explanation and fix', () => {
    const f = testcase('kv-norole').failure!;
    expect(f.type).toBe('role_missing');
    expect(f.message).toBe('role_missing: Role missing (HTTP 403, Forbidden/ForbiddenByRbac)');
    expect(f.body).toContain(`holds no role granting Microsoft.KeyVault/vaults/secrets/getSecret/action at ${VAULT_SCOPE}`);
    expect(f.body).toContain(`Fix:\n  az role assignment create --assignee-object-id`);
    expect(f.body).toContain('--role "Key Vault Secrets User"');
    expect(f.body).toContain('innerErrorCode: ForbiddenByRbac');
    expect(f.body).toContain("DecisionReason: 'DeniedWithNoValidRBAC'");
  });

  it('says a token-stage failure got no answer, and names the stage', () => {
    const f = testcase('blob-ok').failure!;
    expect(f.message).toBe('no_managed_identity: No managed identity on this host (no answer at the token stage)');
    expect(f.body).toContain('az functionapp identity assign -g rg-app -n func-app');
  });

  it('reports a warning as skipped (visible, not failing) and our own bug as an error', () => {
    expect(testcase('kv-missing').skipped?.message).toBe('warn: resource_not_found: Resource not found (but authorized) (HTTP 404, SecretNotFound)');
    expect(testcase('kv-missing').failure).toBeUndefined();
    expect(testcase('arm-ok').error).toMatchObject({ type: 'diagnostic_error' });
    expect(testcase('arm-ok').failure).toBeUndefined();
  });

  it('carries the identity as suite properties', () => {
    expect(suite.properties).toMatchObject({ status: 'fail', hostKind: 'functions', principalId: verdict.identity.principalId, summary: verdict.summary });
  });

  it('stays well-formed and round-trips hostile service text, dropping only characters XML cannot hold', () => {
    const message = `${HOSTILE}\r\nline two\u0000\u0007\ttabbed \uD83D\uDD11`;
    const xml = renderJunit(verdictOf([roleMissing(`kv-norole`, { title: HOSTILE, evidence: { errorCode: HOSTILE, message } })]));
    const f = parseJunit(xml).suites[0]!.testcases[0]!.failure!;
    expect(f.message).toBe(`role_missing: ${HOSTILE} (HTTP 403, ${HOSTILE})`);
    expect(f.body).toContain(`  ${HOSTILE}\n  line two\ttabbed \uD83D\uDD11`);
    expect(xml).not.toContain('<script>');
  });

  it('is a valid empty suite when nothing was diagnosed', () => {
    const empty = parseJunit(renderJunit(verdictOf([])));
    expect(empty).toMatchObject({ tests: 0, failures: 0, errors: 0, skipped: 0 });
    expect(empty.suites[0]!.testcases).toEqual([]);
  });
});
