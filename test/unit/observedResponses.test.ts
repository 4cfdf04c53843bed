import { openApiDocument } from '../../src/openapi/document';
import { undescribed, type Observation } from '../support/observedResponses';

/** The end-of-run check (test/support/globalTeardown.ts) must catch what the document does not describe. */
const doc = openApiDocument() as never;
const seen = (method: string, path: string, status: number, mediaType: string): Observation => ({ method, path, status, mediaType });

describe('the observed-responses check', () => {
  it('accepts what the document describes, and the local server\'s 404 and 405 problems', () => {
    expect(
      undescribed(
        [
          seen('GET', '/api/diagnose', 503, 'text/plain'),
          seen('POST', '/api/diagnose', 415, 'application/problem+json'),
          seen('GET', '/api/health', 200, 'application/health+json'),
          seen('GET', '/api/nope', 404, 'application/problem+json'),
          seen('DELETE', '/api/health', 405, 'application/problem+json'),
          // Refused by Node's parser before the method is known (headers over 16 KiB).
          seen('DELETE', '/api/health', 431, 'application/problem+json'),
        ],
        doc,
      ),
    ).toEqual([]);
  });

  it('names a status, a media type or a route the document does not describe', () => {
    expect(
      undescribed(
        [
          seen('GET', '/api/diagnose', 418, 'application/problem+json'),
          seen('GET', '/api/diagnose', 200, 'application/yaml'),
          seen('GET', '/api/health', 415, 'application/problem+json'),
          seen('GET', '/api/nope', 200, 'application/json'),
          seen('DELETE', '/api/health', 500, 'application/problem+json'),
        ],
        doc,
      ),
    ).toEqual([
      'GET /api/diagnose → 418 application/problem+json: status not described',
      'GET /api/diagnose → 200 application/yaml: media type not described for this status',
      'GET /api/health → 415 application/problem+json: status not described',
      "GET /api/nope → 200 application/json: not in the document, and not the local server's 404 problem",
      "DELETE /api/health → 500 application/problem+json: not in the document, and not the local server's 405 problem",
    ]);
  });
});
