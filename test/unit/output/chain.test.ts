import { brokenStep, chainOf } from '../../../src/output/chain';
import { authorized, internalError, noIdentity, notFound, roleMissing } from './verdicts';

const states = (c: Parameters<typeof chainOf>[0]) => chainOf(c).map((s) => `${s.step}:${s.state}${s.here ? '*' : ''}`);

describe('the chain acquire → claims → call → verdict', () => {
  it('is all green for an authorized dependency, with nothing marked', () => {
    expect(states(authorized())).toEqual(['acquire:ok', 'claims:ok', 'call:ok', 'verdict:ok']);
  });

  it('marks the call when the service refused an otherwise good token', () => {
    expect(states(roleMissing())).toEqual(['acquire:ok', 'claims:ok', 'call:failed*', 'verdict:failed']);
    expect(chainOf(roleMissing())[2]!.detail).toBe('HTTP 403 · Forbidden/ForbiddenByRbac');
  });

  it('marks acquisition and skips the rest when no token came back', () => {
    expect(states(noIdentity())).toEqual(['acquire:failed*', 'claims:skipped', 'call:skipped', 'verdict:failed']);
  });

  it('marks the call and flags the audience claim for a wrong audience', () => {
    const c = roleMissing('kv-aud', { cause: 'wrong_audience', httpStatus: 401, claims: { aud: 'https://management.azure.com/', oid: 'o' } });
    expect(states(c)).toEqual(['acquire:ok', 'claims:warn', 'call:failed*', 'verdict:failed']);
    expect(chainOf(c)[1]!.detail).toBe('aud https://management.azure.com/');
  });

  it('marks the claims for a token of the wrong identity', () => {
    const c = authorized('kv-other', { status: 'fail', category: 'authorization', cause: 'wrong_identity' });
    expect(brokenStep(c)).toBe('claims');
    expect(states(c)).toEqual(['acquire:ok', 'claims:failed*', 'call:ok', 'verdict:failed']);
  });

  it('marks the stage a deadline cut', () => {
    const cutAtToken = noIdentity('x', { cause: 'deadline_exceeded', evidence: { stageCut: 'token' } });
    const cutAtCall = roleMissing('y', { cause: 'deadline_exceeded', httpStatus: undefined, evidence: { stageCut: 'call' } });
    expect(brokenStep(cutAtToken)).toBe('acquire');
    expect(brokenStep(cutAtCall)).toBe('call');
  });

  it('marks a warning as a warning, not a failure', () => {
    expect(states(notFound())).toEqual(['acquire:ok', 'claims:ok', 'call:warn*', 'verdict:warn']);
  });

  it('says so when the token was not a JWT', () => {
    expect(states(internalError('arm', { claims: undefined }))[1]).toBe('claims:unknown');
  });
});
