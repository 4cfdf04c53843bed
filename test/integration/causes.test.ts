import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startWorld, type World } from '../world';
import {
  OTHER_IDENTITY,
  OTHER_TENANT_ID,
  RG_APP,
  SUBSCRIPTION_ID,
  TENANT_ID,
  USER_IDENTITY,
  SYSTEM_IDENTITY,
  serviceEnv,
  stageStandardWorld,
  standardTargets,
} from '../world/scenario';
import type { Check, Verdict } from '../../src/verdict';
import { checkOf, expectNoLeaks, startService, type RunningService } from './harness';
import { boundFor } from '../support/timing';

/**
 * Every cause in the catalog with the evidence that tells it apart, through HTTP against the simulated world — for
 * every target kind where the cause can occur. Identity-level scenarios are host-wide, so each gets its own process.
 */
let world: World;
const services: RunningService[] = [];

type TargetSpec = Record<string, unknown> & { name: string };
const vaultId = (name: string) => `${RG_APP}/providers/Microsoft.KeyVault/vaults/${name}`;
const accountId = (name: string) => `${RG_APP}/providers/Microsoft.Storage/storageAccounts/${name}`;
const kv = (name: string, vault: string, extra: Record<string, unknown> = {}): TargetSpec => ({
  name, kind: 'keyVaultSecret', vaultUrl: world.vaultUrl(vault), secretName: 'app-secret', resourceId: vaultId(vault), ...extra,
});
const blob = (name: string, account: string, extra: Record<string, unknown> = {}): TargetSpec => ({
  name, kind: 'storageBlob', accountUrl: world.accountUrl(account), container: 'data', blobName: 'hello.txt', resourceId: accountId(account), ...extra,
});
const arm = (name: string, extra: Record<string, unknown> = {}): TargetSpec => ({
  name, kind: 'armResource', resourceId: RG_APP, endpoint: world.armEndpoint, ...extra,
});
const healthyOnePerKind = () => standardTargets(world).filter((t) => ['kv-ok', 'blob-ok', 'arm-ok'].includes(t.name));

function addVault(name: string, extra: Record<string, unknown> = {}): void {
  world.state.vaults.push({ name, resourceId: vaultId(name), tenantId: TENANT_ID, authorization: 'rbac', secrets: { 'app-secret': `s-${name}-${Math.random()}` }, ...extra });
  world.state.arm.resources.push(vaultId(name));
  world.grant(USER_IDENTITY.principalId, 'keyVaultSecretsUser', vaultId(name));
}
function addAccount(name: string, extra: Record<string, unknown> = {}): void {
  world.state.accounts.push({ name, resourceId: accountId(name), tenantId: TENANT_ID, containers: { data: { 'hello.txt': 'hello' } }, ...extra });
  world.state.arm.resources.push(accountId(name));
  world.grant(USER_IDENTITY.principalId, 'storageBlobDataReader', accountId(name));
}

async function serve(targets: TargetSpec[], overrides: Record<string, string | undefined> = {}): Promise<RunningService> {
  const svc = await startService(serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(targets), ...overrides }));
  services.push(svc);
  return svc;
}

async function timed(svc: RunningService, query = ''): Promise<{ verdict: Verdict; elapsedMs: number }> {
  const started = Date.now();
  const { verdict } = await svc.diagnose(query);
  return { verdict, elapsedMs: Date.now() - started };
}

const causesByKind = (v: Verdict) => v.checks.map((c) => [c.kind, c.cause]);
const ALL_KINDS = (cause: string) => [['keyVaultSecret', cause], ['storageBlob', cause], ['armResource', cause]];

const throttleBody = JSON.stringify({ error: { code: 'Throttled', message: 'Request was not processed because too many requests were received.' } });
const unavailableBody = JSON.stringify({ error: { code: 'ServiceUnavailable', message: 'The service is temporarily unavailable.' } });

