import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { USER_IDENTITY, serviceEnv, startWorld, type Fault, type World } from '../test/world';
import { REPO_ROOT } from '../test/world/paths';
import { ms, type BenchContext, type GoalRow } from './context';
import type { SdkAloneOutput } from './sdkAlone';
import { spawnService } from './service';
import { targetQuery, targetsEnv } from './stage';
import { summarize, type Summary } from './stats';

/**
 * P2 — the deadline holds. The 3-target diagnose (one target per kind) with DIAGNOSE_TIMEOUT_MS set, under three
 * faults: a silent identity endpoint, silent targets (Key Vault, Storage and ARM all accept and never answer) and a
 * 429 storm (all three answer 429 + Retry-After: 1). Time to verdict is measured against the deadline.
 *
 * Beside each, what the SDK alone takes for the same fault: the bare call with default options in a child process
 * with the world's environment, killed at the bench's bound. Those run against a second, small world (its own
 * identity endpoint and vaults) so that their faults and their minute of waiting do not disturb the other
 * measurements; they idle on a socket, so they cost no CPU meanwhile.
 */

export const DEADLINE_SLACK = 0.1;

export type FaultId = 'silent_identity' | 'silent_target' | 'throttled';

export interface SdkAloneResult {
  call: string;
  outcome: 'completed' | 'failed' | 'killed';
  /** The call's own time, or the bound when it was killed. */
  ms: number;
  boundMs: number;
  error?: string;
}

export interface P2Fault {
  id: FaultId;
  label: string;
  wallMs: Summary;
  serverMs: Summary;
  /** Causes the verdict named (last sample), so the number is known to be the fault's. */
  causes: string[];
  limitMs: number;
  pass: boolean;
  sdkAlone?: SdkAloneResult;
}

export interface P2Result {
  deadlineMs: number;
  samples: number;
  faults: P2Fault[];
}

/**
 * 429 as each service sends it: the status, Retry-After and the service's own error body. (A body-less 429 is not
 * what Key Vault sends, and its SDK then throws a TypeError from its deserializer instead of a RestError.)
 */
const THROTTLE = {
  keyVault: {
    status: 429,
    headers: { 'Retry-After': '1' },
    body: JSON.stringify({ error: { code: 'Throttled', message: 'Request was not processed because too many requests were received.' } }),
  },
  storage: {
    status: 429,
    headers: { 'Retry-After': '1', 'x-ms-error-code': 'ServerBusy' },
    body: '<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>The server is busy.</Message></Error>',
  },
  arm: {
    status: 429,
    headers: { 'Retry-After': '1' },
    body: JSON.stringify({ error: { code: 'TooManyRequests', message: 'The request is being throttled.' } }),
  },
} satisfies Record<string, Fault>;

interface FaultPlan {
  id: FaultId;
  label: string;
  apply(world: World): void;
  clear(world: World): void;
}

/** The pending "SDK alone" runs: started first, collected last. */
export interface SdkAloneRuns {
  results: Promise<Partial<Record<FaultId, SdkAloneResult>>>;
  stop(): Promise<void>;
}

export async function startSdkAlone(ctx: BenchContext): Promise<SdkAloneRuns> {
  const { options, log } = ctx;
  const world = await startWorld({ latencyMs: options.latencyMs });
  world.state.identities.push({ ...USER_IDENTITY });
  world.state.host.attached.push(USER_IDENTITY.name);
  world.state.identityFault = 'silent';
  // Both vaults fail before any token is needed: the SDK's first (challenge) request is the one that stalls or 429s.
  for (const [name, fault] of [['kv-silent', 'silent'], ['kv-throttled', THROTTLE.keyVault]] as const) {
    world.state.vaults.push({ name, resourceId: `/bench/${name}`, tenantId: USER_IDENTITY.tenantId, authorization: 'rbac', secrets: { 'app-secret': 'x' }, fault });
  }
  const boundMs = options.sdkBoundSeconds * 1000;
  log(`P2: bare SDK calls started in the background (bound ${options.sdkBoundSeconds} s)`);
  const run = (call: string, args: string[], extra: Record<string, string> = {}) =>
    runBounded(call, args, serviceEnv(world, extra), boundMs);
  const results = Promise.all([
    run('ManagedIdentityCredential.getToken, default options', ['identity']),
    run('SecretClient.getSecret, default retry options', ['secret'], { BENCH_VAULT_URL: world.vaultUrl('kv-silent') }),
    run('SecretClient.getSecret, default retry options', ['secret'], { BENCH_VAULT_URL: world.vaultUrl('kv-throttled') }),
  ]).then(([silent_identity, silent_target, throttled]) => ({ silent_identity, silent_target, throttled }));
  return { results, stop: () => world.stop() };
}

