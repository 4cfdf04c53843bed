/**
 * One table of per-cloud facts: token audiences, service DNS suffixes and endpoints.
 * Source: shared/reference/azure-identity-facts.md §2. Everything that needs an audience, a suffix or an ARM endpoint
 * reads it from here.
 */
export const CLOUD_NAMES = ['AzurePublicCloud', 'AzureChinaCloud', 'AzureUSGovernment'] as const;
export type CloudName = (typeof CLOUD_NAMES)[number];

export type TargetKind = 'keyVaultSecret' | 'storageBlob' | 'armResource';

export interface Cloud {
  name: CloudName;
  /** The audience (resource) a token must carry for each kind of target. */
  audiences: Record<TargetKind, string>;
  /** Other audiences the service also accepts (ARM takes the legacy management.core URI too). */
  alsoAccepted: Record<TargetKind, readonly string[]>;
  /** DNS suffix a data-plane host ends in, per kind (ARM: its endpoint host). */
  dnsSuffixes: Record<TargetKind, string>;
  armEndpoint: string;
  /** Where `az login` sends people for this cloud; used only in fix lines. */
  azCloudName: string;
  authorityHost: string;
}

export const CLOUDS: Record<CloudName, Cloud> = {
  AzurePublicCloud: {
    name: 'AzurePublicCloud',
    audiences: {
      keyVaultSecret: 'https://vault.azure.net',
      storageBlob: 'https://storage.azure.com/',
      armResource: 'https://management.azure.com/',
    },
    alsoAccepted: {
      keyVaultSecret: ['https://vault.azure.net/'],
      storageBlob: ['https://storage.azure.com'],
      armResource: ['https://management.azure.com', 'https://management.core.windows.net/'],
    },
    dnsSuffixes: {
      keyVaultSecret: 'vault.azure.net',
      storageBlob: 'blob.core.windows.net',
      armResource: 'management.azure.com',
    },
    armEndpoint: 'https://management.azure.com',
    azCloudName: 'AzureCloud',
    authorityHost: 'https://login.microsoftonline.com',
  },
  AzureChinaCloud: {
    name: 'AzureChinaCloud',
    audiences: {
      keyVaultSecret: 'https://vault.azure.cn',
      storageBlob: 'https://storage.azure.com/',
      armResource: 'https://management.chinacloudapi.cn/',
    },
    alsoAccepted: {
      keyVaultSecret: ['https://vault.azure.cn/'],
      storageBlob: ['https://storage.azure.com'],
      armResource: ['https://management.chinacloudapi.cn', 'https://management.core.chinacloudapi.cn/'],
    },
    dnsSuffixes: {
      keyVaultSecret: 'vault.azure.cn',
      storageBlob: 'blob.core.chinacloudapi.cn',
      armResource: 'management.chinacloudapi.cn',
    },
    armEndpoint: 'https://management.chinacloudapi.cn',
    azCloudName: 'AzureChinaCloud',
    authorityHost: 'https://login.chinacloudapi.cn',
  },
  AzureUSGovernment: {
    name: 'AzureUSGovernment',
    audiences: {
      keyVaultSecret: 'https://vault.usgovcloudapi.net',
      storageBlob: 'https://storage.azure.com/',
      armResource: 'https://management.usgovcloudapi.net/',
    },
    alsoAccepted: {
      keyVaultSecret: ['https://vault.usgovcloudapi.net/'],
      storageBlob: ['https://storage.azure.com'],
      armResource: ['https://management.usgovcloudapi.net', 'https://management.core.usgovcloudapi.net/'],
    },
    dnsSuffixes: {
      keyVaultSecret: 'vault.usgovcloudapi.net',
      storageBlob: 'blob.core.usgovcloudapi.net',
      armResource: 'management.usgovcloudapi.net',
    },
    armEndpoint: 'https://management.usgovcloudapi.net',
    azCloudName: 'AzureUSGovernment',
    authorityHost: 'https://login.microsoftonline.us',
  },
};

/** Audiences compare without a trailing slash: `https://vault.azure.net` and `https://vault.azure.net/` are one. */
export function sameAudience(a: string, b: string): boolean {
  return a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();
}

/** Whether the service of `kind` in `cloud` accepts a token minted for `audience`. */
export function audienceAccepted(cloud: Cloud, kind: TargetKind, audience: string): boolean {
  return [cloud.audiences[kind], ...cloud.alsoAccepted[kind]].some((a) => sameAudience(a, audience));
}