let main: RunningService;
let mainVerdict: Verdict;

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  addVault('kvpolicy', { authorization: 'accessPolicy', accessPolicies: [] });
  addVault('kvfirewall', { network: 'firewall' });
  addVault('kvprivate', { network: 'private' });
  addVault('kvtenant', { tenantId: OTHER_TENANT_ID });
  addVault('kvthrottled', { fault: { status: 429, headers: { 'Retry-After': '7', 'content-type': 'application/json' }, body: throttleBody } });
  addVault('kvdown', { fault: { status: 503, headers: { 'content-type': 'application/json' }, body: unavailableBody } });
  addVault('kvsilent', { fault: 'silent' });
  addVault('kvrejects', { fault: { status: 401, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'Unauthorized', message: 'AKV10013: Invalid token.' } }) } });
  addAccount('stfirewall', { network: 'firewall' });
  addAccount('sttenant', { tenantId: OTHER_TENANT_ID });
  addAccount('stthrottled', { fault: { status: 429, headers: { 'Retry-After': '7', 'x-ms-error-code': 'ServerBusy' } } });
  addAccount('stdown', { fault: { status: 503, headers: { 'x-ms-error-code': 'ServerBusy' } } });
  addAccount('stsilent', { fault: 'silent' });
  addAccount('strejects', { fault: { status: 401, headers: { 'x-ms-error-code': 'InvalidAuthenticationInfo' } } });
  await world.syncStorage();
  main = await serve(
    [
      ...healthyOnePerKind(),
      kv('kv-policy', 'kvpolicy'),
      kv('kv-firewall', 'kvfirewall'),
      kv('kv-private', 'kvprivate'),
      kv('kv-tenant', 'kvtenant'),
      kv('kv-throttled', 'kvthrottled'),
      kv('kv-down', 'kvdown'),
      kv('kv-silent', 'kvsilent'),
      kv('kv-rejects', 'kvrejects'),
      kv('kv-dns', 'nxdomain-kv'),
      blob('blob-firewall', 'stfirewall'),
      blob('blob-tenant', 'sttenant'),
      blob('blob-throttled', 'stthrottled'),
      blob('blob-down', 'stdown'),
      blob('blob-silent', 'stsilent'),
      blob('blob-rejects', 'strejects'),
      blob('blob-dns', 'nxdomainst'),
      arm('arm-dns', { endpoint: world.armEndpoint.replace('management.azure.com', 'nxdomain.management.azure.com') }),
    ],
    { DIAGNOSE_TIMEOUT_MS: '4000' },
  );
  mainVerdict = (await main.diagnose()).verdict;
}, 90_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await world?.stop();
});

describe('1. the raw identity-endpoint probe beside the SDK', () => {
  it('probes raw on request and finds the SDK and the platform agreeing, without returning the token', async () => {
    const { verdict } = await main.diagnose('?target=kv-ok&probe=raw');
    const raw = checkOf(verdict, 'kv-ok').evidence.identityEndpoint?.rawProbe;
    expect(raw).toMatchObject({ interpretation: 'consistent', direct: { via: 'direct', protocol: 'appService', status: 200, tokenIssued: true, tokenPrincipalId: USER_IDENTITY.principalId } });
  });

  it('after a failure, shows the raw answer and reads both as platform plumbing when they fail alike', async () => {
    const svc = await serve(healthyOnePerKind(), { AZURE_CLIENT_ID: OTHER_IDENTITY.clientId });
    const { verdict } = await svc.diagnose();
    for (const c of verdict.checks) {
      expect(c.cause).toBe('identity_not_found');
      expect(c.evidence.identityEndpoint?.rawProbe).toMatchObject({ interpretation: 'platform_plumbing', direct: { status: 400, error: 'invalid_request' } });
    }
    expect(verdict.checks[0]!.explanation).toContain('platform');
  });

  it('names a malformed identity response that the SDK reports only as a network error', async () => {
    world.state.identityFault = 'malformed';
    try {
      const svc = await serve(healthyOnePerKind());
      const { verdict } = await svc.diagnose();
      expect(causesByKind(verdict)).toEqual(ALL_KINDS('identity_endpoint_error'));
      const e = verdict.checks[0]!.evidence.identityEndpoint!;
      expect(e.sdkError).toMatch(/network/i);
      expect(e.rawProbe?.direct?.transport?.kind).toBe('malformed');
    } finally {
      world.state.identityFault = undefined;
    }
  });
});

