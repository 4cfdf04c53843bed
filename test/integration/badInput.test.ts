import net from 'node:net';
import fc from 'fast-check';
import { startWorld, type World } from '../world';
import { RG_APP, serviceEnv, stageStandardWorld, standardTargets } from '../world/scenario';
import { FORMATS } from '../../src/output';
import { createRoutes } from '../../src/routes';
import { MAX_BODY_BYTES } from '../../src/server';
import { VerdictSchema } from '../../src/verdict';
import { ProblemSchema } from '../../src/http/problem';
import { HealthSchema } from '../../src/output/health';
import { startService, type RunningService } from './harness';
import { recordObservation } from '../support/observedResponses';
import { boundFor } from '../support/timing';

/**
 * Whatever arrives — any query string, any headers, any body, on every route of the route table — the service answers
 * a schema-valid 2xx, 4xx or 503, never a 500, and never falls over. Oversized bodies are refused before they are read.
 */
const HEALTHY = ['kv-ok', 'blob-ok', 'arm-ok', 'kv-norole'];
const ROUTES = createRoutes();
const OTHER_METHODS = ['PUT', 'DELETE', 'PATCH', 'OPTIONS'];
let world: World;
let svc: RunningService;
let statuses: number[] = [];

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  const p = world.ports;
  svc = await startService(
    serviceEnv(world, {
      DIAGNOSE_TARGETS: JSON.stringify(standardTargets(world).filter((t) => HEALTHY.includes(t.name))),
      DIAGNOSE_ALLOWED_HOSTS: [`kv-ok.vault.azure.net:${p.keyVault}`, `stok.blob.core.windows.net:${p.storage}`].join(','),
      DIAGNOSE_TIMEOUT_MS: '5000',
    }),
  );
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  await world?.stop();
});

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** Sends one request and checks the one property every answer must have. Returns false (with the reason) if not. */
async function answersWell(route: string | undefined, req: Sent): Promise<boolean> {
  const res = await fetch(`${svc.url}${req.path}`, { method: req.method, headers: req.headers, ...(req.body !== undefined ? { body: req.body } : {}) });
  const text = await res.text();
  recordObservation(req.method, req.path, res.status, res.headers.get('content-type'));
  statuses.push(res.status);
  const type = res.headers.get('content-type') ?? '';
  const fail = (why: string) => {
    throw new Error(`${why}: ${req.method} ${req.path} ${JSON.stringify(req.headers)} body=${JSON.stringify(req.body)?.slice(0, 300)} → ${res.status} ${type}\n${text.slice(0, 500)}`);
  };
  if (!(res.status >= 200 && res.status < 500) && res.status !== 503) fail('not a 2xx/4xx/503');
  // Every answer, problem or not, forbids content sniffing: a body quoting the caller is never run as a page.
  if (res.headers.get('x-content-type-options') !== 'nosniff') fail('an answer without x-content-type-options: nosniff');
  if (req.method === 'HEAD' || res.status === 204) return true;
  if (res.status >= 400 && res.status < 500) {
    if (!type.startsWith('application/problem+json')) fail('a 4xx that is not problem+json');
    const problem = ProblemSchema.safeParse(JSON.parse(text));
    if (!problem.success || problem.data.status !== res.status) fail('a problem that does not fit its schema or status');
    return true;
  }
  if (type.startsWith('application/problem+json')) {
    if (!ProblemSchema.safeParse(JSON.parse(text)).success) fail('a problem that does not fit its schema');
  } else if (type.startsWith('application/health+json')) {
    if (!HealthSchema.safeParse(JSON.parse(text)).success) fail('health that does not fit its schema');
  } else if (route === 'diagnose' && type.startsWith('application/json')) {
    const verdict = VerdictSchema.safeParse(JSON.parse(text));
    if (!verdict.success) fail('a verdict that does not fit its schema');
    if ((verdict.data!.status === 'fail') !== (res.status === 503)) fail('503 exactly when the verdict fails');
  } else if (text.length === 0) {
    fail('an empty answer');
  }
  return true;
}

// ---- arbitraries ------------------------------------------------------------------------------------------------

const names = fc.constantFrom(...HEALTHY, 'nope', '../etc', 'kv-ok ', '', ',', 'KV-OK');
const knownKeys = fc.constantFrom('target', 'format', 'TARGET', 'Format', 'targets', 'waitSeconds', 'code', '');
const rawPieces = fc.constantFrom('%', '%zz', '%00', '%E0%A4%A', '&&', '==', '+', ';', '%2C', '#frag', '?', '%0d%0a');
const queryValue = fc.oneof(
  names,
  fc.array(names, { maxLength: 5 }).map((a) => a.join(',')),
  fc.constantFrom(...FORMATS, 'yaml', 'JSON', ''),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: 'grapheme', maxLength: 20 }).map(encodeURIComponent),
  fc.nat({ max: 6000 }).map((n) => 'a'.repeat(n)),
  rawPieces,
);
const queryString = fc
  .array(fc.tuple(fc.oneof(knownKeys, fc.string({ maxLength: 12 }).map(encodeURIComponent), rawPieces), fc.option(queryValue)), { maxLength: 6 })
  .map((pairs) => (pairs.length ? '?' + pairs.map(([k, v]) => (v === null ? k : `${k}=${v}`)).join('&') : ''));

