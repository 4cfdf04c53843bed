import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, SERVER_JS } from './paths';
import { VerdictSchema, type Verdict } from '../../src/verdict';
import { recordObservation } from '../support/observedResponses';

/**
 * Runs the real, built service (the shipped bundle, dist/bundle/server.mjs) as its own process — with the simulated world's env: its CA in
 * NODE_EXTRA_CA_CERTS and the DNS preload — and talks to it over HTTP, as a pipeline would.
 */

const SERVER = SERVER_JS;
/** The Functions host stand-in (test/integration/functionsHost.cjs), serving this repository's built app. */
const FUNCTIONS_HOST = [path.join(REPO_ROOT, 'test', 'integration', 'functionsHost.cjs'), REPO_ROOT];

export interface Reply {
  status: number;
  contentType: string;
  text: string;
  json(): unknown;
}

export interface RunningService {
  url: string;
  get(pathAndQuery: string, init?: RequestInit): Promise<Reply>;
  /** GET /api/diagnose…, asserting the body is a schema-valid verdict. */
  diagnose(query?: string): Promise<{ status: number; verdict: Verdict }>;
  /** Everything the process printed. */
  logs(): string;
  /** Every response body received so far. */
  replies(): string[];
  /** Whether the process is still running (it must survive anything a dependency answers). */
  alive?(): boolean;
  /** Peak resident memory of the process so far, in bytes (Linux /proc; undefined elsewhere). */
  peakRssBytes?(): number | undefined;
  stop(): Promise<void>;
}

/** Stop a child process: SIGTERM, then SIGKILL if it has not exited within 3 s. Resolves once it has exited. */
export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}

/**
 * `host: 'functions'` serves the app through the Functions host stand-in instead of the local server (function keys
 * enforced: pass FUNCTIONS_HOST_FUNCTION_KEY in `env` and send it as x-functions-key).
 */
export async function startService(
  env: Record<string, string | undefined>,
  options: { port?: number; host?: 'local' | 'functions' } = {},
): Promise<RunningService> {
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...env, PORT: String(options.port ?? 0), HOST: '127.0.0.1' })) if (v !== undefined) childEnv[k] = v;
  const args = options.host === 'functions' ? FUNCTIONS_HOST : [SERVER];
  const child: ChildProcess = spawn(process.execPath, args, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${output}`)), 20_000);
    const onData = () => {
      const m = output.match(/listening on (http:\/\/[\d.]+:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code}:\n${output}`));
    });
  });
  const replies: string[] = [];
  const get = async (pathAndQuery: string, init?: RequestInit): Promise<Reply> => {
    const res = await fetch(`${url}${pathAndQuery}`, init);
    recordObservation(init?.method ?? 'GET', pathAndQuery, res.status, res.headers.get('content-type'));
    const text = await res.text();
    replies.push(text);
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, json: () => JSON.parse(text) as unknown };
  };
  return {
    url,
    get,
    async diagnose(query = '') {
      const reply = await get(`/api/diagnose${query}`);
      if (!reply.contentType.startsWith('application/json')) throw new Error(`not a verdict (${reply.status}): ${reply.text}`);
      return { status: reply.status, verdict: VerdictSchema.parse(reply.json()) };
    },
    logs: () => output,
    replies: () => replies,
    alive: () => child.exitCode === null && !child.signalCode,
    peakRssBytes: () => {
      try {
        const kb = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
        return kb ? Number(kb) * 1024 : undefined;
      } catch {
        return undefined;
      }
    },
    stop: () => stopChild(child),
  };
}

