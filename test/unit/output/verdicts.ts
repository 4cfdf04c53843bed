import { VerdictSchema, type Check, type Verdict } from '../../../src/verdict';

/**
 * Verdicts shaped like the service's (values from a sandbox run), for rendering tests. Each builder returns a
 * schema-valid object; overrides replace fields wholesale.
 */

export const OID = 'c3f5a7e9-1b2d-4c6e-8a0f-2d4b6f8a0c15';
export const TID = '72f988bf-0000-4c1a-9d3e-5b7a1e2c4d6f';
export const CLIENT_ID = '4a8e2c6f-0b3d-4e7a-9c15-6f2b8d0e4a37';
const MIRID = '/subscriptions/3f2a8c71-6b4d-4e29-a1c5-7d9e0b2f4a68/resourceGroups/rg-app/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-doctor';
export const VAULT_SCOPE = '/subscriptions/3f2a8c71-6b4d-4e29-a1c5-7d9e0b2f4a68/resourceGroups/rg-app/providers/Microsoft.KeyVault/vaults/kv-norole';

/** A string that is markup, an attribute break-out and a script, all at once. */
export const HOSTILE = `<img src=x onerror=alert(1)>"'><script>alert("x")</script>&amp; ]]>`;

const claims = (aud: string) => ({
  aud,
  iss: `https://sts.windows.net/${TID}/`,
  tid: TID,
  oid: OID,
  sub: OID,
  appid: CLIENT_ID,
  idtyp: 'app',
  ver: '1.0',
  xms_mirid: MIRID,
  iat: 1795324793,
  nbf: 1795324793,
  exp: 1795328693,
  issuedAt: '2026-11-22T05:19:53.000Z',
  expiresAt: '2026-11-22T06:24:53.000Z',
});

export function authorized(target = 'kv-ok', over: Partial<Check> = {}): Check {
  return {
    target,
    kind: 'keyVaultSecret',
    audience: 'https://vault.azure.net',
    status: 'pass',
    category: 'authorized',
    cause: 'authorized',
    title: 'Authorized',
    stage: 'call',
    httpStatus: 200,
    claims: claims('https://vault.azure.net'),
    evidence: { tokenAudience: 'https://vault.azure.net', requestId: 'b0c653a3-0000-44d2-9244-85094764d080', result: { readable: true, secretVersion: '0123456789abcdef0123456789abcdef' } },
    explanation: 'The call succeeded with the managed identity\'s token.',
    fix: [],
    durationMs: 7,
    ...over,
  };
}

export function roleMissing(target = 'kv-norole', over: Partial<Check> = {}): Check {
  return {
    target,
    kind: 'keyVaultSecret',
    audience: 'https://vault.azure.net',
    status: 'fail',
    category: 'authorization',
    cause: 'role_missing',
    title: 'Role missing',
    stage: 'call',
    httpStatus: 403,
    claims: claims('https://vault.azure.net'),
    evidence: {
      expectedAudience: 'https://vault.azure.net',
      tokenAudience: 'https://vault.azure.net',
      errorCode: 'Forbidden',
      innerErrorCode: 'ForbiddenByRbac',
      message: "Caller is not authorized to perform action on resource.\r\nAssignment: (not found)\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\n",
      requestId: 'b0c653a3-db55-44d2-9244-85094764d080',
    },
    explanation: `Principal ${OID} authenticated, but holds no role granting Microsoft.KeyVault/vaults/secrets/getSecret/action at ${VAULT_SCOPE}. If you granted it minutes ago, wait up to 10 minutes for propagation before granting anything broader.`,
    fix: [`az role assignment create --assignee-object-id ${OID} --assignee-principal-type ServicePrincipal --role "Key Vault Secrets User" --scope ${VAULT_SCOPE}`],
    durationMs: 8,
    ...over,
  };
}

export function notFound(target = 'kv-missing', over: Partial<Check> = {}): Check {
  return {
    ...authorized(target),
    status: 'warn',
    category: 'target',
    cause: 'resource_not_found',
    title: 'Resource not found (but authorized)',
    httpStatus: 404,
    evidence: { errorCode: 'SecretNotFound', message: 'A secret with (name/id) no-such-secret was not found in this key vault.' },
    explanation: 'Key Vault answered 404 — which it only does after authorization passed: the identity may read, but the secret does not exist.',
    fix: ['az keyvault secret list --vault-name kv-ok --query "[].name" -o tsv', '# create it, or point "secretName" of target "kv-missing" at a secret that exists'],
    ...over,
  };
}

export function noIdentity(target = 'blob-ok', over: Partial<Check> = {}): Check {
  return {
    target,
    kind: 'storageBlob',
    audience: 'https://storage.azure.com',
    status: 'fail',
    category: 'acquisition',
    cause: 'no_managed_identity',
    title: 'No managed identity on this host',
    stage: 'token',
    evidence: {
      identityEndpoint: { protocol: 'appService', selector: `client_id ${CLIENT_ID}` },
      settings: { IDENTITY_ENDPOINT: 'absent', IDENTITY_HEADER: 'absent' },
    },
    explanation: 'The platform injected no identity endpoint: no managed identity is enabled on this app.',
    fix: ['az functionapp identity assign -g rg-app -n func-app', 'az functionapp restart -g rg-app -n func-app'],
    durationMs: 1,
    ...over,
  };
}

export function internalError(target = 'arm-ok', over: Partial<Check> = {}): Check {
  return {
    target,
    kind: 'armResource',
    audience: 'https://management.azure.com',
    status: 'fail',
    category: 'internal',
    cause: 'diagnostic_error',
    title: 'Diagnostic error',
    stage: 'call',
    evidence: { message: 'TypeError: cannot read properties of undefined' },
    explanation: 'An unexpected exception inside the diagnose: a bug in Identity Doctor, not your dependency.',
    fix: ['# report the bug with this response (it holds no token)'],
    durationMs: 2,
    ...over,
  };
}

export function verdictOf(checks: Check[], over: Partial<Verdict> = {}): Verdict {
  const rank = { pass: 0, warn: 1, fail: 2 } as const;
  const status = checks.reduce<Verdict['status']>((w, c) => (rank[c.status] > rank[w] ? c.status : w), checks.length ? 'pass' : 'warn');
  return VerdictSchema.parse({
    status,
    summary: `${checks.filter((c) => c.status === 'pass').length} of ${checks.length} dependencies authorized.`,
    durationMs: 12,
    checkedAt: '2026-11-22T05:24:57.887Z',
    identity: { hostKind: 'functions', clientId: CLIENT_ID, principalId: OID, tenantId: TID, resourceId: MIRID },
    checks,
    ...over,
  });
}
