import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createServer, type Server } from 'node:https';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startWorld, type World } from '../world';
import { REPO_ROOT } from '../world/paths';
import { KV_OK_ID, TENANT_ID, USER_IDENTITY, serviceEnv, stageStandardWorld, standardTargets } from '../world/scenario';
import { CHECK_EVENT_NAME, CHECK_STATUS_METRIC, METRIC_ATTRIBUTE_KEYS } from '../../src/watch/telemetry';
import type { LogEntry, MetricPoint } from '../unit/watch/memoryTelemetry';
import type { TickReply } from './watchHost';
import { stopChild } from '../world/serviceProcess';

/**
 * The scheduled watch against the simulated world, in its own process (dist/test/integration/watchHost.js): the real
 * diagnose, the real OpenTelemetry SDK. A dependency turns from pass to fail between two runs — a role revoked, an
 * account moved behind a firewall — and the second run's records say so, with nobody calling the API.
 */

const WATCH_HOST = path.join(REPO_ROOT, 'dist', 'test', 'integration', 'watchHost.js');
const WATCHED = ['kv-ok', 'blob-ok', 'arm-ok'];

interface WatchProcess {
  tick(): Promise<TickReply>;
  output(): string;
  stop(): Promise<void>;
}

function startWatchHost(mode: 'memory' | 'distro', env: Record<string, string>): Promise<WatchProcess> {
  const child: ChildProcess = fork(WATCH_HOST, [mode], { env, execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`watch host exited with ${code}:\n${output}`)));
    child.once('message', () =>
      resolve({
        tick: () =>
          new Promise((done) => {
            child.once('message', (m) => done(m as TickReply));
            child.send({ type: 'tick' });
          }),
        output: () => output,
        stop: () => stopChild(child),
      }),
    );
  });
}

/** What the identity looks like in the world: none of it may appear in telemetry (nor tokens, nor secrets). */
function forbidden(world: World): string[] {
  return [
    ...world.mintedTokens,
    world.identityHeader,
    ...world.secretValues(),
    USER_IDENTITY.principalId,
    USER_IDENTITY.clientId,
    USER_IDENTITY.resourceId,
    TENANT_ID,
  ];
}

let world: World;

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
}, 60_000);

afterAll(async () => {
  await world?.stop();
});

describe('the watch, with the OpenTelemetry SDK and in-memory exporters', () => {
  let watch: WatchProcess;
  let first: TickReply;
  let second: TickReply;

  beforeAll(async () => {
    const targets = standardTargets(world).filter((t) => WATCHED.includes(t.name));
    watch = await startWatchHost('memory', serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(targets) }));
    first = await watch.tick();
    // Between two scheduled runs: the Key Vault role is removed, the storage account goes behind a firewall.
    expect(world.revoke(USER_IDENTITY.principalId, 'keyVaultSecretsUser', KV_OK_ID)).toBe(1);
    world.state.accounts.find((a) => a.name === 'stok')!.network = 'firewall';
    second = await watch.tick();
  }, 60_000);

  afterAll(async () => {
    await watch?.stop();
    world.state.accounts.find((a) => a.name === 'stok')!.network = 'open';
  });

  const statusPoints = (r: TickReply): MetricPoint[] => r.drained!.metrics.filter((m) => m.name === CHECK_STATUS_METRIC);
  const events = (r: TickReply): LogEntry[] => r.drained!.logs.filter((l) => l.eventName === CHECK_EVENT_NAME);
  const summary = (points: MetricPoint[]) =>
    Object.fromEntries(points.map((p) => [p.attributes.target, `${p.attributes.cause}/${p.attributes.status}=${p.value}`]));

  it('records one status point per target, all passing, on the first run', () => {
    expect(summary(statusPoints(first))).toEqual({
      'kv-ok': 'authorized/pass=0',
      'blob-ok': 'authorized/pass=0',
      'arm-ok': 'authorized/pass=0',
    });
    for (const p of statusPoints(first)) expect(Object.keys(p.attributes).sort()).toEqual([...METRIC_ATTRIBUTE_KEYS].sort());
  });

  it('records the failures on the next run, with nobody calling the API', () => {
    expect(summary(statusPoints(second))).toEqual({
      'kv-ok': 'role_missing/fail=2',
      'blob-ok': 'network_blocked/fail=2',
      'arm-ok': 'authorized/pass=0',
    });
  });

  it('emits one IdentityDoctorCheck event per target and run, the failure carrying its explanation and fix', () => {
    expect(events(first).map((e) => e.attributes.target).sort()).toEqual([...WATCHED].sort());
    const kv = events(second).find((e) => e.attributes.target === 'kv-ok')!;
    expect(kv.attributes).toMatchObject({
      'microsoft.custom_event.name': CHECK_EVENT_NAME,
      kind: 'keyVaultSecret',
      cause: 'role_missing',
      category: 'authorization',
      status: 'fail',
      httpStatus: 403,
      errorCode: 'Forbidden',
      innerErrorCode: 'ForbiddenByRbac',
    });
    expect(kv.attributes.fix).toContain('--assignee-object-id <principal-id>');
    expect(kv.attributes.fix).toContain('"Key Vault Secrets User"');
    expect(kv.attributes.explanation).toContain('<principal-id>');
    expect(kv.severityText).toBe('ERROR');
  });

  it('makes the pass → fail transition readable from the records, as the status-changed alert reads it', () => {
    const runs = [events(first), events(second)].map((es) => Object.fromEntries(es.map((e) => [e.attributes.target, e.attributes.status])));
    const changed = WATCHED.filter((t) => runs[0]![t] !== runs[1]![t]).map((t) => `${t}: ${runs[0]![t]} → ${runs[1]![t]}`);
    expect(changed).toEqual(['kv-ok: pass → fail', 'blob-ok: pass → fail']);
  });

  it('logs each run in the invocation log', () => {
    expect(second.logs.join('\n')).toMatch(/watch fail in \d+ ms: kv-ok=role_missing blob-ok=network_blocked arm-ok=authorized/);
  });

  it('never puts a token, a secret, the identity header or the identity\'s ids into telemetry', () => {
    const exported = JSON.stringify([first.drained, second.drained]);
    expect(exported.length).toBeGreaterThan(1000);
    expect(forbidden(world).filter((n) => n && exported.includes(n))).toEqual([]);
    expect(exported).not.toContain('"claims"');
  });
});

