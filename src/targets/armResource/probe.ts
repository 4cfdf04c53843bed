import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { roleById, scopeCovers } from '../../catalog/roles';
import { boundedHttpClient } from '../../wire/boundedClient';
import { correlationFrom, guarded, type Probe } from '../probe';
import type { ArmResourceTarget } from './index';


/**
 * Read the role assignments at the scope that name this principal (assignedTo(oid)): a control-plane read that
 * needs Microsoft.Authorization/roleAssignments/read (Reader's "*\/read" covers it), and whose answer is itself
 * evidence of what the identity holds there.
 */
export const probeArmResource: Probe<ArmResourceTarget> = (target, ctx) => {
  const endpoint = ctx.endpoint;
  return guarded(endpoint, ctx, async () => {
    const subscriptionId = target.resourceId.split('/')[2]!;
    const audience = ctx.audience;
    const client = new AuthorizationManagementClient(ctx.credential, subscriptionId, {
      endpoint,
      // Without credentialScopes the scope would be derived from the endpoint (wrong for a non-default port).
      credentialScopes: [`${audience.replace(/\/+$/, '')}/.default`],
      retryOptions: { maxRetries: 0 },
      httpClient: boundedHttpClient(ctx.maxResponseBytes),
    });
    let headers: unknown;
    const filter = ctx.oid ? `assignedTo('${ctx.oid}')` : 'atScope()';
    const page = await client.roleAssignments
      .listForScope(target.resourceId, {
        filter,
        abortSignal: ctx.signal,
        onResponse: (raw) => {
          headers = raw.headers;
        },
      })
      .byPage()
      .next();
    // assignedTo() also lists assignments below the scope; only those at or above it apply here.
    const assignments = (page.done ? [] : page.value).filter((a) => a.scope !== undefined && scopeCovers(a.scope, target.resourceId));
    const roles = [
      ...new Set(
        assignments.map((a) => {
          const id = a.roleDefinitionId ?? '';
          return roleById(id)?.name ?? id.split('/').pop() ?? 'unknown';
        }),
      ),
    ];
    return {
      ok: true,
      httpStatus: 200,
      result: { readable: true, assignmentsVisible: assignments.length, rolesHeld: roles.join(', ') || null },
      correlation: correlationFrom(headers),
    };
  });
};
