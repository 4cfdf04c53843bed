import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VerdictSchema, type Verdict } from '../../src/verdict';
import { startWorld, type World } from '../world';
import { REPO_ROOT } from '../world/paths';
import { EXPECTED_CAUSES, KV_NOROLE_ID, OTHER_IDENTITY, USER_IDENTITY, serviceEnv, stageStandardWorld, standardTargets } from '../world/scenario';
import { parseJunit } from '../unit/output/junitXml';
import { TEXT_WIDTH } from '../../src/output/text';

/**
 * `identity-doctor diagnose`, the built command (package.json `bin`), run as its own process on the simulated host —
 * the same environment the HTTP service gets — exactly as a pipeline step or a Kubernetes Job would run it: the whole
 * catalog, every format, the exit codes scripts branch on, and one-line usage errors.
 */

const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

let world: World;
let tmp: string;
let targetsFile: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

function cli(args: string[], overrides: Record<string, string | undefined> = {}): Promise<Run> {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { env: serviceEnv(world, overrides), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr, elapsedMs: Date.now() - started })));
}

const verdictOf = (run: Run): Verdict => VerdictSchema.parse(JSON.parse(run.stdout));
const causes = (v: Verdict) => Object.fromEntries(v.checks.map((c) => [c.target, c.cause]));

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'identity-doctor-cli-'));
  targetsFile = path.join(tmp, 'targets.json');
  fs.writeFileSync(targetsFile, JSON.stringify(standardTargets(world), null, 2));
}, 60_000);

afterAll(async () => {
  await world?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('identity-doctor diagnose over the whole catalog', () => {
  it('diagnoses every target of DIAGNOSE_TARGETS as the HTTP service does, and exits 1 because some fail', async () => {
    const run = await cli(['diagnose', '--format', 'json']);
    expect(run.code).toBe(1);
    const verdict = verdictOf(run);
    expect(verdict.status).toBe('fail');
    // A check diagnosed otherwise shows its evidence in the failure, not just its cause.
    expect(verdict.checks.filter((c) => c.cause !== EXPECTED_CAUSES[c.target]).map((c) => ({ target: c.target, cause: c.cause, httpStatus: c.httpStatus, evidence: c.evidence }))).toEqual([]);
    expect(causes(verdict)).toEqual(EXPECTED_CAUSES);
    // No token, identity header or secret value in anything the command printed.
    const printed = run.stdout + run.stderr;
    expect([...world.mintedTokens, world.identityHeader, ...world.secretValues()].filter((n) => printed.includes(n))).toEqual([]);
  });

  it('reads the same targets from --targets file.json, and prints the text table with fixes and the summary last', async () => {
    const run = await cli(['diagnose', '--targets', targetsFile], { DIAGNOSE_TARGETS: undefined });
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split('\n');
    for (const [target, cause] of Object.entries(EXPECTED_CAUSES)) {
      expect(lines.some((l) => new RegExp(`^\\S+\\s+${target}\\s+${cause}\\b`).test(l))).toBe(true);
    }
    expect(run.stdout).toContain('Fixes:');
    // The summary comes last (a failed step's log is read from the bottom).
    expect(run.stdout.lastIndexOf('\nFAIL: ')).toBeGreaterThan(run.stdout.indexOf('Fixes:'));
  });

  it('writes JUnit for a test reporter: one testcase per target, failures for the failing ones', async () => {
    const run = await cli(['diagnose', '--format', 'junit', '--target', 'kv-ok,kv-norole,blob-ok']);
    expect(run.code).toBe(1);
    const doc = parseJunit(run.stdout);
    const cases = doc.suites.flatMap((s) => s.testcases);
    expect(cases.map((t) => t.name).sort()).toEqual(['blob-ok', 'kv-norole', 'kv-ok']);
    expect(doc.failures).toBe(1);
    expect(cases.find((t) => t.name === 'kv-norole')!.failure?.type).toBe('role_missing');
  });
});

describe('the command as installed', () => {
  it('runs as `npx identity-doctor` in the project: package.json bin, shebang and executable bit', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; version: string };
    expect(path.resolve(REPO_ROOT, pkg.bin['identity-doctor']!)).toBe(CLI);
    expect(fs.readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const npx = spawn('npx', ['--no-install', 'identity-doctor', '--version'], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } });
    let out = '';
    npx.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => npx.once('close', resolve));
    expect({ code, out: out.trim() }).toEqual({ code: 0, out: pkg.version });
  });
});

