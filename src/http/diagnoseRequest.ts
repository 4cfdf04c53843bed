import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import type { Settings, Target } from '../config';
import { FAIL_ON, FORMATS, negotiateFormat, type FailOn, type Format } from '../output';
import { adHocTargetsOf } from './adHocTargets';
import { parameterErrors, problem } from './problem';

/**
 * Parse and validate a diagnose request (query string, body) into what the engine needs, or a 400 problem naming
 * the parameter and the rule it broke. Unknown and repeated parameters are refused, so a typo never silently
 * diagnoses everything. A POST body carries ad-hoc targets, held to the host policy in adHocTargets.ts.
 */

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const DiagnoseQuerySchema = z
  .object({
    target: z
      .string()
      .max(4096)
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
      .pipe(z.array(z.string().regex(NAME, 'expected target names separated by commas')).min(1, 'expected at least one target name'))
      .optional(),
    format: z.enum(FORMATS, { message: `expected one of ${FORMATS.join(', ')}` }).optional(),
    /** `raw`: also probe the identity endpoint with the platform's own protocol when the SDK succeeds. */
    probe: z.enum(['raw'], { message: 'expected raw' }).optional(),
    /** Wait mode: re-probe failing checks until they pass or this many seconds run out (capped, see wait.ts). */
    waitSeconds: z
      .string()
      .regex(/^\d{1,6}$/, 'expected a whole number of seconds')
      .transform(Number)
      .optional(),
    /** Which overall status answers 503: `fail` (default), or `warn` for a strict gate that also stops on warnings. */
    failOn: z.enum(FAIL_ON, { message: `expected one of ${FAIL_ON.join(', ')}` }).optional(),
    // The function key (authLevel "function"): the Functions host checks it and still passes it on; never echoed.
    code: z.string().max(512).optional(),
  })
  .strict();

export interface DiagnoseRequest {
  targets: Target[];
  format: Format;
  rawProbe: boolean;
  /** Undefined: answer at once. */
  waitSeconds?: number;
  /** The overall status from which the answer is 503. */
  failOn: FailOn;
}

function queryObject(request: HttpRequest): { value: Record<string, string>; repeated: string[] } {
  const value: Record<string, string> = {};
  const repeated: string[] = [];
  for (const [k, v] of request.query.entries()) {
    if (k in value) repeated.push(k);
    value[k] = v;
  }
  return { value, repeated };
}

/** What the query says beyond target selection: the same for configured and ad-hoc targets. */
function options(request: HttpRequest, q: z.infer<typeof DiagnoseQuerySchema>): Omit<DiagnoseRequest, 'targets'> {
  return { format: negotiateFormat(request, q.format), rawProbe: q.probe === 'raw', waitSeconds: q.waitSeconds, failOn: q.failOn ?? 'fail' };
}

export async function parseDiagnoseRequest(
  request: HttpRequest,
  settings: Settings,
): Promise<{ ok: true; value: DiagnoseRequest } | { ok: false; response: HttpResponseInit }> {
  const bad = (response: HttpResponseInit) => ({ ok: false as const, response });
  const { value, repeated } = queryObject(request);
  if (repeated.length) {
    const errors = parameterErrors(repeated, 'given more than once');
    return bad(problem(400, 'Bad query', `parameter given more than once: ${errors.map((e) => e.parameter).join(', ')}`, errors));
  }
  const parsed = DiagnoseQuerySchema.safeParse(value);
  if (!parsed.success) {
    return bad(
      problem(
        400,
        'Bad query',
        `The query string does not fit /api/diagnose[?target=a,b][&format=${FORMATS.join('|')}].`,
        // Known parameters are named by the schema; unknown ones are the caller's text, shown only when plain.
        parsed.error.issues.flatMap((i) =>
          i.code === 'unrecognized_keys'
            ? parameterErrors(i.keys, 'unknown parameter')
            : [{ parameter: String(i.path[0] ?? 'query'), message: i.message }],
        ),
      ),
    );
  }
  if (request.method === 'POST') {
    const adHoc = await adHocTargetsOf(request, settings);
    if (!adHoc.ok) return bad(adHoc.response);
    if (adHoc.targets) {
      if (parsed.data.target) {
        return bad(
          problem(400, 'Bad query', '?target= selects configured targets and a body brings its own: send one or the other.', [
            { parameter: 'target', message: 'not allowed together with ad-hoc targets in the body' },
          ]),
        );
      }
      return { ok: true, value: { targets: adHoc.targets, ...options(request, parsed.data) } };
    }
  }
  let targets = settings.targets;
  if (parsed.data.target) {
    const known = new Set(targets.map((t) => t.name));
    const unknown = parsed.data.target.filter((n) => !known.has(n));
    if (unknown.length) {
      return bad(
        problem(
          400,
          'Unknown target',
          `No configured target named ${unknown.map((n) => `"${n}"`).join(', ')}. Configured: ${[...known].join(', ') || '(none)'}.`,
          unknown.map((n) => ({ parameter: 'target', message: `unknown target "${n}"` })),
        ),
      );
    }
    const wanted = new Set(parsed.data.target);
    targets = targets.filter((t) => wanted.has(t.name));
  }
  return { ok: true, value: { targets, ...options(request, parsed.data) } };
}
