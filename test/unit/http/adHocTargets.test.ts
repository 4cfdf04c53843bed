import { HttpRequest } from '@azure/functions';
import fc from 'fast-check';
import { MAX_AD_HOC_TARGETS, MAX_BODY_BYTES, parseAdHocTargets } from '../../../src/http/adHocTargets';
import { parseDiagnoseRequest } from '../../../src/http/diagnoseRequest';
import { MAX_BODY_BYTES as SERVER_MAX_BODY_BYTES } from '../../../src/server';
import { ProblemSchema, type Problem } from '../../../src/http/problem';
import { settingsFor } from '../fixtures/settings';

const publicCloud = settingsFor();
const kv = (vaultUrl: string, extra: Record<string, unknown> = {}) => ({ name: 'kv', kind: 'keyVaultSecret', vaultUrl, secretName: 's', ...extra });
const blob = (accountUrl: string) => ({ name: 'b', kind: 'storageBlob', accountUrl, container: 'data' });
const arm = (endpoint?: string) => ({ name: 'a', kind: 'armResource', resourceId: '/subscriptions/s/resourceGroups/rg', ...(endpoint ? { endpoint } : {}) });

function parse(targets: unknown, settings = publicCloud) {
  return parseAdHocTargets(JSON.stringify(targets), settings);
}

function refusal(targets: unknown, settings = publicCloud): { status: number; problem: Problem } {
  const r = parse(targets, settings);
  if (r.ok) throw new Error(`accepted ${JSON.stringify(targets)}`);
  return { status: r.response.status!, problem: ProblemSchema.parse(JSON.parse(r.response.body as string)) };
}

