import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { World } from './index';
import { OTHER_IDENTITY, SYSTEM_IDENTITY, TENANT_ID, USER_IDENTITY, standardTargets } from './scenario';

/**
 * One small host per identity source the SDK supports, staged beside the standard app host: AKS pods (workload
 * identity), a container app, VMs and scale sets (IMDS), Arc servers, a Service Fabric node, Cloud Shell. Each
 * scenario is the env of one service process and the cause it must show. Integration tests and `npm start` use it.
 */

/** The AKS cluster's OIDC issuer (with the trailing "/" Entra compares exactly). */
export const CLUSTER_ISSUER = 'https://oidc.prod-aks.azure.com/5c1e7a92-3b4d-4f60-8e21-9d7c6b5a4f30/';
export const NAMESPACE = 'shop';
export const SERVICE_ACCOUNT = 'checkout';
/** Where MSAL insists the Arc challenge file lives on Linux. */
export const ARC_TOKENS_DIR = '/var/opt/azcmagent/tokens';

export interface HostScenario {
  name: string;
  /** What it stands for, in a few words (the sandbox prints it). */
  label: string;
  env: Record<string, string | undefined>;
  cause: string;
  hostKind: string;
}

/** Variables of the default app host that no other host has. */
const NOT_APP_SERVICE = {
  IDENTITY_ENDPOINT: undefined,
  IDENTITY_HEADER: undefined,
  WEBSITE_SITE_NAME: undefined,
  FUNCTIONS_WORKER_RUNTIME: undefined,
  AZURE_POD_IDENTITY_AUTHORITY_HOST: undefined,
};

/** Targets for host scenarios: the healthy Key Vault secret is enough to tell the identity causes apart. */
export function hostTargets(world: World): string {
  return JSON.stringify(standardTargets(world).filter((t) => t.name === 'kv-ok'));
}

