import { z } from 'zod';
import { assignee, isGuid } from '../../advice/commands';
import { comment, lookup, oneLine } from '../../advice/shell';
import type { CloudName } from '../../catalog/clouds';
import { GRAPH_APP_ID, graphAppRole } from '../../catalog/graphPermissions';
import { ROLES, type BuiltInRole } from '../../catalog/roles';
import type { Settings } from '../../config';
import type { Claims } from '../../verdict';
import { baseFields, httpsUrl } from '../fields';
import type { BaseTarget, EndpointDefaults, FixContext, KindContext, TargetKind } from '../kind';

/**
 * Microsoft Graph, app-only: one configured GET with the identity's token. A managed identity's Graph permissions are
 * app role assignments on Microsoft Graph's service principal — not Azure roles — and an app-only token lists the ones
 * it was minted with in its `roles` claim (shared/reference/services-and-hosts.md §8). So a 403 is read from the claim
 * first: the permission absent from `roles` is a missing (or not yet minted) grant; present and still refused is not.
 */

const PREFIXES = ['/v1.0/', '/beta/'];

/** A relative GET path of Graph's v1.0 or beta API: no scheme or host, no line breaks, no fragment, no dot segments. */
function isGraphPath(p: string): boolean {
  // eslint-disable-next-line no-control-regex
  if (!PREFIXES.some((x) => p.startsWith(x)) || /[\u0000-\u001f\u007f\u2028\u2029#\\]/.test(p)) return false;
  const path = p.split('?')[0]!;
  if (path.split('/').some((s) => s === '.' || s === '..' || /^%2e(%2e)?$/i.test(s) || /^\.%2e$|^%2e\.$/i.test(s))) return false;
  try {
    const u = new URL(p, 'https://graph.microsoft.com');
    return u.origin === 'https://graph.microsoft.com' && PREFIXES.some((x) => u.pathname.startsWith(x));
  } catch {
    return false;
  }
}

/** Graph's endpoint in each cloud: the exact host a token for its audience may go to. */
export const GRAPH_HOSTS: Readonly<Record<CloudName, string>> = {
  // https://learn.microsoft.com/graph/deployments ("Microsoft Graph and Graph Explorer service root endpoints");
  // services-and-hosts.md §1. US Gov DoD (dod-graph.microsoft.us) is reached with "endpoint" and "audience".
  AzurePublicCloud: 'graph.microsoft.com',
  AzureChinaCloud: 'microsoftgraph.chinacloudapi.cn',
  AzureUSGovernment: 'graph.microsoft.us',
};

const graphOrigin = httpsUrl('https://graph.microsoft.com').refine((v) => {
  try {
    const u = new URL(v);
    return (u.pathname === '/' || u.pathname === '') && !u.search && !u.hash;
  } catch {
    return false;
  }
}, 'expected the Graph endpoint alone (scheme and host, like https://graph.microsoft.com): the API version goes in "path"');

/** One GET against Microsoft Graph with the identity's token, e.g. `/v1.0/users?$top=1` with User.Read.All. */
export const MicrosoftGraphTargetSchema = z.object({
  ...baseFields,
  kind: z.literal('microsoftGraph'),
  path: z
    .string()
    .trim()
    .max(2048)
    .refine(isGraphPath, 'expected a relative Graph path starting with /v1.0/ or /beta/ (like "/v1.0/users?$top=1"): no scheme or host, no line breaks, no "#", "\\" or dot segments'),
  permission: z
    .string()
    .trim()
    .regex(/^[A-Za-z][A-Za-z0-9-]*(\.[A-Za-z0-9-]+){1,4}$/, 'expected the Microsoft Graph application permission the path needs, like "User.Read.All"'),
  endpoint: graphOrigin.optional(),
});
export type MicrosoftGraphTarget = z.infer<typeof MicrosoftGraphTargetSchema>;

/** What Graph's grants are called in evidence and prose. */
export const APP_ROLE_MODEL = 'Microsoft Graph app role assignments';
/**
 * How long a new app role assignment can take to reach Graph: it rides only in a newly minted token, and the platform
 * caches managed-identity tokens per resource for about 24 hours with no way to force a refresh (MI-BP:
 * https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/managed-identity-best-practice-recommendations).
 */
export const TOKEN_CACHE_SECONDS = 86_400;

const cloudOf = (d: EndpointDefaults | Pick<Settings, 'cloud'>): CloudName => d.cloud?.name ?? 'AzurePublicCloud';
/** The cloud's Graph endpoint, no trailing slash. */
export const graphEndpointFor = (cloud: CloudName): string => `https://${GRAPH_HOSTS[cloud]}`;
/** The audience the target's token is requested for (its override, else its cloud's). */
export const graphAudience = (t: MicrosoftGraphTarget, s: Settings): string => t.audience ?? s.cloud.audiences[t.kind];

/** The least role of a target: its configured application permission, with its well-known id when the catalog has it. */
function permissionRole(permission: string): BuiltInRole {
  const known = graphAppRole(permission);
  // An unknown permission keeps an empty id: the fix looks it up from Graph's service principal instead.
  return { name: known?.value ?? permission, id: known?.id ?? '', plane: 'data', actions: [], notActions: [], dataActions: [] };
}

const GRAPH_SP = lookup(`az ad sp show --id ${GRAPH_APP_ID} --query id -o tsv`);

/** The app role id of a permission as a shell word: the well-known GUID, or a look-up on Graph's service principal. */
function appRoleIdWord(permission: string): string {
  const known = graphAppRole(permission);
  // The schema allows only letters, digits, "." and "-" in a permission: safe inside the JMESPath literal.
  return known ? known.id : lookup(`az ad sp show --id ${GRAPH_APP_ID} --query "appRoles[?value=='${permission}'].id" -o tsv`);
}

/** A JSON body as one bash word: GUIDs inline inside single quotes, anything else (a `$(…)` look-up) spliced in. */
function jsonBody(fields: [string, string][]): string {
  const parts = fields.map(([k, word]) => (isGuid(word) ? `"${k}":"${word}"` : `"${k}":"'${word}'"`));
  return `'{${parts.join(',')}}'`;
}

/** The command listing what the identity holds in Graph (its app role assignments); `principal` is a shell word. */
export function appRoleAssignmentsList(settings: Settings, principal: string): string {
  return `az rest --method GET --uri ${graphEndpointFor(settings.cloud.name)}/v1.0/servicePrincipals/${principal}/appRoleAssignments --query "value[].{appRoleId:appRoleId, resource:resourceDisplayName, created:createdDateTime}" -o table`;
}

/** The grant: an app role assignment of the permission on Microsoft Graph's service principal of this tenant. */
function appRoleAssign(ctx: FixContext, permission: string): string {
  const p = assignee(ctx);
  const body = jsonBody([['principalId', p], ['resourceId', GRAPH_SP], ['appRoleId', appRoleIdWord(permission)]]);
  return `az rest --method POST --uri ${graphEndpointFor(ctx.settings.cloud.name)}/v1.0/servicePrincipals/${p}/appRoleAssignments --body ${body}`;
}

/** Whether the token's roles claim carries the permission (Graph compares permission values case-insensitively). */
export function tokenCarries(claims: Claims | undefined, permission: string): boolean {
  return !!claims?.roles?.some((r) => r.toLowerCase() === permission.toLowerCase());
}

/** The 403's permission verdict from the claim: absent → role_missing; present → the grant is in effect, yet refused. */
function byRolesClaim(claims: Claims | undefined, target: BaseTarget): 'role_missing' | 'grant_ineffective' | undefined {
  // No readable token: the dialect row's own cause.
  if (!claims) return undefined;
  return tokenCarries(claims, (target as MicrosoftGraphTarget).permission) ? 'grant_ineffective' : 'role_missing';
}

const rolesText = (claims: Claims | undefined): string =>
  claims?.roles?.length ? `carries ${claims.roles.map((r) => oneLine(r)).join(', ')}` : 'carries no application permission at all';
const minted = (claims: Claims | undefined): string => (claims?.issuedAt ? `minted ${claims.issuedAt}` : 'in use');
const codeOf = (ctx: KindContext<MicrosoftGraphTarget>): string => ctx.evidence.errorCode ?? '403';
const NOT_AZURE =
  'Graph permissions of a managed identity are app role assignments on Microsoft Graph\'s service principal, not Azure roles: no `az role assignment` (Owner, Contributor, Reader, …) ever grants one.';
const CACHE =
  'A grant reaches Graph only in a newly minted token, and the platform caches managed-identity tokens for up to about 24 h (there is no way to force a refresh).';

export const microsoftGraph: TargetKind<MicrosoftGraphTarget, typeof MicrosoftGraphTargetSchema> = {
  kind: 'microsoftGraph',
  schema: MicrosoftGraphTargetSchema,
  nouns: { service: 'Microsoft Graph', short: 'Graph', target: 'Microsoft Graph request', hosts: 'Microsoft Graph', resource: 'tenant', sibling: 'object' },
  // An external API of the tenant, like ARM: a system (the IETF draft's componentType).
  componentType: 'system',
  tokenCarriesPermissions: true,
  // services-and-hosts.md §1 (Graph PowerShell national-cloud docs): the resource is the endpoint itself.
  audiences: {
    AzurePublicCloud: ['https://graph.microsoft.com', 'https://graph.microsoft.com/'],
    AzureChinaCloud: ['https://microsoftgraph.chinacloudapi.cn', 'https://microsoftgraph.chinacloudapi.cn/'],
    AzureUSGovernment: ['https://graph.microsoft.us', 'https://graph.microsoft.us/'],
  },
  hosts: { suffixes: GRAPH_HOSTS, shape: 'exactly' },
  urlField: 'endpoint',
  endpoint: (t, d) => (t.endpoint ?? graphEndpointFor(cloudOf(d))).replace(/\/+$/, ''),
  // The GET needs the application permission its API page lists (e.g. User.Read.All for GET /v1.0/users); the target
  // names it. User.Read.All is the kind's default, shown in the README and granted by infra/.
  operation: {
    description: 'GET the configured path (read-only)',
    plane: 'data',
    permission: 'User.Read.All',
    leastRole: ROLES.graphUserReadAll,
  },
  leastRoleFor: (t) => permissionRole(t.permission),
  scopes: { grant: () => '', touched: () => '' },
  object: () => 'object',
  resource: { lookup: () => undefined, text: () => 'Microsoft Graph' },
  // `error.code` of a 403 (Graph's error body: https://learn.microsoft.com/graph/errors).
  forbidden: {
    // observed: Azure/OpenShift#219 (services-and-hosts.md §8) — 403 {"error":{"code":"Authorization_RequestDenied",
    // "message":"Insufficient privileges to complete the operation.","innerError":{date, request-id, client-request-id}}}
    Authorization_RequestDenied: {
      cause: 'role_missing',
      meaning: 'Graph found no permission for this request ("Insufficient privileges to complete the operation.")',
      fromClaims: byRolesClaim,
    },
    // observed: microsoftgraph/msgraph-sdk-php#1094, microsoftgraph/microsoft-graph-docs#9429 — 403
    // {"error":{"code":"ErrorAccessDenied","message":"Access is denied. Check credentials and try again."}} from the
    // Exchange Online workloads (mail, calendars, contacts) when the app lacks the permission.
    ErrorAccessDenied: {
      cause: 'role_missing',
      meaning: 'Exchange Online (mail, calendars, contacts through Graph) refused access ("Access is denied. Check credentials and try again.")',
      fromClaims: byRolesClaim,
    },
    // observed: microsoftgraph/msgraph-sdk-dotnet#1006, microsoftgraph/microsoft-graph-docs#14118 — 403
    // Authentication_RequestFromNonPremiumTenantOrB2CTenant "Neither tenant is B2C or tenant doesn't have premium license"
    // (sign-in logs and sign-in activity need Microsoft Entra ID P1/P2).
    Authentication_RequestFromNonPremiumTenantOrB2CTenant: {
      cause: 'forbidden_other',
      meaning: 'this API needs a Microsoft Entra ID P1 or P2 licence in the tenant (sign-in logs, sign-in activity): a licence, not a permission, is missing',
      fix: () => [comment('license the tenant for Microsoft Entra ID P1 or P2 (or query an API that needs no premium licence); no permission change helps')],
    },
  },
  explain: {
    role_missing: (ctx) => {
      const t = ctx.target;
      const roles = ctx.evidence.roles;
      const parts = [
        `Microsoft Graph answered 403 ${codeOf(ctx)}, and the token ${minted(ctx.claims)} ${rolesText(ctx.claims)} in its roles claim — not ${t.permission}, the application permission GET ${oneLine(t.path)} needs.`,
        NOT_AZURE,
      ];
      if (roles?.lookedUp) parts.push(roles.assignments.length ? `Its app role assignments: ${roles.assignments.map((a) => a.roleName).join(', ')} — none is ${t.permission}.` : 'It holds no app role assignment at all.');
      else if (roles?.unavailable) parts.push(roles.unavailable.reason, `If you granted ${t.permission} after the token was minted, it is not in the token yet. ${CACHE}`);
      if (!graphAppRole(t.permission)) parts.push(`${t.permission} is not in Identity Doctor's table of well-known Graph permissions: the fix looks its app role id up on Graph's service principal (check the spelling against the API's "Permissions" section).`);
      return parts.join(' ');
    },
    propagation_pending: (ctx) => {
      const t = ctx.target;
      // Minted after the grant and still without it: Entra had not replicated the assignment when the token was issued
      // (https://learn.microsoft.com/graph/api/serviceprincipal-list-approleassignments: "replication delays").
      const why = ctx.propagation?.tokenPredatesAssignment === false
        ? 'it was minted after the grant but before Microsoft Entra had replicated it'
        : 'it was minted before the grant';
      return `${t.permission} is assigned to this identity (an app role assignment on Microsoft Graph), but the token ${minted(ctx.claims)} ${rolesText(ctx.claims)} in its roles claim: ${why}. ${CACHE} ${ctx.propagation?.advice ?? ''}`.trim();
    },
    grant_ineffective: (ctx) => {
      const t = ctx.target;
      if (tokenCarries(ctx.claims, t.permission)) {
        const exchange = ctx.evidence.errorCode === 'ErrorAccessDenied'
          ? ' For mail, calendars and contacts an Exchange application access policy (or RBAC for Applications) can also confine the app to other mailboxes.'
          : '';
        return `The token's roles claim carries ${t.permission}: the app role assignment exists and is in effect — not missing, not propagating. Yet Graph refused GET ${oneLine(t.path)} with ${codeOf(ctx)}: ${t.permission} does not allow this request. Find the least privileged application permission in the "Permissions" section of the API's page and grant that one (and configure it as "permission"); waiting will not help.${exchange}`;
      }
      const covering = ctx.evidence.roles?.assignments.filter((a) => a.coversOperation) ?? [];
      return `${covering.map((a) => `${a.roleName} (granted ${a.createdOn ?? 'at an unknown time'})`).join('; ') || t.permission} is assigned longer ago than the token cache lasts (about 24 h), yet the token ${minted(ctx.claims)} ${rolesText(ctx.claims)}. Not propagation: check that the assignment names this identity and Microsoft Graph's service principal of this tenant (the command below lists them).`;
    },
  },
  fixes: {
    role_missing: (ctx) => [
      appRoleAssign(ctx, ctx.target.permission),
      comment('run it as an administrator allowed to grant Graph application permissions (e.g. Privileged Role Administrator); the grant reaches Graph in the next minted token: up to ~24 h for a managed identity'),
      ...(ctx.evidence.roles?.unavailable ? [ctx.evidence.roles.lookup] : []),
    ],
    propagation_pending: (ctx) => [appRoleAssignmentsList(ctx.settings, assignee(ctx))],
    grant_ineffective: (ctx) => [
      appRoleAssignmentsList(ctx.settings, assignee(ctx)),
      comment(`look up the least privileged application permission of GET ${ctx.target.path.split('?')[0]} in its Graph API page ("Permissions"), grant that, and set "permission" of target "${ctx.target.name}" to it`),
    ],
    resource_not_found: ({ target: t }) => [comment(`Graph answered 404 for ${t.path.split('?')[0]}: fix "path" of target "${t.name}" (an id or name that does not exist), or create the object`)],
  },
  permissions: {
    model: APP_ROLE_MODEL,
    remedy: '`az rest --method POST …/servicePrincipals/<oid>/appRoleAssignments` of the application permission (app role) the path needs — never an Azure role',
    grantLine: /^az rest --method POST --uri \S+\/servicePrincipals\/\S+\/appRoleAssignments /,
    lookup: async (args) => (await import('./lookup')).lookupAppRoles(args),
  },
  causes: [
    'authorized', 'wrong_audience', 'token_expired', 'role_missing', 'propagation_pending', 'grant_ineffective', 'forbidden_other',
    'resource_not_found', 'throttled', 'target_unreachable', 'target_error',
  ],
  loadProbe: async () => (await import('./probe')).probeMicrosoftGraph,
};
