import type { TokenCredential } from '@azure/identity';
import type { AuthorizationManagementClient } from '@azure/arm-authorization';
import type { CommandContext } from '../advice/commands';
import { roleAssignmentList } from '../targets/commands';
import { kindOf, operationOf } from '../targets/registry';
import { grantsAction, grantsDataAction, roleById, scopeCovers, type BuiltInRole } from '../catalog/roles';
import type { Settings, Target } from '../config';
import { callFailureFromError } from '../wire/callFailure';
import type { Evidence, RoleEvidence } from '../verdict';
import { boundedHttpClient } from '../wire/boundedClient';

/**
 * After a 403: what does the identity hold at the target's scope? Control-plane reads, all covered by Reader
 * (`*\/read`): the caller's own effective permissions (Permissions - List For Resource / Resource Group) and the role
 * assignments naming its oid — directly or through its groups — at, above and below the scope (roleAssignments.listForScope
 * with assignedTo() and with principalId eq). Role names
 * come from the one built-in role table; unknown ids from roleDefinitions.get. If the identity may not read these,
 * that is evidence too, with the command to look yourself. Never throws.
 */
export async function lookupRoles(args: {
  target: Target;
  scope: string;
  oid: string;
  credential: TokenCredential;
  settings: Settings;
  signal: AbortSignal;
  commandContext: CommandContext;
  /** What the service said: a kind whose operation depends on the refused claim reads it (TargetKind.operationFor). */
  evidence?: Evidence;
}): Promise<RoleEvidence> {
  const { target, scope, oid, credential, settings, signal } = args;
  const lookup = roleAssignmentList(args.commandContext);
  const subscriptionId = scope.split('/')[2] ?? '';
  // Loaded on the first 403 (or ARM target), not at start: see src/targets/index.ts (dispatch).
  const { AuthorizationManagementClient } = await import('./authorizationClient');
  const client = new AuthorizationManagementClient(credential, subscriptionId, {
    endpoint: settings.armEndpoint,
    credentialScopes: [`${settings.cloud.armAudiences[0].replace(/\/+$/, '')}/.default`],
    retryOptions: { maxRetries: 0 },
    httpClient: boundedHttpClient(settings.maxResponseBytes),
  });
  const kind = kindOf(target);
  const op = operationOf(target, args.evidence);
  const touched = operationScope(target, scope);
  // The caller's own effective permissions need no role to read: kept even when listing assignments is refused.
  const effectiveRead = effectivePermissions(client, scope, signal);
  try {
    // Two filters, as ARM defines them (Role Assignments - List For Scope, api-version 2022-04-01,
    // https://learn.microsoft.com/rest/api/authorization/role-assignments/list-for-scope): assignedTo('<oid>') lists the
    // principal's assignments including those through its groups (role-assignments-list-rest: "transitive for
    // groups"); principalId eq '<oid>' returns assignments "at, above or below the scope" — the finer scopes (one
    // secret, one container) that decide access too.
    const [viaGroups, direct, effective] = await Promise.all([
      firstPage(client.roleAssignments.listForScope(scope, { filter: `assignedTo('${oid}')`, abortSignal: signal })),
      firstPage(client.roleAssignments.listForScope(scope, { filter: `principalId eq '${oid}'`, abortSignal: signal })),
      effectiveRead,
    ]);
    const seen = new Set<string>();
    const listed = [...viaGroups, ...direct].filter((a) => {
      const key = (a.id ?? `${a.scope}|${a.roleDefinitionId}|${a.principalId}`).toLowerCase();
      return a.scope !== undefined && !seen.has(key) && seen.add(key);
    });
    // Assignments that reach the operation (at or above what it touches) or sit below the resource (finer grants:
    // they reach a sibling secret or container, not this one — worth saying, never counted as covering).
    const relevant = listed.filter((a) => reachesScope(a.scope!, touched) || scopeCovers(scope, a.scope!));
    const assignments = await Promise.all(
      relevant.map(async (a) => {
        const id = a.roleDefinitionId ?? '';
        const role = roleById(id) ?? (await definitionOf(client, scope, id, signal));
        const reaches = reachesScope(a.scope!, touched);
        const grants = role ? (kind.grants?.(role, target) ?? (op.plane === 'data' ? grantsDataAction(role, op.permission) : grantsAction(role, op.permission))) : false;
        const relation = sameScope(a.scope!, touched) ? ('at' as const) : reaches ? ('above' as const) : ('below' as const);
        return {
          roleName: role?.name ?? id.split('/').pop() ?? 'unknown',
          roleDefinitionId: id.split('/').pop() ?? id,
          scope: a.scope!,
          plane: role ? (role.dataActions.length ? ('data' as const) : ('control' as const)) : ('unknown' as const),
          coversOperation: grants && reaches,
          ...(a.principalId ? { principalId: a.principalId } : {}),
          ...(a.createdOn ? { createdOn: new Date(a.createdOn).toISOString() } : {}),
          ...(a.condition ? { condition: a.condition } : {}),
          scopeRelation: relation,
        };
      }),
    );
    return { scope, lookedUp: true, assignments, ...(effective ? { effective } : {}), lookup };
  } catch (err) {
    const f = callFailureFromError(err, { url: settings.armEndpoint, deadlineSignal: signal, elapsedMs: 0 });
    const effective = await effectiveRead;
    return {
      scope,
      lookedUp: false,
      assignments: [],
      ...(effective ? { effective } : {}),
      unavailable: {
        reason:
          f.httpStatus === 403
            ? 'The identity may not read role assignments at this scope (it lacks Microsoft.Authorization/roleAssignments/read, e.g. Reader). That is fine for the workload; look yourself with the command below.'
            : `The role look-up failed: ${f.errorCode ?? f.transport?.detail ?? `HTTP ${f.httpStatus ?? '?'}`}.`,
        ...(f.errorCode ? { errorCode: f.errorCode } : {}),
        ...(f.httpStatus !== undefined ? { httpStatus: f.httpStatus } : {}),
      },
      lookup,
    };
  }
}

