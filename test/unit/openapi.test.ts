import { HttpRequest, InvocationContext } from '@azure/functions';
import { openapiHandler } from '../../src/functions/openapi';
import { DiagnoseQuerySchema } from '../../src/http/diagnoseRequest';
import { openApiDocument } from '../../src/openapi/document';
import { createRoutes } from '../../src/routes';
import { VerdictSchema } from '../../src/verdict';
import { ProblemSchema } from '../../src/http/problem';
import { HealthSchema } from '../../src/output/health';
import { resolveRef, validate } from '../support/jsonSchema';
import { loadSettings } from '../../src/config';

/**
 * The served OpenAPI document against the code it describes: the route table, the query schema and the zod schemas.
 * (test/integration/openapi.test.ts holds it to live responses.)
 */
const doc = openApiDocument() as unknown as {
  openapi: string;
  paths: Record<string, Record<string, { parameters?: { name: string; required: boolean; schema: Record<string, unknown> }[]; security: unknown[]; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  components: { schemas: Record<string, Record<string, unknown>>; securitySchemes: Record<string, unknown> };
};
const schemaOf = (name: string) => resolveRef(doc, `#/components/schemas/${name}`);

describe('GET /api/openapi.json', () => {
  it('answers 200 with the document as JSON, anonymously', async () => {
    const res = await openapiHandler(new HttpRequest({ method: 'GET', url: 'http://localhost/api/openapi.json' }), new InvocationContext());
    expect(res.status).toBe(200);
    expect((res.headers as Record<string, string>)['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(res.body as string)).toEqual(JSON.parse(JSON.stringify(doc)));
    expect(createRoutes(() => loadSettings({})).find((r) => r.name === 'openapi')).toMatchObject({ route: 'openapi.json', methods: ['GET'], authLevel: 'anonymous' });
  });
});

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1, whose schemas are JSON Schema 2020-12', () => {
    expect(doc.openapi).toBe('3.1.0');
  });

  it('describes every registered route, with its methods and its auth level', () => {
    for (const route of createRoutes(() => loadSettings({}))) {
      const item = doc.paths[`/api/${route.route}`];
      expect(item).toBeDefined();
      for (const m of route.methods) {
        const op = item![m.toLowerCase()]!;
        expect(op).toBeDefined();
        expect(op.security).toEqual(route.authLevel === 'anonymous' ? [] : [{ functionKey: [] }]);
      }
    }
  });

  it('lists exactly the query parameters DiagnoseQuerySchema accepts, none required', () => {
    for (const method of ['get', 'post']) {
      const params = doc.paths['/api/diagnose']![method]!.parameters!;
      expect(params.map((p) => p.name)).toEqual(Object.keys(DiagnoseQuerySchema.shape));
      expect(params.every((p) => !p.required)).toBe(true);
    }
  });

  it('describes the POST body as the ad-hoc targets the handler accepts, and GET without one', () => {
    const ops = doc.paths['/api/diagnose'] as unknown as Record<string, { requestBody?: { required: boolean; content: Record<string, { schema: Record<string, unknown> }> }; description: string }>;
    expect(ops.get!.requestBody).toBeUndefined();
    const body = ops.post!.requestBody!;
    expect(body.required).toBe(false);
    expect(Object.keys(body.content)).toEqual(['application/json']);
    const schema = body.content['application/json']!.schema;
    const target = { name: 'new-vault', kind: 'keyVaultSecret', vaultUrl: 'https://kv-new.vault.azure.net', secretName: 'db-password' };
    expect(validate(schema, [target], doc)).toEqual([]);
    expect(validate(schema, [], doc)).not.toEqual([]);
    expect(validate(schema, Array.from({ length: 17 }, (_, i) => ({ ...target, name: `t${i}` })), doc)).not.toEqual([]);
    expect(validate(schema, [{ ...target, kind: 'nope' }], doc)).not.toEqual([]);
    expect(JSON.stringify(doc)).not.toMatch(/takes no body/);
  });

  it('describes the problems each diagnose method really answers', () => {
    const statuses = (m: string) => Object.keys(doc.paths['/api/diagnose']![m]!.responses).sort();
    expect(statuses('get')).toEqual(['200', '400', '401', '429', '503']);
    expect(statuses('post')).toEqual(['200', '400', '401', '403', '413', '415', '429', '503']);
    expect((doc.paths['/api/diagnose']!.get!.responses['429'] as { headers?: unknown }).headers).toHaveProperty('Retry-After');
    for (const s of ['400', '403', '413', '415', '429']) {
      expect(doc.paths['/api/diagnose']!.post!.responses[s]!.content).toEqual({ 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } });
    }
    expect(Object.keys(doc.paths['/api/health']!.get!.responses).sort()).toEqual(['200', '400', '503']);
  });

  it('offers, for each enumerated parameter, only values the schema accepts', () => {
    for (const p of doc.paths['/api/diagnose']!.get!.parameters!) {
      for (const value of (p.schema.enum as string[] | undefined) ?? []) expect(DiagnoseQuerySchema.safeParse({ [p.name]: value }).success).toBe(true);
    }
  });

  it('resolves every $ref it contains', () => {
    const refs: string[] = [];
    (function walk(x: unknown): void {
      if (Array.isArray(x)) x.forEach(walk);
      else if (x && typeof x === 'object') {
        for (const [k, v] of Object.entries(x)) if (k === '$ref') refs.push(v as string);
        Object.values(x).forEach(walk);
      }
    })(doc);
    expect(refs.length).toBeGreaterThan(5);
    for (const r of refs) expect(() => resolveRef(doc, r)).not.toThrow();
  });

  it('answers a verdict for 200 and 503 and a problem for 400, by media type', () => {
    const responses = doc.paths['/api/diagnose']!.get!.responses;
    for (const status of ['200', '503']) {
      const content = responses[status]!.content as Record<string, { schema: Record<string, unknown> }>;
      expect(Object.keys(content).sort()).toEqual(['application/json', 'application/xml', 'text/html', 'text/plain']);
      expect(content['application/json']).toEqual({ schema: { $ref: '#/components/schemas/Verdict' } });
      expect(content['text/html']!.schema).toMatchObject({ type: 'string' });
    }
    expect(responses['400']!.content).toEqual({ 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } });
  });

  it('describes /api/health as health+json (200 and 503) and /api/health/live (200)', () => {
    const health = doc.paths['/api/health']!.get!.responses;
    for (const status of ['200', '503']) expect(health[status]!.content).toEqual({ 'application/health+json': { schema: { $ref: '#/components/schemas/Health' } } });
    expect(Object.keys(doc.paths['/api/health/live']!.get!.responses)).toEqual(['200']);
  });
});

