import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sameAudience } from '../../src/catalog/clouds';
import { graphAppRoleById, READ_APP_ROLE_ASSIGNMENTS } from '../../src/catalog/graphPermissions';
import { CLOUDS, type Cloud } from '../../src/targets/registry';
import { applyFault } from './faults';
import type { AppRoleAssignment, Counters, WorldState } from './model';
import { hostName, parseUrl, sendJson, startService, type Service } from './service';
import { checkToken, type TokenClaims } from './tokens';

/**
 * Microsoft Graph for every cloud (graph.microsoft.com, microsoftgraph.chinacloudapi.cn, graph.microsoft.us — exact
 * hosts), app-only as a managed identity sees it. Like Graph, it authorizes by the token's `roles` claim alone — the app
 * roles the token was minted with (test/world/index.ts mints them from `state.graph.appRoleAssignments`), never by the
 * assignments as they are now — so a grant made after the token was minted is listed but not honoured. Answers carry
 * Graph's headers (request-id, client-request-id, x-ms-ags-diagnostic) and error bodies (`{"error":{"code","message",
 * "innerError":{date, request-id, client-request-id}}}`, https://learn.microsoft.com/graph/errors).
 */
export interface GraphDeps {
  state: WorldState;
  counters: Counters;
  tls: { cert: string; key: string };
  nowMs(): number;
}

/** Application permissions each API accepts (the "Permissions" section of its Graph page, Application row). */
const USERS = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const GROUPS = ['GroupMember.Read.All', 'Group.Read.All', 'Directory.Read.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'];
const APPLICATIONS = ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const MAIL = ['Mail.ReadBasic.All', 'Mail.ReadBasic', 'Mail.Read', 'Mail.ReadWrite'];
// https://learn.microsoft.com/graph/api/signin-list (Application: AuditLog.Read.All).
const SIGN_INS = ['AuditLog.Read.All'];

function cloudOf(host: string): Cloud | undefined {
  return Object.values(CLOUDS).find((c) => c.dnsSuffixes.microsoftGraph === host);
}

/** What Graph answers an app role assignment with (appRoleAssignment resource). */
function assignmentJson(a: AppRoleAssignment, resourceId: string) {
  return {
    id: a.id,
    deletedDateTime: null,
    appRoleId: a.appRoleId,
    createdDateTime: a.createdDateTime.toISOString(),
    principalDisplayName: 'managed identity',
    principalId: a.principalId,
    principalType: 'ServicePrincipal',
    resourceDisplayName: 'Microsoft Graph',
    resourceId,
  };
}

/** The roles a token was minted with: the app roles assigned to `principalId` at `mintedAtSeconds`. */
export function appRolesAt(state: WorldState, principalId: string, mintedAtSeconds: number): string[] {
  const id = principalId.toLowerCase();
  return state.graph.appRoleAssignments
    // At a token's own resolution (iat is in seconds): a grant made in the second the token is minted is in it. Compared
    // in milliseconds, a process that asked within that second got a token without it (a race a fast machine lost).
    .filter((a) => a.principalId.toLowerCase() === id && Math.floor(a.createdDateTime.getTime() / 1000) <= mintedAtSeconds)
    .map((a) => graphAppRoleById(a.appRoleId)?.value ?? a.appRoleId);
}

