import { ConfigError, loadSettings, type Target } from '../../../src/config';
import { classifyCallFailure } from '../../../src/engine/classify';
import { challengeDescription, isKeyFilter } from '../../../src/targets/appConfiguration';
import type { CallFailure } from '../../../src/wire/callFailure';
import type { Claims } from '../../../src/verdict';
import { OID, TENANT, settingsFor } from '../fixtures/settings';

const target: Target = { name: 'cfg', kind: 'appConfiguration', endpoint: 'https://appcs-app.azconfig.io', key: 'App:Greeting', label: 'prod' };
const now = Math.floor(Date.now() / 1000);
const claims = (extra: Partial<Claims> = {}): Claims => ({ aud: 'https://appconfig.azure.com', tid: TENANT, oid: OID, iss: `https://sts.windows.net/${TENANT}/`, exp: now + 3600, ...extra });
const classify = (failure: CallFailure, c: Claims = claims()) =>
  classifyCallFailure({ target, failure, claims: c, settings: settingsFor({ EXPECTED_TENANT_ID: TENANT }), nowSeconds: now });

// rest-api-authentication-azure-ad.md ("Errors"), verbatim.
const INVALID = 'HMAC-SHA256, Bearer error="invalid_token", error_description="Authorization token failed validation"';
const WRONG_ISSUER =
  'HMAC-SHA256, Bearer error="invalid_token", error_description="The access token is from the wrong issuer. It must match the AD tenant associated with the subscription to which the configuration store belongs. If you just transferred your subscription and see this error message, please try back later."';

function problemsOf(targets: unknown[]): { setting: string; expected: string }[] {
  try {
    loadSettings({ DIAGNOSE_TARGETS: JSON.stringify(targets) });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('appConfiguration targets in DIAGNOSE_TARGETS', () => {
  it('accepts a store alone, a key, a key with a label, a key filter and the "no label" label', () => {
    const targets = [
      { name: 'a', kind: 'appConfiguration', endpoint: 'https://appcs-app.azconfig.io' },
      { name: 'b', kind: 'appConfiguration', endpoint: 'https://appcs-app.azconfig.io', key: 'App:Greeting' },
      { name: 'c', kind: 'appConfiguration', endpoint: 'https://appcs-app.azconfig.io', key: 'App:Greeting', label: 'prod' },
      { name: 'd', kind: 'appConfiguration', endpoint: 'https://appcs-app.azconfig.io', key: 'App:*', label: '\0' },
    ];
    expect(problemsOf(targets)).toEqual([]);
  });

  it.each([
    ['an http endpoint', { endpoint: 'http://appcs-app.azconfig.io' }, 'endpoint', 'https URL'],
    ['a key with "%"', { key: 'App%3AGreeting' }, 'key', 'App Configuration key'],
    ['a key with a ".." segment (URL parsing would read another key)', { key: 'App/../Secret' }, 'key', 'App Configuration key'],
    ['an empty key', { key: '' }, 'key', ''],
    ['a label that would end the query string', { label: 'prod&x=1' }, 'label', 'App Configuration label'],
  ])('refuses %s, naming the field', (_what, bad, field, words) => {
    const problems = problemsOf([{ name: 'cfg', kind: 'appConfiguration', endpoint: 'https://appcs-app.azconfig.io', ...bad }]);
    expect(problems).toEqual([{ setting: `DIAGNOSE_TARGETS[0].${field}`, expected: expect.stringContaining(words) }]);
  });
});

describe('what the appConfiguration probe does for a key', () => {
  it.each([
    ['App:Greeting', false],
    ['App:*', true],
    ['*', true],
    ['App:A,App:B', true],
    ['App:\\*literal', false],
  ])('%s is a key filter: %s', (key, filter) => {
    expect(isKeyFilter(key)).toBe(filter);
  });
});

describe('classifying what App Configuration answered', () => {
  it('reads a 403 without a problem type as the missing data role (what the store answers Contributor or Reader)', () => {
    expect(classify({ httpStatus: 403, message: 'HTTP 403 without a body' })).toBe('role_missing');
  });

  it.each([
    ['ip-address-rejected', 'network_blocked'],
    ['nsp-rejected', 'network_blocked'],
    ['a-type-nobody-mapped', 'forbidden_other'],
  ])('reads a 403 of problem type %s as %s', (code, cause) => {
    expect(classify({ httpStatus: 403, errorCode: code })).toBe(cause);
  });

  it('reads the wrong issuer from the challenge, though the token is from the expected tenant', () => {
    expect(classify({ httpStatus: 401, wwwAuthenticate: WRONG_ISSUER })).toBe('wrong_tenant');
  });

  it('tells an expired token, a wrong audience and anything else apart by the claims when the store only says "failed validation"', () => {
    expect(classify({ httpStatus: 401, wwwAuthenticate: INVALID }, claims({ exp: now - 600 }))).toBe('token_expired');
    expect(classify({ httpStatus: 401, wwwAuthenticate: INVALID }, claims({ aud: 'https://vault.azure.net' }))).toBe('wrong_audience');
    expect(classify({ httpStatus: 401, wwwAuthenticate: INVALID }, claims({ aud: 'https://azconfig.io', exp: now - 600 }))).toBe('token_expired');
    expect(classify({ httpStatus: 401, wwwAuthenticate: INVALID })).toBe('token_rejected');
  });

  it('reads a bare 404 (a key-value that is not there) as resource_not_found and a 429 as throttled', () => {
    expect(classify({ httpStatus: 404 })).toBe('resource_not_found');
    expect(classify({ httpStatus: 429, errorCode: 'too-many-requests', retryAfter: '10 ms' })).toBe('throttled');
  });

  it('finds the description in a challenge, and nothing in a challenge without one', () => {
    expect(challengeDescription(INVALID)).toBe('Authorization token failed validation');
    expect(challengeDescription('HMAC-SHA256, Bearer')).toBeUndefined();
    expect(challengeDescription(undefined)).toBeUndefined();
  });

});
