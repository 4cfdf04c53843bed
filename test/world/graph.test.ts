import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { decodeJwt, startWorld, type World } from './index';
import { stageStandardWorld, USER_IDENTITY } from './scenario';

/**
 * The Graph simulator's protocol, asked directly (the conformance suite drives it through the service and the real
 * pipeline): tokens carry the app roles of the moment they were minted, Graph authorizes by that claim alone, and
 * answers in Graph's own error bodies and headers.
 */
let world: World;

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
}, 30_000);

afterAll(async () => {
  await world?.stop();
});

/** GET `url` (real host name, resolved to loopback, verified against the world's CA). */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; json: any }> {
  const lookup = (_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) => (o.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4));
  const mod = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    mod
      .get(url, { headers, ca: world.caPem, agent: false, lookup: lookup as unknown as net.LookupFunction }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: body ? JSON.parse(body) : undefined }));
      })
      .on('error', reject);
  });
}

const graph = (path: string, token: string, host = 'graph.microsoft.com') =>
  get(`${world.graphEndpoint.replace('graph.microsoft.com', host)}${path}`, { authorization: `Bearer ${token}`, 'client-request-id': 'c0ffee00-0000-4000-8000-000000000001' });
const identity = () => world.state.identities.find((i) => i.name === USER_IDENTITY.name)!;
/** A token as the App Service identity endpoint hands it out. */
async function endpointToken(resource: string): Promise<string> {
  const url = `${world.identityEndpoint}?api-version=2019-08-01&resource=${encodeURIComponent(resource)}&client_id=${USER_IDENTITY.clientId}`;
  return (await get(url, { 'x-identity-header': world.identityHeader })).json.access_token as string;
}

describe('Microsoft Graph in the simulated world', () => {
  it('mints Graph tokens with the app roles assigned at that moment, and no roles for other audiences', async () => {
    world.grantAppRole(USER_IDENTITY.principalId, 'Application.Read.All', { createdDateTime: new Date(Date.now() - 3600_000) });
    expect(decodeJwt(await endpointToken('https://graph.microsoft.com'))!.roles).toEqual(['Application.Read.All']);
    expect(decodeJwt(await endpointToken('https://vault.azure.net'))!.roles).toBeUndefined();
  });

  it('hands out the platform\'s cached token: minted earlier, without a grant made since', async () => {
    world.grantAppRole(USER_IDENTITY.principalId, 'Group.Read.All', { createdDateTime: new Date(Date.now() - 60_000) });
    identity().cachedTokenAgeSeconds = { 'https://graph.microsoft.com': 600 };
    const cached = decodeJwt(await endpointToken('https://graph.microsoft.com'))!;
    expect(cached.roles).toEqual(['Application.Read.All']);
    expect(cached.iat).toBeLessThan(Date.now() / 1000 - 600);
    identity().cachedTokenAgeSeconds = undefined;
    expect(decodeJwt(await endpointToken('https://graph.microsoft.com'))!.roles).toEqual(['Application.Read.All', 'Group.Read.All']);
  });

  it('authorizes by the roles claim, answering Graph\'s error body and headers', async () => {
    const token = world.mintToken(identity(), 'https://graph.microsoft.com', { roles: ['Application.Read.All'] });
    const ok = await graph('/v1.0/applications?$top=1', token);
    expect(ok.status).toBe(200);
    expect(Array.isArray(ok.json.value)).toBe(true);
    const denied = await graph('/v1.0/users?$top=1', token);
    expect(denied.status).toBe(403);
    expect(denied.json.error).toMatchObject({ code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.', innerError: { 'request-id': denied.headers['request-id'], 'client-request-id': 'c0ffee00-0000-4000-8000-000000000001' } });
    expect(JSON.parse(denied.headers['x-ms-ags-diagnostic'] as string).ServerInfo.DataCenter).toBeTruthy();
    const mail = await graph(`/v1.0/users/${USER_IDENTITY.principalId}/messages`, token);
    expect(mail.json.error.code).toBe('ErrorAccessDenied');
  });

  it('lists a principal\'s app role assignments only to a token that may read them', async () => {
    const path = `/v1.0/servicePrincipals/${USER_IDENTITY.principalId}/appRoleAssignments`;
    const reader = await graph(path, world.mintToken(identity(), 'https://graph.microsoft.com', { roles: ['Application.Read.All'] }));
    expect(reader.status).toBe(200);
    expect(reader.json.value[0]).toMatchObject({ principalId: USER_IDENTITY.principalId, appRoleId: '9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30', resourceId: world.state.graph.servicePrincipalId, resourceDisplayName: 'Microsoft Graph' });
    expect(Date.parse(reader.json.value[0].createdDateTime)).toBeLessThan(Date.now());
    const other = await graph(path, world.mintToken(identity(), 'https://graph.microsoft.com', { roles: ['User.Read.All'] }));
    expect(other.json.error.code).toBe('Authorization_RequestDenied');
  });

  it('refuses a token for another audience or past its life with 401 InvalidAuthenticationToken, in every cloud\'s host', async () => {
    const arm = await graph('/v1.0/users', world.mintToken(identity(), 'https://management.azure.com/'));
    expect([arm.status, arm.json.error.code, arm.json.error.message]).toEqual([401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.']);
    const expired = await graph('/v1.0/users', world.mintToken(identity(), 'https://graph.microsoft.com', { exp: Math.floor(Date.now() / 1000) - 60 }));
    expect(expired.json.error.message).toBe('Lifetime validation failed, the token is expired.');
    const china = await graph('/v1.0/applications', world.mintToken(identity(), 'https://microsoftgraph.chinacloudapi.cn', { roles: ['Application.Read.All'] }), 'microsoftgraph.chinacloudapi.cn');
    expect(china.status).toBe(200);
    const publicTokenInChina = await graph('/v1.0/applications', world.mintToken(identity(), 'https://graph.microsoft.com', { roles: ['Application.Read.All'] }), 'microsoftgraph.chinacloudapi.cn');
    expect(publicTokenInChina.status).toBe(401);
  });
});
