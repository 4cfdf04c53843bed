import { randomUUID } from 'node:crypto';
import { ALL_ROLES, ROLES, grantsAction, grantsDataAction, roleById, type BuiltInRole, type RoleKey } from '../../src/catalog/roles';
import type { Assignment, Group, ManagementGroup } from './model';

/** ARM ids compare case-insensitively and without trailing slashes. */
export function normalizeScope(id: string): string {
  const collapsed = id.replace(/\/{2,}/g, '/').replace(/\/+$/, '').toLowerCase();
  return collapsed === '' ? '/' : collapsed;
}

/**
 * Role assignments are inherited downwards: one at `/subscriptions/s/resourceGroups/rg` applies to every resource in
 * rg. The prefix must end at a `/` boundary, so `rg-app` does not cover `rg-app2`.
 */
export function scopeCovers(scope: string, resourceId: string, managementGroups: readonly ManagementGroup[] = []): boolean {
  const s = normalizeScope(scope);
  const r = normalizeScope(resourceId);
  if (s === '/' || r === s || r.startsWith(s + '/')) return true;
  // A management group is no path prefix: it covers the subscriptions placed under it, and all below them.
  const mg = managementGroups.find((m) => normalizeScope(m.id) === s);
  const sub = /^\/subscriptions\/([^/]+)/.exec(r)?.[1];
  return !!mg && !!sub && mg.subscriptions.some((x) => x.toLowerCase() === sub);
}

/**
 * Authorization lags assignment writes (RBAC caches: "up to 10 minutes"). The assignment is listed at once but
 * decisions only see it once the delay has passed.
 */
export function isEffective(a: Assignment, nowMs: number): boolean {
  return nowMs >= a.createdOn.getTime() + (a.propagationDelaySeconds ?? 0) * 1000;
}

/** Accepts a ROLES key (`'reader'`), a GUID, a full roleDefinition id, or a role name (`'Key Vault Secrets User'`). */
export function resolveRole(roleKeyOrId: RoleKey | string): BuiltInRole {
  if (Object.hasOwn(ROLES, roleKeyOrId)) return ROLES[roleKeyOrId as RoleKey];
  const byId = roleById(roleKeyOrId);
  if (byId) return byId;
  const byName = ALL_ROLES.find((r) => r.name.toLowerCase() === roleKeyOrId.toLowerCase());
  if (byName) return byName;
  throw new Error(`Unknown role '${roleKeyOrId}': add it to src/catalog/roles.ts first`);
}

export function newAssignment(
  principalId: string,
  roleKeyOrId: RoleKey | string,
  scope: string,
  opts: { createdOn?: Date; propagationDelaySeconds?: number; condition?: string } = {},
): Assignment {
  const assignment: Assignment = {
    id: randomUUID(),
    principalId,
    roleDefinitionId: resolveRole(roleKeyOrId).id,
    scope,
    createdOn: opts.createdOn ?? new Date(),
  };
  if (opts.propagationDelaySeconds !== undefined) assignment.propagationDelaySeconds = opts.propagationDelaySeconds;
  if (opts.condition !== undefined) assignment.condition = opts.condition;
  return assignment;
}

/**
 * Who is asking: the token's oid, the groups it belongs to, and when its token was minted. A grant to a group reaches
 * a managed identity only through a token minted after it (the platform caches tokens ~24 h; azure-identity-facts.md §4).
 * A bare string is a principal with no groups.
 */
export type Caller = string | { oid: string; groups: readonly Group[]; tokenIatSeconds?: number; managementGroups?: readonly ManagementGroup[] };

export function callerOf(oid: string, groups: readonly Group[], tokenIatSeconds: unknown, managementGroups: readonly ManagementGroup[] = []): Caller {
  return { oid, groups, managementGroups, ...(typeof tokenIatSeconds === 'number' ? { tokenIatSeconds } : {}) };
}

/** Whether an assignment names the caller: directly, or (once its token carries it) through a group. */
function reaches(a: Assignment, caller: Caller): boolean {
  const oid = (typeof caller === 'string' ? caller : caller.oid).toLowerCase();
  if (a.principalId.toLowerCase() === oid) return true;
  if (typeof caller === 'string') return false;
  const group = caller.groups.find((g) => g.id.toLowerCase() === a.principalId.toLowerCase());
  if (!group || !group.members.some((m) => m.toLowerCase() === oid)) return false;
  return caller.tokenIatSeconds === undefined || caller.tokenIatSeconds * 1000 >= a.createdOn.getTime();
}

/** The ids an `assignedTo('<oid>')` filter matches: the principal and every group it is a member of. */
export function principalAndGroups(oid: string, groups: readonly Group[]): Set<string> {
  const ids = new Set([oid.toLowerCase()]);
  for (const g of groups) if (g.members.some((m) => m.toLowerCase() === oid.toLowerCase())) ids.add(g.id.toLowerCase());
  return ids;
}

export interface EffectiveGrant {
  assignment: Assignment;
  role: BuiltInRole;
}

/** Assignments of `principalId` that apply to `resourceId` and have propagated by `nowMs`. */
export function effectiveGrants(
  assignments: readonly Assignment[],
  principalId: Caller,
  resourceId: string,
  nowMs: number,
): EffectiveGrant[] {
  const out: EffectiveGrant[] = [];
  for (const a of assignments) {
    if (!reaches(a, principalId) || a.condition !== undefined) continue;
    if (!scopeCovers(a.scope, resourceId, typeof principalId === 'string' ? [] : principalId.managementGroups) || !isEffective(a, nowMs)) continue;
    const role = roleById(a.roleDefinitionId);
    if (role) out.push({ assignment: a, role });
  }
  return out;
}

/** The grant that allows a data action (Key Vault / Storage data plane), if any. */
export function findDataActionGrant(
  assignments: readonly Assignment[],
  principalId: Caller,
  resourceId: string,
  dataAction: string,
  nowMs: number,
): EffectiveGrant | undefined {
  return effectiveGrants(assignments, principalId, resourceId, nowMs).find((g) => grantsDataAction(g.role, dataAction));
}

/** The grant that allows a control-plane action (ARM), if any. */
export function findActionGrant(
  assignments: readonly Assignment[],
  principalId: Caller,
  resourceId: string,
  action: string,
  nowMs: number,
): EffectiveGrant | undefined {
  return effectiveGrants(assignments, principalId, resourceId, nowMs).find((g) => grantsAction(g.role, action));
}