describe('the watch with APPLICATIONINSIGHTS_CONNECTION_STRING, through the Azure Monitor distro', () => {
  /**
   * A stand-in for the Application Insights ingestion endpoint: it keeps every envelope it is sent. The exporter
   * insists on HTTPS, so it serves the world's own certificate (SAN 127.0.0.1), which the watch process trusts.
   */
  interface Envelope {
    name: string;
    tags?: Record<string, string>;
    data: { baseType: string; baseData: { name?: string; metrics?: { name: string; value: number }[]; properties?: Record<string, string> } };
  }
  const envelopes: Envelope[] = [];
  let ingestion: Server;
  let watch: WatchProcess;
  let tick: TickReply;

  beforeAll(async () => {
    const worldDir = path.dirname(world.caFile);
    const tls = { cert: fs.readFileSync(path.join(worldDir, 'server-cert.pem')), key: fs.readFileSync(path.join(worldDir, 'server-key.pem')) };
    ingestion = createServer(tls, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString();
        const items = text.trim().startsWith('[') ? (JSON.parse(text) as Envelope[]) : text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Envelope);
        envelopes.push(...items);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ itemsReceived: items.length, itemsAccepted: items.length, errors: [] }));
      });
    });
    await new Promise<void>((r) => ingestion.listen(0, '127.0.0.1', r));
    const port = (ingestion.address() as { port: number }).port;
    const targets = standardTargets(world).filter((t) => t.name === 'kv-norole');
    watch = await startWatchHost(
      'distro',
      serviceEnv(world, {
        DIAGNOSE_TARGETS: JSON.stringify(targets),
        APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-4000-8000-000000000001;IngestionEndpoint=https://127.0.0.1:${port}/`,
        // No phoning home from a test: the exporter's own usage statistics would go to Microsoft's endpoint.
        APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
      }),
    );
    tick = await watch.tick();
  }, 60_000);

  afterAll(async () => {
    await watch?.stop();
    await new Promise((r) => ingestion?.close(r));
  });

  it('loads the distro on the first run, not at start-up', () => {
    expect(tick.distroLoaded).toEqual({ before: false, after: true });
  });

  it('lands the gauge in customMetrics, with the alerting attributes as customDimensions', () => {
    const metric = envelopes.find((e) => e.data.baseType === 'MetricData' && e.data.baseData.metrics?.[0]?.name === CHECK_STATUS_METRIC);
    expect(metric).toBeDefined();
    expect(metric!.data.baseData.metrics![0]!.value).toBe(2);
    expect(metric!.data.baseData.properties).toEqual({ target: 'kv-norole', kind: 'keyVaultSecret', cause: 'role_missing', category: 'authorization', status: 'fail' });
  });

  it('lands the event in customEvents named IdentityDoctorCheck, its attributes as customDimensions', () => {
    const event = envelopes.find((e) => e.data.baseType === 'EventData' && e.data.baseData.name === CHECK_EVENT_NAME);
    expect(event).toBeDefined();
    expect(event!.data.baseData.properties).toMatchObject({ target: 'kv-norole', cause: 'role_missing', status: 'fail', httpStatus: '403' });
    expect(Object.keys(event!.data.baseData.properties!)).not.toContain('microsoft.custom_event.name');
    expect(envelopes.filter((e) => e.data.baseType === 'MessageData')).toEqual([]);
  });

  it('sends no token, secret or identity id to Application Insights', () => {
    const sent = JSON.stringify(envelopes);
    expect(forbidden(world).filter((n) => n && sent.includes(n))).toEqual([]);
  });
});
