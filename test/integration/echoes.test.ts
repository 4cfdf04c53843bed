import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { startWorld, type World } from '../world';
import { serviceEnv, stageStandardWorld } from '../world/scenario';
import { FORMATS } from '../../src/output';
import { checkOf, startService, type RunningService } from './harness';
import { startFakeVault, type FakeVault } from './fakeVault';

/**
 * Redaction by content, not by shape (SECURITY.md): what the process sent comes back from hostile peers in pieces
 * and encodings no shape-based filter recognises — a proxy that echoes the request headers it received
 * (X-IDENTITY-HEADER, Proxy-Authorization) in its error body, a vault that quotes only the token's signature. None of
 * it may appear in any format, in /api/health with HEALTH_DETAILS=true, or in a log line.
 */
let world: World;
const services: RunningService[] = [];

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
}, 90_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await world?.stop();
});

/** Everything a client or an operator can see: every format, health (with details) and every line printed. */
async function everythingSaid(svc: RunningService, query = ''): Promise<string> {
  const out: string[] = [];
  for (const format of FORMATS) out.push((await svc.get(`/api/diagnose?format=${format}${query}`)).text);
  out.push((await svc.get('/api/health')).text);
  out.push(svc.logs());
  return out.join('\n');
}

interface EchoProxy {
  url(user: string, password: string): string;
  /** Values of X-IDENTITY-HEADER and Proxy-Authorization it received (so the test knows the echo happened). */
  seen: string[];
  close(): Promise<void>;
}

/** An HTTP proxy that answers every request, and every CONNECT, with a 502 whose body repeats the request headers. */
async function startEchoProxy(): Promise<EchoProxy> {
  const sockets = new Set<Socket>();
  const seen: string[] = [];
  const echo = (headers: http.IncomingHttpHeaders) => {
    for (const name of ['x-identity-header', 'proxy-authorization']) if (headers[name]) seen.push(String(headers[name]));
    return JSON.stringify({ error: 'proxy_error', error_description: `proxy refused the request: ${JSON.stringify(headers)}` });
  };
  const server = http.createServer((req, res) => {
    req.resume();
    const body = echo(req.headers);
    res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.on('connect', (req: http.IncomingMessage, socket: Socket) => {
    const body = echo(req.headers);
    socket.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (user, password) => `http://${user}:${password}@127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

describe('a proxy that echoes what it received', () => {
  let proxy: EchoProxy;
  afterAll(async () => proxy?.close());

  it('never gets the identity header or its own credentials repeated, in any output', async () => {
    proxy = await startEchoProxy();
    const user = `proxy-user-${randomBytes(4).toString('hex')}`;
    const password = `pr0xy-${randomBytes(10).toString('hex')}`;
    const url = proxy.url(user, password);
    // The identity endpoint is NOT in NO_PROXY: the SDK sends X-IDENTITY-HEADER through the proxy.
    const svc = await startService(serviceEnv(world, { HTTPS_PROXY: url, HTTP_PROXY: url, HEALTH_DETAILS: 'true', HEALTH_CACHE_SECONDS: '0' }));
    services.push(svc);
    const said = await everythingSaid(svc, '&target=kv-ok');
    // The attack happened: the proxy received the secrets and sent them back in its error bodies.
    expect(proxy.seen).toEqual(expect.arrayContaining([world.identityHeader]));
    expect(proxy.seen.some((v) => v.startsWith('Basic '))).toBe(true);
    const { verdict } = await svc.diagnose('?target=kv-ok');
    const check = checkOf(verdict, 'kv-ok');
    // Direct, the endpoint issues a token; through the proxy it does not: the proxy swallows the endpoint.
    expect(check.cause).toBe('identity_endpoint_unreachable');
    expect(JSON.stringify(check.evidence)).toContain('[REDACTED]');
    const basic = Buffer.from(`${user}:${password}`).toString('base64');
    const needles = { identityHeader: world.identityHeader, password, 'user:password': `${user}:${password}`, 'Proxy-Authorization value': basic };
    const leaked = Object.entries(needles).filter(([, v]) => said.includes(v) || JSON.stringify(verdict).includes(v));
    expect(leaked.map(([k]) => k)).toEqual([]);
  }, 90_000);
});

describe('a target that echoes only the signature of the token it received', () => {
  let fake: FakeVault;
  afterAll(async () => fake?.close());

  it('never gets that part repeated, in any output', async () => {
    fake = await startFakeVault(world, { name: 'kv-echo', echoSignature: true });
    const svc = await startService(
      serviceEnv(world, {
        DIAGNOSE_TARGETS: JSON.stringify([{ name: 'kv-echo', kind: 'keyVaultSecret', vaultUrl: fake.url, secretName: 's' }]),
        HEALTH_DETAILS: 'true',
        HEALTH_CACHE_SECONDS: '0',
      }),
    );
    services.push(svc);
    const said = await everythingSaid(svc);
    const { verdict } = await svc.diagnose();
    const check = checkOf(verdict, 'kv-echo');
    expect(check.cause).toBe('target_error');
    // The vault's message made it into the verdict, with the signature cut out of it.
    expect(check.explanation).toContain('upstream refused signature [REDACTED]');
    expect(fake.withToken).toBeGreaterThan(0);
    const signatures = world.mintedTokens.map((t) => t.split('.')[2]!).filter(Boolean);
    expect(signatures.length).toBeGreaterThan(0);
    expect(signatures.filter((s) => said.includes(s) || JSON.stringify(verdict).includes(s))).toEqual([]);
  }, 90_000);
});
