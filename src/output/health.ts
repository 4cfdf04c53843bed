import type { HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { StatusSchema, type Check, type Verdict } from '../verdict';
import { serviceCode } from './describe';
import { KINDS } from '../targets/registry';

/**
 * application/health+json after the IETF health-check draft (draft-inadarei-api-health-check): one entry per target
 * keyed "<target>:authorized". The endpoint is anonymous, so by default each entry says only its status, when it was
 * checked and the cause code — no claims, principal or tenant ids, service messages or explanations. With
 * HEALTH_DETAILS=true an entry adds the explanation and the HTTP status, and the document the summary.
 */

/**
 * GET /api/health — application/health+json after the IETF health-check draft (draft-inadarei-api-health-check).
 * Checks are keyed "<target>:authorized"; `output` is the cause code only unless HEALTH_DETAILS=true.
 */
export const HealthCheckSchema = z.object({
  componentId: z.string().optional(),
  componentType: z.string(),
  status: StatusSchema,
  time: z.string(),
  output: z.string().optional(),
  observedValue: z.string().optional(),
});
export const HealthSchema = z.object({
  status: StatusSchema,
  version: z.string().optional(),
  description: z.string().optional(),
  output: z.string().optional(),
  checks: z.record(z.string(), z.array(HealthCheckSchema)),
});
export type Health = z.infer<typeof HealthSchema>;

export const HEALTH_CONTENT_TYPE = 'application/health+json';

/**
 * componentType per kind, from the draft's predefined values: a vault or a storage account holds data ("datastore");
 * Azure Resource Manager is a whole system we call ("system").
 */
export const COMPONENT_TYPES: Readonly<Record<Check['kind'], string>> = Object.fromEntries(KINDS.map((k) => [k.kind, k.componentType])) as Record<
  Check['kind'],
  string
>;

export interface HealthOptions {
  details: boolean;
}

export function healthOf(verdict: Verdict, { details }: HealthOptions): Health {
  const checks: Health['checks'] = {};
  for (const c of verdict.checks) {
    const code = serviceCode(c);
    checks[`${c.target}:authorized`] = [
      {
        componentType: COMPONENT_TYPES[c.kind],
        status: c.status,
        // When the diagnose ran: a cached answer says its own age.
        time: verdict.checkedAt,
        output: details ? `${c.cause}: ${c.explanation}` : c.cause,
        ...(details && c.httpStatus !== undefined ? { observedValue: `HTTP ${c.httpStatus}${code ? ` ${code}` : ''}` } : {}),
      },
    ];
  }
  return {
    status: verdict.status,
    description: 'Is every dependency authorized for this workload\'s managed identity?',
    ...(details ? { output: verdict.summary } : {}),
    checks,
  };
}

/** pass and warn → 200, fail → 503: probes treat 200–399 as healthy. */
export function healthStatusCode(status: Health['status']): number {
  return status === 'fail' ? 503 : 200;
}

export function renderHealth(health: Health): HttpResponseInit {
  // Parse on the way out: what leaves is exactly the schema, nothing a refactor might have added.
  const body = HealthSchema.parse(health);
  return {
    status: healthStatusCode(body.status),
    headers: { 'content-type': HEALTH_CONTENT_TYPE, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
    body: JSON.stringify(body, null, 2),
  };
}