describe('2. proxy interception', () => {
  it('reports identity_endpoint_unreachable with redacted proxy evidence and the NO_PROXY fix when the proxy captures the endpoint', async () => {
    const closed = await world.closedPort();
    const svc = await serve(healthyOnePerKind(), { HTTPS_PROXY: `http://proxyuser:proxy-secret-pw@127.0.0.1:${closed}` });
    const { verdict } = await svc.diagnose();
    expect(causesByKind(verdict)).toEqual(ALL_KINDS('identity_endpoint_unreachable'));
    const c = verdict.checks[0]!;
    expect(c.evidence.proxy).toEqual({ url: `http://[REDACTED]@127.0.0.1:${closed}`, bypassed: false, source: 'HTTPS_PROXY' });
    expect(c.evidence.identityEndpoint?.rawProbe).toMatchObject({
      interpretation: 'proxy_interception',
      direct: { tokenIssued: true },
      viaProxy: { via: 'proxy', transport: { kind: 'refused' } },
    });
    expect(c.fix.join('\n')).toMatch(/NO_PROXY=.*127\.0\.0\.1.*169\.254\.169\.254/);
    expect(svc.replies().join('\n')).not.toContain('proxy-secret-pw');
  });

  it('says a proxy that NO_PROXY bypasses is harmless', async () => {
    const closed = await world.closedPort();
    const svc = await serve(healthyOnePerKind(), {
      HTTP_PROXY: `http://127.0.0.1:${closed}`,
      NO_PROXY: '127.0.0.1,.vault.azure.net,.blob.core.windows.net,management.azure.com',
    });
    const { verdict } = await svc.diagnose();
    expect(causesByKind(verdict)).toEqual(ALL_KINDS('authorized'));
    expect(verdict.checks[0]!.evidence.proxy).toMatchObject({ bypassed: true, source: 'HTTP_PROXY' });
    expect(verdict.checks[0]!.evidence.notes?.join(' ')).toContain('harmless');
  });
});

describe('3. identity selection', () => {
  it('selects a user-assigned identity by resource id and reports which identity resource answered', async () => {
    const svc = await serve(healthyOnePerKind(), { AZURE_CLIENT_ID: undefined, AZURE_CLIENT_RESOURCE_ID: USER_IDENTITY.resourceId });
    const { verdict } = await svc.diagnose();
    expect(causesByKind(verdict)).toEqual(ALL_KINDS('authorized'));
    expect(verdict.identity.resourceId).toBe(USER_IDENTITY.resourceId);
    expect(verdict.checks[0]!.claims?.xms_mirid).toBe(USER_IDENTITY.resourceId);
  });

  it('reports wrong_identity when the token is not the expected principal (system- vs user-assigned mix-up)', async () => {
    const svc = await serve(healthyOnePerKind(), { AZURE_CLIENT_ID: undefined, EXPECTED_PRINCIPAL_ID: USER_IDENTITY.principalId });
    const { verdict } = await svc.diagnose();
    expect(causesByKind(verdict)).toEqual(ALL_KINDS('wrong_identity'));
    const c = verdict.checks[0]!;
    expect(c.claims?.oid).toBe(SYSTEM_IDENTITY.principalId);
    expect(c.claims?.xms_mirid).toBe(SYSTEM_IDENTITY.resourceId);
    expect(c.explanation).toContain(USER_IDENTITY.principalId);
    expect(c.fix.join('\n')).toContain('AZURE_CLIENT_ID=');
    expect(c.fix.join('\n')).toContain('az identity show');
  });
});

