import { CAUSE_CATALOG } from '../../../src/advice/causes';
import { federatedCredentialCreate } from '../../../src/advice/hostCauses';
import { sh } from '../../../src/advice/shell';
import type { CauseContext } from '../../../src/advice/causes';
import { loadSettings } from '../../../src/config';
import type { AcquisitionFailure } from '../../../src/engine/identity';
import { classifySourceFailure, entraCodes } from '../../../src/identity/classifySource';

const WI_ENV = {
  AZURE_CLIENT_ID: '4a8e2c6f-0b3d-4e7a-9c15-6f2b8d0e4a37',
  AZURE_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token',
  KUBERNETES_SERVICE_HOST: '10.0.0.1',
};
const wi = loadSettings(WI_ENV);
const token = { file: WI_ENV.AZURE_FEDERATED_TOKEN_FILE, readable: true, iss: 'https://oidc.example/abc/', sub: 'system:serviceaccount:shop:checkout', aud: 'api://AzureADTokenExchange' };

function exchange(codes: number[], extra: Partial<AcquisitionFailure> = {}): AcquisitionFailure {
  return {
    reason: 'sdk',
    protocol: 'workloadIdentity',
    selector: `client_id=${WI_ENV.AZURE_CLIENT_ID}`,
    raw: { direct: { via: 'direct', protocol: 'workloadIdentity', status: 400, errorCodes: codes, federatedToken: token, elapsedMs: 5 } },
    ...extra,
  };
}

describe('source-specific token-stage causes', () => {
  it.each([
    [[70021], 'federation_mismatch'],
    [[700211], 'federation_mismatch'],
    [[700213], 'federation_mismatch'],
    [[7002138], 'federation_mismatch'],
    [[700016], 'identity_not_found'],
    [[700024], 'token_expired'],
  ])('reads AADSTS %j from the exchange as %s', (codes, cause) => {
    expect(classifySourceFailure(exchange(codes), wi)).toBe(cause);
  });

  it('reads the AADSTS number from the SDK\'s message when the raw probe did not run', () => {
    const f = exchange([], { raw: undefined, sdkError: 'AuthenticationRequiredError: invalid_client: Error(s): 700024 - Description: AADSTS700024: Client assertion is not within its valid time range.' });
    expect(entraCodes(f)).toEqual([700024]);
    expect(classifySourceFailure(f, wi)).toBe('token_expired');
  });

  it('leaves an unknown Entra error to the shared fallbacks instead of guessing', () => {
    expect(classifySourceFailure(exchange([50000]), wi)).toBeUndefined();
  });

  it('blames the token file before anything Entra said', () => {
    const f = exchange([70021]);
    f.raw!.direct!.federatedToken = { file: token.file, readable: false, code: 'EACCES' };
    expect(classifySourceFailure(f, wi)).toBe('federated_token_unreadable');
  });

  it('says the webhook injected nothing when a pod fell through to IMDS, whatever IMDS answered', () => {
    const pod = loadSettings({ KUBERNETES_SERVICE_HOST: '10.0.0.1' });
    for (const reason of ['transport', 'endpoint_status', 'malformed'] as const) {
      expect(classifySourceFailure({ reason, protocol: 'imds', selector: 'system-assigned', status: 400 }, pod)).toBe('workload_identity_not_injected');
    }
    expect(classifySourceFailure({ reason: 'transport', protocol: 'imds', selector: 'system-assigned' }, loadSettings({}))).toBeUndefined();
  });

  it('reports an unreadable Arc key file (EACCES) with the himds group fix', () => {
    const arc = loadSettings({ IDENTITY_ENDPOINT: 'http://localhost:40342/metadata/identity/oauth2/token', IMDS_ENDPOINT: 'http://localhost:40342' });
    const keyFile = { path: '/var/opt/azcmagent/tokens/abc.key', expectedDirectory: '/var/opt/azcmagent/tokens/', problem: 'unreadable', code: 'EACCES' };
    const f: AcquisitionFailure = { reason: 'sdk', protocol: 'arc', selector: 'system-assigned', raw: { direct: { via: 'direct', protocol: 'arc', status: 401, keyFile, elapsedMs: 1 } } };
    expect(classifySourceFailure(f, arc)).toBe('arc_key_file_unreadable');
    const ctx = { settings: arc, hostKind: 'arc', stage: 'token', expectedAudience: 'https://vault.azure.net', evidence: { identityEndpoint: { protocol: 'arc', keyFile } } } as unknown as CauseContext;
    expect(CAUSE_CATALOG.arc_key_file_unreadable.explain(ctx)).toContain('himds group');
    expect(CAUSE_CATALOG.arc_key_file_unreadable.fix(ctx)[0]).toContain('usermod -aG himds');
  });
});

describe('the federated-credential fix', () => {
  it('quotes every value for the shell, whatever the token says', () => {
    const hostile = { ...token, iss: "https://oidc.example/a b'$(id)/", sub: 'system:serviceaccount:shop:check out' };
    const ctx = { settings: wi, hostKind: 'aks', stage: 'token', evidence: { identityEndpoint: { protocol: 'workloadIdentity', federatedToken: hostile } } } as unknown as CauseContext;
    const line = federatedCredentialCreate(ctx);
    expect(line).toContain(`--issuer ${sh(hostile.iss)}`);
    expect(sh(hostile.iss)).toBe(`'https://oidc.example/a b'\\''$(id)/'`);
    expect(line).toContain(`--subject ${sh('system:serviceaccount:shop:check out')}`);
    expect(line).toContain('--name shop-check-out');
    expect(line).toContain(`[?clientId=='${WI_ENV.AZURE_CLIENT_ID}'].name`);
  });
});