describe('the ad-hoc host policy', () => {
  it.each([
    ['a vault of the public cloud', kv('https://kv1.vault.azure.net')],
    ['a storage account of the public cloud', blob('https://st1.blob.core.windows.net')],
    ['the public ARM endpoint', arm('https://management.azure.com')],
    ['ARM without an endpoint (the cloud\'s own)', arm()],
  ])('accepts %s', (_label, target) => {
    expect(parse([target]).ok).toBe(true);
  });

  it('accepts the China and US Government hosts only when that cloud is configured', () => {
    const china = settingsFor({ AZURE_CLOUD: 'AzureChinaCloud' });
    const gov = settingsFor({ AZURE_CLOUD: 'AzureUSGovernment' });
    expect(parse([kv('https://kv1.vault.azure.cn'), blob('https://st1.blob.core.chinacloudapi.cn'), arm('https://management.chinacloudapi.cn')], china).ok).toBe(true);
    expect(parse([kv('https://kv1.vault.usgovcloudapi.net'), blob('https://st1.blob.core.usgovcloudapi.net'), arm('https://management.usgovcloudapi.net')], gov).ok).toBe(true);
    expect(refusal([kv('https://kv1.vault.azure.cn')]).problem.errors?.[0]?.message).toMatch(/^host-not-allowed/);
    expect(refusal([kv('https://kv1.vault.azure.net')], china).problem.errors?.[0]?.message).toMatch(/^host-not-allowed/);
  });

  it.each([
    ['a host outside Azure', kv('https://attacker.example.com'), 'host-not-allowed'],
    ['a look-alike with the suffix in front', kv('https://kv1.vault.azure.net.attacker.example'), 'host-not-allowed'],
    ['a look-alike sharing the last labels', kv('https://evilvault.azure.net'), 'host-not-allowed'],
    ['the bare service suffix', kv('https://vault.azure.net'), 'host-not-allowed'],
    ['two labels under the suffix', kv('https://a.b.vault.azure.net'), 'host-not-allowed'],
    ['a trailing-dot host', kv('https://kv1.vault.azure.net.'), 'host-not-allowed'],
    ['a storage host for a Key Vault target', kv('https://st1.blob.core.windows.net'), 'host-not-allowed'],
    ['the metadata service address', kv('https://169.254.169.254'), 'host-not-allowed'],
    ['loopback', blob('https://127.0.0.1'), 'host-not-allowed'],
    ['an ARM look-alike', arm('https://management.azure.com.attacker.example'), 'host-not-allowed'],
    ['http', kv('http://kv1.vault.azure.net'), 'https-only'],
    ['user and password in the URL', kv('https://user:pass@kv1.vault.azure.net'), 'no-credentials'],
    ['a SAS in the query string', blob('https://st1.blob.core.windows.net/?sv=2024-01-01&sig=abc'), 'no-credentials'],
    ['an odd port on a service host', kv('https://kv1.vault.azure.net:8443'), 'port-not-allowed'],
    ['an arbitrary audience', kv('https://kv1.vault.azure.net', { audience: 'api://attacker-app' }), 'audience-not-allowed'],
  ])('refuses %s with 403 naming the rule', (_label, target, rule) => {
    const { status, problem } = refusal([target]);
    expect(status).toBe(403);
    expect(problem.title).toBe('Ad-hoc target refused');
    expect(problem.detail).toContain(`Rule ${rule}`);
    expect(problem.errors?.map((e) => e.message.split(':')[0])).toEqual([rule]);
  });

  it("names every broken rule and where, in one problem", () => {
    const { problem } = refusal([kv('https://kv1.vault.azure.net'), blob('http://st1.blob.core.windows.net'), kv('https://x.example', { audience: 'https://outlook.office365.com' })]);
    expect(problem.errors?.map((e) => [e.parameter, e.message.split(':')[0]])).toEqual([
      ['body[1].accountUrl', 'https-only'],
      ['body[2].vaultUrl', 'host-not-allowed'],
      ['body[2].audience', 'audience-not-allowed'],
    ]);
  });

  it('keeps wrong-audience diagnosable: another Azure service audience is allowed', () => {
    expect(parse([kv('https://kv1.vault.azure.net', { audience: 'https://management.azure.com/' })]).ok).toBe(true);
    // …but never a Microsoft Graph token (it carries the identity's app roles) to another service's host.
    expect(refusal([kv('https://kv1.vault.azure.net', { audience: 'https://graph.microsoft.com' })]).problem.errors?.[0]?.message).toMatch(/^audience-not-allowed: .*microsoftGraph/);
  });

  it('lets DIAGNOSE_ALLOWED_HOSTS add a host on 443, or on a port when it lists host:port', () => {
    const settings = settingsFor({ DIAGNOSE_ALLOWED_HOSTS: 'keyVaultSecret:kv.internal.contoso.com, kv1.vault.azure.net:8443' });
    expect(parse([kv('https://kv.internal.contoso.com')], settings).ok).toBe(true);
    expect(parse([kv('https://kv1.vault.azure.net:8443')], settings).ok).toBe(true);
    expect(refusal([kv('https://kv.internal.contoso.com:444')], settings).problem.errors?.[0]?.message).toMatch(/^port-not-allowed/);
    expect(refusal([kv('https://kv2.vault.azure.net:8443')], settings).problem.errors?.[0]?.message).toMatch(/^port-not-allowed/);
  });

  describe('each DIAGNOSE_ALLOWED_HOSTS entry counts only for the kinds it is listed for', () => {
    const listed = settingsFor({
      DIAGNOSE_ALLOWED_HOSTS: 'keyVaultSecret:kv.example.internal, kv1.vault.azure.net:8443, storageBlob:st.example.internal:8443, plain.example.internal',
    });
    const first = (targets: unknown) => refusal(targets, listed).problem.errors?.[0]?.message;

    it('admits a kind-qualified host for its kind, and a plain entry in a service domain for that service', () => {
      expect(parse([kv('https://kv.example.internal')], listed).ok).toBe(true);
      expect(parse([kv('https://kv1.vault.azure.net:8443')], listed).ok).toBe(true);
      expect(parse([blob('https://st.example.internal:8443')], listed).ok).toBe(true);
    });

    it.each([
      ['a Key Vault host as a storage account', blob('https://kv.example.internal')],
      ['a Key Vault host as the ARM endpoint', arm('https://kv.example.internal')],
      ['a plain vault entry as a storage account', blob('https://kv1.vault.azure.net:8443')],
      ['a plain vault entry as the ARM endpoint', arm('https://kv1.vault.azure.net:8443')],
      ['a storage host as a vault', kv('https://st.example.internal:8443')],
      ['a plain entry outside every service domain, as a vault', kv('https://plain.example.internal')],
      ['a plain entry outside every service domain, as ARM', arm('https://plain.example.internal')],
    ])('refuses %s (host-not-allowed, naming the kind to list)', (_label, target) => {
      expect(first([target])).toMatch(/^host-not-allowed: .*(only for|without a kind)/);
    });

    it.each([
      ['ARM', 'https://management.azure.com/'],
      ['Storage', 'https://storage.azure.com'],
    ])("refuses the audience of %s on a host listed only for Key Vault (audience-not-allowed)", (_label, audience) => {
      expect(first([kv('https://kv.example.internal', { audience })])).toMatch(/^audience-not-allowed: .*only kinds DIAGNOSE_ALLOWED_HOSTS lists/);
      expect(first([kv('https://kv1.vault.azure.net:8443', { audience })])).toMatch(/^audience-not-allowed/);
    });

    it("accepts the listed kind's own audience on a listed host", () => {
      expect(parse([kv('https://kv.example.internal', { audience: 'https://vault.azure.net' })], listed).ok).toBe(true);
    });

    it('refuses a kind the syntax does not know, naming the setting', () => {
      expect(() => settingsFor({ DIAGNOSE_ALLOWED_HOSTS: 'sqlDatabase:db.example.internal' })).toThrow(/DIAGNOSE_ALLOWED_HOSTS/);
    });
  });

  it('trusts the ARM endpoint the operator configured (DIAGNOSE_ARM_ENDPOINT), and only that origin', () => {
    const stack = settingsFor({ DIAGNOSE_ARM_ENDPOINT: 'https://management.local.azurestack.external:8443' });
    expect(parse([arm('https://management.local.azurestack.external:8443')], stack).ok).toBe(true);
    expect(refusal([arm('https://management.local.azurestack.external')], stack).problem.errors?.[0]?.message).toMatch(/^host-not-allowed/);
    expect(refusal([kv('https://management.local.azurestack.external:8443')], stack).problem.errors?.[0]?.message).toMatch(/^host-not-allowed/);
  });

  it('never accepts a target whose URL is outside the policy, whatever the caller sends', () => {
    const suffix = { keyVaultSecret: '.vault.azure.net', storageBlob: '.blob.core.windows.net', armResource: 'management.azure.com' } as const;
    const url = fc.oneof(
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.tuple(fc.constantFrom('https://', 'http://', 'https://u:p@', 'HTTPS://'), fc.oneof({ arbitrary: fc.stringMatching(/^[a-z0-9-]{1,24}$/), weight: 4 }, fc.domain(), fc.constant('management')), fc.constantFrom('', '.vault.azure.net', '.blob.core.windows.net', '.management.azure.com'), fc.constantFrom('', ':443', ':8443', '/', '/?sig=x', '.')).map((p) => p.join('')),
    );
    let accepted = 0;
    fc.assert(
      fc.property(fc.constantFrom('keyVaultSecret', 'storageBlob', 'armResource') as fc.Arbitrary<keyof typeof suffix>, url, (kind, u) => {
        const target = kind === 'keyVaultSecret' ? kv(u) : kind === 'storageBlob' ? blob(u) : arm(u);
        const r = parse([target]);
        if (!r.ok) return [400, 403].includes(r.response.status!);
        accepted++;
        const parsed = new URL(u);
        return parsed.protocol === 'https:' && !parsed.username && !parsed.search && parsed.port === '' && parsed.hostname.endsWith(suffix[kind]);
      }),
      { numRuns: 2000 },
    );
    // The generator reaches the accepting side too, so the property is about something.
    expect(accepted).toBeGreaterThan(10);
  });
});

