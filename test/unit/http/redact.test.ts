import fc from 'fast-check';
import { forgetSecrets, redactDeep, redactText, rememberSecret } from '../../../src/http/redact';

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

describe('redaction by content: what the process sent', () => {
  const token = 'eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJodHRwczovL3ZhdWx0LmF6dXJlLm5ldCJ9.Zm9yZ2VkLXNpZ25hdHVyZS1ieXRlcy0xMjM0NTY3OA';
  const header = 'b3c1f0e2a9d84c7f8e6d5c4b3a291807';
  const [head, payload, signature] = token.split('.') as [string, string, string];
  beforeAll(() => {
    rememberSecret(token);
    rememberSecret(header);
    rememberSecret('proxy-user:pr0xy-p@ss');
  });
  afterAll(() => forgetSecrets());

  it.each([
    ['the whole token', token],
    ['only its header part', head],
    ['only its payload part', payload],
    ['only its signature part', signature],
    ['the identity header', header],
    ['the identity header, URL-encoded in a query', `resource=x&h=${encodeURIComponent(header)}`],
    ['user:password', 'proxy-user:pr0xy-p@ss'],
    ['user:password, URL-encoded', encodeURIComponent('proxy-user:pr0xy-p@ss')],
    ['the Proxy-Authorization value', `Basic ${Buffer.from('proxy-user:pr0xy-p@ss').toString('base64')}`],
  ])('removes %s wherever it sits', (_label, echoed) => {
    const out = redactText(`the proxy said: ${echoed} (end)`);
    expect(out).toContain('[REDACTED]');
    for (const secret of [token, head, payload, signature, header, 'pr0xy-p@ss']) expect(out).not.toContain(secret);
  });

  it('removes a secret inside a longer base64 text, at every byte alignment', () => {
    for (const lead of ['', 'a', 'ab', 'abc']) {
      const b64 = Buffer.from(`${lead}X-IDENTITY-HEADER: ${header}\r\n`).toString('base64');
      const b64url = b64.replace(/\+/g, '-').replace(/\//g, '_');
      for (const text of [b64, b64url]) {
        const out = redactText(text);
        expect(Buffer.from(out, 'base64').toString('latin1')).not.toContain(header);
      }
    }
  });

  it('leaves ordinary text alone', () => {
    expect(redactText('Key Vault answered 403 ForbiddenByRbac for kv1.vault.azure.net')).toBe('Key Vault answered 403 ForbiddenByRbac for kv1.vault.azure.net');
  });
});