describe('4. audience, tenant, expiry', () => {
  it('reports wrong_tenant when the resource lives in another tenant (Key Vault challenge, Storage issuer, ARM)', async () => {
    expect(checkOf(mainVerdict, 'kv-tenant')).toMatchObject({ cause: 'wrong_tenant', httpStatus: 401, evidence: { challenge: { tenantId: OTHER_TENANT_ID } } });
    expect(checkOf(mainVerdict, 'blob-tenant')).toMatchObject({ cause: 'wrong_tenant', httpStatus: 403, evidence: { errorCode: 'AuthenticationFailed' } });
    world.state.arm.tenantId = OTHER_TENANT_ID;
    try {
      const { verdict } = await main.diagnose('?target=arm-ok');
      expect(checkOf(verdict, 'arm-ok')).toMatchObject({ cause: 'wrong_tenant', evidence: { errorCode: 'InvalidAuthenticationTokenTenant' } });
    } finally {
      world.state.arm.tenantId = TENANT_ID;
    }
    expect(checkOf(mainVerdict, 'kv-tenant').explanation).toContain('cannot get tokens for another');
  });

  it('reports wrong_tenant for every kind when the token is not from EXPECTED_TENANT_ID', async () => {
    const svc = await serve(healthyOnePerKind(), { EXPECTED_TENANT_ID: OTHER_TENANT_ID });
    const { verdict } = await svc.diagnose();
    expect(causesByKind(verdict)).toEqual(ALL_KINDS('wrong_tenant'));
  });

  it('reports token_expired for every kind when the endpoint hands out a token past its life', async () => {
    const identity = world.state.identities.find((i) => i.clientId === USER_IDENTITY.clientId)!;
    identity.tokenLifetimeSeconds = -600;
    try {
      const svc = await serve(healthyOnePerKind());
      const { verdict } = await svc.diagnose();
      expect(causesByKind(verdict)).toEqual(ALL_KINDS('token_expired'));
      expect(verdict.checks.every((c) => c.httpStatus === 401)).toBe(true);
      expect(verdict.checks[0]!.explanation).toContain('Hold the credential, not the token');
    } finally {
      identity.tokenLifetimeSeconds = undefined;
    }
  });

  it('reports token_rejected with the service code for any other 401', async () => {
    expect(checkOf(mainVerdict, 'kv-rejects')).toMatchObject({ cause: 'token_rejected', httpStatus: 401 });
    expect(checkOf(mainVerdict, 'blob-rejects')).toMatchObject({ cause: 'token_rejected', evidence: { errorCode: 'InvalidAuthenticationInfo' } });
    world.state.armFault = { status: 401, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'InvalidAuthenticationToken', message: 'The received access token is not valid.' } }) };
    try {
      const { verdict } = await main.diagnose('?target=arm-ok');
      expect(checkOf(verdict, 'arm-ok')).toMatchObject({ cause: 'token_rejected', evidence: { errorCode: 'InvalidAuthenticationToken' } });
    } finally {
      world.state.armFault = undefined;
    }
  });
});

describe('5. the authorization family', () => {
  it('reports access_policy_missing on an access-policy vault, with both fixes', () => {
    const c = checkOf(mainVerdict, 'kv-policy');
    expect(c).toMatchObject({ cause: 'access_policy_missing', category: 'authorization', evidence: { innerErrorCode: 'AccessDenied' } });
    expect(c.explanation).toContain('access policies');
    expect(c.fix.join('\n')).toContain(`az keyvault set-policy --name kvpolicy --object-id ${USER_IDENTITY.principalId} --secret-permissions get`);
    expect(c.fix.join('\n')).toContain('--enable-rbac-authorization true');
  });

  it('reports network_blocked for Key Vault firewall and private link, and Storage network rules, never suggesting to open them', () => {
    expect(checkOf(mainVerdict, 'kv-firewall').evidence.innerErrorCode).toBe('ForbiddenByFirewall');
    expect(checkOf(mainVerdict, 'kv-private').evidence.innerErrorCode).toBe('ForbiddenByConnection');
    expect(checkOf(mainVerdict, 'blob-firewall').evidence.errorCode).toBe('AuthorizationFailure');
    for (const name of ['kv-firewall', 'kv-private', 'blob-firewall']) {
      const c = checkOf(mainVerdict, name);
      expect(c.cause).toBe('network_blocked');
      expect(c.fix.join('\n')).toMatch(/network-rule add|private endpoint/);
      expect(c.fix.join('\n')).not.toMatch(/--default-action Allow|public-network-access Enabled/);
    }
  });
});

