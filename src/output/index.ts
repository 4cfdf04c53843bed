import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { Verdict } from '../verdict';
import { formatFromAccept } from './accept';
import { REPORT_CSP_HEADER } from './htmlAssets';
import { renderHtml } from './html';
import { renderJunit } from './junit';
import { renderText } from './text';

/**
 * Verdict → HTTP response in the format the caller asked for. One module per format lives beside this one; the
 * diagnose handler only calls `negotiateFormat` and `renderVerdict`.
 *
 * - `json` (default): the verdict schema;
 * - `text`: a fixed-width table for pipeline logs;
 * - `junit`: JUnit XML for test reporters;
 * - `html`: a self-contained report for a person.
 */
export const FORMATS = ['json', 'text', 'junit', 'html'] as const;
export type Format = (typeof FORMATS)[number];

/** The media type each format is served as (the OpenAPI document reads this table too). */
export const MEDIA_TYPES: Readonly<Record<Format, string>> = {
  json: 'application/json',
  text: 'text/plain',
  junit: 'application/xml',
  html: 'text/html',
};
const contentType = (format: Format) => `${MEDIA_TYPES[format]}; charset=utf-8`;

/** `?format=` (already validated) wins; else the Accept header's preferred format; else JSON. */
export function negotiateFormat(request: HttpRequest, queryFormat: Format | undefined): Format {
  return queryFormat ?? formatFromAccept(request.headers.get('accept')) ?? 'json';
}

/**
 * The overall status from which /api/diagnose answers 503 (`?failOn=`): `fail` by default; `warn` for a strict gate,
 * where a missing secret or a throttled dependency stops a pipeline too.
 */
export const FAIL_ON = ['fail', 'warn'] as const;
export type FailOn = (typeof FAIL_ON)[number];

/**
 * 200 when no check fails (pass/warn), 503 when any fails — in every format, so `curl --fail` works on all. With
 * failOn `warn`, a warn verdict answers 503 as well.
 */
export function httpStatusOf(verdict: Verdict, failOn: FailOn = 'fail'): number {
  return verdict.status === 'fail' || (failOn === 'warn' && verdict.status === 'warn') ? 503 : 200;
}

const COMMON_HEADERS = {
  'cache-control': 'no-store',
  // The same URL answers in four formats depending on Accept.
  vary: 'Accept',
  // A text or XML body quoting a hostile service message must never be sniffed into HTML.
  'x-content-type-options': 'nosniff',
};

export function renderVerdict(verdict: Verdict, format: Format, failOn: FailOn = 'fail'): HttpResponseInit {
  const status = httpStatusOf(verdict, failOn);
  switch (format) {
    case 'json':
      return { status, headers: { ...COMMON_HEADERS, 'content-type': contentType('json') }, body: JSON.stringify(verdict, null, 2) };
    case 'text':
      return { status, headers: { ...COMMON_HEADERS, 'content-type': contentType('text') }, body: renderText(verdict) };
    case 'junit':
      return { status, headers: { ...COMMON_HEADERS, 'content-type': contentType('junit') }, body: renderJunit(verdict) };
    case 'html':
      return {
        status,
        headers: {
          ...COMMON_HEADERS,
          'content-type': contentType('html'),
          'content-security-policy': REPORT_CSP_HEADER,
          'referrer-policy': 'no-referrer',
          'x-frame-options': 'DENY',
        },
        body: renderHtml(verdict),
      };
  }
}
