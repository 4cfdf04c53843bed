import { z } from 'zod';
import { bearerTokenAuthenticationPolicy, createEmptyPipeline, createPipelineRequest } from '@azure/core-rest-pipeline';
import type { TokenCredential } from '@azure/identity';
import { grantsDataAction, roleById, type BuiltInRole } from '../../catalog/roles';
import { boundedHttpClient } from '../../wire/boundedClient';
import type { RoleEvidence } from '../../verdict';
import type { PermissionLookup } from '../kind';
import { NEEDED_WITH_ITEM, NEEDED_WITH_QUERY } from './actions';
import { containerScope, sqlRoleAssignmentList, type CosmosDbTarget } from './index';

/**
 * What the principal holds in the account's own permission model: its Cosmos DB SQL role assignments and their role
 * definitions, read through ARM (SQL Resources - List SQL Role Assignments / List SQL Role Definitions,
 * https://learn.microsoft.com/rest/api/cosmos-db-resource-provider/sql-resources; needs the control-plane reads
 * Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments/read and sqlRoleDefinitions/read, which Reader's *\/read
 * covers), beside the Azure RBAC roles held on the account (the control-plane roles people grant by mistake).
 * @azure/arm-cosmosdb is not a dependency: two GETs through the bounded transport do. Never throws.
 *
 * Cosmos SQL role assignments carry no creation time (their ARM resource has only roleDefinitionId, scope and
 * principalId), so `createdOn` stays unset: a covering assignment that is refused is judged young (propagation_pending,
 * its age unknown), never grant_ineffective. No Cosmos-specific propagation window is documented: the RBAC one applies.
 */
export const API_VERSION = '2023-04-15';
export const MODEL = 'Cosmos DB SQL role assignments';

const Assignments = z.object({
  value: z.array(
    z.object({
      id: z.string().optional(),
      properties: z.object({ roleDefinitionId: z.string(), scope: z.string(), principalId: z.string() }),
    }),
  ),
});
const Definitions = z.object({
  value: z.array(
    z.object({
      id: z.string(),
      name: z.string().optional(),
      properties: z.object({
        roleName: z.string().optional(),
        permissions: z.array(z.object({ dataActions: z.array(z.string()).optional(), notDataActions: z.array(z.string()).optional() })).optional(),
      }),
    }),
  ),
});

type Assignment = RoleEvidence['assignments'][number];

const trim = (s: string) => s.replace(/\/+$/, '').toLowerCase();
/** Whether `scope` is `target` or above it, at a path boundary. */
const covers = (scope: string, target: string) => trim(target) === trim(scope) || trim(target).startsWith(`${trim(scope)}/`);

