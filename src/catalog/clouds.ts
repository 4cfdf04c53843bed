/**
 * Per-cloud facts that are not about one service: the ARM endpoint and its audiences, the authority, the az cloud name.
 * Source: shared/reference/azure-identity-facts.md §2. Each service's audiences and host suffixes live in its kind
 * folder (src/targets/<kind>/); src/targets/registry.ts joins both into `Cloud`.
 */
export const CLOUD_NAMES = ['AzurePublicCloud', 'AzureChinaCloud', 'AzureUSGovernment'] as const;
export type CloudName = (typeof CLOUD_NAMES)[number];

export interface CloudFacts {
  name: CloudName;
  armEndpoint: string;
  /** The audiences ARM accepts; the first is the one a token is requested for (role look-ups, ARM targets). */
  armAudiences: readonly [string, ...string[]];
  /** Where `az login` sends people for this cloud; used only in fix lines. */
  azCloudName: string;
  authorityHost: string;
}

export const CLOUD_FACTS: Readonly<Record<CloudName, CloudFacts>> = {
  AzurePublicCloud: {
    name: 'AzurePublicCloud',
    armEndpoint: 'https://management.azure.com',
    armAudiences: ['https://management.azure.com/', 'https://management.azure.com', 'https://management.core.windows.net/'],
    azCloudName: 'AzureCloud',
    authorityHost: 'https://login.microsoftonline.com',
  },
  AzureChinaCloud: {
    name: 'AzureChinaCloud',
    armEndpoint: 'https://management.chinacloudapi.cn',
    armAudiences: ['https://management.chinacloudapi.cn/', 'https://management.chinacloudapi.cn', 'https://management.core.chinacloudapi.cn/'],
    azCloudName: 'AzureChinaCloud',
    authorityHost: 'https://login.chinacloudapi.cn',
  },
  AzureUSGovernment: {
    name: 'AzureUSGovernment',
    armEndpoint: 'https://management.usgovcloudapi.net',
    armAudiences: ['https://management.usgovcloudapi.net/', 'https://management.usgovcloudapi.net', 'https://management.core.usgovcloudapi.net/'],
    azCloudName: 'AzureUSGovernment',
    authorityHost: 'https://login.microsoftonline.us',
  },
};

/** Audiences compare without a trailing slash: `https://vault.azure.net` and `https://vault.azure.net/` are one. */
export function sameAudience(a: string, b: string): boolean {
  return a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();
}