/** Whether the Arc token directory can hold a staged key file here (it needs root; CI runners may not have it). */
export function canStageArcDirectory(): boolean {
  try {
    fs.mkdirSync(ARC_TOKENS_DIR, { recursive: true });
    fs.accessSync(ARC_TOKENS_DIR, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Stages every host in `world` (after stageStandardWorld) and returns the scenarios. */
export function stageHosts(world: World, opts: { arcDirectory?: boolean } = {}): HostScenario[] {
  const { state } = world;
  const targets = hostTargets(world);
  const fresh = new Date();
  const longAgo = new Date(Date.now() - 24 * 3600 * 1000);

  // AKS: the identity id-doctor federated with shop/checkout; a second credential created just now (propagating).
  state.federatedCredentials.push(
    { identity: USER_IDENTITY.name, name: 'shop-checkout', issuer: CLUSTER_ISSUER, subject: `system:serviceaccount:${NAMESPACE}:${SERVICE_ACCOUNT}`, audiences: ['api://AzureADTokenExchange'], createdOn: longAgo },
    { identity: USER_IDENTITY.name, name: 'shop-fresh', issuer: CLUSTER_ISSUER, subject: `system:serviceaccount:${NAMESPACE}:fresh`, audiences: ['api://AzureADTokenExchange'], createdOn: fresh, propagationDelaySeconds: 10 },
  );
  const token = (serviceAccount: string, lifetimeSeconds?: number) =>
    world.projectedToken({ issuer: CLUSTER_ISSUER, namespace: NAMESPACE, serviceAccount, ...(lifetimeSeconds !== undefined ? { lifetimeSeconds } : {}) });
  // The node's IMDS holds no identity of the workload's (pods without workload identity end up here).
  const nodeImds = world.hostBase('aks-node');
  const pod = (extra: Record<string, string | undefined>) => ({
    ...NOT_APP_SERVICE,
    DIAGNOSE_TARGETS: targets,
    KUBERNETES_SERVICE_HOST: '10.0.0.1',
    AZURE_POD_IDENTITY_AUTHORITY_HOST: nodeImds,
    AZURE_CLIENT_ID: USER_IDENTITY.clientId,
    AZURE_TENANT_ID: TENANT_ID,
    AZURE_AUTHORITY_HOST: world.authorityHost,
    ...extra,
  });

  // Container Apps: the App Service protocol under CONTAINER_APP_NAME.
  state.hosts['containerapp'] = { attached: [SYSTEM_IDENTITY.name, USER_IDENTITY.name] };
  const containerApp = (extra: Record<string, string | undefined>) => ({
    ...NOT_APP_SERVICE,
    DIAGNOSE_TARGETS: targets,
    CONTAINER_APP_NAME: 'ca-doctor',
    IDENTITY_ENDPOINT: `${world.hostBase('containerapp')}/msi/token`,
    IDENTITY_HEADER: world.identityHeader,
    ...extra,
  });

  // VMs and scale sets: IMDS.
  state.hosts['vm'] = { attached: [USER_IDENTITY.name] };
  state.hosts['vmss-several'] = { attached: [USER_IDENTITY.name, OTHER_IDENTITY.name] };
  state.hosts['vm-none'] = { attached: [] };
  state.hosts['vm-throttled'] = {
    attached: [USER_IDENTITY.name],
    fault: { status: 429, body: JSON.stringify({ error: 'too_many_requests', error_description: 'Too many requests. Please retry after some time.' }) },
  };
  const vm = (host: string, extra: Record<string, string | undefined> = {}) => ({
    ...NOT_APP_SERVICE,
    DIAGNOSE_TARGETS: targets,
    AZURE_POD_IDENTITY_AUTHORITY_HOST: world.hostBase(host),
    ...extra,
  });

  // Arc: the agent's challenge; the key file in MSAL's directory when it can be staged there, else outside it.
  state.hosts['arc'] = { attached: [USER_IDENTITY.name] };
  if (opts.arcDirectory) world.stageArcKey('arc', ARC_TOKENS_DIR);
  world.stageArcKey('arc-outside', world.tempDir('arc-keys'));
  state.hosts['arc-outside']!.attached = [USER_IDENTITY.name];
  // A key file the agent names but nobody can read: it is not there (the agent's directory was cleaned).
  state.hosts['arc-unreadable'] = { attached: [USER_IDENTITY.name], arcKeyFile: path.join(ARC_TOKENS_DIR, `${randomBytes(8).toString('hex')}.key`), arcSecret: randomBytes(16).toString('hex') };
  const arcHost = (host: string) => ({
    ...NOT_APP_SERVICE,
    DIAGNOSE_TARGETS: targets,
    IDENTITY_ENDPOINT: `${world.hostBase(host)}/arc/metadata/identity/oauth2/token`,
    IMDS_ENDPOINT: world.hostBase(host),
  });

  // Service Fabric: the application's identity comes from its manifest; no client id may be named.
  state.hosts['sf'] = { attached: [USER_IDENTITY.name] };
  state.hosts['sf-none'] = { attached: [] };
  const sf = (host: string) => ({
    ...NOT_APP_SERVICE,
    DIAGNOSE_TARGETS: targets,
    AZURE_CLIENT_ID: undefined,
    IDENTITY_ENDPOINT: `${world.hostBase(host)}/sf/metadata/identity/oauth2/token`,
    IDENTITY_HEADER: world.identityHeader,
    IDENTITY_SERVER_THUMBPRINT: 'C1D2E3F4A5B6C7D8E9F0A1B2C3D4E5F6A7B8C9D0',
  });

  // Cloud Shell: the signed-in user's token; no client id may be named.
  state.hosts['cloudshell'] = { attached: [USER_IDENTITY.name] };
  const cloudShell = {
    ...NOT_APP_SERVICE,
    DIAGNOSE_TARGETS: targets,
    AZURE_CLIENT_ID: undefined,
    MSI_ENDPOINT: `${world.hostBase('cloudshell')}/cloudshell/oauth2/token`,
  };

  // Azure Machine Learning: MSI_ENDPOINT + MSI_SECRET; the compute's identity by client id.
  state.hosts['ml'] = { attached: [USER_IDENTITY.name] };
  const ml = (extra: Record<string, string | undefined> = {}) => ({
    ...NOT_APP_SERVICE,
    DIAGNOSE_TARGETS: targets,
    MSI_ENDPOINT: `${world.hostBase('ml')}/ml/token`,
    MSI_SECRET: world.identityHeader,
    DEFAULT_IDENTITY_CLIENT_ID: USER_IDENTITY.clientId,
    ...extra,
  });

  const scenarios: HostScenario[] = [
    { name: 'aks', label: 'AKS pod, workload identity', env: pod({ AZURE_FEDERATED_TOKEN_FILE: token(SERVICE_ACCOUNT) }), cause: 'authorized', hostKind: 'aks' },
    { name: 'aks-not-injected', label: 'AKS pod without the label/annotation', env: pod({ AZURE_CLIENT_ID: undefined, AZURE_TENANT_ID: undefined, AZURE_AUTHORITY_HOST: undefined }), cause: 'workload_identity_not_injected', hostKind: 'aks' },
    { name: 'aks-token-missing', label: 'AKS pod, projected token not mounted', env: pod({ AZURE_FEDERATED_TOKEN_FILE: path.join(world.tempDir('no-token'), 'azure-identity-token') }), cause: 'federated_token_unreadable', hostKind: 'aks' },
    { name: 'aks-no-federation', label: 'AKS pod, service account not federated', env: pod({ AZURE_FEDERATED_TOKEN_FILE: token('payments') }), cause: 'federation_mismatch', hostKind: 'aks' },
    { name: 'aks-wrong-client', label: 'AKS pod, client id not in the tenant', env: pod({ AZURE_CLIENT_ID: '0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9', AZURE_FEDERATED_TOKEN_FILE: token(SERVICE_ACCOUNT) }), cause: 'identity_not_found', hostKind: 'aks' },
    { name: 'aks-expired', label: 'AKS pod, projected token expired', env: pod({ AZURE_FEDERATED_TOKEN_FILE: token(SERVICE_ACCOUNT, -600) }), cause: 'token_expired', hostKind: 'aks' },
    { name: 'aks-fresh-federation', label: 'AKS pod, federated credential seconds old', env: pod({ AZURE_FEDERATED_TOKEN_FILE: token('fresh') }), cause: 'federation_mismatch', hostKind: 'aks' },
    { name: 'containerapp', label: 'Container App', env: containerApp({}), cause: 'authorized', hostKind: 'containerApps' },
    { name: 'containerapp-no-identity', label: 'Container App, no identity enabled', env: containerApp({ IDENTITY_ENDPOINT: undefined, IDENTITY_HEADER: undefined }), cause: 'no_managed_identity', hostKind: 'containerApps' },
    { name: 'vm', label: 'VM (IMDS)', env: vm('vm'), cause: 'authorized', hostKind: 'vm' },
    { name: 'vmss-several', label: 'scale set, several identities, none named', env: vm('vmss-several', { AZURE_CLIENT_ID: undefined }), cause: 'identity_not_found', hostKind: 'vm' },
    { name: 'vm-none', label: 'VM without any identity', env: vm('vm-none', { AZURE_CLIENT_ID: undefined }), cause: 'identity_not_found', hostKind: 'vm' },
    { name: 'vm-throttled', label: 'VM, IMDS throttling (429)', env: vm('vm-throttled'), cause: 'identity_endpoint_error', hostKind: 'vm' },
    ...(opts.arcDirectory ? [{ name: 'arc', label: 'Arc server', env: arcHost('arc'), cause: 'authorized', hostKind: 'arc' }] : []),
    { name: 'arc-outside', label: 'Arc, key file outside the agent directory', env: arcHost('arc-outside'), cause: 'arc_key_file_unreadable', hostKind: 'arc' },
    { name: 'arc-unreadable', label: 'Arc, key file unreadable', env: arcHost('arc-unreadable'), cause: 'arc_key_file_unreadable', hostKind: 'arc' },
    { name: 'servicefabric', label: 'Service Fabric', env: sf('sf'), cause: 'authorized', hostKind: 'serviceFabric' },
    { name: 'servicefabric-none', label: 'Service Fabric, no identity in the manifest', env: sf('sf-none'), cause: 'identity_not_found', hostKind: 'serviceFabric' },
    { name: 'cloudshell', label: 'Cloud Shell', env: cloudShell, cause: 'authorized', hostKind: 'cloudShell' },
    { name: 'ml', label: 'Azure Machine Learning compute', env: ml(), cause: 'authorized', hostKind: 'machineLearning' },
    { name: 'ml-not-attached', label: 'Azure ML, client id not on the compute', env: ml({ AZURE_CLIENT_ID: OTHER_IDENTITY.clientId }), cause: 'identity_not_found', hostKind: 'machineLearning' },
  ];
  return scenarios;
}
