import { controlPlaneTrap, decideWithRoles, propagationHint, whyIneffective } from '../../../src/engine/propagation';
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

describe('role missing, not yet effective, or not effective at all', () => {
  it('judges a covering grant by its age against its window', () => {
    const at = (ageSeconds: number, extra: Partial<RoleEvidence['assignments'][number]> = {}) =>
      roles([{ createdOn: new Date(now - ageSeconds * 1000).toISOString(), principalId: OID, ...extra }]);
    // Direct grant: 10 minutes.
    expect(decideWithRoles('role_missing', at(90), claims, now)).toBe('propagation_pending');
    expect(decideWithRoles('role_missing', at(11 * 60), claims, now)).toBe('grant_ineffective');
    // Management group: hours.
    const mg = { scope: '/providers/Microsoft.Management/managementGroups/mg1' };
    expect(decideWithRoles('role_missing', at(3600, mg), claims, now)).toBe('propagation_pending');
    expect(decideWithRoles('role_missing', at(3 * 3600, mg), claims, now)).toBe('grant_ineffective');
    // Through a group, token minted before the grant: until the token is re-minted (~24 h).
    const group = { principalId: '00000000-0000-4000-8000-0000000000aa' };
    const freshToken = { ...claims, iat: now / 1000 - 60 };
    expect(decideWithRoles('role_missing', at(1800, group), claims, now)).toBe('propagation_pending');
    expect(propagationHint('propagation_pending', at(1800, group), claims, now)).toMatchObject({ viaGroup: true, expectedWindowSeconds: 86_400, tokenPredatesAssignment: true });
    // Through a group, token minted after the grant: the token carries it, the 10-minute window applies.
    expect(decideWithRoles('role_missing', at(1800, group), freshToken, now)).toBe('grant_ineffective');
    expect(decideWithRoles('role_missing', at(25 * 3600, group), claims, now)).toBe('grant_ineffective');
  });

  it('names a condition or a deny assignment as why an old grant does not work', () => {
    const old = new Date(now - 86_400_000).toISOString();
    const conditioned = roles([{ createdOn: old, principalId: OID, condition: "@Resource[Microsoft.KeyVault/vaults/secrets:name] StringEquals 'other'" }]);
    expect(decideWithRoles('role_missing', conditioned, claims, now)).toBe('grant_ineffective');
    expect(whyIneffective(conditioned, claims, undefined, now).join(' ')).toContain('condition (ABAC)');
    expect(whyIneffective(roles([{ createdOn: old, principalId: OID }]), claims, 'Assignment: x\r\nDenyAssignmentId: 1b2c3d\r\n', now).join(' ')).toContain('deny assignment (1b2c3d)');
    expect(whyIneffective(roles([{ createdOn: old, principalId: OID }]), claims, 'DenyAssignmentId: null\r\n', now)).toEqual([]);
    const granted = roles([{ createdOn: old, principalId: OID }], { effective: { actions: [], dataActions: ['Microsoft.KeyVault/vaults/secrets/*'] } });
    expect(whyIneffective(granted, claims, undefined, now, 'Microsoft.KeyVault/vaults/secrets/getSecret/action').join(' ')).toContain('permissions API says Azure RBAC grants');
  });

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

  it('never says retry sooner than the floor near the end of the window', () => {
    const hint = propagationHint('propagation_pending', roles([{ createdOn: new Date(now - 590_000).toISOString() }]), claims, now)!;
    expect(hint.retryAfterSeconds).toBe(30);
  });

  it('gives no wait hint at all for a grant older than its window', () => {
    const old = roles([{ createdOn: new Date(now - 3600_000).toISOString(), principalId: OID }]);
    expect(decideWithRoles('role_missing', old, claims, now)).toBe('grant_ineffective');
    expect(propagationHint('grant_ineffective', old, claims, now)).toBeUndefined();
    expect(propagationHint('propagation_pending', old, claims, now)).toBeUndefined();
  });

  it('says hours at management-group scope', () => {
    const hint = propagationHint('propagation_pending', roles([{ scope: '/providers/Microsoft.Management/managementGroups/mg1', createdOn: new Date(now - 60_000).toISOString() }]), claims, now)!;
    expect(hint.expectedWindowSeconds).toBe(7200);
    expect(hint.advice).toContain('hours at management-group scope');
  });

  it('judges a grant in a service\'s own permission model by that model\'s window', () => {
    // e.g. Microsoft Graph app roles reach a managed identity only in a newly minted token (cached ~24 h).
    const graph = (ageMs: number) => roles([{ roleName: 'User.Read.All', createdOn: new Date(now - ageMs).toISOString(), principalId: OID }], { model: 'app role assignments', windowSeconds: 86_400 });
    const young = propagationHint('propagation_pending', graph(2 * 3600_000), claims, now)!;
    expect(decideWithRoles('role_missing', graph(2 * 3600_000), claims, now)).toBe('propagation_pending');
    expect(young).toMatchObject({ expectedWindowSeconds: 86_400, retryAfterSeconds: 86_400 - 7200 });
    expect(young.advice).toContain('app role assignments take effect only once the token is re-minted (about 24 h)');
    // Two days old: past the model's window, so not propagation — and the RBAC default (10 min) would have said so at 11 min.
    expect(decideWithRoles('role_missing', graph(2 * 86_400_000), claims, now)).toBe('grant_ineffective');
    const custom = roles([{ createdOn: new Date(now - 60_000).toISOString() }], { windowSeconds: 900 });
    expect(propagationHint('propagation_pending', custom, claims, now)!.advice).toContain('15 minutes');
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