export function startGraph(deps: GraphDeps): Promise<Service> {
  const handler = (req: IncomingMessage, res: ServerResponse, tools: { track(t: NodeJS.Timeout): void }): void => {
    req.resume();
    deps.counters.graph++;
    const { state } = deps;
    const cloud = cloudOf(hostName(req));
    const requestId = randomUUID();
    const clientRequestId = (req.headers['client-request-id'] ?? '').toString().slice(0, 100) || requestId;
    const headers: Record<string, string> = {
      'request-id': requestId,
      'client-request-id': clientRequestId,
      'x-ms-ags-diagnostic': JSON.stringify({ ServerInfo: { DataCenter: 'West Europe', Slice: 'E', Ring: '5', ScaleUnit: '000', RoleInstance: 'AM1PEPF0001A38D' } }),
      'strict-transport-security': 'max-age=31536000',
      'cache-control': 'no-cache',
    };
    const reply = (status: number, body: unknown): void => sendJson(res, status, body, headers);
    const error = (status: number, code: string, message: string): void =>
      reply(status, {
        error: {
          code,
          message,
          innerError: { date: new Date(deps.nowMs()).toISOString().slice(0, 19), 'request-id': requestId, 'client-request-id': clientRequestId },
        },
      });

    const url = parseUrl(req);
    const version = /^\/(v1\.0|beta)(\/.*)$/.exec(url.pathname);
    const rest = version?.[2] ?? url.pathname;
    const fault = state.graph.pathFaults?.find((f) => rest.toLowerCase().startsWith(f.path.toLowerCase()))?.fault;
    if (fault && applyFault(fault, { req, res, contentType: 'application/json', track: tools.track })) return;
    if (!cloud) {
      error(400, 'BadRequest', 'Invalid hostname for this tenancy');
      return;
    }
    if (req.method !== 'GET') {
      error(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
      return;
    }

    // 401s: Graph's words for each check (services-and-hosts.md §8; microsoftgraph/microsoft-graph-docs-contrib#2362
    // for the audience; s1t5/mail-archiver#267 for the expiry).
    const accepted = [cloud.audiences.microsoftGraph, ...cloud.alsoAccepted.microsoftGraph];
    const check = checkToken(req, (aud) => accepted.some((a) => sameAudience(a, aud)), state.graph.tenantId || state.arm.tenantId, Math.floor(deps.nowMs() / 1000));
    if (!check.ok) {
      const message = {
        missing: 'Access token is empty.',
        malformed: 'CompactToken parsing failed with error code: 80049217',
        audience: 'Access token validation failure. Invalid audience.',
        // Wording not confirmed by a public source: Graph serves the token's own tenant, which this world does not hold.
        issuer: 'Access token validation failure. Invalid issuer.',
        expired: 'Lifetime validation failed, the token is expired.',
        not_yet_valid: 'Lifetime validation failed, the token is not yet valid.',
      }[check.problem];
      error(401, 'InvalidAuthenticationToken', message);
      return;
    }
    if (!version) {
      error(400, 'BadRequest', `Invalid version: ${url.pathname.split('/')[1] ?? ''}`);
      return;
    }
    serve(deps, rest, url, check.claims, reply, error);
  };
  return startService({ tls: deps.tls, latencyMs: () => deps.state.latencyMs, handler });
}

type Reply = (status: number, body: unknown) => void;
type ErrorReply = (status: number, code: string, message: string) => void;

function serve(deps: GraphDeps, rest: string, url: URL, claims: TokenClaims, reply: Reply, error: ErrorReply): void {
  const { graph } = deps.state;
  const roles = Array.isArray(claims.roles) ? (claims.roles as unknown[]).filter((r): r is string => typeof r === 'string').map((r) => r.toLowerCase()) : [];
  const allowed = (accepted: readonly string[]) => accepted.some((p) => roles.includes(p.toLowerCase()));
  const denied = () => error(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
  const top = Math.max(1, Math.min(999, Number(url.searchParams.get('$top') ?? 100) || 100));
  const context = (set: string) => `https://graph.microsoft.com/v1.0/$metadata#${set}`;
  const list = (set: string, ids: string[]) =>
    reply(200, { '@odata.context': context(set), value: ids.slice(0, top).map((id, i) => ({ id, displayName: `${set} ${i + 1}` })), ...(ids.length > top ? { '@odata.nextLink': `https://graph.microsoft.com/v1.0/${set}?$skiptoken=x` } : {}) });
  const notFound = (id: string) => error(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
  const segs = rest.split('/').filter(Boolean).map(decodeURIComponent);
  const [set, id, nav] = [segs[0]?.toLowerCase(), segs[1], segs[2]?.toLowerCase()];
  const directory: Record<string, { ids: string[]; accepted: string[] }> = {
    users: { ids: graph.users, accepted: USERS },
    groups: { ids: graph.groups, accepted: GROUPS },
    applications: { ids: graph.applications, accepted: APPLICATIONS },
  };

  if (set && directory[set] && segs.length <= 2) {
    const { ids, accepted } = directory[set];
    if (!allowed(accepted)) return denied();
    if (!id) return list(set, ids);
    const found = ids.find((x) => x.toLowerCase() === id.toLowerCase());
    return found ? reply(200, { '@odata.context': `${context(set)}/$entity`, id: found, displayName: `${set} object` }) : notFound(id);
  }
  if (set === 'users' && id && nav === 'messages') {
    // Exchange Online's refusal through Graph (microsoftgraph/msgraph-sdk-php#1094): no innerError date/ids of its own.
    if (!allowed(MAIL)) return reply(403, { error: { code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.' } });
    return graph.users.some((x) => x.toLowerCase() === id.toLowerCase()) ? reply(200, { value: [] }) : notFound(id);
  }
  if (set === 'serviceprincipals' && id && nav === 'approleassignments') {
    if (!allowed(READ_APP_ROLE_ASSIGNMENTS)) return denied();
    const known = deps.state.identities.some((i) => i.principalId.toLowerCase() === id.toLowerCase());
    if (!known) return notFound(id);
    const mine = graph.appRoleAssignments.filter((a) => a.principalId.toLowerCase() === id.toLowerCase());
    return reply(200, { '@odata.context': context(`servicePrincipals('${id}')/appRoleAssignments`), value: mine.map((a) => assignmentJson(a, graph.servicePrincipalId)) });
  }
  if (set === 'auditlogs' && id?.toLowerCase() === 'signins') {
    if (!allowed(SIGN_INS)) return denied();
    // observed: microsoftgraph/msgraph-sdk-dotnet#1006 — without Entra ID P1/P2.
    if (!graph.premium) return error(403, 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', "Neither tenant is B2C or tenant doesn't have premium license");
    return reply(200, { '@odata.context': context('auditLogs/signIns'), value: [] });
  }
  // What Graph answers a segment it does not know.
  error(400, 'BadRequest', `Resource not found for the segment '${segs[0] ?? ''}'.`);
}
