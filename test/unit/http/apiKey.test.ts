import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadSettings } from '../../../src/config';
import { assertMayListen, createApiKeyGate, isLoopback, keyGateFor } from '../../../src/http/apiKey';
import { ProblemSchema } from '../../../src/http/problem';

const KEY = 'k3y-0123456789abcdef-XYZ';
const diagnoseRoute = { authLevel: 'function' as const };
const healthRoute = { authLevel: 'anonymous' as const };

function problemsOf(fn: () => unknown): { setting: string; expected: string }[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('the server\'s own key (off Functions)', () => {
  const gate = createApiKeyGate({ setting: 'DIAGNOSE_API_KEY', value: () => KEY });

  it('lets the key through in the x-functions-key header or as ?code=, as Azure accepts a function key', () => {
    expect(gate.deny(diagnoseRoute, { header: KEY })).toBeUndefined();
    expect(gate.deny(diagnoseRoute, { code: KEY })).toBeUndefined();
  });

  it.each([
    ['no key', {}, 'needs the key'],
    ['a wrong key', { header: `${KEY}x` }, 'is not the configured key'],
    ['a prefix of the key', { code: KEY.slice(0, 8) }, 'is not the configured key'],
    ['an empty key', { header: '' }, 'is not the configured key'],
  ])('answers %s with 401 problem+json that does not echo the key', (_label, presented, detail) => {
    const res = gate.deny(diagnoseRoute, presented)!;
    expect(res.status).toBe(401);
    expect((res.headers as Record<string, string>)['content-type']).toBe('application/problem+json');
    const body = ProblemSchema.parse(JSON.parse(String(res.body)));
    expect(body.detail).toContain(detail);
    expect(String(res.body)).not.toContain(KEY);
  });

  it('asks nothing of anonymous routes (health probes, the OpenAPI document)', () => {
    expect(gate.deny(healthRoute, {})).toBeUndefined();
  });

  it('reads the key from a file, without the newline a mounted secret usually ends with', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apikey-'));
    const file = path.join(dir, 'api-key');
    fs.writeFileSync(file, `${KEY}\n`);
    try {
      const fromFile = createApiKeyGate({ setting: 'DIAGNOSE_API_KEY_FILE', file });
      expect(fromFile.deny(diagnoseRoute, { header: KEY })).toBeUndefined();
      expect(fromFile.deny(diagnoseRoute, { header: `${KEY}\n` })?.status).toBe(401);
      fs.writeFileSync(file, 'short\n');
      expect(problemsOf(() => createApiKeyGate({ setting: 'DIAGNOSE_API_KEY_FILE', file }))).toEqual([
        { setting: 'DIAGNOSE_API_KEY_FILE', expected: expect.stringContaining('at least 16 characters') },
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names DIAGNOSE_API_KEY_FILE when the file cannot be read', () => {
    expect(problemsOf(() => createApiKeyGate({ setting: 'DIAGNOSE_API_KEY_FILE', file: '/nonexistent/api-key' }))).toEqual([
      { setting: 'DIAGNOSE_API_KEY_FILE', expected: expect.stringContaining('ENOENT') },
    ]);
  });
});

describe('key settings', () => {
  it('refuse a short key, naming the setting and never quoting the value', () => {
    const problems = problemsOf(() => loadSettings({ DIAGNOSE_API_KEY: 'tooShortKey' }));
    expect(problems).toEqual([{ setting: 'DIAGNOSE_API_KEY', expected: expect.stringContaining('at least 16 characters') }]);
    expect(JSON.stringify(problems)).not.toContain('tooShortKey');
  });

  it('refuse the key given two ways', () => {
    expect(problemsOf(() => loadSettings({ DIAGNOSE_API_KEY: KEY, DIAGNOSE_API_KEY_FILE: '/run/secrets/key' }))).toEqual([
      { setting: 'DIAGNOSE_API_KEY_FILE', expected: expect.stringContaining('unset when DIAGNOSE_API_KEY is set') },
    ]);
  });

  it('keep the key out of anything that serialises the settings', () => {
    const settings = loadSettings({ DIAGNOSE_API_KEY: KEY });
    expect(settings.apiKey?.setting).toBe('DIAGNOSE_API_KEY');
    expect(JSON.stringify(settings)).not.toContain(KEY);
  });
});

describe('where the server may listen', () => {
  it.each(['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'])('treats %s as loopback', (host) => {
    expect(isLoopback(host)).toBe(true);
  });

  it.each(['0.0.0.0', '::', '10.0.0.4', 'doctor.internal', '128.0.0.1'])('treats %s as reachable from elsewhere', (host) => {
    expect(isLoopback(host)).toBe(false);
  });

  it('refuses a non-loopback address without a key, in one line that says what to set, naming HOST', () => {
    const problems = problemsOf(() => assertMayListen(loadSettings({ HOST: '0.0.0.0' })));
    expect(problems).toEqual([{ setting: 'HOST', expected: expect.stringContaining('set DIAGNOSE_API_KEY or DIAGNOSE_API_KEY_FILE') }]);
    try {
      assertMayListen(loadSettings({ HOST: '0.0.0.0' }));
    } catch (err) {
      expect((err as Error).message).toMatch(/^identity-doctor: refusing to listen on HOST=0\.0\.0\.0 without a key: [^\n]+$/);
    }
  });

  it('allows loopback without a key, and any address with one', () => {
    expect(() => assertMayListen(loadSettings({}))).not.toThrow();
    const settings = loadSettings({ HOST: '0.0.0.0', DIAGNOSE_API_KEY: KEY });
    expect(() => assertMayListen(settings)).not.toThrow();
    expect(keyGateFor(settings)?.setting).toBe('DIAGNOSE_API_KEY');
    expect(keyGateFor(loadSettings({}))).toBeUndefined();
  });

  it('reads a key file once, when the server starts', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apikey-once-'));
    const file = path.join(dir, 'api-key');
    fs.writeFileSync(file, KEY);
    try {
      const settings = loadSettings({ DIAGNOSE_API_KEY_FILE: file });
      assertMayListen(settings);
      fs.rmSync(file);
      expect(keyGateFor(settings)?.deny(diagnoseRoute, { header: KEY })).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
