import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { REPO_ROOT } from '../test/world/paths';
import { VerdictSchema, type Verdict } from '../src/verdict';
import { stopChild } from '../test/world/serviceProcess';

/**
 * The built service (the shipped bundle, dist/bundle/server.mjs, unless told otherwise) as its own process, like test/world/serviceProcess.ts, but with what a bench
 * needs on top: the pid (for RSS), when it was spawned and when it said it was listening (for cold start), and timed
 * requests.
 */

import { SERVER_JS } from '../test/world/paths';
export { SERVER_JS };
/** tsc's output, unbundled: what P4 compares the bundle against. */
export const SERVER_JS_UNBUNDLED = path.join(REPO_ROOT, 'dist', 'src', 'server.js');

export interface Timed<T> {
  /** Wall time from sending the request to having read the whole body (ms). */
  ms: number;
  status: number;
  value: T;
}

export interface BenchService {
  url: string;
  pid: number;
  /** performance.now() when spawn() was called. */
  spawnedAt: number;
  /** performance.now() when the "listening on" line arrived. */
  listeningAt: number;
  get(pathAndQuery: string): Promise<Timed<string>>;
  /** GET /api/diagnose…, timed; the body is parsed after the clock stops and must be a schema-valid verdict. */
  diagnose(query?: string): Promise<Timed<Verdict>>;
  /** Current and peak resident set size (kB), from /proc; undefined where /proc is missing. */
  memory(): { rssKb: number; hwmKb: number } | undefined;
  /** Scheduler accounting from /proc; undefined where /proc is missing. */
  sched(): Sched | undefined;
  logs(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A bench that crashes must not leave services behind.
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export async function spawnService(env: Record<string, string>, options: { startTimeoutMs?: number; serverJs?: string } = {}): Promise<BenchService> {
  const childEnv = { ...env, PORT: '0', HOST: '127.0.0.1' };
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [options.serverJs ?? SERVER_JS], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const { url, listeningAt } = await new Promise<{ url: string; listeningAt: number }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`service did not start:\n${output}`));
    }, options.startTimeoutMs ?? 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      const m = output.match(/listening on (http:\/\/[\d.]+:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, listeningAt: performance.now() });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${String(code)}:\n${output}`));
    });
  });

  const get = async (pathAndQuery: string): Promise<Timed<string>> => {
    const t0 = performance.now();
    const res = await fetch(`${url}${pathAndQuery}`);
    const text = await res.text();
    return { ms: performance.now() - t0, status: res.status, value: text };
  };

  return {
    url,
    pid: child.pid!,
    spawnedAt,
    listeningAt,
    get,
    async diagnose(query = '') {
      const r = await get(`/api/diagnose${query}`);
      let verdict: Verdict;
      try {
        verdict = VerdictSchema.parse(JSON.parse(r.value));
      } catch (err) {
        throw new Error(`not a verdict (${r.status}): ${r.value.slice(0, 500)}\n${String(err)}`);
      }
      return { ms: r.ms, status: r.status, value: verdict };
    },
    memory: () => procMemory(child.pid!),
    sched: () => procSched(child.pid!),
    logs: () => output,
    stop: () => stopChild(child),
  };
}

/** VmRSS and VmHWM (peak RSS since the process started) of `pid`, in kB. */
export function procMemory(pid: number): { rssKb: number; hwmKb: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm'))?.[1] ?? NaN);
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

export interface Sched {
  /** CPU time of all the process's threads (ms). */
  cpuMs: number;
  /** Time the main (JavaScript) thread was runnable but waiting for a CPU: other processes' load (ms). */
  mainWaitMs: number;
}

/** From /proc/<pid>/task/<tid>/schedstat: "<ns on cpu> <ns waiting on a run queue> <slices>". */
export function procSched(pid: number): Sched | undefined {
  try {
    let cpuNs = 0;
    let mainWaitNs = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      let fields: number[];
      try {
        fields = fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
      } catch {
        continue; // the thread ended meanwhile
      }
      cpuNs += fields[0] ?? 0;
      if (tid === String(pid)) mainWaitNs = fields[1] ?? 0;
    }
    return { cpuMs: cpuNs / 1e6, mainWaitMs: mainWaitNs / 1e6 };
  } catch {
    return undefined;
  }
}
