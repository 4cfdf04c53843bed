'use strict';
/**
 * The real Azure host names the simulated world answers for, in one place: the DNS preload (dns-preload.cjs) maps
 * them to 127.0.0.1 and the world's server certificate (ca.ts) names them, so the unmodified SDKs keep their host
 * checks and TLS verification. A service's simulator serves `<label>.<suffix>` for each suffix it owns.
 */

/** `<one label>.<suffix>`: per-resource hosts (a vault, an account, a namespace, a registry, a server). */
const SUFFIXES = [
  // Key Vault
  'vault.azure.net', 'vault.azure.cn', 'vault.usgovcloudapi.net',
  // Storage: blobs, queues, tables
  'blob.core.windows.net', 'blob.core.chinacloudapi.cn', 'blob.core.usgovcloudapi.net',
  'queue.core.windows.net', 'queue.core.chinacloudapi.cn', 'queue.core.usgovcloudapi.net',
  'table.core.windows.net', 'table.core.chinacloudapi.cn', 'table.core.usgovcloudapi.net',
  // Cosmos DB
  'documents.azure.com', 'documents.azure.cn', 'documents.azure.us',
  // App Configuration
  'azconfig.io', 'azconfig.azure.cn', 'azconfig.azure.us',
  // Azure OpenAI (custom subdomains)
  'openai.azure.com', 'openai.azure.cn', 'openai.azure.us',
  'cognitiveservices.azure.com', 'cognitiveservices.azure.cn', 'cognitiveservices.azure.us',
  // Container Registry
  'azurecr.io', 'azurecr.cn', 'azurecr.us',
  // Service Bus and Event Hubs namespaces
  'servicebus.windows.net', 'servicebus.chinacloudapi.cn', 'servicebus.usgovcloudapi.net',
  // Azure SQL logical servers
  'database.windows.net', 'database.chinacloudapi.cn', 'database.usgovcloudapi.net',
];

/** Exact hosts (one per cloud). */
const EXACT = [
  'management.azure.com', 'management.chinacloudapi.cn', 'management.usgovcloudapi.net',
  'login.microsoftonline.com',
  // Microsoft Graph
  'graph.microsoft.com', 'microsoftgraph.chinacloudapi.cn', 'graph.microsoft.us',
];

/**
 * Resolved to 127.0.0.1 but NOT in the certificate: any `management.*` host, so a custom ARM endpoint the certificate
 * does not name (`management.contoso.example`) fails TLS verification as it would against a wrong server.
 */
const DNS_ONLY_PREFIXES = ['management.'];

module.exports = { SUFFIXES, EXACT, DNS_ONLY_PREFIXES };
