import { serviceEnv, stageStandardWorld, startWorld, type World } from './index';
import { appConfiguration } from './kinds/appConfiguration';
import { runChild as runSharedChild } from './childProcess';

/**
 * The App Configuration simulator against the real @azure/app-configuration client and ManagedIdentityCredential, in
 * a process with the service's environment (DNS preload, the world's CA): what the SDK sends, and what it makes of each
 * staged answer — the wire details the appConfiguration kind's probe and error dialect rely on.
 */

const SDK_PROBE = `
const { ManagedIdentityCredential } = require('@azure/identity');
const { AppConfigurationClient } = require('@azure/app-configuration');
const input = JSON.parse(process.env.PROBE_INPUT);
const summarize = (e) => ({
  statusCode: e && e.statusCode,
  code: e && e.code,
  details: e && e.details,
  wwwAuthenticate: e && e.response && e.response.headers && e.response.headers.get('www-authenticate'),
  retryAfterMs: e && e.response && e.response.headers && e.response.headers.get('retry-after-ms'),
  requestId: e && e.response && e.response.headers && e.response.headers.get('x-ms-request-id'),
  message: String(e && e.message).slice(0, 500),
});
const attempt = async (fn) => { try { return { ok: true, value: await fn() }; } catch (e) { return { ok: false, error: summarize(e) }; } };
(async () => {
  const cred = new ManagedIdentityCredential({ clientId: process.env.AZURE_CLIENT_ID });
  const client = (store, options = {}) => new AppConfigurationClient(input.urls[store], cred, { retryOptions: { maxRetries: 0 }, ...options });
  const requests = [];
  const seen = [];
  const recording = { audience: 'https://appconfig.azure.com', additionalPolicies: [{ position: 'perRetry', policy: { name: 'rec', sendRequest: async (req, next) => { requests.push(req.url); const res = await next(req); seen.push(res.headers); return res; } } }] };
  const get = async (store, id, options) => {
    const s = await client(store, recording).getConfigurationSetting(id, options);
    return { key: s.key, label: s.label, value: s.value, contentType: s.contentType, etag: s.etag, statusCode: s.statusCode, readOnly: s.isReadOnly,
      requestId: seen.at(-1).get('x-ms-request-id'), syncToken: seen.at(-1).get('sync-token') };
  };
  const out = {};
  out.full = await attempt(() => get('ok', { key: 'App:Greeting', label: 'prod' }));
  out.selected = await attempt(() => get('ok', { key: 'App:Greeting', label: 'prod' }, { fields: ['key', 'label', 'contentType', 'etag'] }));
  out.noLabel = await attempt(() => get('ok', { key: 'App:Greeting' }));
  out.missing = await attempt(() => get('ok', { key: 'App:Missing', label: 'prod' }));
  out.page = await attempt(async () => {
    const page = (await client('ok').listConfigurationSettings({ labelFilter: 'prod', fields: ['key', 'contentType'] }).byPage().next()).value;
    return { keys: page.items.map((s) => s.key), values: page.items.map((s) => s.value), etag: page.etag };
  });
  out.filtered = await attempt(async () => {
    const page = (await client('ok').listConfigurationSettings({ keyFilter: 'App:*' }).byPage().next()).value;
    return page.items.map((s) => s.key + '|' + (s.label || ''));
  });
  out.noRole = await attempt(() => get('norole', { key: 'App:Greeting', label: 'prod' }));
  out.private = await attempt(() => get('private', { key: 'App:Greeting', label: 'prod' }));
  out.tenant = await attempt(() => get('tenant', { key: 'App:Greeting', label: 'prod' }));
  out.wrongAudience = await attempt(() => client('ok', { audience: 'https://vault.azure.net' }).getConfigurationSetting({ key: 'App:Greeting' }));
  out.throttled = await attempt(() => get('throttled', { key: 'App:Greeting', label: 'prod' }));
  out.requests = requests;
  process.stdout.write(JSON.stringify(out));
})().catch((e) => process.stdout.write(JSON.stringify({ crashed: String(e && e.stack) })));
`;

const runChild = (env: Record<string, string>) => runSharedChild(SDK_PROBE, env, 40_000);

