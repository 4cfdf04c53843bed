import { OPERATIONS } from '../catalog/operations';
import type { Target } from '../config';
import type { Cause, Claims, Propagation, RoleEvidence } from '../verdict';

/**
 * Role missing, or granted and not yet effective? Pure decisions over the role evidence, and the wait hint.
 * Facts: role assignments take up to 10 minutes to take effect; at management-group scope, hours; a grant through a
 * group reaches the token only when it is re-minted, and the platform caches managed-identity tokens ~24 h
 * (shared/reference/azure-identity-facts.md §4).
 */

export const DIRECT_WINDOW_SECONDS = 600;
/** Management-group scope: "may take hours"; we say two and explain. */
export const MANAGEMENT_GROUP_WINDOW_SECONDS = 2 * 3600;
/** Never tell a pipeline to retry sooner than this. */
export const RETRY_FLOOR_SECONDS = 30;

/** Refine a 403 cause with what the identity holds. */
export function decideWithRoles(cause: Cause, roles: RoleEvidence | undefined): Cause {
  if (!roles?.lookedUp) return cause;
  const covering = roles.assignments.some((a) => a.coversOperation);
  // A role that covers the operation exists, yet the service said 403: it has not propagated yet. (An access-policy
  // vault stays access_policy_missing: it ignores RBAC data roles until switched to RBAC.)
  if (cause === 'role_missing' && covering) return 'propagation_pending';
  return cause;
}

/** Only control-plane roles (Owner, Contributor, Reader…) where a data-plane role is needed: the classic trap. */
export function controlPlaneTrap(target: Target, roles: RoleEvidence | undefined): string[] | undefined {
  if (!roles?.lookedUp || OPERATIONS[target.kind].plane !== 'data') return undefined;
  if (!roles.assignments.length || roles.assignments.some((a) => a.coversOperation || a.plane === 'data')) return undefined;
  return [...new Set(roles.assignments.map((a) => a.roleName))];
}

function windowFor(scope: string | undefined): number {
  return scope && /^\/providers\/Microsoft\.Management\/managementGroups\//i.test(scope) ? MANAGEMENT_GROUP_WINDOW_SECONDS : DIRECT_WINDOW_SECONDS;
}

/**
 * The propagation hint for a 403 that waiting may cure. With a covering assignment: its age, whether the token
 * predates it, and how long is left of the window. Without role data: the generic window, so nobody grants a broader
 * role to a grant made minutes ago.
 */
export function propagationHint(cause: Cause, roles: RoleEvidence | undefined, claims: Claims | undefined, nowMs: number): Propagation | undefined {
  if (cause !== 'propagation_pending' && cause !== 'role_missing') return undefined;
  const oid = claims?.oid?.toLowerCase();
  const covering = roles?.assignments
    .filter((a) => a.coversOperation)
    .sort((a, b) => (b.createdOn ?? '').localeCompare(a.createdOn ?? ''))[0];
  if (cause === 'role_missing' && roles?.lookedUp) return undefined; // nothing granted: nothing to wait for
  if (!covering) {
    return {
      expectedWindowSeconds: DIRECT_WINDOW_SECONDS,
      retryAfterSeconds: DIRECT_WINDOW_SECONDS,
      ...(claims?.issuedAt ? { tokenIssuedAt: claims.issuedAt } : {}),
      advice:
        'The roles this identity holds could not be read. If you granted a role in the last 10 minutes, wait and re-run before granting anything broader.',
    };
  }
  const window = windowFor(covering.scope);
  const createdMs = covering.createdOn ? Date.parse(covering.createdOn) : undefined;
  const age = createdMs !== undefined ? Math.max(0, Math.round((nowMs - createdMs) / 1000)) : undefined;
  const viaGroup = !!covering.principalId && !!oid && covering.principalId.toLowerCase() !== oid;
  const predates = claims?.iat !== undefined && createdMs !== undefined ? claims.iat * 1000 < createdMs : undefined;
  const advice = [
    `${covering.roleName} at ${covering.scope} was granted${age !== undefined ? ` ${age} s ago` : ''}; role assignments take up to ${window === DIRECT_WINDOW_SECONDS ? '10 minutes' : 'hours at management-group scope (rarely up to 12 h)'} to take effect.`,
    'Wait and re-run (or use ?waitSeconds=); do not grant a broader role.',
    viaGroup
      ? 'The role reaches this identity through a group: the token must be re-minted to carry it, and the platform caches managed-identity tokens for about 24 h. Grant the role directly to the identity instead.'
      : '',
  ]
    .filter(Boolean)
    .join(' ');
  return {
    ...(covering.createdOn ? { assignmentCreatedOn: covering.createdOn } : {}),
    ...(age !== undefined ? { assignmentAgeSeconds: age } : {}),
    ...(claims?.issuedAt ? { tokenIssuedAt: claims.issuedAt } : {}),
    ...(predates !== undefined ? { tokenPredatesAssignment: predates } : {}),
    expectedWindowSeconds: window,
    retryAfterSeconds: Math.max(RETRY_FLOOR_SECONDS, window - (age ?? 0)),
    ...(viaGroup ? { viaGroup } : {}),
    advice,
  };
}
