import net from 'node:net';
import { startWorld, type World } from '../world';
import { serviceEnv, stageStandardWorld, standardTargets } from '../world/scenario';
import { startService, type RunningService } from './harness';

/**
 * Slow-loris against the local server (npm run serve, the container image): a client that dribbles its headers or
 * body, connects and says nothing, or idles on a keep-alive socket is cut within seconds of the configured
 * SERVER_*_TIMEOUT_MS — while an answer that takes longer than those to compute is still delivered. Bounds are loose
 * (timeout + a few seconds) so a busy machine cannot fail them; without the guards Node kept such sockets 60-300 s.
 */
const HEADERS_MS = 2000;
const REQUEST_MS = 3000;
const KEEP_ALIVE_MS = 1000;
/** Node checks for expired sockets once a second; a loaded machine adds more. */
const SLACK_MS = 4000;
let world: World;
let svc: RunningService;
let port: number;

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  svc = await startService(
    serviceEnv(world, {
      DIAGNOSE_TARGETS: JSON.stringify(standardTargets(world).filter((t) => t.name === 'kv-ok')),
      SERVER_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
      SERVER_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
      SERVER_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_MS),
    }),
  );
  port = Number(new URL(svc.url).port);
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  await world?.stop();
});

/**
 * Opens a raw socket, writes `first`, then one byte of `drip` every 250 ms for as long as the server lets it.
 * Resolves with how long the socket stayed open and what came back; gives up (closedAfterMs: Infinity) at `giveUpMs`.
 */
function hold(first: string, drip = '', giveUpMs = 30_000): Promise<{ closedAfterMs: number; got: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    let i = 0;
    const timer = setInterval(() => {
      if (drip && socket.writable) socket.write(drip[i++ % drip.length]!);
    }, 250);
    const end = (closedAfterMs: number) => {
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ closedAfterMs, got });
    };
    const giveUp = setTimeout(() => end(Infinity), giveUpMs);
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.on('close', () => end(Date.now() - started));
    socket.on('error', () => undefined);
    if (first) socket.write(first);
  });
}

describe('the local server against slow clients', () => {
  it(`closes a socket that dribbles its headers within SERVER_HEADERS_TIMEOUT_MS (${HEADERS_MS} ms) + slack`, async () => {
    const { closedAfterMs } = await hold('GET /api/diagnose HTTP/1.1\r\nHost: x\r\n', 'X-Slow: aaaaaaaaaa\r\n');
    expect(closedAfterMs).toBeGreaterThanOrEqual(HEADERS_MS - 500);
    expect(closedAfterMs).toBeLessThan(HEADERS_MS + SLACK_MS);
  });

  it('closes a socket that connects and sends nothing just as soon', async () => {
    const { closedAfterMs } = await hold('');
    expect(closedAfterMs).toBeLessThan(HEADERS_MS + SLACK_MS);
  });

  it(`closes a socket that dribbles its body within SERVER_REQUEST_TIMEOUT_MS (${REQUEST_MS} ms) + slack`, async () => {
    const { closedAfterMs } = await hold(
      'POST /api/diagnose HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[',
      ' ',
    );
    expect(closedAfterMs).toBeGreaterThanOrEqual(REQUEST_MS - 500);
    expect(closedAfterMs).toBeLessThan(REQUEST_MS + SLACK_MS);
  });

  it(`closes an idle keep-alive socket within SERVER_KEEP_ALIVE_TIMEOUT_MS (${KEEP_ALIVE_MS} ms) + slack, after answering`, async () => {
    const { closedAfterMs, got } = await hold('GET /api/health/live HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    expect(got).toMatch(/^HTTP\/1\.1 200 /);
    expect(closedAfterMs).toBeLessThan(KEEP_ALIVE_MS + SLACK_MS);
  });

  it('still delivers an answer that takes longer to compute than every one of those timeouts', async () => {
    // Every simulated service answers after 2 s (token, challenge, secret: ~6 s): longer than every timeout above.
    world.state.latencyMs = 2000;
    try {
      const started = Date.now();
      const { status, verdict } = await svc.diagnose('?target=kv-ok');
      expect(Date.now() - started).toBeGreaterThan(REQUEST_MS + 1000);
      expect(status).toBe(200);
      expect(verdict.checks.map((c) => c.cause)).toEqual(['authorized']);
    } finally {
      world.state.latencyMs = 0;
    }
  });
});