function runBounded(call: string, args: string[], env: Record<string, string>, boundMs: number): Promise<SdkAloneResult> {
  const script = path.join(REPO_ROOT, 'dist', 'bench', 'sdkAlone.js');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let settled = false;
    const finish = (r: SdkAloneResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(r);
    };
    const timer = setTimeout(() => finish({ call, outcome: 'killed', ms: boundMs, boundMs }), boundMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line || !out.includes('\n')) return;
      const o = JSON.parse(line) as SdkAloneOutput;
      finish({ call, outcome: o.ok ? 'completed' : 'failed', ms: o.ms, boundMs, ...(o.error ? { error: o.error } : {}) });
    });
    child.stderr.resume();
    child.once('exit', (code) => finish({ call, outcome: 'failed', ms: Number.NaN, boundMs, error: `child exited with ${String(code)} before answering` }));
  });
}

export function formatSdkAlone(r: SdkAloneResult | undefined): string {
  if (!r) return 'not measured';
  if (r.outcome === 'killed') return `> ${Math.round(r.boundMs / 1000)} s (no answer; killed)`;
  return `${(r.ms / 1000).toFixed(1)} s (${r.outcome === 'completed' ? 'succeeded' : r.error ?? 'failed'})`;
}

export async function runP2(ctx: BenchContext, sdkAlone: SdkAloneRuns): Promise<{ result: P2Result; goals: GoalRow[] }> {
  const { world, targets, options, log } = ctx;
  const set = targets.sizes[3];
  const host = (kind: string) => set.find((t) => t.path.kind === kind)!.config.name;
  const vault = () => world.state.vaults.find((v) => v.name === host('keyVaultSecret'))!;
  const account = () => world.state.accounts.find((a) => a.name === host('storageBlob'))!;
  const plans: FaultPlan[] = [
    {
      id: 'silent_identity',
      label: 'silent identity endpoint',
      apply: (w) => (w.state.identityFault = 'silent'),
      clear: (w) => (w.state.identityFault = undefined),
    },
    {
      id: 'silent_target',
      label: 'silent targets (Key Vault, Storage, ARM)',
      apply: (w) => {
        vault().fault = 'silent';
        account().fault = 'silent';
        w.state.armFault = 'silent';
      },
      clear: (w) => {
        vault().fault = undefined;
        account().fault = undefined;
        w.state.armFault = undefined;
      },
    },
    {
      id: 'throttled',
      label: '429 storm (Retry-After: 1 on all three)',
      apply: (w) => {
        vault().fault = THROTTLE.keyVault;
        account().fault = THROTTLE.storage;
        w.state.armFault = THROTTLE.arm;
      },
      clear: (w) => {
        vault().fault = undefined;
        account().fault = undefined;
        w.state.armFault = undefined;
      },
    },
  ];

  const limitMs = Math.round(options.deadlineMs * (1 + DEADLINE_SLACK));
  const faults: P2Fault[] = [];
  for (const plan of plans) {
    log(`P2: ${plan.label}, DIAGNOSE_TIMEOUT_MS=${options.deadlineMs}, ${options.deadlineSamples} samples`);
    // A fresh process per fault: MSAL's process-wide token cache must not hide a silent identity endpoint.
    const svc = await spawnService(serviceEnv(world, { DIAGNOSE_TARGETS: targetsEnv(set), DIAGNOSE_TIMEOUT_MS: String(options.deadlineMs) }));
    plan.apply(world);
    const wall: number[] = [];
    const server: number[] = [];
    let causes: string[] = [];
    try {
      for (let i = 0; i < options.deadlineSamples; i++) {
        const r = await svc.diagnose(targetQuery(set));
        wall.push(r.ms);
        server.push(r.value.durationMs);
        causes = r.value.checks.map((c) => `${c.target}=${c.cause}`);
      }
    } finally {
      plan.clear(world);
      await svc.stop();
    }
    faults.push({
      id: plan.id,
      label: plan.label,
      wallMs: summarize(wall),
      serverMs: summarize(server),
      causes,
      limitMs,
      // Every sample, not only the median, must be within the limit: a deadline is a bound, not an average.
      pass: Math.max(...wall) <= limitMs,
    });
  }

  log('P2: waiting for the bare SDK calls');
  const alone = await sdkAlone.results;
  for (const f of faults) {
    const r = alone[f.id];
    if (r) f.sdkAlone = r;
  }
  const goals: GoalRow[] = faults.map((f) => ({
    id: `P2 ${f.id}`,
    measure: `time to verdict, ${f.label}`,
    value: `median ${ms(f.wallMs.median)}, max ${ms(f.wallMs.max)} (SDK alone: ${formatSdkAlone(f.sdkAlone)})`,
    goal: `≤ ${ms(limitMs)} (deadline ${ms(options.deadlineMs)} + 10 %)`,
    pass: f.pass,
  }));
  return { result: { deadlineMs: options.deadlineMs, samples: options.deadlineSamples, faults }, goals };
}