describe('6. the target side', () => {
  it('reports throttled with Retry-After for Key Vault and Storage', () => {
    for (const name of ['kv-throttled', 'blob-throttled']) {
      expect(checkOf(mainVerdict, name)).toMatchObject({ cause: 'throttled', status: 'warn', httpStatus: 429, evidence: { retryAfter: '7' } });
    }
  });

  it('reports target_error for a 5xx', () => {
    for (const name of ['kv-down', 'blob-down']) expect(checkOf(mainVerdict, name)).toMatchObject({ cause: 'target_error', httpStatus: 503 });
  });

  it('reports target_unreachable naming a DNS failure, for every kind, within the deadline', () => {
    for (const name of ['kv-dns', 'blob-dns', 'arm-dns']) {
      expect(checkOf(mainVerdict, name)).toMatchObject({ cause: 'target_unreachable', evidence: { transport: { kind: 'dns', code: 'ENOTFOUND' } } });
    }
    expect(mainVerdict.durationMs).toBeLessThan(boundFor(4000));
  });

  it('reports deadline_exceeded naming the call stage when a target stays silent', () => {
    for (const name of ['kv-silent', 'blob-silent']) {
      expect(checkOf(mainVerdict, name)).toMatchObject({ cause: 'deadline_exceeded', stage: 'call', evidence: { stageCut: 'call' } });
    }
  });

  it('reports throttled, target_error and deadline_exceeded for ARM too', async () => {
    const cases: [unknown, string][] = [
      [{ status: 429, headers: { 'Retry-After': '7', 'content-type': 'application/json' }, body: throttleBody }, 'throttled'],
      [{ status: 503, headers: { 'content-type': 'application/json' }, body: unavailableBody }, 'target_error'],
      ['silent', 'deadline_exceeded'],
    ];
    for (const [fault, cause] of cases) {
      world.state.armFault = fault as typeof world.state.armFault;
      try {
        const { verdict, elapsedMs } = await timed(main, '?target=arm-ok');
        expect(checkOf(verdict, 'arm-ok').cause).toBe(cause);
        expect(elapsedMs).toBeLessThan(boundFor(4000));
      } finally {
        world.state.armFault = undefined;
      }
    }
  });
});

describe('7. off Azure (local development)', () => {
  it('says no_managed_identity with hostKind local when IMDS never answers, within the deadline', async () => {
    world.state.identityFault = 'silent';
    try {
      const svc = await serve(healthyOnePerKind(), {
        IDENTITY_ENDPOINT: undefined, IDENTITY_HEADER: undefined, WEBSITE_SITE_NAME: undefined, FUNCTIONS_WORKER_RUNTIME: undefined,
        AZURE_CLIENT_ID: undefined, EXPECTED_PRINCIPAL_ID: undefined, AZURE_POD_IDENTITY_AUTHORITY_HOST: world.imdsHost,
      });
      const { verdict, elapsedMs } = await timed(svc);
      expect(causesByKind(verdict)).toEqual(ALL_KINDS('no_managed_identity'));
      expect(verdict.identity.hostKind).toBe('local');
      expect(verdict.checks[0]!.evidence.identityEndpoint?.transport?.kind).toBe('timeout');
      expect(verdict.checks[0]!.fix.join('\n')).toContain('az login');
      expect(elapsedMs).toBeLessThan(boundFor(15_000));
    } finally {
      world.state.identityFault = undefined;
    }
  });

  it('narrates the developer credential chain on request: who declined, who succeeded', async () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-az-'));
    const devToken = world.mintToken(OTHER_IDENTITY, 'https://vault.azure.net');
    fs.writeFileSync(path.join(bin, 'az'), `#!/bin/sh\necho '{"accessToken":"${devToken}","expiresOn":"2030-01-01 00:00:00.000000","expires_on":1893456000,"tokenType":"Bearer"}'\n`, { mode: 0o755 });
    const closed = await world.closedPort();
    const svc = await serve(healthyOnePerKind().slice(0, 1), {
      IDENTITY_ENDPOINT: undefined, IDENTITY_HEADER: undefined, WEBSITE_SITE_NAME: undefined, FUNCTIONS_WORKER_RUNTIME: undefined,
      AZURE_CLIENT_ID: undefined, EXPECTED_PRINCIPAL_ID: undefined, AZURE_POD_IDENTITY_AUTHORITY_HOST: `http://127.0.0.1:${closed}`,
      DIAGNOSE_LOCAL_CHAIN: 'true', PATH: `${bin}:${process.env.PATH ?? ''}`,
    });
    const { verdict } = await svc.diagnose();
    const chain = verdict.checks[0]!.evidence.localChain!;
    expect(verdict.checks[0]!.cause).toBe('no_managed_identity');
    expect(chain.steps.map((s) => [s.credential, s.outcome])).toEqual([
      ['EnvironmentCredential', 'unavailable'],
      ['WorkloadIdentityCredential', 'unavailable'],
      ['AzureCliCredential', 'succeeded'],
    ]);
    expect(chain.steps[2]).toMatchObject({ principalId: OTHER_IDENTITY.principalId, tokenAudience: 'https://vault.azure.net' });
    expect(chain.hint).toContain('developer identity');
    expect(chain.log.length).toBeGreaterThan(0);
    fs.rmSync(bin, { recursive: true, force: true });
  });
});

