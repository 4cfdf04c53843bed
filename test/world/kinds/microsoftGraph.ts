import { USER_IDENTITY } from '../scenario';
import type { World } from '../index';
import { ago, DAY, json, type KindWorld } from './types';

const error = (status: number, code: string, message: string, headers: Record<string, string> = {}) => {
  const j = json({ error: { code, message, innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': '5c1d2b3a-0000-4000-8000-000000000001', 'client-request-id': '5c1d2b3a-0000-4000-8000-000000000001' } } });
  return { status, body: j.body, headers: { ...j.headers, ...headers } };
};
/** Paths (below the version) where Graph answers as it does for these conditions. */
const FAULTS = {
  // s1t5/mail-archiver#267: what Graph answers a token past its life.
  '/places': error(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.'),
  // Microsoft Q&A 1138873: a throttled list, with Retry-After.
  '/subscribedSkus': error(429, 'TooManyRequests', 'Too many requests from Identifier:West Europe under category:throttle.aad.ags.subscriptionservice.dc.list. Please try again later.', { 'Retry-After': '7' }),
  // https://learn.microsoft.com/graph/errors: serviceNotAvailable (503).
  '/domains': error(503, 'serviceNotAvailable', 'The service is temporarily unavailable. Please try again later.'),
};
const APP_ID = '0e4a7c1f-3b5d-4f6a-8c2e-9d1b3f5a7c90';
const GRAPH_AUDIENCES = ['https://graph.microsoft.com', 'https://graph.microsoft.com/'];

/**
 * Microsoft Graph (test/world/graph.ts): one tenant, one identity, one token. The platform hands out a Graph token
 * minted 20 minutes ago (its cache), so it carries the app roles of that time: Application.Read.All and
 * AuditLog.Read.All (granted two days ago) — not Group.Read.All, granted 10 minutes ago. Each cause is then a path and
 * the permission the target names.
 */
export const microsoftGraph: KindWorld = {
  kind: 'microsoftGraph',
  simulator: 'test/world/graph.ts',
  stage(world) {
    const oid = USER_IDENTITY.principalId;
    const g = world.state.graph;
    g.applications.push(APP_ID);
    g.users.push('6a1c3e5f-7b9d-4f2a-8c4e-0a2c4e6f8b1d');
    g.pathFaults = [...(g.pathFaults ?? []), ...Object.entries(FAULTS).map(([path, fault]) => ({ path, fault }))];
    world.grantAppRole(oid, 'Application.Read.All', { createdDateTime: ago(2 * DAY) });
    world.grantAppRole(oid, 'AuditLog.Read.All', { createdDateTime: ago(2 * DAY) });
    world.grantAppRole(oid, 'Group.Read.All', { createdDateTime: ago(600) });
    const identity = world.state.identities.find((i) => i.principalId === oid)!;
    identity.cachedTokenAgeSeconds = { ...identity.cachedTokenAgeSeconds, ...Object.fromEntries(GRAPH_AUDIENCES.map((a) => [a, 1200])) };
  },
  cases(world: World) {
    const t = (name: string, path: string, permission: string, extra: Record<string, unknown> = {}) =>
      ({ name, kind: 'microsoftGraph' as const, path, permission, endpoint: world.graphEndpoint, ...extra });
    return {
      authorized: t('graph-c-authorized', '/v1.0/applications?$top=1', 'Application.Read.All'),
      wrong_audience: t('graph-c-wrong-audience', '/v1.0/applications?$top=1', 'Application.Read.All', { audience: 'https://management.azure.com/' }),
      token_expired: t('graph-c-token-expired', '/v1.0/places?$top=1', 'Place.Read.All'),
      // Not in the token, never assigned.
      role_missing: t('graph-c-role-missing', '/v1.0/users?$top=1', 'User.Read.All'),
      // Assigned 10 minutes ago, after the cached token was minted.
      propagation_pending: t('graph-c-propagation', '/v1.0/groups?$top=1', 'Group.Read.All'),
      // In the token, and not a permission GET /groups accepts.
      grant_ineffective: t('graph-c-grant-ineffective', '/v1.0/groups?$top=1', 'Application.Read.All'),
      forbidden_other: t('graph-c-forbidden-other', '/v1.0/auditLogs/signIns?$top=1', 'AuditLog.Read.All'),
      resource_not_found: t('graph-c-not-found', '/v1.0/applications/00000000-0000-4000-8000-00000000dead', 'Application.Read.All'),
      throttled: t('graph-c-throttled', '/v1.0/subscribedSkus', 'Organization.Read.All'),
      target_unreachable: t('graph-c-unreachable', '/v1.0/applications?$top=1', 'Application.Read.All', { endpoint: world.graphEndpoint.replace('graph.microsoft.com', 'nxdomain-graph.microsoft.com') }),
      target_error: t('graph-c-error', '/v1.0/domains', 'Domain.Read.All'),
    };
  },
  adHoc: (url) => ({ name: 'adhoc', kind: 'microsoftGraph', path: '/v1.0/users?$top=1', permission: 'User.Read.All', endpoint: url }),
};