describe('the body itself', () => {
  it.each([
    ['not JSON', '{nope'],
    ['not an array', JSON.stringify({ targets: [] })],
    ['an empty array', '[]'],
    ['too many targets', JSON.stringify(Array.from({ length: MAX_AD_HOC_TARGETS + 1 }, (_, i) => ({ ...kv('https://kv1.vault.azure.net'), name: `t${i}` })))],
    ['a target that breaks the schema', JSON.stringify([{ ...kv('https://kv1.vault.azure.net'), secretName: 'bad name!' }])],
    ['duplicate names', JSON.stringify([kv('https://kv1.vault.azure.net'), kv('https://kv2.vault.azure.net')])],
  ])('answers 400 for %s', (_label, body) => {
    const r = parseAdHocTargets(body, publicCloud);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.response.status).toBe(400);
  });

  it('names the field that breaks the schema', () => {
    const r = parseAdHocTargets(JSON.stringify([{ ...kv('https://kv1.vault.azure.net'), secretName: 'bad name!' }]), publicCloud);
    expect(!r.ok && ProblemSchema.parse(JSON.parse(r.response.body as string)).errors?.[0]?.parameter).toBe('body[0].secretName');
  });
});

describe('POST /api/diagnose with a body', () => {
  const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }, query = '') =>
    parseDiagnoseRequest(new HttpRequest({ method: 'POST', url: `http://localhost/api/diagnose${query}`, headers, body: { string: body } }), publicCloud);
  const statusOf = async (p: ReturnType<typeof post>) => {
    const r = await p;
    return r.ok ? 200 : r.response.status;
  };
  const good = JSON.stringify([kv('https://kv1.vault.azure.net')]);

  it('diagnoses exactly the ad-hoc targets', async () => {
    const r = await post(good);
    expect(r.ok && r.value.targets.map((t) => t.name)).toEqual(['kv']);
  });

  it('refuses a body not declared as JSON with 415 (a cross-site form post cannot declare it without a preflight)', async () => {
    expect(await statusOf(post(good, {}))).toBe(415);
    expect(await statusOf(post(good, { 'content-type': 'text/plain' }))).toBe(415);
    expect(await statusOf(post(good, { 'content-type': 'application/json; charset=utf-8' }))).toBe(200);
  });

  it(`refuses bodies over ${MAX_BODY_BYTES} bytes with 413, by declared length before reading and by actual length`, async () => {
    expect(await statusOf(post(good, { 'content-type': 'application/json', 'content-length': String(MAX_BODY_BYTES + 1) }))).toBe(413);
    expect(await statusOf(post(`${' '.repeat(MAX_BODY_BYTES)}${good}`))).toBe(413);
  });

  it('states one limit: the local server refuses at the same size', () => {
    expect(SERVER_MAX_BODY_BYTES).toBe(MAX_BODY_BYTES);
  });

  it('refuses ?target= together with a body', async () => {
    expect(await statusOf(post(good, undefined, '?target=kv'))).toBe(400);
  });

  it('still treats an empty POST like GET', async () => {
    const r = await post('', {});
    expect(r.ok && r.value.targets).toEqual(publicCloud.targets);
  });
});
