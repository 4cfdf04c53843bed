import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ProblemSchema } from '../../src/http/problem';
import { SERVER_JS } from '../world/paths';
import { startService, type RunningService } from './harness';

/**
 * The container image runs dist/src/server.js with no Functions host in front: the server itself must ask for the
 * key on /api/diagnose, leave the probes anonymous, and refuse to listen beyond loopback without a key. Checked
 * against the real server process.
 */

const SERVER = SERVER_JS;
const KEY = 'test-key-0b1c2d3e4f5a6b7c8d9e';
const services: RunningService[] = [];
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'server-key-'));
});

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function serve(env: Record<string, string>): Promise<RunningService> {
  const svc = await startService({ PATH: process.env.PATH ?? '', ...env });
  services.push(svc);
  return svc;
}

/** Runs the server where it must not start: resolves with its exit code and what it printed. */
function refusedStart(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [SERVER], { env: { PATH: process.env.PATH ?? '', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('with DIAGNOSE_API_KEY', () => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await serve({ DIAGNOSE_API_KEY: KEY });
  });

  it('says at start-up that /api/diagnose needs the key, without printing it', () => {
    expect(svc.logs()).toContain('/api/diagnose requires the key from DIAGNOSE_API_KEY');
    expect(svc.logs()).not.toContain(KEY);
  });

  it.each([
    ['no key', {}, ''],
    ['a wrong header', { 'x-functions-key': 'not-the-key-at-all-000' }, ''],
    ['a wrong ?code=', {}, '?code=not-the-key-at-all-000'],
  ])('refuses /api/diagnose with %s: 401 problem+json', async (_label, headers, query) => {
    for (const method of ['GET', 'POST']) {
      const reply = await svc.get(`/api/diagnose${query}`, { method, headers });
      expect(reply.status).toBe(401);
      expect(reply.contentType).toBe('application/problem+json');
      expect(ProblemSchema.parse(reply.json()).title).toBe('Unauthorized');
    }
  });

  it('answers /api/diagnose with the key in x-functions-key or ?code=', async () => {
    expect((await svc.get('/api/diagnose', { headers: { 'x-functions-key': KEY } })).status).toBe(200);
    expect((await svc.get(`/api/diagnose?code=${encodeURIComponent(KEY)}`)).status).toBe(200);
  });

  it('keeps the probes and the OpenAPI document anonymous', async () => {
    for (const route of ['/api/health/live', '/api/health', '/api/openapi.json']) {
      expect({ route, status: (await svc.get(route)).status }).toEqual({ route, status: 200 });
    }
  });

  it('never echoes the key in a reply', () => {
    expect(svc.replies().filter((r) => r.includes(KEY))).toEqual([]);
  });
});

describe('with DIAGNOSE_API_KEY_FILE (a mounted secret)', () => {
  it('reads the key from the file', async () => {
    const file = path.join(tmp, 'api-key');
    fs.writeFileSync(file, `${KEY}\n`);
    const svc = await serve({ DIAGNOSE_API_KEY_FILE: file });
    expect(svc.logs()).toContain('requires the key from DIAGNOSE_API_KEY_FILE');
    expect((await svc.get('/api/diagnose')).status).toBe(401);
    expect((await svc.get('/api/diagnose', { headers: { 'x-functions-key': KEY } })).status).toBe(200);
  });

  it('does not start when the file cannot be read, naming the setting', async () => {
    const run = await refusedStart({ DIAGNOSE_API_KEY_FILE: path.join(tmp, 'missing'), HOST: '127.0.0.1' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('DIAGNOSE_API_KEY_FILE');
    expect(run.stdout).not.toContain('listening');
  });
});

describe('beyond loopback', () => {
  it('refuses to start on 0.0.0.0 without a key, in one line', async () => {
    const run = await refusedStart({ HOST: '0.0.0.0' });
    expect(run.code).toBe(2);
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      'identity-doctor: refusing to listen on HOST=0.0.0.0 without a key: set DIAGNOSE_API_KEY or DIAGNOSE_API_KEY_FILE (or HOST=127.0.0.1 for this machine only)',
    ]);
    expect(run.stdout).not.toContain('listening');
  });
});
