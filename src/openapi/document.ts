import { z } from 'zod';
import { FORMATS, MEDIA_TYPES } from '../output';
import { AdHocTargetsBodySchema, MAX_AD_HOC_TARGETS, MAX_BODY_BYTES } from '../http/adHocTargets';
import { DiagnoseQuerySchema } from '../http/diagnoseRequest';
import { CheckSchema, VerdictSchema } from '../verdict';
import { ProblemSchema } from '../http/problem';
import { HealthCheckSchema, HealthSchema } from '../output/health';

/**
 * The OpenAPI 3.1 description of the HTTP API, generated from the same zod schemas the handlers parse and answer
 * with: request parameters from DiagnoseQuerySchema's shape, the POST body from AdHocTargetsBodySchema, answers from
 * VerdictSchema, HealthSchema and ProblemSchema — every status and media type the handlers answer with
 * (test/integration/openapi.test.ts and the observed-responses check hold the document to what the service does). OpenAPI 3.1 schema objects are JSON Schema 2020-12, which is what z.toJSONSchema emits.
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
  failOn: 'Which overall status answers 503: `fail` (default), or `warn` for a strict gate where a warning (resource not found, throttled) stops a pipeline too.',
  waitSeconds: 'Wait mode: re-probe failing checks with backoff until they pass or this many seconds run out; capped at 200 s (see `wait` in the verdict).',
  code: 'The function key, when passed in the query (as Azure callers may); accepted and ignored by the handler.',
};

/** zod writes JavaScript's safe-integer bounds on every int(): true, and noise in a published contract. */
function dropSafeIntegerBounds({ jsonSchema }: { jsonSchema: JsonSchema }): void {
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
}

/** A zod schema as the caller writes it (zod input side), for parameters and request bodies. */
function inputSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', override: dropSafeIntegerBounds }) as JsonSchema;
  delete json.$schema;
  return json;
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
    const json = inputSchema(schema);
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

/** The POST body: ad-hoc targets, diagnosed instead of the configured ones. Optional: without it, POST is GET. */
const adHocRequestBody = () => ({
  required: false,
  description:
    `Ad-hoc targets: a JSON array of 1 to ${MAX_AD_HOC_TARGETS} targets of the DIAGNOSE_TARGETS shape, at most ${MAX_BODY_BYTES} bytes. ` +
    'Exactly these are diagnosed, held to the host policy (a host of the target\'s own service in the configured cloud, or one listed in ' +
    'DIAGNOSE_ALLOWED_HOSTS; https on 443; no credentials in the URL; only the cloud\'s own audiences). Without a body, the configured targets are diagnosed.',
  content: { 'application/json': { schema: inputSchema(AdHocTargetsBodySchema) } },
});

function diagnoseOperation(method: 'get' | 'post') {
  const post = method === 'post';
  return {
    operationId: post ? 'diagnoseByPost' : 'diagnose',
    summary: post
      ? 'Diagnose the configured targets, or the ad-hoc targets of the body'
      : 'Diagnose whether the managed identity can reach each configured dependency',
    description:
      'Acquires a token per distinct audience, calls every selected target with it (read-only), and answers with a verdict per target. ' +
      'The status code alone tells a pipeline whether to stop: 200 when no check fails, 503 when any does (with failOn=warn, also when one warns). ' +
      'Unknown or repeated query parameters are refused with 400, so a typo never silently diagnoses everything.',
    parameters: diagnoseParameters(),
    ...(post ? { requestBody: adHocRequestBody() } : {}),
    security: [{ functionKey: [] }],
    responses: {
      '200': verdictResponse('No check failed: every selected dependency is authorized (pass), or only warns (resource not found, throttled) and failOn is not warn.'),
      '503': verdictResponse('At least one check failed (or, with failOn=warn, warned); each such check names its cause and the fix.'),
      '400': problem(
        post
          ? 'A query parameter is unknown, repeated or malformed; a target name is not configured; the body is not JSON, not 1 to 16 targets, or breaks the target schema; or ?target= comes with a body.'
          : 'A query parameter is unknown, repeated or malformed, or a target name is not configured.',
      ),
      '401': {
        description:
          'The function key is missing or wrong. On Azure the Functions host answers this, without a body; the container image and `npm run serve` with DIAGNOSE_API_KEY answer it as a problem.',
        content: { 'application/problem+json': { schema: ref('Problem') } },
      },
      '429': {
        ...problem(
          'Too busy: the admission queue is full, a queued turn would eat the deadline, or too many wait-mode (?waitSeconds=) requests are held. Nothing was diagnosed; retry after Retry-After.',
        ),
        headers: { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 1 } } },
      },
      ...(post
        ? {
            '403': problem('An ad-hoc target breaks the host policy; `errors` name the rule (host-not-allowed, https-only, no-credentials, port-not-allowed, audience-not-allowed). Nothing was sent.'),
            '413': problem(`The body is larger than ${MAX_BODY_BYTES} bytes.`),
            '415': problem('A body was sent with another content type than application/json.'),
          }
        : {}),
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
            '400': problem('A query parameter was given: /api/health takes none (it always reports every configured target).'),
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