describe('exit codes', () => {
  it('exits 0 when every selected target is authorized', async () => {
    const run = await cli(['diagnose', '--target', 'kv-ok,blob-ok,arm-ok', '--format', 'json']);
    expect(run.code).toBe(0);
    expect(verdictOf(run).status).toBe('pass');
  });

  it('exits 0 on a warning, and 1 on the same warning with --fail-on warn', async () => {
    const lenient = await cli(['diagnose', '--target', 'kv-ok,kv-missing', '--format', 'json']);
    expect(verdictOf(lenient).status).toBe('warn');
    expect(lenient.code).toBe(0);
    const strict = await cli(['diagnose', '--target', 'kv-ok,kv-missing', '--format', 'json', '--fail-on', 'warn']);
    expect(verdictOf(strict).status).toBe('warn');
    expect(strict.code).toBe(1);
  });

  it('with --wait, stops at once when waiting cannot cure a failure, and says why', async () => {
    const run = await cli(['diagnose', '--target', 'kv-norole', '--wait', '60', '--format', 'json']);
    expect(run.code).toBe(1);
    const verdict = verdictOf(run);
    expect(verdict.wait).toMatchObject({ requestedSeconds: 60, stoppedBecause: 'cannot_heal', cannotHeal: ['kv-norole'], rounds: 1 });
    expect(run.stderr).toContain('waiting up to 60 s');
    // Loose bound: it did not sit out the 60 seconds.
    expect(run.elapsedMs).toBeLessThan(45_000);
  });

  it('with --wait, re-probes a grant that is still propagating until it takes effect, then exits 0', async () => {
    const grant = world.grant(USER_IDENTITY.principalId, 'keyVaultSecretsUser', KV_NOROLE_ID, { createdOn: new Date(), propagationDelaySeconds: 4 });
    try {
      const run = await cli(['diagnose', '--target', 'kv-norole', '--wait', '90', '--format', 'json']);
      const verdict = verdictOf(run);
      expect(run.code).toBe(0);
      expect(verdict.checks[0]!.cause).toBe('authorized');
      expect(verdict.wait).toMatchObject({ stoppedBecause: 'all_passed' });
      expect(verdict.wait!.rounds).toBeGreaterThan(1);
    } finally {
      world.revoke(grant.id);
    }
  });
});