describe('schemas in the document agree with the zod schemas they come from', () => {
  const verdict = VerdictSchema.parse({
    status: 'fail',
    summary: '0 of 1 dependency authorized; kv: role_missing.',
    durationMs: 8,
    checkedAt: '2026-11-22T05:24:57.887Z',
    identity: { hostKind: 'functions', clientId: 'c', principalId: 'p' },
    checks: [
      {
        target: 'kv',
        kind: 'keyVaultSecret',
        audience: 'https://vault.azure.net',
        status: 'fail',
        category: 'authorization',
        cause: 'role_missing',
        title: 'Role missing',
        stage: 'call',
        httpStatus: 403,
        claims: { aud: 'https://vault.azure.net', iat: 1, exp: 2 },
        evidence: { errorCode: 'Forbidden', settings: { AZURE_CLIENT_ID: 'set' }, result: { readable: false, version: null, count: 0 }, challenge: { scopes: ['s'] } },
        explanation: 'x',
        fix: ['az role assignment create …'],
        durationMs: 8,
      },
    ],
  });

  it('accepts what zod accepts', () => {
    expect(validate(schemaOf('Verdict'), verdict, doc)).toEqual([]);
    expect(validate(schemaOf('Problem'), ProblemSchema.parse({ type: 't', title: 'Bad query', status: 400, errors: [{ parameter: 'x', message: 'm' }] }), doc)).toEqual([]);
    const health = HealthSchema.parse({ status: 'warn', checks: { 'kv:authorized': [{ componentType: 'keyVaultSecret', status: 'warn', time: '2026-01-01T00:00:00Z', output: 'resource_not_found' }] } });
    expect(validate(schemaOf('Health'), health, doc)).toEqual([]);
    expect(validate(schemaOf('Liveness'), { status: 'pass' }, doc)).toEqual([]);
  });

  it('rejects what zod rejects: an unknown cause, a missing field, an undeclared field', () => {
    const bad = structuredClone(verdict) as unknown as { checks: Record<string, unknown>[] };
    bad.checks[0]!.cause = 'bad_luck';
    delete bad.checks[0]!.fix;
    bad.checks[0]!.token = 'eyJ…';
    expect(VerdictSchema.safeParse(bad).success).toBe(false);
    expect(validate(schemaOf('Verdict'), bad, doc).map((e) => e.path)).toEqual(['/checks/0', '/checks/0/cause', '/checks/0/token']);
    expect(validate(schemaOf('Health'), { status: 'pass', checks: { a: [{ status: 'pass' }] } }, doc).length).toBeGreaterThan(0);
  });
});