let world: World;
let out: Record<string, any>;

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  appConfiguration.stage(world);
  const urls = Object.fromEntries(['ok', 'norole', 'private', 'tenant', 'throttled'].map((s) => [s, world.appConfigUrl(`cac-${s}`)]));
  out = await runChild({ ...serviceEnv(world), PROBE_INPUT: JSON.stringify({ urls }) });
}, 60_000);

afterAll(async () => {
  await world?.stop();
});

describe('the simulated App Configuration store, read by the real SDK', () => {
  it('serves a key-value with its etag, sync token and request id, and the value only when $select asks for it', () => {
    expect(out.full).toMatchObject({ ok: true, value: { key: 'App:Greeting', label: 'prod', contentType: 'text/plain', statusCode: 200 } });
    const stored = world.state.configStores.find((s) => s.name === 'cac-ok')!.keyValues.find((kv) => kv.label === 'prod' && kv.key === 'App:Greeting')!;
    expect(out.full.value.value).toBe(stored.value);
    expect(out.full.value.etag).toMatch(/^\S+$/);
    expect(out.full.value.syncToken).toMatch(/^cac-ok=\S+;sn=\d+$/);
    expect(out.full.value.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.selected).toMatchObject({ ok: true, value: { key: 'App:Greeting', label: 'prod', contentType: 'text/plain' } });
    expect(out.selected.value.value).toBeUndefined();
    expect(out.requests.some((u: string) => /\/kv\/App:Greeting\?api-version=[^&]+&label=prod$/.test(u))).toBe(true);
    expect(out.requests.some((u: string) => /\?%24select=key,label,content_type,etag&api-version=[^&]+&label=prod$/.test(u))).toBe(true);
  });

  it('reads a key without a label as the key-value that has none', () => {
    expect(out.noLabel).toMatchObject({ ok: true, value: { key: 'App:Greeting' } });
    expect(out.noLabel.value.label).toBeUndefined();
  });

  it('answers a missing key-value with a bare 404', () => {
    expect(out.missing).toMatchObject({ ok: false, error: { statusCode: 404 } });
    expect(out.missing.error.code).toBeUndefined();
  });

  it('lists one page filtered by label or key, values left out when not selected', () => {
    expect(out.page.ok).toBe(true);
    expect(out.page.value.keys.sort()).toEqual(['App:DbPassword', 'App:Greeting']);
    expect(out.page.value.values.every((v: unknown) => v === undefined || v === null)).toBe(true);
    expect(out.filtered.value.sort()).toEqual(['App:DbPassword|prod', 'App:Greeting|', 'App:Greeting|prod']);
  });

  it('refuses a principal without a data role (only Contributor) with a 403 and no body', () => {
    expect(out.noRole).toMatchObject({ ok: false, error: { statusCode: 403 } });
    expect(out.noRole.error.code).toBeUndefined();
    expect(out.noRole.error.message).toBe('Unexpected status code: 403');
  });

  it('refuses a store with public access disabled with problem+json ip-address-rejected', () => {
    expect(out.private).toMatchObject({ ok: false, error: { statusCode: 403, details: { type: 'https://azconfig.io/errors/ip-address-rejected', status: 403 } } });
  });

  it('names the wrong issuer in the 401 challenge, and only says "failed validation" for a wrong audience', () => {
    expect(out.tenant).toMatchObject({ ok: false, error: { statusCode: 401 } });
    expect(out.tenant.error.wwwAuthenticate).toMatch(/^HMAC-SHA256, Bearer error="invalid_token", error_description="The access token is from the wrong issuer\./);
    expect(out.wrongAudience).toMatchObject({ ok: false, error: { statusCode: 401, wwwAuthenticate: 'HMAC-SHA256, Bearer error="invalid_token", error_description="Authorization token failed validation"' } });
  });

  it('throttles with problem+json too-many-requests and retry-after-ms', () => {
    expect(out.throttled).toMatchObject({ ok: false, error: { statusCode: 429, retryAfterMs: '10', details: { type: 'https://azconfig.io/errors/too-many-requests' } } });
  });
});
