import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { Verdict } from '../verdict';

/**
 * Verdict → HTTP response in the format the caller asked for. One module per format lives beside this one; the
 * diagnose handler only calls `negotiateFormat` and `renderVerdict`.
 */
export const FORMATS = ['json'] as const;
export type Format = (typeof FORMATS)[number];

/** The format from `?format=` (already validated) or else the Accept header; JSON by default. */
export function negotiateFormat(_request: HttpRequest, queryFormat: Format | undefined): Format {
  return queryFormat ?? 'json';
}

/** 200 when no check fails (pass/warn), 503 when any fails — in every format, so `curl --fail` works on all. */
export function httpStatusOf(verdict: Verdict): number {
  return verdict.status === 'fail' ? 503 : 200;
}

export function renderVerdict(verdict: Verdict, format: Format): HttpResponseInit {
  switch (format) {
    case 'json':
      return {
        status: httpStatusOf(verdict),
        headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
        body: JSON.stringify(verdict, null, 2),
      };
  }
}
