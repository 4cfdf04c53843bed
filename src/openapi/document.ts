import { z } from 'zod';
import { FORMATS, MEDIA_TYPES } from '../output';
import { DiagnoseQuerySchema } from '../http/diagnoseRequest';
import { CheckSchema, HealthCheckSchema, HealthSchema, ProblemSchema, VerdictSchema } from '../verdict';

/**
 * The OpenAPI 3.1 description of the HTTP API, generated from the same zod schemas the handlers parse and answer
 * with: request parameters from DiagnoseQuerySchema's shape, bodies from VerdictSchema, HealthSchema and
 * ProblemSchema. OpenAPI 3.1 schema objects are JSON Schema 2020-12, which is what z.toJSONSchema emits.
 */

/** Version of this description of the API (not of the package). */
export const API_DESCRIPTION_VERSION = '1.0.0';

/** GET /api/health/live: the process answers; no dependency is checked, so `checks` may be absent. */
const LivenessSchema = HealthSchema.partial({ checks: true });

/** Named schemas, served as #/components/schemas/<name>; nested ones are referenced, not repeated. */
const COMPONENTS = {
  Verdict: VerdictSchema,
  Check: CheckSchema,
  Problem: ProblemSchema,
  Health: HealthSchema,
  HealthCheck: HealthCheckSchema,
  Liveness: LivenessSchema,
} satisfies Record<string, z.ZodType>;
export type ComponentName = keyof typeof COMPONENTS;

type JsonSchema = Record<string, unknown>;

/** What each query parameter means; the list of parameters itself comes from DiagnoseQuerySchema. */
const PARAMETER_NOTES: Record<string, string> = {
  target: 'Target names from DIAGNOSE_TARGETS, comma-separated (letters, digits, ".", "_", "-"). Default: every configured target.',
  format: 'Response format. Without it, the format follows the Accept header; JSON by default.',
  probe: '`raw`: also probe the identity endpoint with the platform\'s own protocol when the SDK succeeds (after a failure it always is).',
  waitSeconds: 'Wait mode: re-probe failing checks with backoff until they pass or this many seconds run out; capped at 200 s (see `wait` in the verdict).',
  code: 'The function key, when passed in the query (as Azure callers may); accepted and ignored by the handler.',
};

/** zod writes JavaScript's safe-integer bounds on every int(): true, and noise in a published contract. */
function dropSafeIntegerBounds({ jsonSchema }: { jsonSchema: JsonSchema }): void {
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
}

function componentSchemas(): Record<ComponentName, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    uri: (id) => `#/components/schemas/${id}`,
    override: dropSafeIntegerBounds,
  });
  // Inside an OpenAPI document the dialect is given once, and a component is named by its key, not by $id.
  for (const s of Object.values(schemas)) {
    delete s.$schema;
    delete s.$id;
  }
  return schemas as Record<ComponentName, JsonSchema>;
}

/** One query parameter per key of DiagnoseQuerySchema, described as the caller writes it (zod input side). */
function diagnoseParameters(): JsonSchema[] {
  return Object.entries(DiagnoseQuerySchema.shape).map(([name, schema]) => {
    const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', override: dropSafeIntegerBounds }) as JsonSchema;
    delete json.$schema;
    const description = PARAMETER_NOTES[name] ?? (json.description as string | undefined);
    return {
      name,
      in: 'query',
      required: !schema.safeParse(undefined).success,
      ...(description ? { description } : {}),
      schema: json,
    };
  });
}

const ref = (name: ComponentName) => ({ $ref: `#/components/schemas/${name}` });

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});
const health = (name: ComponentName, description: string) => ({
  description,
  content: { 'application/health+json': { schema: ref(name) } },
});

/** A verdict response in every format the handler renders: JSON by the schema, the others as documents. */
const verdictResponse = (description: string) => ({
  description,
  content: Object.fromEntries(
    FORMATS.map((f) => [MEDIA_TYPES[f], f === 'json' ? { schema: ref('Verdict') } : { schema: { type: 'string', description: `The verdict rendered as ${f}.` } }]),
  ),
});

function diagnoseOperation(method: 'get' | 'post') {
  return {
    operationId: method === 'get' ? 'diagnose' : 'diagnoseByPost',
    summary: 'Diagnose whether the managed identity can reach each configured dependency',
    description:
      'Acquires a token per distinct audience, calls every selected target with it (read-only), and answers with a verdict per target. ' +
      'The status code alone tells a pipeline whether to stop: 200 when no check fails, 503 when any does. ' +
      'Unknown or repeated query parameters are refused with 400, so a typo never silently diagnoses everything.' +
      (method === 'post' ? ' POST takes no body; it exists for callers that cannot send GET.' : ''),
    parameters: diagnoseParameters(),
    security: [{ functionKey: [] }],
    responses: {
      '200': verdictResponse('No check failed: every selected dependency is authorized (pass), or only warns (resource not found, throttled).'),
      '503': verdictResponse('At least one check failed; each failing check names its cause and the fix.'),
      '400': problem('A query parameter is unknown, repeated or malformed, a target name is not configured, or a POST carries a body.'),
      '401': { description: 'On Azure: the function key is missing or wrong. The Functions host answers this, without a body.' },
    },
  };
}

function buildDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Identity Doctor',
      version: API_DESCRIPTION_VERSION,
      summary: "Can this workload's managed identity reach each of its dependencies, and if not, exactly why?",
      license: { name: 'MIT', identifier: 'MIT' },
    },
    paths: {
      '/api/diagnose': { get: diagnoseOperation('get'), post: diagnoseOperation('post') },
      '/api/health': {
        get: {
          operationId: 'health',
          summary: 'Dependency health for probes (IETF health-check draft)',
          description:
            'Anonymous. One check per target, keyed "<target>:authorized". Shows cause codes only unless HEALTH_DETAILS=true; ' +
            'reuses one diagnose for HEALTH_CACHE_SECONDS.',
          security: [],
          responses: {
            '200': health('Health', 'Every dependency passes or warns.'),
            '503': health('Health', 'At least one dependency fails.'),
          },
        },
      },
      '/api/health/live': {
        get: {
          operationId: 'liveness',
          summary: 'Liveness: the app answers (no dependency is checked)',
          security: [],
          responses: { '200': health('Liveness', 'The app is up.') },
        },
      },
      '/api/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This description of the API',
          security: [],
          responses: {
            '200': { description: 'OpenAPI 3.1 document.', content: { 'application/json': { schema: { type: 'object' } } } },
          },
        },
      },
    },
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        functionKey: {
          type: 'apiKey',
          in: 'header',
          name: 'x-functions-key',
          description: 'A function key or host key of the Function App (`az functionapp keys list`). The local server (`npm run serve`) does not check it.',
        },
      },
    },
  };
}

export type OpenApiDocument = ReturnType<typeof buildDocument>;

let cached: { document: OpenApiDocument; text: string } | undefined;

/** The document, generated once per process (the schemas it comes from do not change at run time). */
export function openApiDocument(): OpenApiDocument {
  cached ??= (() => {
    const document = buildDocument();
    return { document, text: JSON.stringify(document, null, 2) };
  })();
  return cached.document;
}

/** The document as served. */
export function openApiText(): string {
  openApiDocument();
  return cached!.text;
}
