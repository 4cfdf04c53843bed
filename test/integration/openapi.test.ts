import { startWorld, type World } from '../world';
import { OTHER_IDENTITY, serviceEnv, stageStandardWorld, standardTargets } from '../world/scenario';
import { loadSettings } from '../../src/config';
import { openApiDocument } from '../../src/openapi/document';
import { createRoutes } from '../../src/routes';
import { resolveRef, validate } from '../support/jsonSchema';
import { expectNoLeaks, startService, type Reply, type RunningService } from './harness';

/**
 * The served /api/openapi.json against what the service really answers: every response below is validated with the
 * schema taken from the served document (not from zod), for the status and media type it arrived with.
 */
interface Operation {
  parameters?: { name: string; schema: { enum?: string[] } }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
}

let world: World;
const services: RunningService[] = [];
let svc: RunningService;
let doc: Document;

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  // The world serves real host names on odd ports: ad-hoc targets there must be allowed as host:port.
  svc = await startService(
    serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(standardTargets(world)), DIAGNOSE_ALLOWED_HOSTS: `kv-ok.vault.azure.net:${world.ports.keyVault}` }),
  );
  services.push(svc);
  const reply = await svc.get('/api/openapi.json');
  expect(reply.status).toBe(200);
  expect(reply.contentType).toMatch(/^application\/json/);
  doc = reply.json() as Document;
}, 60_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await world?.stop();
});

/** Validates a reply against the served document: its status and media type must be described, its body must fit. */
function expectDescribed(path: string, method: string, reply: Reply): void {
  const op = doc.paths[path]?.[method];
  if (!op) throw new Error(`the document has no ${method.toUpperCase()} ${path}`);
  const response = op.responses[String(reply.status)];
  if (!response) throw new Error(`${method.toUpperCase()} ${path} answered ${reply.status}, which the document does not list: ${reply.text.slice(0, 300)}`);
  const mediaType = reply.contentType.split(';')[0]!.trim();
  const content = response.content?.[mediaType];
  if (!content) throw new Error(`${method.toUpperCase()} ${path} ${reply.status} answered ${mediaType}, which the document does not list`);
  expect(validate(content.schema, reply.json(), doc)).toEqual([]);
}

describe('GET /api/openapi.json', () => {
  it('serves an OpenAPI 3.1 document whose references all resolve', () => {
    expect(doc.openapi).toBe('3.1.0');
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const r of refs) expect(() => resolveRef(doc, JSON.parse(`{${r}}`).$ref as string)).not.toThrow();
  });

  it('serves exactly the document the schemas generate', () => {
    expect(doc).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });
});

