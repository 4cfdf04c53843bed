import { decodeClaims } from '../../../src/engine/claims';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('decoding claims', () => {
  it('reads the claims that matter and renders times', () => {
    const token = `${b64({ alg: 'RS256' })}.${b64({ aud: 'https://vault.azure.net', oid: 'o', tid: 't', iat: 1700000000, exp: 1700003600, xms_mirid: '/subscriptions/s/x' })}.sig`;
    expect(decodeClaims(token)).toEqual({
      aud: 'https://vault.azure.net',
      oid: 'o',
      tid: 't',
      iat: 1700000000,
      exp: 1700003600,
      xms_mirid: '/subscriptions/s/x',
      issuedAt: '2023-11-14T22:13:20.000Z',
      expiresAt: '2023-11-14T23:13:20.000Z',
    });
  });

  it('returns nothing for a token that is not a JWT', () => {
    expect(decodeClaims('not-a-jwt')).toBeUndefined();
    expect(decodeClaims('a.!!!.c')).toBeUndefined();
    expect(decodeClaims(`x.${Buffer.from('[1,2]').toString('base64url')}.y`)).toBeUndefined();
  });
});
