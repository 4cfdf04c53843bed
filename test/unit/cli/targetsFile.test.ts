import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../../../src/cli/exitCodes';
import { readTargetsFile } from '../../../src/cli/targetsFile';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'targets-file-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const file = (content: string, name = 'targets.json') => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, content);
  return f;
};

function refusal(f: string): string {
  try {
    readTargetsFile(f);
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error('expected a usage error');
}

const kv = { name: 'secrets', kind: 'keyVaultSecret', vaultUrl: 'https://kv-app.vault.azure.net', secretName: 'db-password' };

describe('--targets file.json', () => {
  it('reads the DIAGNOSE_TARGETS shape, a byte-order mark and all', () => {
    expect(readTargetsFile(file(`\uFEFF${JSON.stringify([kv])}`))).toEqual([kv]);
  });

  it.each<[string, string, RegExp]>([
    ['not JSON', '[{"name":', /not JSON \(/],
    ['an object instead of an array', JSON.stringify({ targets: [kv] }), /expected a JSON array of targets/],
    ['a bad field, by entry and field', JSON.stringify([kv, { ...kv, name: 'blob', kind: 'storageBlob', accountUrl: 'https://x.blob.core.windows.net', container: 'A!' }]), /\[1\] "blob" container: expected a container name/],
    ['an unknown kind', JSON.stringify([{ name: 'q', kind: 'queue' }]), /\[0\] "q" kind: /],
    ['a duplicate name', JSON.stringify([kv, kv]), /\[1\] "secrets" name: duplicate target name "secrets"/],
  ])('refuses %s in one line naming the file', (_label, content, message) => {
    const f = file(content);
    const m = refusal(f);
    expect(m.startsWith(`--targets ${f}: `)).toBe(true);
    expect(m).toMatch(message);
    expect(m).not.toContain('\n');
  });

  it('says how many more problems there are beyond the first three', () => {
    const bad = Array.from({ length: 5 }, (_, i) => ({ ...kv, name: `s${i}`, vaultUrl: 'http://insecure' }));
    expect(refusal(file(JSON.stringify(bad)))).toMatch(/\(and 2 more\)$/);
  });

  it('refuses what cannot be read, and a directory', () => {
    expect(refusal(path.join(dir, 'missing.json'))).toContain('cannot read the file (ENOENT)');
    expect(refusal(dir)).toContain('not a file');
  });
});
