import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CLOUDS, OPERATIONS, type Cloud } from '../../src/targets/registry';
import { ALL_ROLES, roleById, type BuiltInRole } from '../../src/catalog/roles';
import { GUID } from '../../src/advice/shell';
import { applyFault } from './faults';
import type { Assignment, Counters, WorldState } from './model';
import { callerOf, effectiveGrants, findActionGrant, normalizeScope, principalAndGroups, scopeCovers, type Caller } from './rbac';
import { hostName, parseUrl, sendJson, startService, type Service } from './service';
import { checkToken, type TokenClaims } from './tokens';

/**
 * Azure Resource Manager, just the Microsoft.Authorization reads a diagnosis needs plus plain resource GETs.
 * Paths are scopes: `{scope}/providers/Microsoft.Authorization/...`; the SDK joins its endpoint and a scope that
 * starts with `/` into `//subscriptions/...`, so repeated slashes are collapsed (never read as a host).
 */
export interface ArmDeps {
  state: WorldState;
  counters: Counters;
  tls: { cert: string; key: string };
  nowMs(): number;
}

const READ_ASSIGNMENTS = OPERATIONS.armResource.permission;
const AUTHZ = '/providers/microsoft.authorization/';

function routingId(nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `EASTUS:${stamp}:${randomUUID().toUpperCase()}`;
}

