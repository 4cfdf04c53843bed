import fs from 'node:fs';
import { startWorld, type World } from '../world';
import { serviceEnv, stageStandardWorld } from '../world/scenario';
import { ARC_TOKENS_DIR, CLUSTER_ISSUER, NAMESPACE, SERVICE_ACCOUNT, canStageArcDirectory, stageHosts, type HostScenario } from '../world/hostScenarios';
import type { Verdict } from '../../src/verdict';
import { expectNoLeaks, startService, type RunningService } from './harness';
import { authorizedPerKind } from '../world/kinds';

/**
 * Every identity source the SDK supports, staged as its own host and asked over HTTP by the real service: the host
 * kind each reports and the causes that tell its failures apart. Host-wide, so one service process per scenario.
 */
let world: World;
let scenarios: HostScenario[];
const services: RunningService[] = [];
const arcDirectory = canStageArcDirectory();
const arcFiles: string[] = [];

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  scenarios = stageHosts(world, { arcDirectory });
  const arc = world.state.hosts['arc']?.arcKeyFile;
  if (arc) arcFiles.push(arc);
}, 60_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await world?.stop();
  for (const f of arcFiles) fs.rmSync(f, { force: true });
});

/** Runs scenario `name` (optionally with env overrides that change its expected cause) and checks kind and cause. */
async function run(name: string, variant: { env?: Record<string, string | undefined>; cause?: string } = {}): Promise<Verdict> {
  const scenario = scenarios.find((s) => s.name === name)!;
  const svc = await startService(serviceEnv(world, { ...scenario.env, ...variant.env }));
  services.push(svc);
  const { verdict } = await svc.diagnose();
  expect(verdict.identity.hostKind).toBe(scenario.hostKind);
  expect(verdict.checks.map((c) => c.cause)).toEqual([variant.cause ?? scenario.cause]);
  return verdict;
}

const only = (v: Verdict) => v.checks[0]!;

