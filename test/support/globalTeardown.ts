import { openApiDocument } from '../../src/openapi/document';
import { readObservations, undescribed } from './observedResponses';

/**
 * After every test file has run: each (route, method, status, media type) the integration tests received must be
 * described by the OpenAPI document the service serves. A throw here fails the run.
 */
export default function globalTeardown(): void {
  const missing = undescribed(readObservations(), openApiDocument() as never);
  if (missing.length) {
    throw new Error(
      `The service answered what its OpenAPI document does not describe (add it in src/openapi/document.ts):\n  ${missing.join('\n  ')}`,
    );
  }
}