describe('/api/diagnose answers as the served document describes', () => {
  it('with 503 and a verdict when some dependency fails (every staged cause of every kind)', async () => {
    const reply = await svc.get('/api/diagnose');
    expect(reply.status).toBe(503);
    expectDescribed('/api/diagnose', 'get', reply);
    const causes = new Set((reply.json() as { checks: { cause: string }[] }).checks.map((c) => c.cause));
    expect([...causes].sort()).toEqual(['authorized', 'resource_not_found', 'role_missing', 'wrong_audience']);
  });

  it('with 200 and a verdict when everything selected passes, or only warns', async () => {
    for (const query of ['?target=kv-ok,blob-ok,blob-list-ok,arm-ok', '?target=kv-ok,kv-missing']) {
      const reply = await svc.get(`/api/diagnose${query}`);
      expect(reply.status).toBe(200);
      expectDescribed('/api/diagnose', 'get', reply);
    }
  });

  it('the same way over POST', async () => {
    const reply = await svc.get('/api/diagnose?target=kv-ok', { method: 'POST' });
    expect(reply.status).toBe(200);
    expectDescribed('/api/diagnose', 'post', reply);
  });

  it.each([
    ['an unknown parameter', '?targets=kv-ok'],
    ['a repeated parameter', '?target=kv-ok&target=blob-ok'],
    ['a malformed name', '?target=../etc'],
    ['an unknown target', '?target=kv-ok,nope'],
    ['an unknown format', '?format=yaml'],
  ])('with 400 and a problem for %s', async (_label, query) => {
    const reply = await svc.get(`/api/diagnose${query}`);
    expect(reply.status).toBe(400);
    expectDescribed('/api/diagnose', 'get', reply);
  });

  it('with 503 for a warn verdict under failOn=warn, where the default answers 200', async () => {
    const lenient = await svc.get('/api/diagnose?target=kv-ok,kv-missing');
    const strict = await svc.get('/api/diagnose?target=kv-ok,kv-missing&failOn=warn');
    expect([lenient.status, strict.status]).toEqual([200, 503]);
    expect((strict.json() as { status: string }).status).toBe('warn');
    expectDescribed('/api/diagnose', 'get', strict);
  });

  it('with a 400 problem for a failOn outside its list', async () => {
    const reply = await svc.get('/api/diagnose?failOn=warning');
    expect(reply.status).toBe(400);
    expectDescribed('/api/diagnose', 'get', reply);
  });

  it('over POST with ad-hoc targets in a body that fits the documented request body', async () => {
    const configured = standardTargets(world).find((t) => t.name === 'kv-ok')!;
    const body = [{ ...configured, name: 'adhoc-kv' }];
    const schema = doc.paths['/api/diagnose']!.post!.requestBody!.content['application/json']!.schema;
    expect(validate(schema, body, doc)).toEqual([]);
    const reply = await svc.get('/api/diagnose', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expectDescribed('/api/diagnose', 'post', reply);
    expect((reply.json() as { checks: { target: string }[] }).checks.map((c) => c.target)).toEqual(['adhoc-kv']);
  });

  it.each([
    ['403 for a target outside the host policy', 403, { 'content-type': 'application/json' }, JSON.stringify([{ name: 'x', kind: 'keyVaultSecret', vaultUrl: 'https://attacker.example.com', secretName: 's' }])],
    ['413 for a body over 64 KiB', 413, { 'content-type': 'application/json' }, `[${' '.repeat(70 * 1024)}]`],
    ['415 for a body that is not declared JSON', 415, { 'content-type': 'text/plain' }, '[]'],
    ['400 for a body that is not a list of targets', 400, { 'content-type': 'application/json' }, '{"name":"x"}'],
  ])('over POST with a %s', async (_label, status, headers, body) => {
    const reply = await svc.get('/api/diagnose', { method: 'POST', headers, body });
    expect(reply.status).toBe(status);
    expectDescribed('/api/diagnose', 'post', reply);
  });

  it('accepts every value the document offers for each enumerated parameter', async () => {
    const params = doc.paths['/api/diagnose']!.get!.parameters!;
    const offered = params.flatMap((p) => (p.schema.enum ?? []).map((v) => `${p.name}=${encodeURIComponent(v)}`));
    expect(offered.length).toBeGreaterThan(0);
    for (const q of offered) {
      const reply = await svc.get(`/api/diagnose?target=kv-ok&${q}`);
      expect([200, 503]).toContain(reply.status);
      if (reply.contentType.startsWith('application/json')) expectDescribed('/api/diagnose', 'get', reply);
    }
  });

  it('with verdicts whose evidence comes from the identity endpoint (token-stage failures)', async () => {
    const closed = await world.closedPort();
    const onlyOnePerKind = JSON.stringify(standardTargets(world).filter((t) => ['kv-ok', 'blob-ok', 'arm-ok'].includes(t.name)));
    const scenarios = [
      // Off Azure: nothing answers at IMDS.
      { DIAGNOSE_TARGETS: onlyOnePerKind, IDENTITY_ENDPOINT: undefined, IDENTITY_HEADER: undefined, WEBSITE_SITE_NAME: undefined, FUNCTIONS_WORKER_RUNTIME: undefined, AZURE_CLIENT_ID: undefined, AZURE_POD_IDENTITY_AUTHORITY_HOST: `http://127.0.0.1:${closed}` },
      // The requested identity is not attached.
      { DIAGNOSE_TARGETS: onlyOnePerKind, AZURE_CLIENT_ID: OTHER_IDENTITY.clientId },
    ];
    for (const overrides of scenarios) {
      const other = await startService(serviceEnv(world, overrides));
      services.push(other);
      const reply = await other.get('/api/diagnose');
      expect(reply.status).toBe(503);
      expectDescribed('/api/diagnose', 'get', reply);
      expect((reply.json() as { checks: { stage: string }[] }).checks.every((c) => c.stage === 'token')).toBe(true);
    }
  });
});

describe('/api/health and /api/health/live', () => {
  const registered = createRoutes(() => loadSettings({})).map((r) => r.route);

  it('answer as the served document describes them', async () => {
    expect(doc.paths['/api/health']!.get!.responses['200']!.content!['application/health+json']).toBeDefined();
    expect(doc.paths['/api/health/live']!.get!.responses['200']!.content!['application/health+json']).toBeDefined();
    // The health routes arrive from another branch; until they are registered, the document is held to HealthSchema
    // by test/unit/openapi.test.ts, and this live check covers whatever is registered.
    for (const [route, path] of [
      ['health', '/api/health'],
      ['health/live', '/api/health/live'],
    ] as const) {
      if (!registered.includes(route)) continue;
      const reply = await svc.get(path);
      expect([200, 503]).toContain(reply.status);
      expectDescribed(path, 'get', reply);
    }
  });
});

describe('secrets', () => {
  it('leaked no token, identity header or secret value in any response or log line', () => {
    expectNoLeaks(world, services);
  });
});
