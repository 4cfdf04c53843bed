import { controlPlaneTrap, decideWithRoles, propagationHint } from '../../../src/engine/propagation';
import type { RoleEvidence } from '../../../src/verdict';
import type { Target } from '../../../src/config';

const OID = '9c8d7e6f-1111-4000-8000-000000000002';
const now = Date.parse('2026-11-22T12:00:00Z');
const kv: Target = { name: 'kv', kind: 'keyVaultSecret', vaultUrl: 'https://kv1.vault.azure.net', secretName: 's' };
const roles = (assignments: Partial<RoleEvidence['assignments'][number]>[], extra: Partial<RoleEvidence> = {}): RoleEvidence => ({
  scope: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1',
  lookedUp: true,
  lookup: 'az role assignment list …',
  assignments: assignments.map((a) => ({ roleName: 'Key Vault Secrets User', roleDefinitionId: 'x', scope: '/subscriptions/s', plane: 'data', coversOperation: true, ...a })),
  ...extra,
});
const claims = { oid: OID, iat: now / 1000 - 3600, issuedAt: new Date(now - 3600_000).toISOString() };

describe('role missing or not yet effective', () => {
  it('calls a 403 with a covering role propagation_pending, and keeps role_missing otherwise', () => {
    expect(decideWithRoles('role_missing', roles([{}]))).toBe('propagation_pending');
    expect(decideWithRoles('role_missing', roles([{ roleName: 'Contributor', plane: 'control', coversOperation: false }]))).toBe('role_missing');
    expect(decideWithRoles('role_missing', roles([], { lookedUp: false }))).toBe('role_missing');
    expect(decideWithRoles('access_policy_missing', roles([{}]))).toBe('access_policy_missing');
  });

  it('names the control-plane trap only when every role held is control plane', () => {
    expect(controlPlaneTrap(kv, roles([{ roleName: 'Owner', plane: 'control', coversOperation: false }, { roleName: 'Reader', plane: 'control', coversOperation: false }]))).toEqual(['Owner', 'Reader']);
    expect(controlPlaneTrap(kv, roles([{ roleName: 'Key Vault Reader', plane: 'data', coversOperation: false }]))).toBeUndefined();
  });
});

describe('the propagation hint', () => {
  it('counts down the 10-minute window from the assignment and says whether the token predates it', () => {
    const hint = propagationHint('propagation_pending', roles([{ createdOn: new Date(now - 90_000).toISOString(), principalId: OID }]), claims, now)!;
    expect(hint).toMatchObject({ assignmentAgeSeconds: 90, expectedWindowSeconds: 600, retryAfterSeconds: 510, tokenPredatesAssignment: true });
    expect(hint.viaGroup).toBeUndefined();
  });

  it('never says retry sooner than the floor, even past the window', () => {
    const hint = propagationHint('propagation_pending', roles([{ createdOn: new Date(now - 3600_000).toISOString() }]), claims, now)!;
    expect(hint.retryAfterSeconds).toBe(30);
  });

  it('says hours at management-group scope', () => {
    const hint = propagationHint('propagation_pending', roles([{ scope: '/providers/Microsoft.Management/managementGroups/mg1', createdOn: new Date(now - 60_000).toISOString() }]), claims, now)!;
    expect(hint.expectedWindowSeconds).toBe(7200);
    expect(hint.advice).toContain('hours at management-group scope');
  });

  it('explains the ~24 h token cache when the role came through a group', () => {
    const hint = propagationHint('propagation_pending', roles([{ principalId: '00000000-0000-4000-8000-0000000000aa', createdOn: new Date(now - 60_000).toISOString() }]), claims, now)!;
    expect(hint.viaGroup).toBe(true);
    expect(hint.advice).toContain('24 h');
    expect(hint.advice).toContain('directly to the identity');
  });

  it('gives the generic window when roles could not be read, and nothing when nothing was granted', () => {
    expect(propagationHint('role_missing', roles([], { lookedUp: false }), claims, now)).toMatchObject({ expectedWindowSeconds: 600 });
    expect(propagationHint('role_missing', roles([]), claims, now)).toBeUndefined();
    expect(propagationHint('wrong_audience', undefined, claims, now)).toBeUndefined();
  });
});
