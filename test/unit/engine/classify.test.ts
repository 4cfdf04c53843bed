import { classifyAcquisition, classifyCallFailure, overlayIdentity } from '../../../src/engine/classify';
import { callFailureFromError } from '../../../src/wire/callFailure';
import type { Target } from '../../../src/config';
import type { Claims } from '../../../src/verdict';
import { RECORDED, socketError } from '../fixtures/recorded';
import { OID, TENANT, settingsFor } from '../fixtures/settings';

const kv: Target = { name: 'kv', kind: 'keyVaultSecret', vaultUrl: 'https://kv1.vault.azure.net', secretName: 's' };
const blob: Target = { name: 'b', kind: 'storageBlob', accountUrl: 'https://st1.blob.core.windows.net', container: 'data' };
const arm: Target = { name: 'a', kind: 'armResource', resourceId: '/subscriptions/s/resourceGroups/rg' };
const now = Math.floor(Date.now() / 1000);
const claimsFor = (aud: string, extra: Partial<Claims> = {}): Claims => ({ aud, tid: TENANT, oid: OID, iss: `https://sts.windows.net/${TENANT}/`, exp: now + 3600, ...extra });

function classify(target: Target, err: unknown, claims?: Claims, env: Record<string, string> = {}) {
  const signal = new AbortController().signal;
  const failure = callFailureFromError(err, { url: 'https://x', deadlineSignal: signal, elapsedMs: 5 });
  return { cause: classifyCallFailure({ target, failure, claims, settings: settingsFor(env), nowSeconds: now }), failure };
}

describe('classifying what the target answered', () => {
  it.each([
    ['Key Vault ForbiddenByRbac', kv, RECORDED.keyVaultForbiddenByRbac, 'role_missing'],
    ['Key Vault AccessDenied on an access-policy vault', kv, RECORDED.keyVaultAccessDenied, 'access_policy_missing'],
    ['Key Vault ForbiddenByFirewall', kv, RECORDED.keyVaultFirewall, 'network_blocked'],
    ['Key Vault AKV10022', kv, RECORDED.keyVaultWrongAudience, 'wrong_audience'],
    ['Key Vault AKV10032', kv, RECORDED.keyVaultWrongIssuer, 'wrong_tenant'],
    ['Key Vault SecretNotFound', kv, RECORDED.keyVaultSecretNotFound, 'resource_not_found'],
    ['Key Vault 429', kv, RECORDED.keyVaultThrottled, 'throttled'],
    ['Storage AuthorizationPermissionMismatch on a HEAD (header only)', blob, RECORDED.storagePermissionMismatchHead, 'role_missing'],
    ['Storage AuthorizationFailure', blob, RECORDED.storageAuthorizationFailure, 'network_blocked'],
    ['Storage 401 "Audience validation failed"', blob, RECORDED.storageWrongAudience, 'wrong_audience'],
    ['Storage 403 AuthenticationFailed "Issuer validation failed"', blob, RECORDED.storageIssuerFailed403, 'wrong_tenant'],
    ['Storage ContainerNotFound', blob, RECORDED.storageContainerNotFound, 'resource_not_found'],
    ['ARM AuthorizationFailed', arm, RECORDED.armAuthorizationFailed, 'role_missing'],
    ['ARM InvalidAuthenticationTokenAudience', arm, RECORDED.armWrongAudience, 'wrong_audience'],
    ['ARM InvalidAuthenticationTokenTenant', arm, RECORDED.armWrongTenant, 'wrong_tenant'],
    ['ARM ExpiredAuthenticationToken', arm, RECORDED.armExpired, 'token_expired'],
    ['ARM InvalidAuthenticationToken', arm, RECORDED.armInvalidToken, 'token_rejected'],
    ['ARM ResourceNotFound', arm, RECORDED.armResourceNotFound, 'resource_not_found'],
    ['a 503', arm, RECORDED.serverError, 'target_error'],
    ['Key Vault SecretDisabled (a disabled secret)', kv, RECORDED.keyVaultSecretDisabled, 'resource_disabled'],
    ['Key Vault ForbiddenByConnection (public access disabled)', kv, RECORDED.keyVaultPrivateOnly, 'network_blocked'],
    ['a Key Vault inner code nobody mapped', kv, RECORDED.keyVaultUnknownInner, 'forbidden_other'],
    ['Storage AccountIsDisabled', blob, RECORDED.storageAccountDisabled, 'resource_disabled'],
    ['Storage AuthorizationSourceIPMismatch (an IP-restricted SAS, not a role or a network rule)', blob, RECORDED.storageSourceIp, 'forbidden_other'],
    ['Storage KeyBasedAuthenticationNotPermitted', blob, RECORDED.storageKeyBased, 'forbidden_other'],
    ['Storage AuthorizationProtocolMismatch (documented, not in our table)', blob, RECORDED.storageProtocolMismatch, 'forbidden_other'],
    ['a Storage HEAD 403 with no code', blob, RECORDED.storageBare403Head, 'forbidden_other'],
    ['ARM LinkedAuthorizationFailed', arm, RECORDED.armLinkedAuthorizationFailed, 'role_missing'],
    ['ARM RequestDisallowedByPolicy', arm, RECORDED.armDisallowedByPolicy, 'forbidden_other'],
  ])('reports %s as %s', (_label, target, make, expected) => {
    const audience = target.kind === 'keyVaultSecret' ? 'https://vault.azure.net' : target.kind === 'storageBlob' ? 'https://storage.azure.com/' : 'https://management.azure.com/';
    expect(classify(target, make(), claimsFor(audience)).cause).toBe(expected);
  });

  it('keeps the service codes and correlation ids as evidence', () => {
    const { failure } = classify(arm, RECORDED.armAuthorizationFailed());
    expect(failure).toMatchObject({ httpStatus: 403, errorCode: 'AuthorizationFailed', requestId: 'req-arm-1', correlationId: 'corr-1' });
    const kvFailure = classify(kv, RECORDED.keyVaultForbiddenByRbac()).failure;
    expect(kvFailure).toMatchObject({ errorCode: 'Forbidden', innerErrorCode: 'ForbiddenByRbac', requestId: 'req-kv-1' });
    expect(classify(kv, RECORDED.keyVaultThrottled()).failure.retryAfter).toBe('7');
  });

  it('reads the claims when a 401 carries no code that says which check failed', () => {
    const plain401 = () => RECORDED.armInvalidToken();
    expect(classify(arm, plain401(), claimsFor('https://vault.azure.net')).cause).toBe('wrong_audience');
    expect(classify(arm, plain401(), claimsFor('https://management.azure.com/', { exp: now - 60 })).cause).toBe('token_expired');
    expect(
      classify(arm, plain401(), claimsFor('https://management.azure.com/', { tid: '11111111-2222-3333-4444-555555555555' }), { EXPECTED_TENANT_ID: TENANT }).cause,
    ).toBe('wrong_tenant');
  });

  it('names the transport failure when no HTTP answer came', () => {
    expect(classify(kv, socketError('ENOTFOUND'))).toMatchObject({ cause: 'target_unreachable', failure: { transport: { kind: 'dns', code: 'ENOTFOUND' } } });
    expect(classify(kv, socketError('ECONNREFUSED'))).toMatchObject({ cause: 'target_unreachable', failure: { transport: { kind: 'refused' } } });
    expect(classify(kv, socketError('UNABLE_TO_VERIFY_LEAF_SIGNATURE'))).toMatchObject({ cause: 'target_unreachable', failure: { transport: { kind: 'tls' } } });
  });
});