async function firstPage<T>(pages: { byPage(): AsyncIterableIterator<T[]> }): Promise<T[]> {
  const page = await pages.byPage().next();
  return page.done ? [] : page.value;
}

/**
 * Whether an assignment ARM listed reaches what the operation touches. A management-group id is not a path prefix of
 * the subscription below it, but ARM lists one at a resource's scope only when it sits above: it reaches.
 */
function reachesScope(assignmentScope: string, touched: string): boolean {
  return /^\/providers\/Microsoft\.Management\/managementGroups\//i.test(assignmentScope) || scopeCovers(assignmentScope, touched);
}

function sameScope(a: string, b: string): boolean {
  return a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();
}

/**
 * What the probe's operation touches, below the resource: one secret (Key Vault RBAC can be granted per secret),
 * one container. ARM targets touch the resource itself.
 */
export function operationScope(target: Target, resourceScope: string): string {
  return `${resourceScope.replace(/\/+$/, '')}${kindOf(target).scopes.touched(target)}`;
}

/** The caller's effective permissions, where ARM offers the read for this kind of scope (not for subscriptions). */
async function effectivePermissions(
  client: AuthorizationManagementClient,
  scope: string,
  signal: AbortSignal,
): Promise<{ actions: string[]; dataActions: string[] } | undefined> {
  const parts = scope.split('/').filter(Boolean);
  // subscriptions/{s}/resourceGroups/{rg}[/providers/{ns}/{type}/{name}]
  const rg = parts[3];
  if (!rg) return undefined;
  const pages =
    parts.length >= 8 && parts[4]?.toLowerCase() === 'providers'
      ? client.permissions.listForResource(rg, parts[5]!, '', parts.slice(6, -1).join('/'), parts.at(-1)!, { abortSignal: signal })
      : client.permissions.listForResourceGroup(rg, { abortSignal: signal });
  try {
    const page = await pages.byPage().next();
    const perms = page.done ? [] : page.value;
    return {
      actions: [...new Set(perms.flatMap((p) => p.actions ?? []))],
      dataActions: [...new Set(perms.flatMap((p) => p.dataActions ?? []))],
    };
  } catch {
    return undefined;
  }
}

async function definitionOf(client: AuthorizationManagementClient, scope: string, id: string, signal: AbortSignal): Promise<BuiltInRole | undefined> {
  try {
    const d = await client.roleDefinitions.get(scope, id.split('/').pop() ?? id, { abortSignal: signal });
    const p = d.permissions?.[0];
    return {
      name: d.roleName ?? id,
      id: d.name ?? id,
      plane: p?.dataActions?.length ? 'data' : 'control',
      actions: p?.actions ?? [],
      notActions: p?.notActions ?? [],
      dataActions: p?.dataActions ?? [],
    };
  } catch {
    return undefined;
  }
}
