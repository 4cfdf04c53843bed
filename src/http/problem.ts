import type { HttpResponseInit } from '@azure/functions';
import type { Problem } from '../verdict';

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
  return {
    status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}
