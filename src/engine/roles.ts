import { AuthorizationManagementClient } from '@azure/arm-authorization';
import type { TokenCredential } from '@azure/identity';
import { roleAssignmentList, type CommandContext } from '../catalog/commands';
import { OPERATIONS } from '../catalog/operations';
import { grantsAction, grantsDataAction, roleById, scopeCovers, type BuiltInRole } from '../catalog/roles';
import type { Settings, Target } from '../config';
import { callFailureFromError } from '../targets/probe';
import type { RoleEvidence } from '../verdict';
import { boundedHttpClient } from './boundedClient';

/**
 * After a 403: what does the identity hold at the target's scope? Two control-plane reads, both covered by Reader
 * (`*\/read`): the caller's own effective permissions (Permissions - List For Resource / Resource Group) and the role
 * assignments naming its oid at and above the scope (roleAssignments.listForScope with assignedTo()). Role names
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
}): Promise<RoleEvidence> {
  const { target, scope, oid, credential, settings, signal } = args;
  const lookup = roleAssignmentList(args.commandContext);
  const subscriptionId = scope.split('/')[2] ?? '';
  const client = new AuthorizationManagementClient(credential, subscriptionId, {
    endpoint: settings.armEndpoint,
    credentialScopes: [`${settings.cloud.audiences.armResource.replace(/\/+$/, '')}/.default`],
    retryOptions: { maxRetries: 0 },
    httpClient: boundedHttpClient(settings.maxResponseBytes),
  });
  const op = OPERATIONS[target.kind];
  try {
    const [page, effective] = await Promise.all([
      client.roleAssignments.listForScope(scope, { filter: `assignedTo('${oid}')`, abortSignal: signal }).byPage().next(),
      effectivePermissions(client, scope, signal),
    ]);
    const applicable = (page.done ? [] : page.value).filter((a) => a.scope !== undefined && scopeCovers(a.scope, scope));
    const assignments = await Promise.all(
      applicable.map(async (a) => {
        const id = a.roleDefinitionId ?? '';
        const role = roleById(id) ?? (await definitionOf(client, scope, id, signal));
        const covers = role ? (op.plane === 'data' ? grantsDataAction(role, op.permission) : grantsAction(role, op.permission)) : false;
        return {
          roleName: role?.name ?? id.split('/').pop() ?? 'unknown',
          roleDefinitionId: id.split('/').pop() ?? id,
          scope: a.scope!,
          plane: role ? (role.dataActions.length ? ('data' as const) : ('control' as const)) : ('unknown' as const),
          coversOperation: covers,
          ...(a.principalId ? { principalId: a.principalId } : {}),
          ...(a.createdOn ? { createdOn: new Date(a.createdOn).toISOString() } : {}),
        };
      }),
    );
    return { scope, lookedUp: true, assignments, ...(effective ? { effective } : {}), lookup };
  } catch (err) {
    const f = callFailureFromError(err, { url: settings.armEndpoint, deadlineSignal: signal, elapsedMs: 0 });
    return {
      scope,
      lookedUp: false,
      assignments: [],
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
