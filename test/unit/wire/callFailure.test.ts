import { RestError, createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import { classifyCallFailure } from '../../../src/engine/classify';
import { callFailureFromError } from '../../../src/wire/callFailure';
import type { Target } from '../../../src/config';
import { settingsFor } from '../fixtures/settings';

/** What the SDK throws when an answer's body is cut or unparseable, built exactly as its pipeline builds it. */
const url = 'https://kv1.vault.azure.net/secrets/s';
const kv: Target = { name: 'kv', kind: 'keyVaultSecret', vaultUrl: 'https://kv1.vault.azure.net', secretName: 's' };

function failureOf(err: unknown) {
  return callFailureFromError(err, { url, deadlineSignal: new AbortController().signal, elapsedMs: 3 });
}

describe('answers the SDK could not read', () => {
  it('reports a connection dropped mid-body as a reset, not an unnamed transport error', () => {
    // ts-http-runtime's streamToText: the socket's "aborted" error is replaced by this, without a status.
    const failure = failureOf(new RestError('Error reading response as text: aborted', { code: RestError.PARSE_ERROR }));
    expect(failure.transport).toMatchObject({ kind: 'reset', endpoint: 'kv1.vault.azure.net' });
    expect(classifyCallFailure({ target: kv, failure, settings: settingsFor(), nowSeconds: 0 })).toBe('target_unreachable');
  });

  it('keeps the status of an answer whose error body is garbage, and invents no service error code', () => {
    const request = createPipelineRequest({ url });
    const body = '<html><body>502 Bad Gateway</body></html>\u0000{"error":';
    const err = new RestError(`Error "SyntaxError" occurred while parsing the response body - ${body}.`, {
      code: RestError.PARSE_ERROR,
      statusCode: 502,
      request,
      response: { status: 502, headers: createHttpHeaders({ 'content-type': 'application/json' }), request, bodyAsText: body },
    });
    const failure = failureOf(err);
    expect(failure.httpStatus).toBe(502);
    expect(failure.errorCode).toBeUndefined();
    expect(failure.message).toBe(`The 502 answer's body could not be parsed (neither JSON nor XML): ${body}`);
    expect(classifyCallFailure({ target: kv, failure, settings: settingsFor(), nowSeconds: 0 })).toBe('target_error');
  });
});

describe('Storage tables\' OData JSON errors', () => {
  const tableUrl = 'https://acct1.table.core.windows.net/orders()';
  const table: Target = { name: 't', kind: 'storageTable', accountUrl: 'https://acct1.table.core.windows.net', tableName: 'orders' };
  /** What @azure/data-tables throws: core-client leaves `code` unset (the body is {"odata.error":…}) and the message the raw body. */
  const tableError = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    const request = createPipelineRequest({ url: tableUrl });
    const text = JSON.stringify(body);
    return new RestError(text, { statusCode: status, request, response: { status, headers: createHttpHeaders(headers), request, bodyAsText: text } });
  };

  it('reads the code and the message from the body when no x-ms-error-code header came', () => {
    const failure = callFailureFromError(
      tableError(403, { 'odata.error': { code: 'AuthorizationPermissionMismatch', message: { lang: 'en-US', value: 'This request is not authorized to perform this operation using this permission.\nRequestId:r1' } } }),
      { url: tableUrl, deadlineSignal: new AbortController().signal, elapsedMs: 3 },
    );
    expect(failure).toMatchObject({ httpStatus: 403, errorCode: 'AuthorizationPermissionMismatch', message: 'This request is not authorized to perform this operation using this permission.\nRequestId:r1' });
    expect(classifyCallFailure({ target: table, failure, settings: settingsFor(), nowSeconds: 0 })).toBe('role_missing');
  });

  it('reads the AuthenticationErrorDetail a table puts beside the code', () => {
    const failure = callFailureFromError(
      tableError(
        403,
        { 'odata.error': { code: 'AuthenticationFailed', message: { lang: 'en-US', value: 'Server failed to authenticate the request.' }, AuthenticationErrorDetail: 'Lifetime validation failed. The token is expired.' } },
        { 'x-ms-error-code': 'AuthenticationFailed' },
      ),
      { url: tableUrl, deadlineSignal: new AbortController().signal, elapsedMs: 3 },
    );
    expect(failure.authenticationDetail).toBe('Lifetime validation failed. The token is expired.');
    expect(classifyCallFailure({ target: table, failure, settings: settingsFor(), nowSeconds: 0 })).toBe('token_expired');
  });
});