describe('AKS workload identity', () => {
  it('exchanges the projected service-account token at Entra and reports hostKind aks', async () => {
    const v = await run('aks');
    expect(only(v).claims?.oid).toBe(world.state.identities.find((i) => i.name === 'id-doctor')!.principalId);
  });

  it('says the webhook injected nothing (label / annotation), not "no identity", in a pod without the variables', async () => {
    const check = only(await run('aks-not-injected'));
    expect(check.evidence.settings).toMatchObject({ AZURE_FEDERATED_TOKEN_FILE: 'absent', AZURE_TENANT_ID: 'absent', KUBERNETES_SERVICE_HOST: 'set' });
    expect(check.fix.join('\n')).toContain('azure.workload.identity/use');
    expect(check.fix.join('\n')).toContain('azure.workload.identity/client-id');
  });

  it('says so when a pod without workload identity got the node\'s identity from IMDS', async () => {
    world.state.hosts['aks-kubelet'] = { attached: ['id-doctor'] };
    const verdict = await run('aks-not-injected', { env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: world.hostBase('aks-kubelet') }, cause: 'authorized' });
    expect(only(verdict).evidence.notes?.join('\n')).toContain('identity of the node');
  });

  it('reports federated_token_unreadable when the projected token is not mounted', async () => {
    const check = only(await run('aks-token-missing'));
    expect(check.evidence.identityEndpoint?.federatedToken).toMatchObject({ readable: false, code: 'ENOENT' });
  });

  it('reports federation_mismatch with the token\'s issuer and subject and the exact federated-credential command', async () => {
    const check = only(await run('aks-no-federation'));
    const e = check.evidence.identityEndpoint!;
    expect(e.protocol).toBe('workloadIdentity');
    expect(e.errorCodes).toContain(70021);
    expect(e.federatedToken).toMatchObject({ iss: CLUSTER_ISSUER, sub: `system:serviceaccount:${NAMESPACE}:payments`, aud: 'api://AzureADTokenExchange', expired: false });
    const fix = check.fix.join('\n');
    expect(fix).toContain(`--issuer ${CLUSTER_ISSUER}`);
    expect(fix).toContain(`--subject system:serviceaccount:${NAMESPACE}:payments`);
    expect(fix).toContain('--audience api://AzureADTokenExchange');
    expect(fix).toContain('az identity federated-credential create --name shop-payments');
  });

  it('reports identity_not_found (AADSTS700016) when the client id is not an app in the tenant', async () => {
    const check = only(await run('aks-wrong-client'));
    expect(check.evidence.identityEndpoint?.errorCodes).toContain(700016);
    expect(check.explanation).toContain('azure.workload.identity/client-id');
    expect(check.fix.join('\n')).toContain('kubectl annotate serviceaccount checkout -n shop azure.workload.identity/client-id=');
  });

  it('reports token_expired (AADSTS700024) at the token stage when the projected token expired', async () => {
    const check = only(await run('aks-expired'));
    expect(check.stage).toBe('token');
    expect(check.evidence.identityEndpoint?.errorCodes).toContain(700024);
    expect(check.evidence.identityEndpoint?.federatedToken?.expired).toBe(true);
  });

  it('reports identity_endpoint_unreachable when Entra (AZURE_AUTHORITY_HOST) cannot be reached', async () => {
    const closed = await world.closedPort();
    const verdict = await run('aks', { env: { AZURE_AUTHORITY_HOST: `https://login.microsoftonline.com:${closed}` }, cause: 'identity_endpoint_unreachable' });
    expect(only(verdict).evidence.identityEndpoint?.rawProbe?.direct?.transport?.kind).toBe('refused');
  });

  it('heals a federated credential created seconds ago when asked to wait', async () => {
    const scenario = scenarios.find((s) => s.name === 'aks-fresh-federation')!;
    const svc = await startService(serviceEnv(world, scenario.env));
    services.push(svc);
    // Created "just now" (after the service started, however long that took): Entra honours it only after its delay.
    world.state.federatedCredentials.find((f) => f.name === 'shop-fresh')!.createdOn = new Date();
    const first = await svc.diagnose();
    expect(first.verdict.checks.map((c) => c.cause)).toEqual(['federation_mismatch']);
    expect(only(first.verdict).explanation).toContain('propagated');
    const { verdict } = await svc.diagnose('?waitSeconds=40');
    expect(verdict.checks.map((c) => c.cause)).toEqual(['authorized']);
    expect(verdict.wait?.stoppedBecause).toBe('all_passed');
  }, 90_000);
});

describe('Container Apps', () => {
  it('speaks the App Service protocol and reports hostKind containerApps', async () => {
    await run('containerapp');
  });
  it('reports no_managed_identity for a container app without an identity', async () => {
    const check = only(await run('containerapp-no-identity'));
    expect(check.fix.join('\n')).toContain('az containerapp identity assign');
  });
});

describe('VMs and scale sets (IMDS)', () => {
  it('reports hostKind vm when IMDS answers', async () => {
    await run('vm');
  });
  it('reports identity_not_found with IMDS\'s own words when several user-assigned identities exist and none is named', async () => {
    const check = only(await run('vmss-several'));
    expect(check.evidence.identityEndpoint).toMatchObject({ protocol: 'imds', status: 400, error: 'invalid_request' });
    expect(check.evidence.identityEndpoint?.errorDescription).toContain('Multiple user assigned identities');
  });
  it('reports identity_not_found when the VM has no identity at all', async () => {
    const check = only(await run('vm-none'));
    expect(check.evidence.identityEndpoint?.errorDescription).toBe('Identity not found');
  });
  it('reports identity_endpoint_error with status 429 when IMDS throttles', async () => {
    const check = only(await run('vm-throttled'));
    expect(check.evidence.identityEndpoint?.status).toBe(429);
  });
  it('keeps within IMDS\'s limit of 5 requests in flight with a dozen audiences, and asks IMDS nothing once tokens are cached', async () => {
    // One target of every kind: more audiences than IMDS serves at once. Past its limit IMDS answers 429, which
    // came out as identity_endpoint_error for targets that were fine.
    const targets = await authorizedPerKind(world);
    const scenario = scenarios.find((s) => s.name === 'vm')!;
    const before = { overLimit: world.counters.imdsOverLimit };
    world.state.latencyMs = 30;
    try {
      const svc = await startService(serviceEnv(world, { ...scenario.env, DIAGNOSE_TARGETS: JSON.stringify(targets), DIAGNOSE_TIMEOUT_MS: '20000' }));
      services.push(svc);
      const first = await svc.diagnose();
      expect(first.verdict.checks.map((c) => `${c.target}=${c.cause}`)).toEqual(targets.map((t) => `${t.name}=authorized`));
      expect(world.counters.imdsOverLimit).toBe(before.overLimit);
      const identityBefore = world.counters.identity;
      const second = await svc.diagnose();
      expect(second.verdict.checks.every((c) => c.cause === 'authorized')).toBe(true);
      // MSAL's cache answers every audience, and IMDS has answered before: no token request, no reachability ping.
      expect(world.counters.identity).toBe(identityBefore);
    } finally {
      world.state.latencyMs = 0;
    }
  }, 60_000);
});

