import { ConfigError, loadSettings } from '../../src/config';

const kv = { name: 'secrets', kind: 'keyVaultSecret', vaultUrl: 'https://kv1.vault.azure.net:8443', secretName: 'app-secret' };

function problemsOf(env: Record<string, string>): { setting: string; expected: string }[] {
  try {
    loadSettings(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('app settings', () => {
  it('parses targets of every kind and keeps the port a URL carries', () => {
    const s = loadSettings({
      DIAGNOSE_TARGETS: JSON.stringify([
        kv,
        { name: 'blobs', kind: 'storageBlob', accountUrl: 'https://st1.blob.core.windows.net', container: 'data' },
        { name: 'arm', kind: 'armResource', resourceId: '/subscriptions/s1/resourceGroups/rg' },
      ]),
    });
    expect(s.targets.map((t) => t.kind)).toEqual(['keyVaultSecret', 'storageBlob', 'armResource']);
    expect(s.targets[0]).toMatchObject({ vaultUrl: 'https://kv1.vault.azure.net:8443' });
    expect(s.timeoutMs).toBe(15000);
    expect(s.timeoutMs).toBeLessThanOrEqual(20000);
    expect(s.cloud.name).toBe('AzurePublicCloud');
  });

  it('fails with the setting name and what was expected', () => {
    expect(problemsOf({ DIAGNOSE_TARGETS: '[{"name":"x"' })).toEqual([{ setting: 'DIAGNOSE_TARGETS', expected: expect.stringContaining('expected JSON') }]);
    expect(problemsOf({ DIAGNOSE_TARGETS: JSON.stringify([{ ...kv, vaultUrl: 'http://kv1.vault.azure.net' }]) })).toEqual([
      { setting: 'DIAGNOSE_TARGETS[0].vaultUrl', expected: expect.stringContaining('https URL') },
    ]);
    expect(problemsOf({ AZURE_CLIENT_ID: 'not-a-guid' })[0]).toMatchObject({ setting: 'AZURE_CLIENT_ID', expected: expect.stringContaining('GUID') });
    expect(problemsOf({ AZURE_CLOUD: 'Mars' })[0]).toMatchObject({ setting: 'AZURE_CLOUD', expected: expect.stringContaining('AzurePublicCloud') });
    expect(problemsOf({ DIAGNOSE_TIMEOUT_MS: '10' })[0]).toMatchObject({ setting: 'DIAGNOSE_TIMEOUT_MS', expected: 'expected at least 500' });
  });

  it('reads APPLICATIONINSIGHTS_AUTHENTICATION_STRING as the identity the watch signs in to Application Insights with', () => {
    const id = '4A8E2C6F-0B3D-4E7A-9C15-6F2B8D0E4A37';
    expect(loadSettings({ APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `Authorization=AAD;ClientId=${id}` }).watch.appInsightsEntra).toEqual({ clientId: id.toLowerCase() });
    expect(loadSettings({ APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD' }).watch.appInsightsEntra).toEqual({ clientId: undefined });
    expect(loadSettings({}).watch.appInsightsEntra).toBeUndefined();
    expect(problemsOf({ APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'InstrumentationKey=abc' })[0]).toMatchObject({
      setting: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
      expected: expect.stringContaining('Authorization=AAD'),
    });
  });

  it('refuses duplicate target names', () => {
    expect(problemsOf({ DIAGNOSE_TARGETS: JSON.stringify([kv, kv]) })).toEqual([
      { setting: 'DIAGNOSE_TARGETS[1].name', expected: 'duplicate target name "secrets"' },
    ]);
  });

  it('treats empty settings as unset, as the portal writes them', () => {
    const s = loadSettings({ AZURE_CLIENT_ID: '', DIAGNOSE_TARGETS: ' ' });
    expect(s.clientId).toBeUndefined();
    expect(s.targets).toEqual([]);
  });

  it('reads the host from the platform variables without keeping the identity header', () => {
    const s = loadSettings({ IDENTITY_ENDPOINT: 'http://127.0.0.1:1/msi/token', IDENTITY_HEADER: 'secret-header', WEBSITE_SITE_NAME: 'app' });
    expect(s.platform).toMatchObject({ identityEndpoint: 'http://127.0.0.1:1/msi/token', identityHeaderSet: true, siteName: 'app' });
    expect(JSON.stringify(s)).not.toContain('secret-header');
  });
});