describe('8. host kind', () => {
  it('recognises Container Apps from the platform variables', async () => {
    const svc = await serve(healthyOnePerKind().slice(0, 1), { WEBSITE_SITE_NAME: undefined, FUNCTIONS_WORKER_RUNTIME: undefined, CONTAINER_APP_NAME: 'ca-workload' });
    const { verdict } = await svc.diagnose();
    expect(verdict.identity.hostKind).toBe('containerApps');
    expect(verdict.checks[0]!.cause).toBe('authorized');
  });

  it('recognises a VM when IMDS answers', async () => {
    const svc = await serve(healthyOnePerKind(), {
      IDENTITY_ENDPOINT: undefined, IDENTITY_HEADER: undefined, WEBSITE_SITE_NAME: undefined, FUNCTIONS_WORKER_RUNTIME: undefined,
      AZURE_POD_IDENTITY_AUTHORITY_HOST: world.imdsHost,
    });
    const { verdict } = await svc.diagnose();
    expect(verdict.identity.hostKind).toBe('vm');
    expect(causesByKind(verdict)).toEqual(ALL_KINDS('authorized'));
  });

  it('says the token service was disabled on purpose when WEBSITE_DISABLE_MSI is set', async () => {
    const svc = await serve(healthyOnePerKind().slice(0, 1), { IDENTITY_ENDPOINT: undefined, IDENTITY_HEADER: undefined, WEBSITE_DISABLE_MSI: 'true' });
    const { verdict } = await svc.diagnose();
    const c = verdict.checks[0]!;
    expect(c.cause).toBe('no_managed_identity');
    expect(c.evidence.settings?.WEBSITE_DISABLE_MSI).toBe('true');
    expect(c.explanation).toContain('turned off on purpose');
    expect(c.fix.join('\n')).toContain('--setting-names WEBSITE_DISABLE_MSI');
  });
});

describe('9. correlation ids', () => {
  it('carries the service request ids for every call that reached a service, and ARM correlation ids', () => {
    const reached = mainVerdict.checks.filter((c: Check) => c.stage === 'call' && c.httpStatus !== undefined);
    expect(reached.length).toBeGreaterThan(10);
    for (const c of reached) {
      expect({ target: c.target, requestId: c.evidence.requestId ?? c.evidence.clientRequestId }).toEqual({ target: c.target, requestId: expect.any(String) });
    }
    expect(checkOf(mainVerdict, 'arm-ok').evidence.correlationId).toEqual(expect.any(String));
  });
});

describe('secrets', () => {
  it('leaked no token, identity header, proxy credential or secret value in any response or log line', () => {
    expectNoLeaks(world, services);
    expect(services.flatMap((s) => [...s.replies(), s.logs()]).join('\n')).not.toContain('proxy-secret-pw');
  });
});

void SUBSCRIPTION_ID;