/** `10/22/2025 5:00:00 AM`, the US format ARM (and Cosmos DB's auth messages) print times in. */
export function armTime(ms: number): string {
  const d = new Date(ms);
  const h = d.getUTCHours();
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h % 12 === 0 ? 12 : h % 12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

interface ScopeParts {
  subscription?: string;
  resourceGroup?: string;
  /** `Microsoft.KeyVault/vaults` for `.../providers/Microsoft.KeyVault/vaults/kv`, nested types joined. */
  resourceType?: string;
  resourceName?: string;
}

function parseScope(scope: string): ScopeParts {
  const parts = scope.split('/').filter(Boolean);
  const out: ScopeParts = {};
  let i = 0;
  if (parts[i]?.toLowerCase() === 'subscriptions' && parts[i + 1]) {
    out.subscription = parts[i + 1];
    i += 2;
  }
  if (parts[i]?.toLowerCase() === 'resourcegroups' && parts[i + 1]) {
    out.resourceGroup = parts[i + 1];
    i += 2;
  }
  if (parts[i]?.toLowerCase() === 'providers' && parts[i + 1]) {
    const rest = parts.slice(i + 2);
    const types = [parts[i + 1]];
    const names: string[] = [];
    rest.forEach((p, k) => (k % 2 === 0 ? types.push(p) : names.push(p)));
    out.resourceType = types.join('/');
    out.resourceName = names.join('/');
  }
  return out;
}

export function startArm(deps: ArmDeps): Promise<Service> {
  const { state } = deps;

  const handler = (req: IncomingMessage, res: ServerResponse, tools: { track(t: NodeJS.Timeout): void }): void => {
    req.resume();
    deps.counters.arm++;
    const now = deps.nowMs();
    const headers: Record<string, string> = {
      'cache-control': 'no-cache',
      pragma: 'no-cache',
      expires: '-1',
      'x-ms-request-id': randomUUID(),
      'x-ms-correlation-request-id': String(req.headers['x-ms-correlation-request-id'] ?? randomUUID()),
      'x-ms-routing-request-id': routingId(now),
      'x-ms-ratelimit-remaining-subscription-reads': '11999',
      'x-content-type-options': 'nosniff',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
    };
    if (applyFault(state.armFault, { req, res, contentType: 'application/json; charset=utf-8', track: tools.track })) return;
    const reply = (status: number, body: unknown, extra: Record<string, string> = {}): void =>
      sendJson(res, status, body, { ...headers, ...extra });
    const error = (status: number, code: string, message: string, extra?: Record<string, string>): void =>
      reply(status, { error: { code, message } }, extra);

    const url = parseUrl(req);
    const path = url.pathname.replace(/\/{2,}/g, '/').replace(/\/+$/, '') || '/';
    const scoped = state.arm.scopeFaults?.find((f) => path.toLowerCase() === f.scope.toLowerCase() || path.toLowerCase().startsWith(`${f.scope.toLowerCase()}/`));
    if (scoped && applyFault(scoped.fault, { req, res, contentType: 'application/json; charset=utf-8', track: tools.track })) return;

    // Authentication first: ARM answers 401 before it looks at the route.
    const invalidToken = (code: string, message: string, authorizationUri: string, description: string): void =>
      error(401, code, message, {
        'www-authenticate': `Bearer authorization_uri="${authorizationUri}", error="invalid_token", error_description="${description}"`,
      });
    const cloud = armCloudOf(hostName(req));
    const login = loginHost(cloud);
    const check = checkToken(
      req,
      (aud) => allowedArmAudiences(cloud).includes(aud.toLowerCase()),
      state.arm.tenantId,
      Math.floor(now / 1000),
    );
    if (!check.ok) {
      switch (check.problem) {
        case 'missing':
          return invalidToken(
            'AuthenticationFailed',
            "Authentication failed. The 'Authorization' header is missing.",
            `${login}/`,
            "The authentication failed because of missing 'Authorization' header.",
          );
        case 'malformed':
          return invalidToken(
            'InvalidAuthenticationToken',
            'The access token is invalid.',
            `${login}/`,
            'The access token is invalid.',
          );
        case 'audience':
          return invalidToken(
            'InvalidAuthenticationTokenAudience',
            `The access token has been obtained for wrong audience or resource '${check.claims.aud}'. It should exactly match with one of the allowed audiences ${allowedArmAudiences(cloud).map((a) => `'${a}'`).join(',')}.`,
            `${login}/`,
            'The access token has been obtained for wrong audience or resource.',
          );
        case 'issuer':
          return invalidToken(
            'InvalidAuthenticationTokenTenant',
            `The access token is from the wrong issuer '${String(check.claims.iss)}'. It must match the tenant 'https://sts.windows.net/${state.arm.tenantId}/' associated with this subscription. Please use the authority (URL) '${login}/${state.arm.tenantId}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.`,
            `${login}/${state.arm.tenantId}`,
            'The access token is from the wrong issuer.',
          );
        case 'expired':
        case 'not_yet_valid': {
          const msg = `The access token expiry UTC time '${armTime(Number(check.claims.exp) * 1000)}' is earlier than current UTC time '${armTime(now)}'.`;
          return invalidToken('ExpiredAuthenticationToken', msg, `${login}/`, msg);
        }
      }
    }
    const claims = check.claims;

    if (!url.searchParams.get('api-version')) {
      return error(
        400,
        'MissingApiVersionParameter',
        "The api-version query parameter (?api-version=) is required for all requests.",
      );
    }
    if (req.method !== 'GET') {
      return error(405, 'MethodNotAllowed', `The simulated ARM only serves reads, not ${req.method}.`);
    }

    const lower = path.toLowerCase();
    const sqlRoles = /^(.*\/providers\/microsoft\.documentdb\/databaseaccounts\/[^/]+)\/(sqlroleassignments|sqlroledefinitions)$/.exec(lower);
    if (sqlRoles) return listCosmosSqlRoles(path.slice(0, sqlRoles[1]!.length), sqlRoles[2] === 'sqlroleassignments', claims);
    const at = lower.lastIndexOf(AUTHZ);
    if (at < 0) return getResource(path, claims);
    const scope = path.slice(0, at) || '/';
    const [kind, name, ...extra] = path.slice(at + AUTHZ.length).split('/');
    if (extra.length > 0) return error(404, 'InvalidResourceType', `The resource type could not be found in the namespace 'Microsoft.Authorization'.`);
    switch (kind?.toLowerCase()) {
      case 'roleassignments':
        return name === undefined ? listAssignments(scope, claims, url.searchParams.get('$filter') ?? '') : getAssignment(scope, name, claims);
      case 'permissions':
        return name === undefined ? listPermissions(scope, claims) : error(404, 'InvalidResourceType', 'Not found.');
      case 'roledefinitions':
        return name === undefined ? listRoleDefinitions(scope, url.searchParams.get('$filter') ?? '') : getRoleDefinition(scope, name);
      default:
        return error(
          400,
          'InvalidResourceType',
          `The resource type '${kind ?? ''}' could not be found in the namespace 'Microsoft.Authorization' for api version '${url.searchParams.get('api-version') ?? ''}'.`,
        );
    }

    function oidOf(c: TokenClaims): string {
      return String(c.oid ?? '');
    }

    function callerFor(c: TokenClaims): Caller {
      return callerOf(oidOf(c), state.groups, c.iat, state.arm.managementGroups);
    }

    function authorizationFailed(c: TokenClaims, action: string, scope: string): void {
      error(
        403,
        'AuthorizationFailed',
        `The client '${String(c.appid ?? '')}' with object id '${oidOf(c)}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      );
    }

    /** Sends the right 404 and returns false when the scope names nothing that exists. */
    function scopeExists(scope: string): boolean {
      const n = normalizeScope(scope);
      if (n === '/') return true;
      const parts = parseScope(scope);
      const sub = parts.subscription;
      if (!sub || !state.arm.subscriptions.some((s) => s.toLowerCase() === sub.toLowerCase())) {
        error(404, 'SubscriptionNotFound', `The subscription '${sub ?? scope}' could not be found.`);
        return false;
      }
      const subId = `/subscriptions/${sub}`;
      if (n === normalizeScope(subId)) return true;
      if (parts.resourceGroup) {
        const rgId = normalizeScope(`${subId}/resourceGroups/${parts.resourceGroup}`);
        if (!state.arm.resourceGroups.some((g) => normalizeScope(g) === rgId)) {
          error(404, 'ResourceGroupNotFound', `Resource group '${parts.resourceGroup}' could not be found.`);
          return false;
        }
        if (n === rgId) return true;
      }
      if (state.arm.resources.some((id) => normalizeScope(id) === n)) return true;
      if (parts.resourceType && parts.resourceGroup) {
        error(
          404,
          'ResourceNotFound',
          `The Resource '${parts.resourceType}/${parts.resourceName ?? ''}' under resource group '${parts.resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
        );
      } else {
        error(404, 'InvalidScope', `The scope '${scope}' is not valid or could not be found.`);
      }
      return false;
    }

    function roleDefinitionId(assignmentScope: string, roleGuid: string): string {
      const sub = parseScope(assignmentScope).subscription ?? state.arm.subscriptions[0];
      return sub
        ? `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`
        : `/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`;
    }

    function assignmentBody(a: Assignment): unknown {
      const scopePath = a.scope === '/' ? '' : a.scope;
      return {
        properties: {
          roleDefinitionId: roleDefinitionId(a.scope, a.roleDefinitionId),
          principalId: a.principalId,
          principalType: 'ServicePrincipal',
          scope: a.scope,
          condition: a.condition ?? null,
          conditionVersion: a.condition ? '2.0' : null,
          createdOn: a.createdOn.toISOString(),
          updatedOn: a.createdOn.toISOString(),
          createdBy: null,
          updatedBy: null,
          delegatedManagedIdentityResourceId: null,
          description: null,
        },
        id: `${scopePath}/providers/Microsoft.Authorization/roleAssignments/${a.id}`,
        type: 'Microsoft.Authorization/roleAssignments',
        name: a.id,
      };
    }

    function listAssignments(scope: string, c: TokenClaims, filter: string): void {
      if (!findActionGrant(state.assignments, callerFor(c), scope, READ_ASSIGNMENTS, now)) {
        return authorizationFailed(c, READ_ASSIGNMENTS, scope);
      }
      if (!scopeExists(scope)) return;
      // The filters as ARM defines them (Role Assignments - List For Scope, 2022-04-01,
      // https://learn.microsoft.com/rest/api/authorization/role-assignments/list-for-scope): atScope() = at or above
      // the scope (no subscopes); principalId eq '<id>' = that principal exactly, at, above or below the scope;
      // assignedTo('<id>') = the principal and, transitively, its groups (role-assignments-list-rest). Without
      // atScope() the list spans above and below.
      const assignedTo = /assignedTo\('([^']*)'\)/i.exec(filter)?.[1];
      const principalEq = /principalId\s+eq\s+'([^']*)'/i.exec(filter)?.[1];
      const atScope = /atScope\(\)/i.test(filter);
      const names = assignedTo !== undefined ? principalAndGroups(assignedTo, state.groups) : principalEq !== undefined ? new Set([principalEq.toLowerCase()]) : undefined;
      // Listing shows assignments as soon as they are written; only decisions wait for propagation.
      const value = state.assignments
        .filter((a) => {
          const mgs = state.arm.managementGroups;
          return atScope ? scopeCovers(a.scope, scope, mgs) : scopeCovers(a.scope, scope, mgs) || scopeCovers(scope, a.scope, mgs);
        })
        .filter((a) => names === undefined || names.has(a.principalId.toLowerCase()))
        .map(assignmentBody);
      reply(200, { value });
    }

    function getAssignment(scope: string, name: string, c: TokenClaims): void {
      if (!findActionGrant(state.assignments, callerFor(c), scope, READ_ASSIGNMENTS, now)) {
        return authorizationFailed(c, READ_ASSIGNMENTS, scope);
      }
      const a = state.assignments.find((x) => x.id.toLowerCase() === name.toLowerCase() && normalizeScope(x.scope) === normalizeScope(scope));
      if (!a) return error(404, 'RoleAssignmentNotFound', 'The role assignment does not exist.');
      reply(200, assignmentBody(a));
    }

    function listPermissions(scope: string, c: TokenClaims): void {
      if (!scopeExists(scope)) return;
      const seen = new Set<string>();
      const value = effectiveGrants(state.assignments, callerFor(c), scope, now)
        .filter((g) => !seen.has(g.role.id) && seen.add(g.role.id))
        .map((g) => permissionsOf(g.role));
      reply(200, { value });
    }

    function roleDefinitionBody(scope: string, role: BuiltInRole): unknown {
      return {
        properties: {
          roleName: role.name,
          type: 'BuiltInRole',
          description: role.name,
          assignableScopes: ['/'],
          permissions: [permissionsOf(role)],
          createdOn: '2015-02-02T21:55:09.8806423Z',
          updatedOn: '2024-01-01T00:00:00.0000000Z',
          createdBy: null,
          updatedBy: null,
        },
        id: roleDefinitionId(scope, role.id),
        type: 'Microsoft.Authorization/roleDefinitions',
        name: role.id,
      };
    }

    function getRoleDefinition(scope: string, name: string): void {
      const role = roleById(name);
      if (!role) return error(404, 'RoleDefinitionDoesNotExist', 'The specified role definition with ID \'' + name + "' does not exist.");
      reply(200, roleDefinitionBody(scope, role));
    }

    function listRoleDefinitions(scope: string, filter: string): void {
      const roleName = /roleName\s+eq\s+'([^']*)'/i.exec(filter)?.[1];
      // Azure role definitions only: the Cosmos DB SQL built-ins (00000000-…-00000000000{1,2}) are the account's own, and a
      // SQL database role in the catalog (db_datareader) is not one ARM knows.
      const roles = ALL_ROLES.filter((r) => GUID.test(r.id) && !/^0{8}-0{4}-0{4}-0{4}-0{11}[12]$/.test(r.id) && (roleName === undefined || r.name.toLowerCase() === roleName.toLowerCase()));
      reply(200, { value: roles.map((r) => roleDefinitionBody(scope, r)) });
    }

    /**
     * SQL Resources - List SQL Role Assignments / List SQL Role Definitions (Microsoft.DocumentDB, api-version 2023-04-15):
     * the account's own data-plane grants, read on the control plane (sqlRoleAssignments/read, sqlRoleDefinitions/read;
     * Reader's *\/read covers them). Listed at once, whatever their staged propagation; no creation time, as in Azure.
     */
    function listCosmosSqlRoles(accountId: string, assignments: boolean, c: TokenClaims): void {
      const action = `Microsoft.DocumentDB/databaseAccounts/${assignments ? 'sqlRoleAssignments' : 'sqlRoleDefinitions'}/read`;
      if (!findActionGrant(state.assignments, callerFor(c), accountId, action, now)) return authorizationFailed(c, action, accountId);
      const account = state.cosmos.accounts.find((a) => normalizeScope(a.resourceId) === normalizeScope(accountId));
      if (!account) {
        const parts = parseScope(accountId);
        return error(404, 'ResourceNotFound', `The Resource '${parts.resourceType ?? ''}/${parts.resourceName ?? ''}' under resource group '${parts.resourceGroup ?? ''}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
      }
      const id = account.resourceId;
      const definitionId = (guid: string) => `${id}/sqlRoleDefinitions/${guid}`;
      if (assignments) {
        const value = state.cosmos.sqlAssignments
          .filter((a) => a.accountName.toLowerCase() === account.name.toLowerCase())
          .map((a) => ({
            id: `${id}/sqlRoleAssignments/${a.id}`,
            name: a.id,
            type: 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments',
            properties: {
              roleDefinitionId: definitionId(a.roleDefinitionId.split('/').pop()!),
              scope: a.scope.startsWith('/subscriptions/') ? a.scope : `${id}${a.scope === '/' ? '' : a.scope}`,
              principalId: a.principalId,
            },
          }));
        return reply(200, { value });
      }
      const builtIn = ALL_ROLES.filter((r) => /^0{8}-0{4}-0{4}-0{4}-0{11}[12]$/.test(r.id));
      const value = [...builtIn.map((r) => ({ r, type: 'BuiltInRole' })), ...(account.customRoles ?? []).map((r) => ({ r, type: 'CustomRole' }))].map(({ r, type }) => ({
        id: definitionId(r.id),
        name: r.id,
        type: 'Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions',
        properties: { roleName: r.name, type, assignableScopes: [id], permissions: [{ dataActions: [...r.dataActions], notDataActions: [] }] },
      }));
      reply(200, { value });
    }

    function getResource(id: string, c: TokenClaims): void {
      const parts = parseScope(id);
      const action = parts.resourceType
        ? `${parts.resourceType}/read`
        : parts.resourceGroup
          ? 'Microsoft.Resources/subscriptions/resourceGroups/read'
          : 'Microsoft.Resources/subscriptions/read';
      if (!findActionGrant(state.assignments, callerFor(c), id, action, now)) return authorizationFailed(c, action, id);
      if (!scopeExists(id)) return;
      const vault = state.vaults.find((v) => normalizeScope(v.resourceId) === normalizeScope(id));
      const last = id.split('/').filter(Boolean).pop() ?? '';
      reply(200, {
        id,
        name: last,
        type: parts.resourceType ?? (parts.resourceGroup ? 'Microsoft.Resources/resourceGroups' : 'Microsoft.Resources/subscriptions'),
        location: 'eastus',
        ...(vault
          ? {
              properties: {
                tenantId: vault.tenantId,
                enableRbacAuthorization: vault.authorization === 'rbac',
                publicNetworkAccess: vault.network === 'private' ? 'Disabled' : 'Enabled',
                vaultUri: `https://${vault.name}.vault.azure.net/`,
              },
            }
          : {}),
      });
    }
  };

  return startService({ tls: deps.tls, latencyMs: () => state.latencyMs, handler });
}

