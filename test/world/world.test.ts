import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import {
  KV_GONE_ID,
  KV_OK_ID,
  ST_OK_ID,
  OTHER_IDENTITY,
  OTHER_TENANT_ID,
  RG_APP,
  RG_LOCKED,
  SUBSCRIPTION_ID,
  SYSTEM_IDENTITY,
  TENANT_ID,
  USER_IDENTITY,
  EXPECTED_CAUSES,
  serviceEnv,
  stageStandardWorld,
  standardTargets,
  startWorld,
  type World,
} from './index';
import { ROLES } from '../../src/catalog/roles';
import { boundFor } from '../support/timing';
import { runChild } from './childProcess';

/** Shared helpers every child script starts with: error summaries the way a diagnosis would read them. */
const CHILD_PRELUDE = `
const decode = (t) => JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString());
const summarize = (e) => ({
  name: e && e.name,
  statusCode: e && e.statusCode,
  code: e && e.code,
  innerCode: e && e.details && e.details.error && e.details.error.innerError && e.details.error.innerError.code,
  errorCode: e && e.response && e.response.headers && e.response.headers.get && e.response.headers.get('x-ms-error-code'),
  wwwAuthenticate: e && e.response && e.response.headers && e.response.headers.get && e.response.headers.get('www-authenticate'),
  message: String(e && e.message).slice(0, 1500),
});
const attempt = async (fn) => { try { return { ok: true, value: await fn() }; } catch (e) { return { ok: false, error: summarize(e) }; } };
`;

const SDK_PROBE = `${CHILD_PRELUDE}
const https = require('node:https');
const dns = require('node:dns');
const { ManagedIdentityCredential } = require('@azure/identity');
const { SecretClient } = require('@azure/keyvault-secrets');
const { ContainerClient } = require('@azure/storage-blob');
const { AuthorizationManagementClient } = require('@azure/arm-authorization');
const input = JSON.parse(process.env.PROBE_INPUT);
(async () => {
  const out = {};
  const cred = new ManagedIdentityCredential({ clientId: process.env.AZURE_CLIENT_ID });
  out.token = await attempt(async () => {
    const t = await cred.getToken('https://vault.azure.net/.default');
    const c = decode(t.token);
    return { aud: c.aud, oid: c.oid, appid: c.appid, iss: c.iss, expiresOnTimestamp: t.expiresOnTimestamp };
  });
  out.kvOk = await attempt(async () => {
    const s = await new SecretClient(input.kvOk, cred).getSecret('app-secret');
    return { value: s.value, id: s.properties.id, version: s.properties.version };
  });
  out.kvNoRole = await attempt(() => new SecretClient(input.kvNoRole, cred).getSecret('app-secret'));
  out.kvMissing = await attempt(() => new SecretClient(input.kvOk, cred).getSecret('no-such-secret'));
  out.kvNxdomain = await attempt(() =>
    new SecretClient('https://nxdomain-kv.vault.azure.net', cred, { retryOptions: { maxRetries: 0 } }).getSecret('app-secret'));

  const list = async (url) => {
    const page = await new ContainerClient(url, cred).listBlobsFlat().byPage().next();
    return page.value.segment.blobItems.map((b) => b.name);
  };
  const props = async (url, blob) => {
    const p = await new ContainerClient(url, cred).getBlobClient(blob).getProperties();
    return { contentLength: p.contentLength, contentType: p.contentType };
  };
  out.listOk = await attempt(() => list(input.stok + '/data'));
  out.propsOk = await attempt(() => props(input.stok + '/data', 'hello.txt'));
  out.downloadOk = await attempt(async () =>
    (await new ContainerClient(input.stok + '/data', cred).getBlobClient('hello.txt').downloadToBuffer()).toString());
  out.listMissingContainer = await attempt(() => list(input.stok + '/nope'));
  out.listNoRole = await attempt(() => list(input.stnorole + '/data'));
  out.propsNoRole = await attempt(() => props(input.stnorole + '/data', 'hello.txt'));

  const arm = new AuthorizationManagementClient(cred, input.subscriptionId, {
    endpoint: input.arm,
    credentialScopes: ['https://management.azure.com/.default'],
  });
  const assignments = async (scope) => {
    const page = await arm.roleAssignments.listForScope(scope, { filter: "assignedTo('" + input.oid + "')" }).byPage().next();
    return page.value.map((a) => ({ scope: a.scope, roleDefinitionId: a.roleDefinitionId, principalId: a.principalId }));
  };
  out.armOk = await attempt(() => assignments(input.rgApp));
  out.armLocked = await attempt(() => assignments(input.rgLocked));
  out.armGone = await attempt(() => assignments(input.kvGone));
  out.armPermissions = await attempt(async () => (await arm.permissions.listForResourceGroup('rg-app').byPage().next()).value);
  out.armRoleDefinition = await attempt(async () => {
    const d = await arm.roleDefinitions.get('/subscriptions/' + input.subscriptionId, input.readerRoleId);
    return { roleName: d.roleName, permissions: d.permissions };
  });

  out.dnsHttps = await new Promise((resolve) => {
    https.get('https://nxdomain-x.blob.core.windows.net/', (res) => resolve({ status: res.statusCode }))
      .on('error', (e) => resolve({ code: e.code, syscall: e.syscall, hostname: e.hostname, message: e.message }));
  });
  out.dnsPromises = await dns.promises.lookup('stok.blob.core.windows.net').then((r) => r, (e) => ({ code: e.code }));
  out.fetchNxdomain = await fetch('https://nxdomain-y.vault.azure.net/').then(
    (r) => ({ status: r.status }), (e) => ({ code: e.cause && e.cause.code }));
  out.fetchChallenge = await fetch(input.kvOk + '/secrets/app-secret?api-version=7.5').then(
    async (r) => ({ status: r.status, wwwAuthenticate: r.headers.get('www-authenticate'), body: await r.json() }),
    (e) => ({ error: String(e), cause: String(e.cause) }));
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { process.stdout.write(JSON.stringify({ crashed: summarize(e) })); });
`;

