import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { startWorld, type World } from '../world';
import { serviceEnv, stageStandardWorld, standardTargets } from '../world/scenario';
import { REPO_ROOT } from '../world/paths';
import { startService, type RunningService } from './harness';

/**
 * The gate scripts users copy from examples/, run as they are — bash and curl — against the real service: the
 * GitHub Actions gate step and the composite action's script. (The local server checks no key; the scripts still
 * send one.) test/unit/examples.test.ts checks the YAML around them.
 */
let world: World;
const services: RunningService[] = [];
let all: RunningService;
let tmp: string;

const yamlOf = (file: string) => parse(fs.readFileSync(path.join(REPO_ROOT, file), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const workflowGate = (yamlOf('examples/github-actions/deploy-and-gate.yml').jobs['deploy-and-gate'].steps as { run?: string }[]).find((s) => /http_code/.test(s.run ?? ''))!.run!;
const actionScript = (yamlOf('examples/action/action.yml').runs.steps as { run: string }[])[0]!.run;

/** Runs a script as a CI runner would (bash -e). Asynchronously: the simulated world answers from this process. */
function bash(script: string, env: Record<string, string>, cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-e', '-c', script], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NO_PROXY: '*', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

async function serviceFor(names: string[]): Promise<RunningService> {
  const targets = standardTargets(world).filter((t) => names.includes(t.name));
  const svc = await startService(serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(targets) }));
  services.push(svc);
  return svc;
}

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  all = await startService(serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(standardTargets(world)) }));
  services.push(all);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'identity-doctor-examples-'));
}, 60_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await world?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the GitHub Actions gate step', () => {
  it('passes when every dependency is authorized, and keeps that run\'s JUnit', async () => {
    const svc = await serviceFor(['kv-ok', 'blob-ok']);
    const dir = fs.mkdtempSync(path.join(tmp, 'pass-'));
    const r = await bash(workflowGate, { DIAGNOSE_URL: `${svc.url}/api/diagnose`, FUNCTION_KEY: 'k' }, dir);
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toContain('HTTP 200');
    const junit = fs.readFileSync(path.join(dir, 'identity-doctor.xml'), 'utf8');
    expect(junit).toMatch(/<testsuites[^>]* tests="2" failures="0"/);
  });

  it('stops the job on a warning (strict gate), and the saved JUnit is the verdict that stopped it', async () => {
    const svc = await serviceFor(['kv-ok', 'kv-missing']);
    const dir = fs.mkdtempSync(path.join(tmp, 'warn-'));
    const r = await bash(workflowGate, { DIAGNOSE_URL: `${svc.url}/api/diagnose`, FUNCTION_KEY: 'k' }, dir);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('HTTP 503');
    const junit = fs.readFileSync(path.join(dir, 'identity-doctor.xml'), 'utf8');
    expect(junit).toMatch(/<skipped message="warn: resource_not_found/);
    expect(r.out).toMatch(/^ {2}skipped: warn: resource_not_found/m);
  });
});

describe('the composite action', () => {
  async function runAction(targets: string, failOn: string) {
    const dir = fs.mkdtempSync(path.join(tmp, 'action-'));
    const outputs = path.join(dir, 'outputs');
    fs.writeFileSync(outputs, '');
    const r = await bash(
      actionScript,
      { DIAGNOSE_URL: `${all.url}/api/diagnose`, FUNCTION_KEY: 'k', WAIT_SECONDS: '0', FAIL_ON: failOn, TARGETS: targets, RUNNER_TEMP: dir, GITHUB_OUTPUT: outputs },
      dir,
    );
    return { ...r, outputs: fs.readFileSync(outputs, 'utf8') };
  }

  it('prints the text verdict and passes when everything is authorized', async () => {
    const r = await runAction('kv-ok', 'fail');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Identity Doctor: PASS/m);
    expect(r.outputs).toContain('status=pass\nhttp-status=200');
  });

  it('passes on a warning by default, and fails the job on it with fail-on: warn', async () => {
    const lenient = await runAction('kv-ok,kv-missing', 'fail');
    const strict = await runAction('kv-ok,kv-missing', 'warn');
    expect([lenient.code, strict.code]).toEqual([0, 1]);
    expect(strict.out).toMatch(/^WARN +kv-missing +resource_not_found/m);
    expect(strict.outputs).toContain('status=warn\nhttp-status=503');
  });

  it('fails the job on a failing dependency, with the cause in the log', async () => {
    const r = await runAction('kv-norole', 'fail');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^FAIL +kv-norole +role_missing/m);
    expect(r.out).toContain('::error title=Identity Doctor::HTTP 503, verdict fail');
  });

  it('refuses a fail-on it does not know before calling anything', async () => {
    const r = await runAction('kv-ok', 'warning');
    expect(r.code).toBe(2);
    expect(r.out).toContain('fail-on must be fail or warn');
  });
});