describe('Azure Arc', () => {
  (arcDirectory ? it : it.skip)('answers the agent\'s challenge with the key file and reports hostKind arc', async () => {
    await run('arc');
  });
  it('refuses a challenge file outside the agent\'s directory (as MSAL does) and says so', async () => {
    const check = only(await run('arc-outside'));
    expect(check.evidence.identityEndpoint?.keyFile).toMatchObject({ problem: 'outside_directory', expectedDirectory: `${ARC_TOKENS_DIR}/` });
    expect(check.explanation).toContain('does not point at the Azure Arc agent');
  });
  it('reports arc_key_file_unreadable with the system code when the key file cannot be read', async () => {
    const check = only(await run('arc-unreadable'));
    expect(check.evidence.identityEndpoint?.keyFile).toMatchObject({ problem: 'unreadable', code: 'ENOENT' });
  });
});

describe('Service Fabric and Cloud Shell', () => {
  it('speaks the Service Fabric protocol and reports hostKind serviceFabric', async () => {
    await run('servicefabric');
  });
  it('reports identity_not_found when the application manifest assigns no identity', async () => {
    const check = only(await run('servicefabric-none'));
    expect(check.evidence.identityEndpoint?.rawProbe?.direct?.error).toBe('ManagedIdentityNotFound');
    // Service Fabric has no `az … identity assign`: the manifest assigns the identity.
    expect(check.fix.join('\n')).toContain('application manifest');
    expect(check.fix.join('\n')).not.toContain('az functionapp');
  });
  it('says to unset AZURE_CLIENT_ID on Service Fabric, where the SDK refuses to name an identity', async () => {
    const clientId = world.state.identities.find((i) => i.name === 'id-doctor')!.clientId;
    const verdict = await run('servicefabric', { env: { AZURE_CLIENT_ID: clientId }, cause: 'identity_endpoint_error' });
    expect(only(verdict).evidence.identityEndpoint?.sdkError).toContain('Service Fabric');
    expect(only(verdict).fix.join('\n')).toContain('unset AZURE_CLIENT_ID');
  });

  it('speaks the Cloud Shell protocol (POST form) and reports hostKind cloudShell', async () => {
    await run('cloudshell');
  });
});

describe('Azure Machine Learning', () => {
  it('speaks the 2017 protocol with MSI_SECRET and reports hostKind machineLearning', async () => {
    await run('ml');
  });
  it('reports identity_not_found when the named client id is not on the compute', async () => {
    const check = only(await run('ml-not-attached'));
    expect(check.evidence.identityEndpoint).toMatchObject({ protocol: 'machineLearning', status: 400, error: 'invalid_request' });
    expect(check.fix.join('\n')).toContain('az ml compute show');
  });
});

describe('secrets', () => {
  it('leaked no token (projected ones included), identity header or secret value', () => {
    expectNoLeaks(world, services);
    const arcSecrets = Object.values(world.state.hosts).map((h) => h.arcSecret).filter((s): s is string => !!s);
    const said = services.flatMap((s) => [...s.replies(), s.logs()]).join('\n');
    expect(arcSecrets.filter((s) => said.includes(s))).toEqual([]);
  });
});

// The scenario's own service account, named here so a rename in the staging shows up in this file.
void SERVICE_ACCOUNT;