export async function lookupSqlRoles(args: PermissionLookup<CosmosDbTarget>): Promise<RoleEvidence> {
  const { target, oid, settings, signal } = args;
  const lookup = sqlRoleAssignmentList(target, oid);
  const account = target.resourceId?.replace(/\/+$/, '');
  const touched = account ? `${account}${containerScope(target)}` : containerScope(target);
  const base = { scope: touched, lookup, model: MODEL };
  if (!account) {
    return {
      ...base,
      lookedUp: false,
      assignments: [],
      unavailable: { reason: `Add "resourceId" (the ARM id of the Cosmos DB account) to target "${target.name}" to let the diagnose read its SQL role assignments.` },
    };
  }
  const azure = args.azureRoles().catch(() => undefined);
  const arm = await args.credentialFor(settings.cloud.armAudiences[0]);
  if (!arm.ok) {
    const held = await azure;
    return { ...base, lookedUp: false, assignments: held?.assignments ?? [], unavailable: { reason: `${arm.reason} The SQL role assignments could not be read.` } };
  }
  const get = armReader(arm.credential, settings.armEndpoint, settings.cloud.armAudiences[0], settings.maxResponseBytes, signal);
  const [assignments, definitions, held] = await Promise.all([
    get(`${account}/sqlRoleAssignments`, Assignments),
    get(`${account}/sqlRoleDefinitions`, Definitions),
    azure,
  ]);
  const azureHeld = held?.assignments ?? [];
  if (!assignments.ok) {
    return {
      ...base,
      lookedUp: false,
      assignments: azureHeld,
      unavailable: {
        reason:
          assignments.status === 403
            ? 'The identity may not read the account\'s SQL role assignments through ARM (it lacks Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments/read, e.g. Reader). That is fine for the workload; look yourself with the command below.'
            : `The SQL role look-up failed: ${assignments.reason}.`,
        ...(assignments.code ? { errorCode: assignments.code } : {}),
        ...(assignments.status !== undefined ? { httpStatus: assignments.status } : {}),
      },
    };
  }
  const needed = target.itemId !== undefined ? NEEDED_WITH_ITEM : NEEDED_WITH_QUERY;
  const defs = definitions.ok ? definitions.body.value : [];
  const mine = assignments.body.value.filter((a) => a.properties.principalId.toLowerCase() === oid.toLowerCase());
  const sql = mine.map((a): Assignment => {
    // Scopes come back as ARM ids; an account-relative one ("/", "/dbs/…") is read against the account.
    const scope = a.properties.scope.startsWith('/subscriptions/') ? a.properties.scope : `${account}${a.properties.scope === '/' ? '' : a.properties.scope}`;
    const role = definitionOf(a.properties.roleDefinitionId, defs);
    const reaches = covers(scope, touched);
    const grants = !!role && needed.every((action) => grantsDataAction(role, action));
    return {
      roleName: role?.name ?? a.properties.roleDefinitionId.split('/').pop() ?? 'unknown',
      roleDefinitionId: a.properties.roleDefinitionId.split('/').pop() ?? a.properties.roleDefinitionId,
      scope,
      plane: 'data',
      coversOperation: grants && reaches,
      principalId: a.properties.principalId,
      scopeRelation: trim(scope) === trim(touched) ? 'at' : reaches ? 'above' : 'below',
    };
  });
  // Azure RBAC roles never carry Cosmos data actions: listed as held (the trap), never as covering.
  return { ...base, lookedUp: true, assignments: [...sql, ...azureHeld.map((a) => ({ ...a, coversOperation: false }))] };
}

/** A SQL role definition by id: the account's own list, else the built-in ones (their GUIDs are fixed). */
function definitionOf(id: string, defs: z.infer<typeof Definitions>['value']): BuiltInRole | undefined {
  const guid = id.split('/').pop()!.toLowerCase();
  const d = defs.find((x) => trim(x.id) === trim(id) || x.name?.toLowerCase() === guid);
  if (d) {
    return {
      name: d.properties.roleName ?? guid,
      id: guid,
      plane: 'data',
      actions: [],
      notActions: [],
      dataActions: (d.properties.permissions ?? []).flatMap((p) => p.dataActions ?? []),
    };
  }
  const builtIn = roleById(guid);
  return builtIn && /^0{8}-0{4}-0{4}-0{4}-0{11}[12]$/.test(guid) ? builtIn : undefined;
}

type Read<T> = { ok: true; body: T } | { ok: false; status?: number; code?: string; reason: string };

/** GET an ARM path with the identity's ARM token, no retries, through the bounded transport; the body checked by zod. */
function armReader(credential: TokenCredential, armEndpoint: string, audience: string, maxBytes: number, signal: AbortSignal) {
  const pipeline = createEmptyPipeline();
  pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential, scopes: `${audience.replace(/\/+$/, '')}/.default` }));
  const client = boundedHttpClient(maxBytes);
  return async <T>(path: string, schema: z.ZodType<T>): Promise<Read<T>> => {
    try {
      const url = `${armEndpoint.replace(/\/+$/, '')}${path}?api-version=${API_VERSION}`;
      const response = await pipeline.sendRequest(client, createPipelineRequest({ url, method: 'GET', abortSignal: signal }));
      let body: unknown;
      try {
        body = JSON.parse(response.bodyAsText ?? '');
      } catch {
        return { ok: false, status: response.status, reason: `HTTP ${response.status} with a body that is not JSON` };
      }
      if (response.status >= 400) {
        const code = (body as { error?: { code?: unknown } })?.error?.code;
        return { ok: false, status: response.status, ...(typeof code === 'string' ? { code } : {}), reason: `${typeof code === 'string' ? code : 'HTTP'} ${response.status}` };
      }
      const parsed = schema.safeParse(body);
      return parsed.success ? { ok: true, body: parsed.data } : { ok: false, status: response.status, reason: 'an answer not shaped like an ARM list' };
    } catch (err) {
      return { ok: false, reason: (err as Error)?.message?.slice(0, 200) ?? 'the request failed' };
    }
  };
}