const IMDS_PROBE = `${CHILD_PRELUDE}
const { ManagedIdentityCredential } = require('@azure/identity');
const input = JSON.parse(process.env.PROBE_INPUT);
const token = async (cred, scope) => {
  const c = decode((await cred.getToken(scope)).token);
  return { aud: c.aud, oid: c.oid, appid: c.appid, xms_mirid: c.xms_mirid };
};
(async () => {
  const out = {};
  out.system = await attempt(() => token(new ManagedIdentityCredential(), 'https://storage.azure.com/.default'));
  out.userByClientId = await attempt(() => token(new ManagedIdentityCredential({ clientId: input.userClientId }), 'https://vault.azure.net/.default'));
  out.userByResourceId = await attempt(() => token(new ManagedIdentityCredential({ resourceId: input.userResourceId }), 'https://management.azure.com/.default'));
  out.notAttached = await attempt(() => token(new ManagedIdentityCredential({ clientId: input.otherClientId }), 'https://vault.azure.net/.default'));
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { process.stdout.write(JSON.stringify({ crashed: summarize(e) })); });
`;

const TOKEN_PROBE = `${CHILD_PRELUDE}
const { ManagedIdentityCredential } = require('@azure/identity');
(async () => {
  const cred = new ManagedIdentityCredential({ clientId: process.env.AZURE_CLIENT_ID, retryOptions: { maxRetries: 0 } });
  const started = Date.now();
  const result = await attempt(async () => decode((await cred.getToken('https://vault.azure.net/.default')).token).oid);
  process.stdout.write(JSON.stringify({ result, ms: Date.now() - started }));
})();
`;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A direct request with the real host name, resolved to loopback and verified against the world's CA. */
function call(world: World, url: string, opts: { token?: string; method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const lookup = (_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void): void =>
    options.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4);
  const mod = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      {
        method: opts.method ?? 'GET',
        ca: world.caPem,
        agent: false,
        lookup: lookup as unknown as net.LookupFunction,
        headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.headers ?? {}) },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function userIdentity(world: World) {
  const found = world.state.identities.find((i) => i.name === USER_IDENTITY.name);
  if (!found) throw new Error('user identity not staged');
  return found;
}

