import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startWorld, type World } from '../world';
import { REPO_ROOT } from '../world/paths';
import { USER_IDENTITY, serviceEnv, stageStandardWorld, standardTargets } from '../world/scenario';
import { VerdictSchema } from '../../src/verdict';
import { checkOf, expectNoLeaks, type Reply, type RunningService } from './harness';
import { stopChild } from '../world/serviceProcess';

/**
 * The package as a user gets it: `npm pack` of the built project, installed from the tarball into the tiny host app
 * in examples/host-app, whose entry point registers Identity Doctor next to its own function. The app then runs under
 * test/integration/functionsHost.cjs — the real @azure/functions registration path, served like the host serves it —
 * with the simulated world's environment, and is asked for a diagnose through the prefixed route.
 */

const run = promisify(execFile);
const EXAMPLE = path.join(REPO_ROOT, 'examples', 'host-app');
const HOST_SHIM = path.join(REPO_ROOT, 'test', 'integration', 'functionsHost.cjs');
const FUNCTION_KEY = 'fn-key-embed-test';
const MASTER_KEY = 'master-key-embed-test';
const PREFIX = 'identity-doctor';

interface PackResult {
  filename: string;
  files: { path: string }[];
}

let tmp: string;
let appDir: string;
let pack: PackResult;
let world: World;
let host: RunningService & { functions: () => Promise<{ name: string; bindings: Record<string, unknown>[] }[]> };
let installLog = '';

async function npm(args: string[], cwd: string): Promise<void> {
  const { stdout, stderr } = await run('npm', args, { cwd, env: { ...process.env, npm_config_update_notifier: 'false' }, maxBuffer: 16 * 1024 * 1024 });
  installLog += `$ npm ${args.join(' ')}\n${stdout}${stderr}`;
}

/**
 * The host app's lockfile, as a real app would commit it: the tarball, plus the production part of this repository's
 * own lock for its dependencies. `npm ci --offline` then installs from the npm cache that `npm ci` of this repository
 * filled, with no registry round-trip — fast and the same on a fresh machine.
 */
function writeLockfile(dir: string, tarball: string): void {
  const repoLock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
  const repoManifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };
  const integrity = `sha512-${createHash('sha512').update(fs.readFileSync(path.join(dir, tarball))).digest('base64')}`;
  const packages: Record<string, Record<string, unknown>> = {
    '': { name: manifest.name, version: manifest.version, dependencies: manifest.dependencies },
    'node_modules/identity-doctor': {
      version: repoManifest.version,
      resolved: `file:${tarball}`,
      integrity,
      license: repoManifest.license,
      dependencies: repoManifest.dependencies,
      engines: repoManifest.engines,
    },
  };
  for (const [key, entry] of Object.entries(repoLock.packages)) {
    if (!key.startsWith('node_modules/') || entry.dev) continue;
    const { devOptional, ...rest } = entry;
    packages[key] = devOptional ? { ...rest, optional: true } : rest;
  }
  fs.writeFileSync(
    path.join(dir, 'package-lock.json'),
    JSON.stringify({ name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true, packages }, null, 2),
  );
}

async function installExample(): Promise<void> {
  fs.cpSync(EXAMPLE, appDir, { recursive: true, filter: (src) => !src.includes(`${path.sep}node_modules`) });
  fs.copyFileSync(path.join(tmp, pack.filename), path.join(appDir, pack.filename));
  const manifestPath = path.join(appDir, 'package.json');
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as { dependencies: Record<string, string> };
  expect(manifest.dependencies['identity-doctor']).toMatch(/^file:.*\.tgz$/);
  manifest.dependencies['identity-doctor'] = `file:${pack.filename}`;
  fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  writeLockfile(appDir, pack.filename);
  const flags = ['--no-audit', '--no-fund', '--ignore-scripts'];
  try {
    await npm(['ci', '--offline', ...flags], appDir);
  } catch (err) {
    // A cache without some tarball (npm ci of this repo did not run here): let npm fetch what is missing.
    installLog += `offline install failed, retrying with the registry: ${(err as Error).message}\n`;
    await npm(['install', '--prefer-offline', ...flags], appDir);
  }
}

function startHost(env: Record<string, string>): Promise<typeof host> {
  const child: ChildProcess = spawn(process.execPath, [HOST_SHIM, appDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`host did not start:\n${output}`)), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`host exited with ${code}:\n${output}`));
    });
    child.stdout!.on('data', () => {
      const m = output.match(/listening on (http:\/\/[\d.]+:\d+)/);
      if (!m) return;
      clearTimeout(timer);
      const url = m[1]!;
      const replies: string[] = [];
      const get = async (pathAndQuery: string, init?: RequestInit): Promise<Reply> => {
        const res = await fetch(`${url}${pathAndQuery}`, init);
        const text = await res.text();
        replies.push(text);
        return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, json: () => JSON.parse(text) as unknown };
      };
      const withKey = (key: string): RequestInit => ({ headers: { 'x-functions-key': key } });
      resolve({
        url,
        get,
        async diagnose(query = '') {
          const reply = await get(`/api/${PREFIX}/diagnose${query}`, withKey(FUNCTION_KEY));
          if (!reply.contentType.startsWith('application/json')) throw new Error(`not a verdict (${reply.status}): ${reply.text}\n${output}`);
          return { status: reply.status, verdict: VerdictSchema.parse(reply.json()) };
        },
        async functions() {
          return (await get('/admin/functions', withKey(MASTER_KEY))).json() as { name: string; bindings: Record<string, unknown>[] }[];
        },
        logs: () => output,
        replies: () => replies,
        stop: () => stopChild(child),
      });
    });
  });
}

