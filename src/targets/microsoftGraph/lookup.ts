import { isGuid } from '../../advice/commands';
import { idOr } from '../../advice/shell';
import { graphAppRole, graphAppRoleById, READ_APP_ROLE_ASSIGNMENTS } from '../../catalog/graphPermissions';
import { callFailureFromError } from '../../wire/callFailure';
import type { RoleEvidence } from '../../verdict';
import type { PermissionLookup } from '../kind';
import { kindOf } from '../registry';
import { asRestError, graphGet } from './http';
import { APP_ROLE_MODEL, appRoleAssignmentsList, graphAudience, TOKEN_CACHE_SECONDS, type MicrosoftGraphTarget } from './index';

interface AppRoleAssignment {
  appRoleId?: string;
  createdDateTime?: string;
  principalId?: string;
  resourceId?: string;
  resourceDisplayName?: string;
}

/**
 * What the identity holds in Graph's own permission model: its app role assignments
 * (GET /v1.0/servicePrincipals/{oid}/appRoleAssignments, https://learn.microsoft.com/graph/api/serviceprincipal-list-approleassignments),
 * read with a token for the target's own Graph audience and sent to the target's own Graph endpoint. Reading them needs
 * an application permission too (Application.Read.All, or Directory.Read.All): without it the evidence says so.
 * Never throws.
 */
export async function lookupAppRoles(args: PermissionLookup<MicrosoftGraphTarget>): Promise<RoleEvidence> {
  const { target, oid, settings, signal } = args;
  const scope = 'Microsoft Graph';
  const base = { scope, lookup: appRoleAssignmentsList(settings, idOr(oid, isGuid, 'principal-object-id')), model: APP_ROLE_MODEL, windowSeconds: TOKEN_CACHE_SECONDS };
  const unavailable = (reason: string, extra: { errorCode?: string; httpStatus?: number } = {}): RoleEvidence => ({
    ...base,
    lookedUp: false,
    assignments: [],
    unavailable: { reason, ...extra },
  });
  const audience = graphAudience(target, settings);
  const credential = await args.credentialFor(audience);
  if (!credential.ok) return unavailable(credential.reason);
  const url = `${kindOf(target).endpoint(target, settings)}/v1.0/servicePrincipals/${encodeURIComponent(oid)}/appRoleAssignments`;
  try {
    const answer = await graphGet(url, { credential: credential.credential, audience, signal, maxResponseBytes: settings.maxResponseBytes });
    if (answer.status !== 200) {
      const f = callFailureFromError(asRestError(answer, url), { url, deadlineSignal: signal, elapsedMs: 0 });
      return unavailable(
        answer.status === 403
          ? `Graph refused to list this identity's own app role assignments (${f.errorCode ?? '403'}): reading them needs ${READ_APP_ROLE_ASSIGNMENTS[0]} (or Directory.Read.All) as well, which the token does not carry. That is fine for the workload; look yourself with the command below.`
          : `The app role look-up failed: ${f.errorCode ?? `HTTP ${answer.status}`}.`,
        { ...(f.errorCode ? { errorCode: f.errorCode } : {}), httpStatus: answer.status },
      );
    }
    const value = (JSON.parse(answer.body) as { value?: unknown }).value;
    const listed = Array.isArray(value) ? (value as AppRoleAssignment[]) : [];
    const wanted = graphAppRole(target.permission);
    return {
      ...base,
      lookedUp: true,
      assignments: listed.map((a) => {
        const id = (a.appRoleId ?? '').toLowerCase();
        const known = graphAppRoleById(id);
        const created = a.createdDateTime ? Date.parse(a.createdDateTime) : NaN;
        return {
          roleName: known?.value ?? (id || 'unknown'),
          roleDefinitionId: id,
          scope: `${(a.resourceDisplayName ?? 'service principal').slice(0, 100)} (${(a.resourceId ?? '?').slice(0, 40)})`,
          plane: 'data' as const,
          // An app role id is unique to its resource's app: the well-known id is Microsoft Graph's permission itself.
          coversOperation: !!wanted && id === wanted.id,
          ...(a.principalId ? { principalId: a.principalId } : {}),
          ...(Number.isFinite(created) ? { createdOn: new Date(created).toISOString() } : {}),
          scopeRelation: 'at' as const,
        };
      }),
    };
  } catch (err) {
    const f = callFailureFromError(err, { url, deadlineSignal: signal, elapsedMs: 0 });
    return unavailable(`The app role look-up failed: ${f.errorCode ?? f.transport?.detail ?? (err instanceof SyntaxError ? 'the answer was not JSON' : 'no answer')}.`);
  }
}
