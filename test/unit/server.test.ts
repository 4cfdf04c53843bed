import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { loadSettings } from '../../src/config';
import { createAppServer } from '../../src/server';
import { ProblemSchema } from '../../src/http/problem';

/** What Node's HTTP parser refuses before any handler runs still gets a problem+json from the local server. */
describe('the local server before any handler runs', () => {
  const server = createAppServer();
  let port: number;
  beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve())).then(() => (port = (server.address() as AddressInfo).port)));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers a request line over the 16 KiB header limit with 431 problem+json', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/diagnose?target=${'a'.repeat(20_000)}`);
    expect(res.status).toBe(431);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(ProblemSchema.parse(await res.json())).toMatchObject({ status: 431 });
  });

  it('answers malformed HTTP with 400 problem+json', async () => {
    const raw = await new Promise<string>((resolve) => {
      let out = '';
      const c = net.connect(port, '127.0.0.1', () => c.write('NOT HTTP AT ALL\r\n\r\n'));
      c.on('data', (d) => (out += d.toString()));
      c.on('close', () => resolve(out));
    });
    expect(raw.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad request');
    expect(raw).toContain('content-type: application/problem+json');
    expect(raw).toContain('x-content-type-options: nosniff');
    expect(ProblemSchema.parse(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)))).toMatchObject({ status: 400 });
  });
});

describe('the local server\'s slow-loris guards', () => {
  it('takes its header, request and keep-alive timeouts from the settings, with defaults of seconds', () => {
    const server = createAppServer(loadSettings({}).server);
    expect([server.headersTimeout, server.requestTimeout, server.keepAliveTimeout]).toEqual([10_000, 20_000, 5_000]);
    const tuned = createAppServer(loadSettings({ SERVER_HEADERS_TIMEOUT_MS: '3000', SERVER_REQUEST_TIMEOUT_MS: '1000', SERVER_KEEP_ALIVE_TIMEOUT_MS: '2000' }).server);
    // A request timeout below the headers timeout could never apply: it is raised to match.
    expect([tuned.headersTimeout, tuned.requestTimeout, tuned.keepAliveTimeout]).toEqual([3000, 3000, 2000]);
  });
});