describe('the simulated Azure world', () => {
  let world: World;
  let probe: Record<string, any>;

  beforeAll(async () => {
    world = await startWorld();
    await stageStandardWorld(world);
    const input = {
      kvOk: world.vaultUrl('kv-ok'),
      kvNoRole: world.vaultUrl('kv-norole'),
      stok: world.accountUrl('stok'),
      stnorole: world.accountUrl('stnorole'),
      arm: world.armEndpoint,
      subscriptionId: SUBSCRIPTION_ID,
      rgApp: RG_APP,
      rgLocked: RG_LOCKED,
      kvGone: KV_GONE_ID,
      oid: USER_IDENTITY.principalId,
      readerRoleId: ROLES.reader.id,
    };
    probe = await runChild(SDK_PROBE, serviceEnv(world, { PROBE_INPUT: JSON.stringify(input) }));
    expect(probe.crashed).toBeUndefined();
  }, 30_000);

  afterAll(async () => {
    await world?.stop();
  });

  it('hands the App Service credential a JWT for the user-assigned identity named by AZURE_CLIENT_ID', () => {
    expect(probe.token).toEqual({
      ok: true,
      value: expect.objectContaining({
        aud: 'https://vault.azure.net',
        oid: USER_IDENTITY.principalId,
        appid: USER_IDENTITY.clientId,
        iss: `https://sts.windows.net/${TENANT_ID}/`,
      }),
    });
    expect(world.counters.identityByResource['https://vault.azure.net']).toBeGreaterThanOrEqual(1);
    expect(world.mintedTokens.length).toBeGreaterThan(0);
  });

  it('lets SecretClient read kv-ok after the 401 challenge and answers kv-norole with 403 ForbiddenByRbac', () => {
    const secret = world.state.vaults.find((v) => v.name === 'kv-ok')?.secrets['app-secret'];
    expect(probe.kvOk.ok).toBe(true);
    expect(probe.kvOk.value.value).toBe(secret);
    expect(probe.kvOk.value.id).toMatch(new RegExp(`^https://kv-ok\\.vault\\.azure\\.net:${world.ports.keyVault}/secrets/app-secret/[0-9a-f]{32}$`));
    expect(world.secretValues()).toContain(secret);

    expect(probe.kvNoRole.ok).toBe(false);
    expect(probe.kvNoRole.error).toMatchObject({ statusCode: 403, code: 'Forbidden', innerCode: 'ForbiddenByRbac' });
    expect(probe.kvNoRole.error.message).toContain("DecisionReason: 'DeniedWithNoValidRBAC'");
    expect(probe.kvNoRole.error.message).toContain(`oid=${USER_IDENTITY.principalId}`);

    expect(probe.kvMissing.error).toMatchObject({ statusCode: 404, code: 'SecretNotFound' });
  });

  it('serves blobs through Azurite to ContainerClient and BlobClient, and denies stnorole with AuthorizationPermissionMismatch', () => {
    expect(probe.listOk).toEqual({ ok: true, value: ['hello.txt'] });
    expect(probe.propsOk).toEqual({ ok: true, value: expect.objectContaining({ contentLength: 31 }) });
    expect(probe.downloadOk).toEqual({ ok: true, value: 'hello from the simulated world\n' });
    expect(probe.listMissingContainer.error).toMatchObject({ statusCode: 404, code: 'ContainerNotFound' });

    expect(probe.listNoRole.error).toMatchObject({ statusCode: 403, code: 'AuthorizationPermissionMismatch' });
    // HEAD answers have no body: the SDK leaves `code` empty and the header carries the reason.
    expect(probe.propsNoRole.error).toMatchObject({ statusCode: 403, errorCode: 'AuthorizationPermissionMismatch' });
    expect(world.counters.storage['stok']).toBeGreaterThanOrEqual(4);
  });

  it('lists role assignments through AuthorizationManagementClient and refuses rg-locked with AuthorizationFailed', () => {
    expect(probe.armOk.ok).toBe(true);
    // assignedTo() lists the principal's assignments at, above and below the scope.
    const roleOf = (guid: string): string => `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
    expect(probe.armOk.value).toEqual(
      expect.arrayContaining([
        { scope: RG_APP, roleDefinitionId: roleOf(ROLES.reader.id), principalId: USER_IDENTITY.principalId },
        { scope: KV_OK_ID, roleDefinitionId: roleOf(ROLES.keyVaultSecretsUser.id), principalId: USER_IDENTITY.principalId },
        { scope: ST_OK_ID, roleDefinitionId: roleOf(ROLES.storageBlobDataReader.id), principalId: USER_IDENTITY.principalId },
      ]),
    );
    expect(probe.armOk.value).toHaveLength(3);
    expect(probe.armLocked.error).toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' });
    expect(probe.armLocked.error.message).toContain(`over scope '${RG_LOCKED}'`);
    expect(probe.armGone.error).toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });
    expect(probe.armPermissions.value).toEqual([{ actions: ['*/read'], notActions: [], dataActions: [], notDataActions: [] }]);
    expect(probe.armRoleDefinition.value.roleName).toBe('Reader');
  });

  it('fails nxdomain hosts like getaddrinfo and maps the simulated hosts to loopback for https, fetch and the SDK', () => {
    expect(probe.dnsHttps).toMatchObject({ code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'nxdomain-x.blob.core.windows.net' });
    expect(probe.fetchNxdomain).toEqual({ code: 'ENOTFOUND' });
    expect(probe.kvNxdomain.error).toMatchObject({ code: 'ENOTFOUND' });
    expect(probe.dnsPromises).toEqual({ address: '127.0.0.1', family: 4 });
    expect(probe.fetchChallenge).toMatchObject({
      status: 401,
      wwwAuthenticate: `Bearer authorization="https://login.microsoftonline.com/${TENANT_ID}", resource="https://vault.azure.net"`,
      body: { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } },
    });
  });

  it('serves the IMDS protocol when IDENTITY_ENDPOINT is unset, selecting identities by client id and resource id', async () => {
    const out = await runChild(
      IMDS_PROBE,
      serviceEnv(world, {
        IDENTITY_ENDPOINT: undefined,
        IDENTITY_HEADER: undefined,
        PROBE_INPUT: JSON.stringify({
          userClientId: USER_IDENTITY.clientId,
          userResourceId: USER_IDENTITY.resourceId,
          otherClientId: OTHER_IDENTITY.clientId,
        }),
      }),
    );
    expect(out.system).toEqual({
      ok: true,
      value: { aud: 'https://storage.azure.com', oid: SYSTEM_IDENTITY.principalId, appid: SYSTEM_IDENTITY.clientId, xms_mirid: SYSTEM_IDENTITY.resourceId },
    });
    expect(out.userByClientId.value.oid).toBe(USER_IDENTITY.principalId);
    expect(out.userByResourceId.value).toMatchObject({ oid: USER_IDENTITY.principalId, aud: 'https://management.azure.com' });
    expect(out.notAttached.ok).toBe(false);
    expect(out.notAttached.error.message).toContain('Identity not found');
  });

  it('answers every token request with 400 "Identity not found" under the identity_not_found fault', async () => {
    world.state.identityFault = 'identity_not_found';
    try {
      const out = await runChild(TOKEN_PROBE, serviceEnv(world));
      expect(out.result.ok).toBe(false);
      expect(out.result.error.name).toBe('CredentialUnavailableError');
      expect(out.result.error.message).toContain('Identity not found');
    } finally {
      world.state.identityFault = undefined;
    }
  });

  it('keeps denying a fresh role assignment until its propagation delay has passed, while ARM already lists it', async () => {
    const user = userIdentity(world);
    const kvNoRole = world.state.vaults.find((v) => v.name === 'kv-norole');
    if (!kvNoRole) throw new Error('kv-norole not staged');
    const token = world.mintToken(user, 'https://vault.azure.net');
    const url = `${world.vaultUrl('kv-norole')}/secrets/app-secret?api-version=7.5`;

    const fresh = world.grant(user.principalId, 'keyVaultSecretsUser', kvNoRole.resourceId, { propagationDelaySeconds: 60 });
    const denied = await call(world, url, { token });
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.body).error.innererror.code).toBe('ForbiddenByRbac');

    const armToken = world.mintToken(user, 'https://management.azure.com/');
    const listed = await call(
      world,
      `${world.armEndpoint}/${kvNoRole.resourceId}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=${encodeURIComponent(`assignedTo('${user.principalId}')`)}`,
      { token: armToken },
    );
    expect(listed.status).toBe(200);
    expect(JSON.parse(listed.body).value.map((a: { name: string }) => a.name)).toContain(fresh.id);

    fresh.createdOn = new Date(Date.now() - 61_000);
    const allowed = await call(world, url, { token });
    expect(allowed.status).toBe(200);
    expect(world.revoke(fresh.id)).toBe(1);
    expect((await call(world, url, { token })).status).toBe(403);
  });

  it('lists role assignments with the filters as ARM defines them, and decides with groups, conditions and management groups', async () => {
    const user = userIdentity(world);
    const kv = world.state.vaults.find((v) => v.name === 'kv-norole')!;
    const secretScope = `${kv.resourceId}/secrets/app-secret`;
    const groupId = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
    world.state.groups.push({ id: groupId, members: [user.principalId] });
    const below = world.grant(user.principalId, 'keyVaultReader', secretScope);
    const viaGroup = world.grant(groupId, 'keyVaultReader', RG_APP);
    const conditioned = world.grant(user.principalId, 'keyVaultSecretsUser', kv.resourceId, { condition: "@Resource[Microsoft.KeyVault/vaults/secrets:name] StringEquals 'other'" });
    try {
      const armToken = world.mintToken(user, 'https://management.azure.com/');
      const list = async (filter: string) => {
        const r = await call(world, `${world.armEndpoint}/${kv.resourceId}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=${encodeURIComponent(filter)}`, { token: armToken });
        expect(r.status).toBe(200);
        return (JSON.parse(r.body).value as { name: string; properties: { condition: string | null } }[]);
      };
      const names = (v: { name: string }[]) => v.map((a) => a.name);
      // principalId eq: exactly that principal, at, above and below the scope.
      expect(names(await list(`principalId eq '${user.principalId}'`))).toEqual(expect.arrayContaining([below.id, conditioned.id]));
      expect(names(await list(`principalId eq '${user.principalId}'`))).not.toContain(viaGroup.id);
      // assignedTo: also through the principal's groups.
      expect(names(await list(`assignedTo('${user.principalId}')`))).toEqual(expect.arrayContaining([below.id, viaGroup.id, conditioned.id]));
      // atScope(): at or above only — the secret-level assignment below is left out.
      const atScope = names(await list(`atScope() and assignedTo('${user.principalId}')`));
      expect(atScope).toEqual(expect.arrayContaining([viaGroup.id, conditioned.id]));
      expect(atScope).not.toContain(below.id);
      expect((await list(`principalId eq '${user.principalId}'`)).find((a) => a.name === conditioned.id)!.properties.condition).toContain('StringEquals');

      // Decisions: a condition stands for one that does not hold; a group grant needs a token minted after it.
      const url = `${world.vaultUrl('kv-norole')}/secrets/app-secret?api-version=7.5`;
      expect((await call(world, url, { token: world.mintToken(user, 'https://vault.azure.net') })).status).toBe(403);
      const groupSecrets = world.grant(groupId, 'keyVaultSecretsUser', kv.resourceId, { createdOn: new Date(Date.now() - 60_000) });
      const before = Math.floor(Date.now() / 1000) - 120;
      expect((await call(world, url, { token: world.mintToken(user, 'https://vault.azure.net', { iat: before }) })).status).toBe(403);
      expect((await call(world, url, { token: world.mintToken(user, 'https://vault.azure.net', { iat: Math.floor(Date.now() / 1000) }) })).status).toBe(200);
      world.revoke(groupSecrets.id);
      // A management group covers the subscriptions placed under it.
      const mg = '/providers/Microsoft.Management/managementGroups/mg-test';
      world.state.arm.managementGroups = [{ id: mg, subscriptions: [SUBSCRIPTION_ID] }];
      const mgGrant = world.grant(user.principalId, 'keyVaultSecretsUser', mg);
      expect((await call(world, url, { token: world.mintToken(user, 'https://vault.azure.net') })).status).toBe(200);
      world.revoke(mgGrant.id);
      world.state.arm.managementGroups = undefined;
    } finally {
      for (const a of [below, viaGroup, conditioned]) world.revoke(a.id);
      world.state.groups.splice(0);
    }
  });

  it("rejects wrong audiences, expired tokens and foreign issuers in each service's own dialect", async () => {
    const user = userIdentity(world);
    const kv = `${world.vaultUrl('kv-ok')}/secrets/app-secret?api-version=7.5`;
    const blob = `${world.accountUrl('stok')}/data/hello.txt`;
    const arm = `${world.armEndpoint}/${RG_APP}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01`;

    const kvAud = await call(world, kv, { token: world.mintToken(user, 'https://management.azure.com/') });
    expect(kvAud.status).toBe(401);
    expect(JSON.parse(kvAud.body).error.message).toBe(
      'AKV10022: Invalid audience. Expected https://vault.azure.net, found: https://management.azure.com/.',
    );
    expect(kvAud.headers['www-authenticate']).toContain('resource="https://vault.azure.net"');
    const kvExpired = await call(world, kv, { token: world.mintToken(user, 'https://vault.azure.net', { exp: Math.floor(Date.now() / 1000) - 10 }) });
    expect(JSON.parse(kvExpired.body).error).toEqual({ code: 'Unauthorized', message: 'AKV10021: Token is expired.' });
    const kvIssuer = await call(world, kv, { token: world.mintToken(user, 'https://vault.azure.net', { iss: `https://sts.windows.net/${OTHER_TENANT_ID}/` }) });
    expect(JSON.parse(kvIssuer.body).error.message).toBe(
      `AKV10032: Invalid issuer. Expected one of https://sts.windows.net/${TENANT_ID}/, found https://sts.windows.net/${OTHER_TENANT_ID}/.`,
    );

    const blobAud = await call(world, blob, { token: world.mintToken(user, 'https://vault.azure.net'), headers: { 'x-ms-client-request-id': 'abc' } });
    expect(blobAud.status).toBe(401);
    expect(blobAud.headers['x-ms-error-code']).toBe('InvalidAuthenticationInfo');
    expect(blobAud.headers['x-ms-client-request-id']).toBe('abc');
    expect(blobAud.headers['www-authenticate']).toBe(
      `Bearer authorization_uri=https://login.microsoftonline.com/${TENANT_ID}/oauth2/authorize resource_id=https://storage.azure.com`,
    );
    expect(blobAud.body).toMatch(
      /^<\?xml version="1\.0" encoding="utf-8"\?><Error><Code>InvalidAuthenticationInfo<\/Code><Message>Server failed to authenticate the request\. .*\nRequestId:[0-9a-f-]{36}\nTime:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z<\/Message><AuthenticationErrorDetail>Audience validation failed\. Audience did not match\.<\/AuthenticationErrorDetail><\/Error>$/,
    );
    const blobIssuer = await call(world, blob, { token: world.mintToken(user, 'https://storage.azure.com/', { iss: `https://sts.windows.net/${OTHER_TENANT_ID}/` }) });
    expect([blobIssuer.status, blobIssuer.headers['x-ms-error-code']]).toEqual([403, 'AuthenticationFailed']);
    const blobHead = await call(world, blob, { method: 'HEAD' });
    expect([blobHead.status, blobHead.headers['x-ms-error-code'], blobHead.body]).toEqual([401, 'NoAuthenticationInformation', '']);

    const armAud = await call(world, arm, { token: world.mintToken(user, 'https://vault.azure.net'), headers: { 'x-ms-correlation-request-id': 'corr-1' } });
    expect(armAud.status).toBe(401);
    expect(JSON.parse(armAud.body).error.code).toBe('InvalidAuthenticationTokenAudience');
    expect(armAud.headers['x-ms-correlation-request-id']).toBe('corr-1');
    const armExpired = await call(world, arm, { token: world.mintToken(user, 'https://management.azure.com/', { exp: 1 }) });
    expect(JSON.parse(armExpired.body).error.code).toBe('ExpiredAuthenticationToken');
    const armTenant = await call(world, arm, { token: world.mintToken(user, 'https://management.azure.com/', { iss: `https://sts.windows.net/${OTHER_TENANT_ID}/` }) });
    expect(JSON.parse(armTenant.body).error.code).toBe('InvalidAuthenticationTokenTenant');
  });

  it('plays transport faults on a target before any other logic, and clears them when unset', async () => {
    const vault = world.state.vaults.find((v) => v.name === 'kv-norole');
    if (!vault) throw new Error('kv-norole not staged');
    const url = `${world.vaultUrl('kv-norole')}/secrets/app-secret?api-version=7.5`;
    try {
      vault.fault = { status: 429, headers: { 'Retry-After': '1' }, body: '{"error":{"code":"Throttled","message":"Request was not processed because too many requests were received."}}' };
      const throttled = await call(world, url);
      expect([throttled.status, throttled.headers['retry-after'], JSON.parse(throttled.body).error.code]).toEqual([429, '1', 'Throttled']);

      vault.fault = 'reset';
      await expect(call(world, url)).rejects.toThrow(/ECONNRESET|socket hang up/);
      vault.fault = 'reset_mid_body';
      await expect(call(world, url)).rejects.toThrow(/aborted|ECONNRESET/);
      vault.fault = 'malformed';
      const garbage = await call(world, url);
      expect(garbage.status).toBe(502);
      expect(() => JSON.parse(garbage.body)).toThrow();
    } finally {
      vault.fault = undefined;
    }
    expect((await call(world, url)).status).toBe(401);

    world.state.armFault = { status: 503, body: '{"error":{"code":"ServiceUnavailable","message":"down"}}' };
    try {
      expect((await call(world, `${world.armEndpoint}${RG_APP}?api-version=2022-09-01`)).status).toBe(503);
    } finally {
      world.state.armFault = undefined;
    }
  });

  it('tells firewalls, private endpoints and access policies apart by their inner error codes', async () => {
    const user = userIdentity(world);
    const system = world.state.identities.find((i) => i.name === SYSTEM_IDENTITY.name);
    const kvOk = world.state.vaults.find((v) => v.name === 'kv-ok');
    const stok = world.state.accounts.find((a) => a.name === 'stok');
    if (!system || !kvOk || !stok) throw new Error('not staged');
    const kvToken = world.mintToken(user, 'https://vault.azure.net');
    const kvUrl = `${world.vaultUrl('kv-ok')}/secrets/app-secret?api-version=7.5`;
    const inner = async (): Promise<[number, string]> => {
      const r = await call(world, kvUrl, { token: kvToken });
      return [r.status, JSON.parse(r.body).error?.innererror?.code];
    };
    try {
      kvOk.network = 'firewall';
      expect(await inner()).toEqual([403, 'ForbiddenByFirewall']);
      kvOk.network = 'private';
      expect(await inner()).toEqual([403, 'ForbiddenByConnection']);
      stok.network = 'firewall';
      const blob = await call(world, `${world.accountUrl('stok')}/data/hello.txt`, { token: world.mintToken(user, 'https://storage.azure.com/') });
      expect([blob.status, blob.headers['x-ms-error-code']]).toEqual([403, 'AuthorizationFailure']);
    } finally {
      kvOk.network = undefined;
      stok.network = undefined;
    }

    world.state.vaults.push({
      name: 'kv-policy',
      resourceId: `${RG_APP}/providers/Microsoft.KeyVault/vaults/kv-policy`,
      tenantId: TENANT_ID,
      authorization: 'accessPolicy',
      accessPolicies: [{ objectId: system.principalId, secrets: ['Get', 'List'] }],
      secrets: { 'app-secret': 'policy-value' },
    });
    try {
      const policyUrl = `${world.vaultUrl('kv-policy')}/secrets/app-secret?api-version=7.5`;
      const denied = await call(world, policyUrl, { token: kvToken });
      expect(denied.status).toBe(403);
      expect(JSON.parse(denied.body).error.innererror.code).toBe('AccessDenied');
      expect(JSON.parse(denied.body).error.message).toContain("does not have secrets get permission on key vault 'kv-policy;location=eastus'");
      const allowed = await call(world, policyUrl, { token: world.mintToken(system, 'https://vault.azure.net/') });
      expect(JSON.parse(allowed.body).value).toBe('policy-value');
    } finally {
      world.state.vaults = world.state.vaults.filter((v) => v.name !== 'kv-policy');
    }
  });

  it('answers 429 to IMDS identity requests past its limit in flight, counted until each is answered', async () => {
    const imds = () => call(world, `${world.imdsHost}/metadata/identity/oauth2/token/?api-version=2018-02-01&resource=https://vault.azure.net`, { headers: { metadata: 'true' } });
    const overBefore = world.counters.imdsOverLimit;
    world.state.latencyMs = 100;
    try {
      const statuses = (await Promise.all(Array.from({ length: world.state.imdsMaxConcurrent + 2 }, imds))).map((r) => r.status).sort();
      expect(statuses).toEqual([...Array<number>(world.state.imdsMaxConcurrent).fill(200), 429, 429]);
      expect(world.counters.imdsOverLimit - overBefore).toBe(2);
      // Answered requests leave the count: the next burst within the limit passes whole.
      const again = await Promise.all(Array.from({ length: world.state.imdsMaxConcurrent }, imds));
      expect(again.every((r) => r.status === 200)).toBe(true);
    } finally {
      world.state.latencyMs = 0;
    }
  });

  it('answers identity requests in each protocol\'s own error dialect', async () => {
    const appService = (query: string, header: string | null = world.identityHeader) =>
      call(world, `${world.identityEndpoint}?api-version=2019-08-01&${query}`, header === null ? {} : { headers: { 'x-identity-header': header } });
    const imds = (query: string, metadata = true) =>
      call(world, `${world.imdsHost}/metadata/identity/oauth2/token/?api-version=2018-02-01&${query}`, metadata ? { headers: { metadata: 'true' } } : {});
    const json = async (p: Promise<Answer>): Promise<[number, any]> => {
      const r = await p;
      return [r.status, JSON.parse(r.body)];
    };
    const vault = 'resource=https://vault.azure.net';

    expect((await appService(vault, null)).status).toBe(400);
    expect((await appService(vault, 'wrong')).status).toBe(401);
    expect(await json(appService(`${vault}&client_id=${OTHER_IDENTITY.clientId}`))).toEqual([
      400,
      { error: 'invalid_request', error_description: 'Identity not found' },
    ]);
    const [okStatus, ok] = await json(appService(`${vault}&principal_id=${USER_IDENTITY.principalId}`));
    expect([okStatus, ok.client_id, ok.token_type, typeof ok.expires_on]).toEqual([200, USER_IDENTITY.clientId, 'Bearer', 'string']);
    expect(await json(imds(vault, false))).toEqual([400, { error: 'bad_request_102', error_description: 'Required metadata header not specified' }]);
    const [, imdsOk] = await json(imds(`${vault}&msi_res_id=${encodeURIComponent(USER_IDENTITY.resourceId)}`));
    expect(Object.keys(imdsOk).sort()).toEqual(
      ['access_token', 'expires_in', 'expires_on', 'ext_expires_in', 'not_before', 'refresh_token', 'resource', 'token_type'].sort(),
    );

    const attached = [...world.state.host.attached];
    try {
      world.state.host.attached = [USER_IDENTITY.name, OTHER_IDENTITY.name];
      expect((await json(appService(vault)))[1]).toMatchObject({ statusCode: 400, message: expect.stringContaining('No managed identity found') });
      expect((await json(imds(vault)))[1].error_description).toMatch(/^Multiple user assigned identities exist/);
      world.state.host.attached = [];
      expect(await json(imds(vault))).toEqual([400, { error: 'invalid_request', error_description: 'Identity not found' }]);
    } finally {
      world.state.host.attached = attached;
    }

    try {
      world.state.identityFault = 'non_jwt';
      expect((await json(appService(vault)))[1].access_token).toBe('not-a-jwt');
      world.state.identityFault = 'no_expires_on';
      expect((await json(appService(vault)))[1].expires_on).toBeUndefined();
      world.state.identityFault = 'malformed';
      await expect(json(appService(vault))).rejects.toThrow(SyntaxError);
      world.state.identityFault = { status: 500 };
      expect((await appService(vault)).status).toBe(500);
      world.state.identityFault = 'refuse';
      await expect(appService(vault)).rejects.toThrow(/ECONNRESET|socket hang up/);
    } finally {
      world.state.identityFault = undefined;
    }
    const closed = await world.closedPort();
    await expect(call(world, `http://127.0.0.1:${closed}/msi/token`)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('stages every standard target with the cause it should be diagnosed as', () => {
    const targets = standardTargets(world);
    expect(targets.map((t) => t.name).sort()).toEqual(Object.keys(EXPECTED_CAUSES).sort());
    for (const t of targets) if (t.kind === 'armResource') expect(t.endpoint).toBe(world.armEndpoint);
    const env = serviceEnv(world, { NODE_OPTIONS: undefined, EXTRA: 'x' });
    expect(env.NODE_OPTIONS).toBeUndefined();
    expect(env.EXTRA).toBe('x');
    expect(Object.keys(env).filter((k) => /proxy/i.test(k))).toEqual([]);
    expect(JSON.parse(env.DIAGNOSE_TARGETS ?? '[]')).toHaveLength(targets.length);
  });
});

describe('a second world in the same process', () => {
  it('delays answers by latencyMs and stops cleanly with silent and slowloris exchanges in flight', async () => {
    const world = await startWorld({ latencyMs: 150 });
    await stageStandardWorld(world);
    const azuritePort = world.azuritePort;
    expect(azuritePort).toBeGreaterThan(0);

    const started = Date.now();
    const token = await call(world, `${world.identityEndpoint}?api-version=2019-08-01&resource=https://vault.azure.net`, {
      headers: { 'x-identity-header': world.identityHeader },
    });
    expect(token.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    const kvOk = world.state.vaults.find((v) => v.name === 'kv-ok');
    const stok = world.state.accounts.find((a) => a.name === 'stok');
    if (!kvOk || !stok) throw new Error('not staged');
    kvOk.fault = 'silent';
    stok.fault = 'slowloris';
    const hanging = [
      call(world, `${world.vaultUrl('kv-ok')}/secrets/app-secret?api-version=7.5`).then(() => 'answered', (e: Error) => e.message),
      call(world, `${world.accountUrl('stok')}/data/hello.txt`).then(() => 'answered', (e: Error) => e.message),
    ];
    await new Promise((r) => setTimeout(r, 700));

    const stopStarted = Date.now();
    await world.stop();
    expect(Date.now() - stopStarted).toBeLessThan(boundFor(3000));
    const outcomes = await Promise.all(hanging);
    expect(outcomes.every((o) => o !== 'answered')).toBe(true);
    await world.stop();

    const refused = (port: number): Promise<boolean> =>
      new Promise((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.on('connect', () => {
          s.destroy();
          resolve(false);
        });
        s.on('error', () => resolve(true));
      });
    expect(await refused(world.ports.keyVault)).toBe(true);
    expect(await refused(world.ports.identity)).toBe(true);
    expect(await refused(azuritePort ?? 0)).toBe(true);
  }, 20_000);
});