beforeAll(async () => {
  expect(fs.existsSync(path.join(REPO_ROOT, 'dist', 'src', 'register.js'))).toBe(true); // npm run build first
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'identity-doctor-embed-'));
  appDir = path.join(tmp, 'host-app');
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: REPO_ROOT, env: { ...process.env, npm_config_update_notifier: 'false' } });
  pack = (JSON.parse(stdout) as PackResult[])[0]!;
  const [installed, started] = await Promise.all([
    installExample(),
    startWorld().then(async (w) => {
      await stageStandardWorld(w);
      return w;
    }),
  ]);
  void installed;
  world = started;
  host = await startHost(
    serviceEnv(world, {
      DIAGNOSE_TARGETS: JSON.stringify(standardTargets(world)),
      DIAGNOSE_WATCH_SCHEDULE: '0 */5 * * * *',
      FUNCTIONS_HOST_FUNCTION_KEY: FUNCTION_KEY,
      FUNCTIONS_HOST_MASTER_KEY: MASTER_KEY,
    }),
  );
}, 150_000);

afterAll(async () => {
  await host?.stop();
  await world?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('holds the compiled library and its declarations, and nothing of the tests, the world or the sources', () => {
    const files = pack.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/src/register.js', 'dist/src/register.d.ts', 'dist/src/watch/watch.js']));
    // npm always packs `main` — the standalone app's bundle the Functions host loads (an embedding app never does).
    const main = 'dist/bundle/index.mjs';
    expect(files.filter((f) => !/^dist\/src\/.+\.(js|d\.ts)$/.test(f) && f !== 'package.json' && f !== 'README.md' && f !== main)).toEqual([]);
    expect(files.filter((f) => /^dist\/src\/server\./.test(f) || f.includes('/test/') || f.endsWith('.map'))).toEqual([]);
  });

  it('installs into the example app from the tarball', () => {
    const installed = JSON.parse(fs.readFileSync(path.join(appDir, 'node_modules', 'identity-doctor', 'package.json'), 'utf8')) as { exports: unknown };
    expect(installed.exports).toMatchObject({ '.': { default: './dist/src/register.js' } });
    expect(installLog).toContain('added');
  });

  it('type-checks the example against the installed declarations', async () => {
    const tsc = require.resolve('typescript/bin/tsc', { paths: [REPO_ROOT] });
    const args = ['--noEmit', '--allowJs', '--checkJs', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022', '--skipLibCheck'];
    const typeRoots = path.join(REPO_ROOT, 'node_modules', '@types');
    await expect(run(process.execPath, [tsc, ...args, '--types', 'node', '--typeRoots', typeRoots, 'src/index.js'], { cwd: appDir })).resolves.toBeDefined();
  });
});

describe('the example app with Identity Doctor registered', () => {
  it('indexes the app\'s own function and Identity Doctor\'s, whose names and routes carry the prefix', async () => {
    const fns = await host.functions();
    const trigger = (name: string) => fns.find((f) => f.name === name)?.bindings.find((b) => b.direction === 'in');
    expect(fns.map((f) => f.name)).toEqual(expect.arrayContaining(['orders', `${PREFIX}-diagnose`, `${PREFIX}-watch`]));
    expect(fns.filter((f) => f.name !== 'orders').every((f) => f.name.startsWith(`${PREFIX}-`))).toBe(true);
    expect(trigger(`${PREFIX}-diagnose`)).toMatchObject({ type: 'httpTrigger', route: `${PREFIX}/diagnose`, authLevel: 'function' });
    expect(trigger(`${PREFIX}-watch`)).toMatchObject({ type: 'timerTrigger', schedule: '0 */5 * * * *' });
  });

  it('serves a diagnose through the prefixed route, as the app\'s identity, against the simulated world', async () => {
    const { status, verdict } = await host.diagnose('?target=kv-ok,blob-ok,arm-ok');
    expect(status).toBe(200);
    expect(verdict.checks.map((c) => [c.target, c.cause])).toEqual([
      ['kv-ok', 'authorized'],
      ['blob-ok', 'authorized'],
      ['arm-ok', 'authorized'],
    ]);
    expect(verdict.identity).toMatchObject({ hostKind: 'functions', principalId: USER_IDENTITY.principalId });
  });

  it('answers 503 with the cause when a dependency fails', async () => {
    const { status, verdict } = await host.diagnose('?target=kv-norole');
    expect(status).toBe(503);
    expect(checkOf(verdict, 'kv-norole')).toMatchObject({ cause: 'role_missing', status: 'fail' });
  });

  it('keeps the host\'s routes apart: nothing at the unprefixed route, the app\'s own function untouched', async () => {
    expect((await host.get('/api/diagnose', { headers: { 'x-functions-key': FUNCTION_KEY } })).status).toBe(404);
    const orders = await host.get('/api/orders');
    expect(orders.status).toBe(200);
    expect(orders.json()).toEqual({ orders: [] });
  });

  it('asks for the function key on the diagnose route', async () => {
    expect((await host.get(`/api/${PREFIX}/diagnose`)).status).toBe(401);
  });

  it('runs the watch timer, which logs the run and, without a connection string, sends no telemetry', async () => {
    expect(host.logs()).not.toContain('test mode'); // registration went through the host's core API
    const before = host.logs().length;
    const reply = await host.get(`/admin/functions/${PREFIX}-watch`, { method: 'POST', headers: { 'x-functions-key': MASTER_KEY } });
    expect(reply.status).toBe(202);
    const logged = host.logs().slice(before);
    expect(logged).toMatch(new RegExp(`\\[information\\] ${PREFIX}-watch: watch fail in \\d+ ms: .*kv-ok=authorized.*kv-norole=role_missing`));
    expect(logged).not.toContain('telemetry');
  });

  it('leaked no token, identity header or secret value', () => {
    expectNoLeaks(world, [host]);
  });
});