/** Names undici refuses to send are left out; everything else goes, including Host and the identity header's name. */
const headerName = fc.oneof(
  fc.constantFrom('content-type', 'accept', 'x-functions-key', 'authorization', 'x-identity-header', 'x-ms-client-request-id', 'cookie', 'x-forwarded-for', 'x-forwarded-host', 'host', 'origin', 'accept-charset', 'range'),
  fc.stringMatching(/^x-[a-z0-9-]{1,20}$/),
);
const headerValue = fc.oneof(
  fc.stringMatching(/^[\x20-\x7e]{0,120}$/).map((s) => s.trim()),
  fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'text/html', '*/*', 'application/problem+json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'a b', '[::1]:80', 'evil.example.com', 'x/../y'),
);
const headers = fc.dictionary(headerName, headerValue, { maxKeys: 6 });

const url = fc.oneof(
  fc.constant('https://kv-ok.vault.azure.net:PORT'),
  fc.constant('https://stok.blob.core.windows.net:PORT'),
  fc.webUrl(),
  fc.constantFrom('http://kv-ok.vault.azure.net', 'https://169.254.169.254', 'https://kv1.vault.azure.net', 'https://u:p@kv1.vault.azure.net', 'not a url', ''),
);
const targetLike = fc.record(
  {
    name: fc.oneof(fc.constantFrom('a', 'b', 'kv-ok'), fc.string({ maxLength: 70 })),
    kind: fc.constantFrom('keyVaultSecret', 'storageBlob', 'armResource', 'toString', '__proto__', 'nope'),
    vaultUrl: url,
    accountUrl: url,
    endpoint: url,
    secretName: fc.constantFrom('app-secret', 'missing', 'bad name!'),
    container: fc.constantFrom('data', 'nope', 'X'),
    resourceId: fc.constantFrom(RG_APP, '/subscriptions/x', 'nope'),
    audience: fc.constantFrom('https://vault.azure.net', 'https://management.azure.com/', 'api://x', ''),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 200 }),
  fc.json({ maxDepth: 3 }),
  fc.array(targetLike, { maxLength: 4 }).map((a) => JSON.stringify(a).replace(/PORT/g, () => String(world.ports.keyVault))),
  fc.array(targetLike, { minLength: 17, maxLength: 20 }).map((a) => JSON.stringify(a)),
  fc.constantFrom('[', '{"__proto__":{"polluted":true}}', '[{"__proto__":{"kind":"keyVaultSecret"}}]', '\u0000\uffff', 'null', '[null]', '[[]]', '1e999'),
);

// ---- properties -------------------------------------------------------------------------------------------------

describe.each(ROUTES.map((r) => [r.route, r] as const))('/api/%s under arbitrary input', (routeName, route) => {
  const path = `/api/${route.route}`;

  it('answers any query string with a schema-valid 2xx, 4xx or 503', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...route.methods), queryString, (method, q) => answersWell(route.name, { method, path: `${path}${q}`, headers: {} })),
      { numRuns: 60 },
    );
  });

  it('answers any headers the same way', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...route.methods), headers, (method, h) => answersWell(route.name, { method, path, headers: h })),
      { numRuns: 60 },
    );
  });

  it('answers any body, declared as anything, the same way', async () => {
    const methods = route.methods.filter((m) => m !== 'GET' && m !== 'HEAD');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...(methods.length ? methods : OTHER_METHODS)),
        body,
        fc.option(fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded'), { nil: undefined }),
        fc.option(queryString, { nil: '' }),
        (method, b, type, q) => answersWell(route.name, { method, path: `${path}${q}`, headers: type ? { 'content-type': type } : {}, body: b }),
      ),
      { numRuns: 80 },
    );
  });

  it('answers a method it does not serve with 405 naming the allowed ones', async () => {
    for (const method of OTHER_METHODS.filter((m) => !(route.methods as string[]).includes(m))) {
      const res = await fetch(`${svc.url}${path}`, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe(route.methods.join(', '));
    }
  });
});