describe('usage errors: exit 2, one line on stderr, nothing on stdout', () => {
  const badFile = (name: string, content: string) => {
    const f = path.join(tmp, name);
    fs.writeFileSync(f, content);
    return f;
  };

  it.each<[string, () => string[], RegExp]>([
    ['an unknown option', () => ['diagnose', '--frobnicate'], /unknown option --frobnicate/],
    ['an unknown command', () => ['diagnoze'], /unknown command "diagnoze"/],
    ['a bad --format', () => ['diagnose', '--format', 'yaml'], /--format: expected one of json, text, junit, html/],
    ['a bad --wait', () => ['diagnose', '--wait', 'soon'], /--wait: expected a whole number of seconds/],
    ['a bad --fail-on', () => ['diagnose', '--fail-on', 'pass'], /--fail-on: expected fail or warn/],
    ['a missing targets file', () => ['diagnose', '--targets', path.join(tmp, 'nope.json')], /cannot read the file \(ENOENT\)/],
    ['a targets file that is not JSON', () => ['diagnose', '--targets', badFile('broken.json', '[{"name":')], /not JSON/],
    [
      'a targets file with a bad field, naming entry and field',
      () => ['diagnose', '--targets', badFile('bad.json', JSON.stringify([{ name: 'kv-app', kind: 'keyVaultSecret', vaultUrl: 'http://kv-app.vault.azure.net', secretName: 's' }]))],
      /\[0\] "kv-app" vaultUrl: expected an https URL/,
    ],
    ['an unknown --target', () => ['diagnose', '--target', 'kv-ok,kv-nope'], /no target named "kv-nope"/],
  ])('refuses %s', async (_label, args, message) => {
    const run = await cli(args());
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^identity-doctor: /);
    expect(run.stderr).toMatch(message);
  });

  it('refuses a bad setting, naming it', async () => {
    const run = await cli(['diagnose'], { DIAGNOSE_TIMEOUT_MS: 'fast' });
    expect(run.code).toBe(2);
    expect(run.stderr.trimEnd().split('\n')).toEqual([expect.stringContaining('bad setting DIAGNOSE_TIMEOUT_MS: expected a whole number')]);
  });

  it('refuses to run with no targets at all, saying where they come from', async () => {
    const run = await cli(['diagnose'], { DIAGNOSE_TARGETS: undefined });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('pass --targets <file> or set DIAGNOSE_TARGETS');
  });

  it('prints help with exit 0, with a recipe for each place it runs', async () => {
    const run = await cli(['--help']);
    expect(run.code).toBe(0);
    for (const recipe of ['On a VM or a scale-set instance', 'In an AKS Job', 'In a pipeline', 'On a laptop']) expect(run.stdout).toContain(recipe);
    expect(run.stdout).toContain('Exit codes');
  });
});

describe('on a laptop (no managed identity)', () => {
  it('says there is no managed identity here and, with --local-chain, what the developer sign-in would do', async () => {
    const bin = fs.mkdtempSync(path.join(tmp, 'fake-az-'));
    const devToken = world.mintToken(OTHER_IDENTITY, 'https://vault.azure.net');
    fs.writeFileSync(path.join(bin, 'az'), `#!/bin/sh\necho '{"accessToken":"${devToken}","expiresOn":"2030-01-01 00:00:00.000000","expires_on":1893456000,"tokenType":"Bearer"}'\n`, { mode: 0o755 });
    const closed = await world.closedPort();
    const off = {
      IDENTITY_ENDPOINT: undefined, IDENTITY_HEADER: undefined, WEBSITE_SITE_NAME: undefined, FUNCTIONS_WORKER_RUNTIME: undefined,
      AZURE_CLIENT_ID: undefined, EXPECTED_PRINCIPAL_ID: undefined, AZURE_POD_IDENTITY_AUTHORITY_HOST: `http://127.0.0.1:${closed}`,
      PATH: `${bin}:${process.env.PATH ?? ''}`,
    };
    const run = await cli(['diagnose', '--target', 'kv-ok', '--local-chain', '--format', 'json'], off);
    expect(run.code).toBe(1);
    const check = verdictOf(run).checks[0]!;
    expect(verdictOf(run).identity.hostKind).toBe('local');
    expect(check.cause).toBe('no_managed_identity');
    expect(check.evidence.localChain?.steps.map((s) => [s.credential, s.outcome])).toEqual([
      ['EnvironmentCredential', 'unavailable'],
      ['WorkloadIdentityCredential', 'unavailable'],
      ['AzureCliCredential', 'succeeded'],
    ]);
    expect(run.stdout).not.toContain(devToken);
    const text = await cli(['diagnose', '--target', 'kv-ok', '--local-chain'], off);
    expect(text.stdout).toContain('AzureCliCredential');
    expect(text.stdout).toContain('developer identity');
    expect(text.stdout.split('\n').filter((l) => l.length > TEXT_WIDTH)).toEqual([]);
  });
});
