import fs from 'node:fs';
import path from 'node:path';
import type { GoalRow } from './context';
import type { P1Result } from './p1Parallelism';
import type { P1PerKindResult } from './p1PerKind';
import { formatSdkAlone, type P2Result } from './p2Deadline';
import type { P3Result } from './p3Storm';
import type { P4Result } from './p4ColdStart';

/** Everything one `npm run bench` measured: bench/results/latest.json. */
export interface BenchResult {
  schema: 'identity-doctor-bench/1';
  date: string;
  durationSeconds: number;
  machine: Machine;
  settings: Record<string, number | string | boolean>;
  goals: GoalRow[];
  p1?: P1Result;
  /** P1 with one target per registered kind. */
  p1PerKind?: P1PerKindResult;
  p2?: P2Result;
  p3?: P3Result;
  p4?: P4Result;
}

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  platform: string;
  /** 1-minute load averages when the run started and ended: other work on the machine shows here. */
  loadAverage: { start: number; end: number };
}


const verdict = (pass: boolean | null): string => (pass === null ? '—' : pass ? 'pass' : '**FAIL**');
const n0 = (v: number): string => (Number.isFinite(v) ? String(Math.round(v)) : 'n/a');

function table(head: string[], rows: (string | number)[][]): string {
  const esc = (c: string | number) => String(c).replace(/\|/g, '\\|');
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

/** The Markdown of bench/results/latest.md: machine, summary of goals, then one section per measurement. */
export function renderMarkdown(r: BenchResult): string {
  const m = r.machine;
  const out: string[] = [];
  out.push(
    `Measured ${r.date.slice(0, 16).replace('T', ' ')} UTC on ${m.cores} cores (${m.cpuModel}), ${m.memoryGb} GB, Node ${m.node} (${m.platform}); ` +
      `1-minute load average ${m.loadAverage.start} at the start and ${m.loadAverage.end} at the end (the machine is shared: other jobs add noise, ` +
      `which is why every goal is a ratio or a bound measured within this one run). Injected latency ${r.settings.latencyMs} ms per simulated response; ` +
      `the whole run took ${Math.round(r.durationSeconds)} s.`,
  );
  out.push('');
  out.push(table(['', 'measure', 'result', 'goal', 'verdict'], r.goals.map((g) => [g.id, g.measure, g.value, g.goal, verdict(g.pass)])));
  const missed = r.goals.filter((g) => g.pass === false).map((g) => g.id);
  if (missed.length) {
    out.push('', `Missed: ${missed.join(', ')}. Each row says where its time went, measured in this run; ` +
      `[docs/performance.md](../../docs/performance.md) says why ("Why P4's 300 ms is out of reach on this machine", "Where P1's CPU goes") and what was tried.`);
  }

  if (r.p1) {
    const p = r.p1;
    out.push('', `**P1 — parallelism vs the critical path.** Median of ${p.samples} diagnoses per row (after ${p.warmup} warm-up), all targets authorized. ` +
      `Round trips counted by the world in a calibration run: token ${p.roundTrips.tokenPerAudience} per distinct audience (all audiences at once), ` +
      `then Key Vault ${p.roundTrips.chain.keyVaultSecret} (challenge 401 + GET), Storage ${p.roundTrips.chain.storageBlob}, ARM ${p.roundTrips.chain.armResource}. ` +
      `Critical path = latency × (token + longest chain); sequential model = latency × Σ (token + chain).`, '');
    const rows: (string | number)[][] = [];
    for (const s of p.sizes) {
      const label = `${s.size} (${s.audiences} aud.)`;
      rows.push([label, 'parallel, cold token', n0(s.cold.wallMs.median), `${n0(s.cold.wallMs.p25)}–${n0(s.cold.wallMs.p75)}`, n0(s.cold.serverMs.median), n0(s.cold.serviceCpuMs.median), (s.cold.serviceCpuMs.median / s.size).toFixed(1), n0(s.cold.serviceWaitMs.median), n0(s.cold.worldBusyMs.median), `${n0(s.cold.criticalPathMs)} (${s.cold.roundTrips} RT)`, `${s.cold.ratio.toFixed(2)}×`]);
      rows.push(['', 'parallel, warm token', n0(s.warm.wallMs.median), `${n0(s.warm.wallMs.p25)}–${n0(s.warm.wallMs.p75)}`, n0(s.warm.serverMs.median), n0(s.warm.serviceCpuMs.median), (s.warm.serviceCpuMs.median / s.size).toFixed(1), n0(s.warm.serviceWaitMs.median), n0(s.warm.worldBusyMs.median), `${n0(s.warm.criticalPathMs)} (${s.warm.roundTrips} RT)`, `${s.warm.ratio.toFixed(2)}×`]);
      rows.push(['', `sequential baseline (one request per target)`, n0(s.sequential.wallMs.median), `${n0(s.sequential.wallMs.p25)}–${n0(s.sequential.wallMs.p75)}`, '—', '—', '—', '—', '—', n0(s.sequential.modelMs), `${s.sequential.ratio.toFixed(2)}× ${s.size === 1 ? '(one target: the same request)' : `(parallel: ${s.sequential.speedupVsParallel}× faster)`}`]);
    }
    out.push(table(['targets', 'path', 'median ms', 'p25–p75', 'in service ms', 'service CPU ms', 'CPU ms per target', 'service waited for CPU ms', 'simulator busy ms', 'critical path ms', 'ratio'], rows));
    out.push('', `"in service" is the verdict's own durationMs; "service CPU" the CPU time of the service process during the diagnose and ` +
      `"waited for CPU" the time its main thread was runnable but not running (both from /proc schedstat: the shared machine's noise, measured); ` +
      `"simulator busy" the time the bench process (the simulated services and the bench's HTTP client, one thread) was busy meanwhile. ` +
      `Peak RSS of these two service processes: ${p.peakRssMb.coldToken} MB and ${p.peakRssMb.warmToken} MB.`);
    if (p.anomalies.length) out.push('', `Anomalies: ${p.anomalies.join('; ')}`);
  }

  if (r.p1PerKind) {
    const p = r.p1PerKind;
    out.push('', `**P1 per kind — one target per registered kind (${p.kinds.length}), together vs alone.** Each kind's healthy target from its ` +
      `simulated world; median of ${p.samples} diagnoses of all of them together, and of each alone, in the same service process. The critical ` +
      `path is the slowest target alone (no round-trip model spans HTTP, AMQP and TDS). Cold: every diagnose acquires its tokens again.`, '');
    const rows = (['cold', 'warm'] as const).map((label) => {
      const x = p[label];
      return [label, n0(x.wallMs.median), `${n0(x.wallMs.p25)}–${n0(x.wallMs.p75)}`, x.serviceCpuMs ? n0(x.serviceCpuMs.median) : 'n/a',
        x.serviceCpuMs ? (x.serviceCpuMs.median / p.kinds.length).toFixed(1) : 'n/a', `${n0(x.criticalPathMs)} (${x.slowestKind})`, `${x.ratio.toFixed(2)}×`,
        Object.entries(x.aloneMs).map(([k, v]) => `${k} ${n0(v)}`).join(', ')];
    });
    out.push(table(['token', 'median ms', 'p25–p75', 'service CPU ms', 'CPU ms per target', 'slowest alone ms', 'ratio', 'each alone (median ms)'], rows));
    if (p.anomalies.length) out.push('', `Anomalies: ${p.anomalies.join('; ')}`);
  }

  if (r.p2) {
    const p = r.p2;
    out.push('', `**P2 — the deadline holds.** DIAGNOSE_TIMEOUT_MS = ${p.deadlineMs}, ${p.samples} diagnoses per fault (3 targets, one per kind), a fresh service per fault. ` +
      `"SDK alone" is the bare call with default options in a child process with the same world environment, killed at the bench's bound.`, '');
    out.push(table(['fault', 'median ms', 'max ms', 'limit ms', 'verdict said', 'SDK alone', ''], p.faults.map((f) => [
      f.label, n0(f.wallMs.median), n0(f.wallMs.max), n0(f.limitMs), f.causes.join(', '), f.sdkAlone ? `${f.sdkAlone.call}: ${formatSdkAlone(f.sdkAlone)}` : 'not measured', verdict(f.pass),
    ])));
  }

  if (r.p3) {
    const p = r.p3;
    if (!p.measured) {
      out.push('', `**P3 — probe storm:** ${p.reason ?? 'not measured'}. Peak RSS is taken during P3, so it is not measured either${r.p1 ? ' (the P1 services\' peak is above)' : ''}.`);
    } else {
      out.push('', `**P3 — probe storm.** GET /api/health, HEALTH_CACHE_SECONDS = ${p.healthCacheSeconds}, ${p.connections} connections, ${p.requestsPerPhase} requests per phase; ` +
        `the run spanned ${p.spanS} s = ${p.windowsSpanned} cache windows. Upstream requests sampled every 20 ms from the world's counters and grouped into rounds.`, '');
      out.push(table(['phase', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'non-2xx'], p.phases!.map((ph) => [
        ph.label, ph.requests, ph.rps, ph.latencyMs.p50, ph.latencyMs.p99, ph.latencyMs.max, ph.errors, ph.non2xx,
      ])));
      out.push('');
      out.push(table(['upstream', 'requests', 'rounds', 'allowed', 'max rounds / window', 'requests / round', 'min gap s', ''], p.upstream!.map((u) => [
        u.upstream, u.requests, u.rounds, u.allowedRounds, u.maxRoundsPerWindow, u.maxRequestsPerRound, u.minGapS ?? '—', u.upstream === 'identity' ? '(MSAL cache)' : verdict(u.pass),
      ])));
      out.push('', `Memory: RSS ${p.memory!.rssBeforeMb} MB before the storm, ${p.memory!.rssPeakSampledMb} MB peak sampled, VmHWM ${p.memory!.hwmMb} MB.`);
    }
  }

  if (r.p4) {
    const p = r.p4;
    out.push('', `**P4 — cold start.** Median of ${p.samples} fresh processes each; "bundle" is what ships (package.json \`main\`, dist/bundle/), "unbundled" tsc's output beside it.`, '');
    const rows: (string | number)[][] = [];
    for (const i of p.imports) {
      rows.push([`import ${i.module}`, n0(i.totalMs.median), `${n0(i.totalMs.p25)}–${n0(i.totalMs.p75)}`]);
    }
    rows.push([`node start-up before the script (incl. the DNS preload)`, n0(p.imports[0]!.nodeBootMs.median), `${n0(p.imports[0]!.nodeBootMs.p25)}–${n0(p.imports[0]!.nodeBootMs.p75)}`]);
    for (const [name, c] of [['bundle', p.coldStart], ['unbundled', p.coldStartUnbundled]] as const) {
      if (!c) continue;
      rows.push([`${name}: spawn → listening`, n0(c.listeningMs.median), `${n0(c.listeningMs.p25)}–${n0(c.listeningMs.p75)}`]);
      rows.push([`${name}: spawn → first /api/diagnose response`, n0(c.firstResponseMs.median), `${n0(c.firstResponseMs.p25)}–${n0(c.firstResponseMs.p75)}`]);
      rows.push([`${name}: … of which the diagnose (its durationMs)`, n0(c.diagnoseDurationMs.median), `${n0(c.diagnoseDurationMs.p25)}–${n0(c.diagnoseDurationMs.p75)}`]);
      rows.push([`${name}: … its network time (critical path)`, n0(c.networkMs), '']);
      rows.push([`${name}: first response beyond network time`, n0(c.beyondNetworkMs), '']);
    }
    if (p.container) {
      const c = p.container;
      rows.push([`container image (\`${c.command}\`; ${c.imageNotStarted}): ${c.measuredAs === 'bundle' ? 'the same file as "bundle" above' : 'its command, first response beyond network time'}`, c.coldStart ? n0(c.coldStart.beyondNetworkMs) : '—', '']);
    }
    if (p.allKinds) {
      const a = p.allKinds;
      rows.push([`bundle, all ${a.kinds} kinds configured: spawn → listening`, n0(a.listeningMs.median), `${n0(a.listeningMs.p25)}–${n0(a.listeningMs.p75)}`]);
      rows.push([`bundle, all ${a.kinds} kinds: spawn → first /api/diagnose response`, n0(a.firstResponseMs.median), `${n0(a.firstResponseMs.p25)}–${n0(a.firstResponseMs.p75)}`]);
      rows.push([`bundle, all ${a.kinds} kinds: first response beyond its durationMs`, n0(a.beyondDurationMs), '']);
    }
    out.push(table(['measure', 'median ms', 'p25–p75'], rows));
    if (p.packageSize) {
      const mb = (b: number) => (b / 1048576).toFixed(1);
      out.push('', `Deployment package (what \`azd deploy\` zips: the working tree minus \`.funcignore\`, built): ${p.packageSize.files} files, ${mb(p.packageSize.bytes)} MB; the bundle: ${mb(p.packageSize.bundleBytes)} MB in all (+ ${mb(p.packageSize.bundleMapBytes)} MB source maps), of which the host reads ${mb(p.packageSize.bundleAtStartBytes ?? p.packageSize.bundleBytes)} MB at start (\`main\` and its static imports; a kind's chunk only when configured).`);
    }
    const unbundled = p.imports.find((i) => i.module.startsWith('dist/src/index'));
    const pk = Object.entries(unbundled?.packagesMs ?? {}).slice(0, 8);
    if (pk.length) out.push('', `Packages the unbundled app module requires directly (median ms, inclusive; a shared dependency counts where first loaded): ${pk.map(([k, v]) => `${k} ${n0(v)}`).join(', ')}.`);
  }
  return out.join('\n');
}

/** Writes via a temporary file and a rename, so a crashed run never leaves half a result. */
export function writeAtomic(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}
