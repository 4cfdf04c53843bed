import { kindOf } from '../targets/registry';
import { permissionMatches } from '../catalog/roles';
import type { Target } from '../config';
import type { Cause, Claims, Propagation, RoleEvidence } from '../verdict';

/**
 * Role missing, granted and not yet effective, or granted long ago and still refused? Pure decisions over the role
 * evidence and the grant's age, and the wait hint. Facts (shared/reference/azure-identity-facts.md §4): role
 * assignments take up to 10 minutes to take effect; at management-group scope, hours; a grant through a group
 * reaches the token only when it is re-minted, and the platform caches managed-identity tokens ~24 h. Past its window
 * a grant is not "propagating": something else refuses, and waiting will not help.
 */

export const DIRECT_WINDOW_SECONDS = 600;
/** Management-group scope: "may take hours"; we say two and explain. */
export const MANAGEMENT_GROUP_WINDOW_SECONDS = 2 * 3600;
/** A grant through a group reaches a managed identity only with a new token; the platform caches tokens ~24 h. */
export const GROUP_TOKEN_WINDOW_SECONDS = 24 * 3600;
/** Never tell a pipeline to retry sooner than this. */
export const RETRY_FLOOR_SECONDS = 30;

type Assignment = RoleEvidence['assignments'][number];

interface Judged {
  assignment: Assignment;
  window: number;
  age?: number;
  viaGroup: boolean;
  tokenPredates?: boolean;
  /** Still inside its window: waiting can cure the 403. */
  young: boolean;
}

