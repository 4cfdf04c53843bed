import { execFileSync } from 'node:child_process';
import { renderText, TEXT_WIDTH, wrapFixLine } from '../../../src/output/text';
import { authorized, HOSTILE, noIdentity, notFound, roleMissing, verdictOf } from './verdicts';

/** What bash makes of a command line: its words, after quotes and line continuations. */
function shellArgs(script: string): string[] {
  const out = execFileSync('bash', ['-c', `set -- ${script}\nprintf '%s\\0' "$@"`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('the text table for pipeline logs', () => {
  const verdict = verdictOf([authorized('kv-ok'), roleMissing('kv-norole'), notFound('kv-missing'), noIdentity('blob-ok')]);
  const text = renderText(verdict);
  const lines = text.split('\n');

  it('gives one aligned line per target: status, target, cause, HTTP status and the first fix', () => {
    const header = lines.find((l) => l.startsWith('STATUS'))!;
    const at = (name: string) => header.indexOf(name);
    const row = (target: string) => lines.find((l) => l.split(/\s+/)[1] === target)!;
    expect(row('kv-ok').split(/\s+/).slice(0, 4)).toEqual(['PASS', 'kv-ok', 'authorized', '200']);
    expect(row('kv-norole').split(/\s+/).slice(0, 4)).toEqual(['FAIL', 'kv-norole', 'role_missing', '403']);
    expect(row('kv-missing').split(/\s+/).slice(0, 4)).toEqual(['WARN', 'kv-missing', 'resource_not_found', '404']);
    expect(row('blob-ok').split(/\s+/).slice(0, 4)).toEqual(['FAIL', 'blob-ok', 'no_managed_identity', '-']);
    for (const target of ['kv-ok', 'kv-norole', 'kv-missing', 'blob-ok']) {
      const r = row(target);
      expect(r.indexOf(target)).toBe(at('TARGET'));
      expect(r.slice(at('CAUSE')).startsWith(verdict.checks.find((c) => c.target === target)!.cause)).toBe(true);
    }
    expect(row('kv-norole').slice(at('FIX'))).toMatch(/^az role assignment create --assignee-object-id .*\.\.\.$/);
    expect(row('blob-ok').slice(at('FIX'))).toBe('az functionapp identity assign -g rg-app -n func-app');
  });

  it('ends with the overall status and summary, where a failed step\'s log is read first', () => {
    expect(lines.at(-1)).toBe('');
    expect(lines.at(-2)).toBe(`FAIL: ${verdict.summary}`);
    expect(lines[0]).toBe(`Identity Doctor: FAIL (checked ${verdict.checkedAt} in ${verdict.durationMs} ms)`);
  });

  it('lists every fix command of every problem in full', () => {
    const fixes = text.slice(text.indexOf('Fixes:'));
    expect(fixes).toContain('kv-norole: role_missing (Role missing)');
    expect(fixes).toContain('  az functionapp restart -g rg-app -n func-app');
    expect(fixes).toContain('  # create it, or point "secretName" of target "kv-missing" at a secret that exists');
    expect(fixes).not.toContain('kv-ok:');
  });

  it('uses no colour codes and no line longer than 160 characters, whatever the input', () => {
    const deepScope = `/subscriptions/3f2a8c71-6b4d-4e29-a1c5-7d9e0b2f4a68/resourceGroups/${'rg-'.repeat(30)}x/providers/Microsoft.Storage/storageAccounts/stnorole/blobServices/default/containers/${'c'.repeat(63)}`;
    const ugly = verdictOf([
      roleMissing('t'.repeat(64), { fix: [`az role assignment create --role "Storage Blob Data Reader" --scope ${deepScope}`, 'az x --assignee \u001b[31mred\u001b[0m\tx\necho injected'], explanation: HOSTILE }),
      notFound('kv-missing', { fix: [`# ${'a very long comment '.repeat(20)}`] }),
    ], { summary: `${'x'.repeat(300)} ${HOSTILE}\n\u001b[31mred\u001b[0m`, identity: { hostKind: 'functions', principalId: '\u001b[2Jcleared' } });
    const out = renderText(ugly);
    expect(TEXT_WIDTH).toBe(160);
    for (const line of out.split('\n')) expect(line.length).toBeLessThanOrEqual(160);
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    // A line break inside a fix must not start a second command in the log.
    expect(out.split('\n').some((l) => l.trimStart().startsWith('echo injected'))).toBe(false);
    expect(renderText(verdict)).not.toMatch(/\u001b/);
  });
});

describe('wrapping a fix command', () => {
  it.each([
    ['a long role assignment', `az role assignment create --assignee-object-id c3f5a7e9-1b2d-4c6e-8a0f-2d4b6f8a0c15 --assignee-principal-type ServicePrincipal --role "Key Vault Secrets User" --scope /subscriptions/3f2a8c71-6b4d-4e29-a1c5-7d9e0b2f4a68/resourceGroups/rg-app/providers/Microsoft.KeyVault/vaults/kv-norole`],
    ['a single word longer than a line', `az resource show --ids /subscriptions/3f2a8c71/resourceGroups/${'very-long-group-'.repeat(15)}/providers/Microsoft.KeyVault/vaults/kv`],
    ['quoted arguments with spaces and escapes', `az keyvault secret list --query "[?contains(name, 'a b')] \\"x\\"" --vault-name ${'kv'.repeat(40)} -o tsv --extra ${'"quoted words here" '.repeat(6)}`],
  ])('keeps %s meaning the same to a shell', (_label, command) => {
    const wrapped = wrapFixLine(command, 60, '  ');
    expect(wrapped.length).toBeGreaterThan(1);
    for (const line of wrapped) expect(line.length).toBeLessThanOrEqual(60);
    expect(shellArgs(wrapped.join('\n'))).toEqual(shellArgs(command));
  });

  it('keeps a trailing comment as a comment line after the command', () => {
    const wrapped = wrapFixLine('az keyvault network-rule add --name kv1 --subnet <workload-subnet-id>   # or reach it over a private endpoint', 60, '  ');
    expect(wrapped.at(-1)).toBe('  # or reach it over a private endpoint');
    expect(wrapped.slice(0, -1).join('\n')).not.toContain('#');
  });
});