/** One server answers every cloud's ARM host; the Host header says which cloud's audiences apply. */
function armCloudOf(host: string): Cloud {
  return Object.values(CLOUDS).find((c) => host === c.dnsSuffixes.armResource) ?? CLOUDS.AzurePublicCloud;
}

/** ARM's own list, in the order its 401 message prints it: legacy management.core URI first, with and without slash. */
function allowedArmAudiences(cloud: Cloud): string[] {
  const legacy = cloud.alsoAccepted.armResource.find((a) => a.includes('management.core.')) ?? '';
  const main = cloud.audiences.armResource;
  const bare = (a: string): string => a.replace(/\/+$/, '');
  return [bare(legacy) + '/', bare(legacy), bare(main) + '/', bare(main)].map((a) => a.toLowerCase());
}

/** ARM's challenges name the legacy login host (login.windows.net in the public cloud). */
function loginHost(cloud: Cloud): string {
  return cloud.name === 'AzurePublicCloud' ? 'https://login.windows.net' : cloud.authorityHost;
}

function permissionsOf(role: BuiltInRole): { actions: string[]; notActions: string[]; dataActions: string[]; notDataActions: string[] } {
  return { actions: [...role.actions], notActions: [...role.notActions], dataActions: [...role.dataActions], notDataActions: [] };
}
