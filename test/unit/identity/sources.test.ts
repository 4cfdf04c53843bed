import { loadSettings } from '../../../src/config';
import { detectSource, SOURCES } from '../../../src/identity/sources';
import { workloadIdentity } from '../../../src/identity/sources/workloadIdentity';

/**
 * Detection must agree with the SDK itself: MSAL's `getManagedIdentitySource()` (it reads process.env, then caches the
 * answer in a static field — hence a fresh module registry per host) for its six sources, and @azure/identity's token-exchange test (client id, tenant and token file) before them.
 */
const MSAL_NAME = {
  serviceFabric: 'ServiceFabric',
  appService: 'AppService',
  machineLearning: 'MachineLearning',
  cloudShell: 'CloudShell',
  arc: 'AzureArc',
  imds: 'DefaultToImds',
} as const;

const VARS = ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'IDENTITY_SERVER_THUMBPRINT', 'MSI_ENDPOINT', 'MSI_SECRET', 'IMDS_ENDPOINT'] as const;
const VALUES: Record<(typeof VARS)[number], string> = {
  IDENTITY_ENDPOINT: 'http://127.0.0.1:40342/metadata/identity/oauth2/token',
  IDENTITY_HEADER: 'h',
  IDENTITY_SERVER_THUMBPRINT: 'C1D2E3F4',
  MSI_ENDPOINT: 'http://127.0.0.1:50342/oauth2/token',
  MSI_SECRET: 's',
  IMDS_ENDPOINT: 'http://127.0.0.1:40342',
};

/** Every subset of the six variables: 64 hosts. */
const hosts = Array.from({ length: 1 << VARS.length }, (_, mask) =>
  Object.fromEntries(VARS.filter((_, i) => mask & (1 << i)).map((v) => [v, VALUES[v]])) as Record<string, string>,
);

describe('identity source detection', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const v of VARS) delete process.env[v];
    Object.assign(process.env, saved);
  });

  it.each(hosts.map((env) => [Object.keys(env).join('+') || '(none)', env]))('picks the source MSAL picks for %s', (_label, env) => {
    for (const v of VARS) delete process.env[v];
    Object.assign(process.env, env);
    let msal = '';
    jest.isolateModules(() => {
      const { ManagedIdentityApplication } = require('@azure/msal-node') as typeof import('@azure/msal-node');
      msal = new ManagedIdentityApplication({}).getManagedIdentitySource();
    });
    const ours = detectSource(loadSettings(env));
    // Without the himds binary, MSAL's Arc test is the two variables, as ours is.
    expect(MSAL_NAME[ours.id as keyof typeof MSAL_NAME]).toBe(msal);
  });

  it('checks the AKS token exchange before every MSAL source, and only with all three variables', () => {
    const wi = { AZURE_CLIENT_ID: '4a8e2c6f-0b3d-4e7a-9c15-6f2b8d0e4a37', AZURE_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47', AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token' };
    expect(detectSource(loadSettings({ ...VALUES, ...wi })).id).toBe('workloadIdentity');
    for (const missing of Object.keys(wi)) {
      const env: Record<string, string> = { ...wi };
      delete env[missing];
      expect(detectSource(loadSettings(env)).id).toBe('imds');
    }
    expect(SOURCES[0]).toBe(workloadIdentity);
  });

  it('sends the exchange to AZURE_AUTHORITY_HOST/<tenant>/oauth2/v2.0/token, else the cloud\'s Entra', () => {
    const base = { AZURE_CLIENT_ID: '4a8e2c6f-0b3d-4e7a-9c15-6f2b8d0e4a37', AZURE_TENANT_ID: 'contoso.onmicrosoft.com', AZURE_FEDERATED_TOKEN_FILE: '/t' };
    expect(workloadIdentity.request(loadSettings(base), 'https://vault.azure.net')?.url.href).toBe('https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token');
    const cn = loadSettings({ ...base, AZURE_AUTHORITY_HOST: 'https://login.chinacloudapi.cn/' });
    const req = workloadIdentity.request(cn, 'https://vault.azure.cn')!;
    expect(req.url.href).toBe('https://login.chinacloudapi.cn/contoso.onmicrosoft.com/oauth2/v2.0/token');
    expect(req.form).toMatchObject({ scope: 'https://vault.azure.cn/.default', grant_type: 'client_credentials' });
  });
});

describe('platform variables of the identity sources', () => {
  it('reads them in config (values only where they are not secrets) and reports the variables that chose the source', () => {
    const s = loadSettings({
      IDENTITY_ENDPOINT: 'http://localhost:40342/metadata/identity/oauth2/token',
      IMDS_ENDPOINT: 'http://localhost:40342',
      IDENTITY_SERVER_THUMBPRINT: 'AB12',
      MSI_SECRET: 'msi-secret-value',
      AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us/',
      KUBERNETES_SERVICE_HOST: '10.0.0.1',
    });
    expect(s.platform).toMatchObject({ imdsEndpoint: 'http://localhost:40342', identityServerThumbprintSet: true, msiSecretSet: true, authorityHost: 'https://login.microsoftonline.us', kubernetes: true });
    expect(JSON.stringify(s)).not.toContain('msi-secret-value');
    const arc = detectSource(s);
    expect(arc.id).toBe('arc');
    expect(arc.variables(s)).toEqual({ IDENTITY_ENDPOINT: 'set', IMDS_ENDPOINT: 'http://localhost:40342' });
    // MSAL asks the Arc agent on 127.0.0.1 even when the variable says localhost.
    expect(arc.request(s, 'https://vault.azure.net/')?.url.href).toBe('http://127.0.0.1:40342/metadata/identity/oauth2/token?api-version=2020-06-01&resource=https%3A%2F%2Fvault.azure.net');
  });
});