function windowOf(a: Assignment, viaGroup: boolean, tokenPredates: boolean | undefined, modelWindow: number | undefined): number {
  // A service's own permission model states its own window (Graph app roles: until the token is re-minted).
  const base = modelWindow ?? (/^\/providers\/Microsoft\.Management\/managementGroups\//i.test(a.scope) ? MANAGEMENT_GROUP_WINDOW_SECONDS : DIRECT_WINDOW_SECONDS);
  // A group grant made after the token was minted waits for a new token; one made before it is judged like any other.
  return viaGroup && tokenPredates !== false ? Math.max(base, GROUP_TOKEN_WINDOW_SECONDS) : base;
}

/** Every covering assignment with its age and window, youngest first. */
export function judgeCovering(roles: RoleEvidence | undefined, claims: Claims | undefined, nowMs: number): Judged[] {
  if (!roles?.lookedUp) return [];
  const oid = claims?.oid?.toLowerCase();
  return roles.assignments
    .filter((a) => a.coversOperation)
    .map((a): Judged => {
      const createdMs = a.createdOn ? Date.parse(a.createdOn) : NaN;
      const age = Number.isFinite(createdMs) ? Math.max(0, Math.round((nowMs - createdMs) / 1000)) : undefined;
      const viaGroup = !!a.principalId && !!oid && a.principalId.toLowerCase() !== oid;
      const tokenPredates = claims?.iat !== undefined && Number.isFinite(createdMs) ? claims.iat * 1000 < createdMs : undefined;
      const window = windowOf(a, viaGroup, tokenPredates, roles.windowSeconds);
      // Without a creation time the age cannot be judged: give it the benefit of the doubt, as before.
      return { assignment: a, window, ...(age !== undefined ? { age } : {}), viaGroup, ...(tokenPredates !== undefined ? { tokenPredates } : {}), young: age === undefined || age < window };
    })
    .sort((x, y) => (x.age ?? -1) - (y.age ?? -1));
}

/**
 * Refine a 403 cause with what the identity holds. A covering role younger than its window: propagation_pending.
 * Covering roles all older than their windows: grant_ineffective (never "wait"). An access-policy vault stays
 * access_policy_missing: it ignores RBAC data roles until switched to RBAC, whatever their age.
 */
export function decideWithRoles(cause: Cause, roles: RoleEvidence | undefined, claims?: Claims, nowMs = Date.now()): Cause {
  if (cause !== 'role_missing' || !roles?.lookedUp) return cause;
  const covering = judgeCovering(roles, claims, nowMs);
  if (!covering.length) return cause;
  return covering.some((j) => j.young) ? 'propagation_pending' : 'grant_ineffective';
}

/** Only control-plane roles (Owner, Contributor, Reader…) where a data-plane role is needed: the classic trap. */
export function controlPlaneTrap(target: Target, roles: RoleEvidence | undefined): string[] | undefined {
  if (!roles?.lookedUp || kindOf(target).operation.plane !== 'data') return undefined;
  if (!roles.assignments.length || roles.assignments.some((a) => a.coversOperation || a.plane === 'data')) return undefined;
  return [...new Set(roles.assignments.map((a) => a.roleName))];
}

/**
 * The propagation hint, only for a 403 that waiting may cure. With a young covering assignment: its age, whether the
 * token predates it, and how long is left of its window. Without role data: the generic window, so nobody grants a
 * broader role to a grant made minutes ago. Nothing for a grant past its window, or when nothing was granted.
 */
export function propagationHint(cause: Cause, roles: RoleEvidence | undefined, claims: Claims | undefined, nowMs: number): Propagation | undefined {
  if (cause !== 'propagation_pending' && cause !== 'role_missing') return undefined;
  if (cause === 'role_missing' && roles?.lookedUp) return undefined; // nothing granted: nothing to wait for
  const young = judgeCovering(roles, claims, nowMs).find((j) => j.young);
  if (!young) {
    if (cause === 'propagation_pending' && roles?.lookedUp) return undefined;
    // A service's own permission model has its own window (Graph app roles: until the token is re-minted, ~24 h).
    const window = roles?.windowSeconds ?? DIRECT_WINDOW_SECONDS;
    return {
      expectedWindowSeconds: window,
      retryAfterSeconds: window,
      ...(claims?.issuedAt ? { tokenIssuedAt: claims.issuedAt } : {}),
      advice: roles?.model
        ? `The ${roles.model} this identity holds could not be read. If you granted one after the token was issued${claims?.issuedAt ? ` (${claims.issuedAt})` : ''}, it reaches the service ${window >= GROUP_TOKEN_WINDOW_SECONDS ? 'only in a newly minted token (managed-identity tokens are cached for up to about 24 h)' : `within ${Math.ceil(window / 60)} minutes`}: wait and re-run before granting anything broader.`
        : 'The roles this identity holds could not be read. If you granted a role in the last 10 minutes, wait and re-run before granting anything broader.',
    };
  }
  const { assignment: covering, window, age, viaGroup, tokenPredates } = young;
  const windowText =
    window === DIRECT_WINDOW_SECONDS
      ? 'within 10 minutes'
      : window === MANAGEMENT_GROUP_WINDOW_SECONDS
        ? 'within hours at management-group scope (rarely up to 12 h)'
        : window >= GROUP_TOKEN_WINDOW_SECONDS
          ? 'only once the token is re-minted (about 24 h)'
          : `within ${Math.ceil(window / 60)} minutes`;
  const advice = [
    `${covering.roleName} at ${covering.scope} was granted${age !== undefined ? ` ${age} s ago` : ''}; ${viaGroup ? 'it reaches this identity through a group, which takes effect' : `${roles?.model ?? 'role assignments'} take effect`} ${windowText}.`,
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
    ...(tokenPredates !== undefined ? { tokenPredatesAssignment: tokenPredates } : {}),
    expectedWindowSeconds: window,
    retryAfterSeconds: Math.max(RETRY_FLOOR_SECONDS, window - (age ?? 0)),
    ...(viaGroup ? { viaGroup } : {}),
    advice,
  };
}

/**
 * Why a covering role older than its window does not work, from the evidence in hand: the assignment's condition,
 * a group grant whose token predates it, the service's own message (a deny assignment id), or none of these.
 */
export function whyIneffective(
  roles: RoleEvidence | undefined,
  claims: Claims | undefined,
  message: string | undefined,
  nowMs: number,
  permission?: string,
): string[] {
  const covering = judgeCovering(roles, claims, nowMs);
  const reasons: string[] = [];
  for (const j of covering) {
    const a = j.assignment;
    const what = `${a.roleName} at ${a.scope}${j.age !== undefined ? ` (granted ${Math.round(j.age / 60)} min ago)` : ''}`;
    if (a.condition) reasons.push(`${what} carries a condition (ABAC): it applies only when "${a.condition.slice(0, 300)}" holds, and for this request it does not.`);
    else if (j.viaGroup) reasons.push(`${what} reaches the identity through a group${j.tokenPredates ? ', and the token in use was minted before it' : ''}: group grants ride in a new token only.`);
  }
  const effective = roles?.effective;
  if (permission && effective && [...effective.actions, ...effective.dataActions].some((p) => permissionMatches(p, permission)))
    reasons.push(`ARM's permissions API says Azure RBAC grants ${permission} here, so what refuses is evaluated after the role: a deny assignment, a condition, or a rule that is not about roles.`);
  const deny = /DenyAssignmentId:\s*([^\s\r\n]+)/i.exec(message ?? '')?.[1];
  if (deny && deny.toLowerCase() !== 'null') reasons.push(`The service names a deny assignment (${deny}): a deny assignment wins over every role assignment.`);
  return reasons;
}
