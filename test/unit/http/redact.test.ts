import fc from 'fast-check';
import { redactDeep, redactText } from '../../../src/http/redact';

const b64url = fc.stringMatching(/^[A-Za-z0-9_-]{8,60}$/);
const jwt = fc.tuple(b64url, b64url, b64url).map(([h, p, s]) => `eyJ${h}.${p}.${s}`);

describe('redaction before anything leaves the process', () => {
  it('removes any JWT-shaped token wherever it sits in a text', () => {
    fc.assert(
      fc.property(fc.string(), jwt, fc.string(), (before, token, after) => !redactText(`${before} ${token} ${after}`).includes(token)),
      { numRuns: 500 },
    );
  });

  it('removes the value after Bearer, whatever its shape', () => {
    expect(redactText('Authorization: Bearer not-a-jwt-but-long-enough-1234')).toBe('Authorization: Bearer [REDACTED]');
  });

  it("removes a proxy's user and password from a URL and keeps the rest", () => {
    expect(redactText('proxy http://svc-user:p%40ss-w0rd@proxy.corp:3128 refused')).toBe('proxy http://[REDACTED]@proxy.corp:3128 refused');
    expect(redactText('see https://learn.microsoft.com/azure?x=a@b')).toBe('see https://learn.microsoft.com/azure?x=a@b');
  });

  it('walks nested verdict-like data', () => {
    const token = 'eyJhbGciOi.eyJhdWQiOi.c2lnbmF0dXJl';
    expect(JSON.stringify(redactDeep({ checks: [{ evidence: { message: `got ${token}`, notes: [`Bearer ${token}`] } }] }))).not.toContain(token);
  });
});
