import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { openApiText } from '../openapi/document';

/**
 * GET /api/openapi.json — the OpenAPI 3.1 description generated from the zod schemas (src/openapi/document.ts).
 * Anonymous: it describes the contract and holds no setting, target or key.
 */
export function openapiHandler(_request: HttpRequest, _context: InvocationContext): HttpResponseInit {
  return {
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300', 'x-content-type-options': 'nosniff' },
    body: openApiText(),
  };
}