describe('classifying a failed token acquisition', () => {
  const settings = settingsFor();
  const base = { protocol: 'appService' as const, selector: 'system-assigned', endpoint: '127.0.0.1:1' };
  it.each([
    [{ reason: 'no_endpoint' as const }, 'no_managed_identity'],
    [{ reason: 'endpoint_status' as const, status: 400, error: 'invalid_request', errorDescription: 'Identity not found' }, 'identity_not_found'],
    [{ reason: 'endpoint_status' as const, status: 400, error: 'bad_request_102' }, 'identity_endpoint_error'],
    [{ reason: 'endpoint_status' as const, status: 500 }, 'identity_endpoint_error'],
    [{ reason: 'transport' as const, transport: { kind: 'refused' as const } }, 'identity_endpoint_unreachable'],
    [{ reason: 'transport' as const, transport: { kind: 'timeout' as const } }, 'identity_endpoint_unreachable'],
    [{ reason: 'malformed' as const, status: 200 }, 'identity_endpoint_error'],
    [{ reason: 'deadline' as const }, 'deadline_exceeded'],
  ])('maps %j to %s', (failure, expected) => {
    expect(classifyAcquisition({ ...base, ...failure }, settings)).toBe(expected);
  });

  it('calls an unreachable IMDS off Azure the absence of an identity, not a broken endpoint', () => {
    const local = settingsFor({ WEBSITE_SITE_NAME: undefined, IDENTITY_ENDPOINT: undefined, IDENTITY_HEADER: undefined });
    expect(classifyAcquisition({ ...base, protocol: 'imds', reason: 'transport', transport: { kind: 'refused' } }, local)).toBe('no_managed_identity');
  });
});

describe('the identity overlay', () => {
  const settings = settingsFor({ EXPECTED_PRINCIPAL_ID: OID });
  it('turns a 403 into wrong_identity when another principal answered', () => {
    expect(overlayIdentity('role_missing', { oid: '00000000-0000-4000-8000-000000000009' }, settings)).toBe('wrong_identity');
  });
  it('leaves the expected principal alone', () => {
    expect(overlayIdentity('role_missing', { oid: OID }, settings)).toBe('role_missing');
    expect(overlayIdentity('authorized', { oid: OID.toUpperCase() }, settings)).toBe('authorized');
  });
});