describe('caller text in problem answers', () => {
  const HOSTILE = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', 'a'.repeat(41), 'x\u2028y'];

  it.each([
    ['/api/diagnose', 'an unknown parameter'],
    ['/api/health', 'a parameter /api/health does not take'],
  ])('%s: says "unknown parameter" for %s without repeating a name that is not plain', async (route) => {
    for (const name of HOSTILE) {
      const res = await fetch(`${svc.url}${route}?${encodeURIComponent(name)}=1&plain_name.x-1=2`);
      const text = await res.text();
      expect(res.status).toBe(400);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const p = ProblemSchema.parse(JSON.parse(text));
      expect(p.errors).toEqual([
        { parameter: '(name not shown)', message: 'unknown parameter' },
        { parameter: 'plain_name.x-1', message: 'unknown parameter' },
      ]);
      expect(text).not.toContain(name);
      expect(text).not.toMatch(/[<>]/);
    }
  });

  it('does not repeat a repeated parameter name that is not plain', async () => {
    const name = encodeURIComponent('<b>');
    const res = await fetch(`${svc.url}/api/diagnose?${name}=1&${name}=2`);
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(ProblemSchema.parse(JSON.parse(text)).errors).toEqual([{ parameter: '(name not shown)', message: 'given more than once' }]);
    expect(text).not.toContain('<b>');
  });

  it('does not repeat the path of a request that matches no route', async () => {
    const res = await fetch(`${svc.url}/api/${encodeURIComponent('<svg onload=alert(1)>')}`);
    const text = await res.text();
    expect(res.status).toBe(404);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(text).not.toMatch(/svg|onload|%3C/i);
  });
});

describe('paths that are no route', () => {
  it('answers 404 problem+json for any of them', async () => {
    const known = new Set(ROUTES.map((r) => `/api/${r.route}`));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.webPath(), fc.constantFrom('/', '//', '///x', '/api', '/api/', '/api/diagnose/', '/API/diagnose', '//api/diagnose', '/api/diagnose%00', '/%', '/api/%zz')),
        async (p) => {
          const path = p.startsWith('/') ? p : `/${p}`;
          fc.pre(!known.has(new URL(`http://x${path}`).pathname));
          return answersWell(undefined, { method: 'GET', path, headers: {} });
        },
      ),
      { numRuns: 60 },
    );
  });
});

/** A raw HTTP/1.1 exchange, for what fetch will not send. Resolves with what came back before the server closed or `waitMs`. */
function raw(request: string | Buffer, opts: { waitMs?: number; thenWrite?: (s: net.Socket) => void } = {}): Promise<string> {
  const { port } = new URL(svc.url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let got = '';
    const done = () => {
      socket.destroy();
      resolve(got);
    };
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.on('close', done);
    socket.on('error', done);
    setTimeout(done, opts.waitMs ?? 3000).unref();
    socket.write(request);
    opts.thenWrite?.(socket);
  });
}

describe(`bodies over the stated limit (${MAX_BODY_BYTES} bytes)`, () => {
  it('refuses one announced by Content-Length at once, without waiting for it', async () => {
    const started = Date.now();
    // The 10 MiB never come: an answer before waitMs proves the server did not wait for them.
    const answer = await raw(`POST /api/diagnose HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`, { waitMs: 15_000 });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('application/problem+json');
    expect(Date.now() - started).toBeLessThan(boundFor(2000));
  });

  it('refuses a chunked one once it passes the limit, and closes the connection', async () => {
    const chunk = 'x'.repeat(16 * 1024);
    const answer = await raw('POST /api/diagnose HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n', {
      thenWrite: (s) => {
        for (let i = 0; i < 6; i++) s.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      },
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.toLowerCase()).toContain('connection: close');
  });

  it('accepts one just under the limit and judges it by its content', async () => {
    const target = JSON.stringify([{ name: 'kv', kind: 'keyVaultSecret', vaultUrl: `https://kv-ok.vault.azure.net:${world.ports.keyVault}`, secretName: 'app-secret' }]);
    const res = await fetch(`${svc.url}/api/diagnose`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: target.padEnd(MAX_BODY_BYTES - 1, ' ') });
    expect(res.status).toBe(200);
  });
});

describe('malformed HTTP', () => {
  it.each([
    ['a garbage request line', 'NOT HTTP AT ALL\r\n\r\n'],
    ['a header line without a colon', 'GET /api/diagnose HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n'],
    ['a 64 KiB header', `GET /api/diagnose HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`],
    ['a bad Content-Length', 'POST /api/diagnose HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n'],
    ['a Host header that is no host', 'GET /api/diagnose?target=kv-ok HTTP/1.1\r\nHost: a b/c?d\r\nConnection: close\r\n\r\n'],
    ['a request target of "//"', 'GET // HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ['the asterisk request target', 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ['an absolute-form request target', 'GET http://evil.example/api/diagnose?target=kv-ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
  ])('answers %s without a 500 and keeps serving', async (_label, request) => {
    const answer = await raw(request);
    expect(answer).toMatch(/^HTTP\/1\.1 (200|4\d\d) /);
    const { status } = await svc.diagnose('?target=kv-ok');
    expect(status).toBe(200);
  });
});

describe('after all of it', () => {
  it('never answered 500, is still up, logged no failed request, and still diagnoses', async () => {
    expect(statuses.length).toBeGreaterThan(250);
    expect(statuses).not.toContain(500);
    // The property runs reached real verdicts, not only refusals.
    expect(statuses).toEqual(expect.arrayContaining([503, 400]));
    expect(svc.logs()).not.toMatch(/request failed/);
    const { status, verdict } = await svc.diagnose('?target=kv-ok,blob-ok,arm-ok');
    expect(status).toBe(200);
    expect(verdict.status).toBe('pass');
  });
});
