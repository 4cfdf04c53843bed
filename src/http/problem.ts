import type { HttpResponseInit } from '@azure/functions';
import { z } from 'zod';

/** RFC 9457 problem details, the body of every 4xx/5xx that is not a verdict. */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z.array(z.object({ parameter: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof ProblemSchema>;

/** Headers every problem answer carries: never cached, never sniffed into something a browser would run. */
export const PROBLEM_HEADERS = {
  'content-type': 'application/problem+json',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

/** RFC 9457 problem details: every refusal says what was wrong and which rule or parameter it broke. */
export function problem(
  status: number,
  title: string,
  detail?: string,
  errors?: { parameter: string; message: string }[],
): HttpResponseInit {
  const body: Problem = {
    type: `https://github.com/identity-doctor/identity-doctor#problem-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`,
    title,
    status,
    ...(detail ? { detail } : {}),
    ...(errors?.length ? { errors } : {}),
  };
  return { status, headers: { ...PROBLEM_HEADERS }, body: JSON.stringify(body) };
}

/** A parameter name the caller sent that is safe to repeat back: short, and nothing but letters, digits, ".", "_", "-". */
const ECHOABLE_NAME = /^[A-Za-z0-9_.-]{1,40}$/;

/** Stands in for a caller's parameter name that is not repeated back. */
export const UNSHOWN_PARAMETER = '(name not shown)';

/**
 * A caller's parameter name as a problem may show it: itself when it is a plain short name, else a placeholder — a
 * problem never reflects arbitrary caller text (markup, control characters, long strings) back.
 */
export function echoableName(name: string): string {
  return ECHOABLE_NAME.test(name) ? name : UNSHOWN_PARAMETER;
}

/** One `errors` entry per caller parameter the rule refuses, names restricted as echoableName says (duplicates merged). */
export function parameterErrors(names: Iterable<string>, message: string): { parameter: string; message: string }[] {
  return [...new Set([...names].map(echoableName))].map((parameter) => ({ parameter, message }));
}
