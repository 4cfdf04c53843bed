import type { Cause } from '../verdict';
import type { CauseContext, CauseEntry } from './causes';
import { sh } from './shell';

/**
 * Catalog entries of the causes that belong to one identity source (AKS workload identity, Azure Arc), and the
 * workload-identity wording of two shared causes (identity_not_found for AADSTS700016, token_expired for
 * AADSTS700024). Every value pasted into a command is quoted for a POSIX shell.
 */

const EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

function federatedToken(ctx: CauseContext) {
  return ctx.evidence.identityEndpoint?.federatedToken ?? ctx.evidence.identityEndpoint?.rawProbe?.direct?.federatedToken;
}

/** `system:serviceaccount:<ns>:<sa>` → its parts. */
export function serviceAccountOf(sub: string | undefined): { namespace: string; name: string } | undefined {
  const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(sub ?? '');
  return m ? { namespace: m[1]!, name: m[2]! } : undefined;
}

/** `$(az identity list …)` for a field of the identity with this client id (a zod-validated GUID). */
const identityField = (clientId: string | undefined, field: 'name' | 'resourceGroup') =>
  clientId ? `"$(az identity list --query "[?clientId=='${clientId}'].${field}" -o tsv)"` : field === 'name' ? '<identity-name>' : '<identity-resource-group>';

/** The exact federated-credential command from the projected token's issuer and subject. */
export function federatedCredentialCreate(ctx: CauseContext): string {
  const token = federatedToken(ctx);
  const sa = serviceAccountOf(token?.sub);
  const subject = token?.sub ?? 'system:serviceaccount:<namespace>:<service-account>';
  const name = sa ? `${sa.namespace}-${sa.name}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 120) : '<credential-name>';
  return [
    'az identity federated-credential create',
    `--name ${sh(name)}`,
    `--identity-name ${identityField(ctx.settings.clientId, 'name')}`,
    `--resource-group ${identityField(ctx.settings.clientId, 'resourceGroup')}`,
    `--issuer ${sh(token?.iss ?? '<cluster-oidc-issuer-url>')}`,
    `--subject ${sh(subject)}`,
    `--audience ${sh(token?.aud ?? EXCHANGE_AUDIENCE)}`,
  ].join(' ');
}

function federatedCredentialList(ctx: CauseContext): string {
  return `az identity federated-credential list --identity-name ${identityField(ctx.settings.clientId, 'name')} --resource-group ${identityField(ctx.settings.clientId, 'resourceGroup')} --query "[].{name:name, issuer:issuer, subject:subject}" -o table`;
}

function namespaceAndAccount(ctx: CauseContext): { ns: string; sa: string } {
  const sa = serviceAccountOf(federatedToken(ctx)?.sub);
  return { ns: sh(sa?.namespace ?? '<namespace>'), sa: sh(sa?.name ?? '<service-account>') };
}

const codesText = (ctx: CauseContext) => {
  const codes = ctx.evidence.identityEndpoint?.errorCodes;
  return codes?.length ? ` (${codes.map((c) => `AADSTS${c}`).join(', ')})` : '';
};

export const HOST_CAUSES: Record<Extract<Cause, 'workload_identity_not_injected' | 'federated_token_unreadable' | 'federation_mismatch' | 'arc_key_file_unreadable'>, CauseEntry> = {
  workload_identity_not_injected: {
    category: 'acquisition',
    status: 'fail',
    title: 'Workload identity not wired into this pod',
    symptom: 'In a Kubernetes pod without AZURE_FEDERATED_TOKEN_FILE/AZURE_TENANT_ID/AZURE_CLIENT_ID, the SDK falls back to the node\'s IMDS.',
    remedy: 'label the pod template `azure.workload.identity/use: "true"`, annotate the service account with `azure.workload.identity/client-id`, roll the pods',
    explain: (ctx) => {
      const absent = Object.entries(ctx.evidence.settings ?? {})
        .filter(([k, v]) => ['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_FEDERATED_TOKEN_FILE'].includes(k) && v.startsWith('absent'))
        .map(([k]) => k);
      return `This process runs in a Kubernetes pod, but ${absent.length ? absent.join(', ') : 'the workload-identity variables'} ${absent.length === 1 ? 'is' : 'are'} not set, so @azure/identity asked the node's instance metadata service instead of exchanging the pod's service-account token — and the node does not hold the workload's identity. The workload-identity webhook injects the variables only into pods labelled azure.workload.identity/use: "true" whose service account is annotated with azure.workload.identity/client-id, and only when the pod is created.`;
    },
    fix: (ctx) => [
      `kubectl annotate serviceaccount <service-account> -n <namespace> azure.workload.identity/client-id=${ctx.settings.clientId ?? '"$(az identity show -g <identity-resource-group> -n <identity-name> --query clientId -o tsv)"'} --overwrite`,
      `kubectl patch deployment <deployment> -n <namespace> -p '{"spec":{"template":{"metadata":{"labels":{"azure.workload.identity/use":"true"}}}}}'`,
      '# the webhook injects the variables at pod creation; the patch above rolls the pods (otherwise: kubectl rollout restart deployment <deployment> -n <namespace>)',
      '# cluster without workload identity: az aks update -g <cluster-resource-group> -n <cluster> --enable-oidc-issuer --enable-workload-identity',
    ],
  },
  federated_token_unreadable: {
    category: 'acquisition',
    status: 'fail',
    title: 'Projected service-account token unreadable',
    symptom: 'AZURE_FEDERATED_TOKEN_FILE names a file that is missing, unreadable, empty or not a JWT.',
    remedy: 'mount the projected token into this container (not in `skip-containers`); an `fsGroup` that may read it',
    explain: (ctx) => {
      const t = federatedToken(ctx);
      const file = t?.file ?? ctx.settings.platform.federatedTokenFile ?? 'AZURE_FEDERATED_TOKEN_FILE';
      if (t?.code === 'ENOENT')
        return `AZURE_FEDERATED_TOKEN_FILE names ${file}, which does not exist: the projected token volume is not mounted into this container (listed in azure.workload.identity/skip-containers, the volume removed, or the variable set by hand).`;
      if (t?.code === 'EACCES' || t?.code === 'EPERM')
        return `The projected token ${file} exists but this process's user may not read it (${t.code}): the container runs as a user outside the volume's group.`;
      return `The projected token ${file} could not be used (${t?.code ?? 'unreadable'}): the SDK has no assertion to exchange.`;
    },
    fix: (ctx) => {
      const t = federatedToken(ctx);
      if (t?.code === 'EACCES' || t?.code === 'EPERM')
        return ['# give the pod a securityContext.fsGroup (or runAsGroup) that may read the projected token, then roll the pods', `ls -l ${sh(t.file)}`];
      return [
        `kubectl get pod <pod> -n <namespace> -o jsonpath='{.spec.volumes[?(@.name=="azure-identity-token")]}'`,
        '# remove this container from azure.workload.identity/skip-containers, and do not set AZURE_FEDERATED_TOKEN_FILE by hand; then roll the pods',
      ];
    },
  },
  federation_mismatch: {
    category: 'acquisition',
    status: 'fail',
    title: 'No federated credential matches the pod\'s service account',
    symptom: 'The token exchange is refused with AADSTS70021 (or 700211/700213/7002138): issuer, subject or audience not federated.',
    remedy: '`az identity federated-credential create --issuer <iss> --subject system:serviceaccount:<ns>:<sa> --audience api://AzureADTokenExchange` (values from the evidence); a new one needs seconds to propagate',
    explain: (ctx) => {
      const t = federatedToken(ctx);
      const presented = t ? ` The pod presented issuer ${t.iss ?? '(none)'}, subject ${t.sub ?? '(none)'}, audience ${t.aud ?? '(none)'}.` : '';
      return `Entra refused the token exchange${codesText(ctx)}: no federated identity credential on the identity ${ctx.settings.clientId ?? ''} matches the projected token.${presented} Issuer (including its trailing "/"), subject (namespace and service account, case-sensitive) and audience must match exactly. If you created the federated credential in the last minute, it may not have propagated yet: wait a few seconds and re-run (?waitSeconds=30).`;
    },
    fix: (ctx) => [federatedCredentialCreate(ctx), federatedCredentialList(ctx)],
  },
  arc_key_file_unreadable: {
    category: 'acquisition',
    status: 'fail',
    title: 'Azure Arc challenge file unreadable',
    symptom: 'The Arc agent\'s 401 challenge names a key file this process cannot read, or one outside the agent\'s token directory.',
    remedy: 'run the workload as root or in the `himds` group; point `IDENTITY_ENDPOINT` at the Arc agent',
    explain: (ctx) => {
      const k = ctx.evidence.identityEndpoint?.keyFile ?? ctx.evidence.identityEndpoint?.rawProbe?.direct?.keyFile;
      switch (k?.problem) {
        case 'outside_directory':
        case 'not_a_key_file':
          return `The endpoint's challenge named ${k.path ?? 'a file'}, not a .key file in ${k.expectedDirectory ?? 'the Arc agent\'s token directory'}: the SDK refuses it. IDENTITY_ENDPOINT does not point at the Azure Arc agent (himds), or something else answers there.`;
        case 'no_challenge':
        case 'unsupported_challenge':
          return 'The endpoint answered 401 without the Arc agent\'s "Basic realm=<key file>" challenge: IDENTITY_ENDPOINT does not point at the Azure Arc agent.';
        default:
          return `The Arc agent asked this process to prove it runs on the machine by reading ${k?.path ?? 'its challenge file'}, and the read failed${k?.code ? ` (${k.code})` : ''}${k?.problem === 'too_large' ? ' (larger than 4096 bytes)' : ''}. On Linux only root and members of the himds group may read it; on Windows, Administrators and "Hybrid agent extension applications".`;
      }
    },
    fix: (ctx) => {
      const k = ctx.evidence.identityEndpoint?.keyFile ?? ctx.evidence.identityEndpoint?.rawProbe?.direct?.keyFile;
      if (k?.problem === 'unreadable' && k.code !== 'ENOENT') return ['sudo usermod -aG himds "$(id -un)"   # the user this workload runs as; then restart the workload', 'azcmagent show'];
      return ['azcmagent show', '# IDENTITY_ENDPOINT=http://localhost:40342/metadata/identity/oauth2/token and IMDS_ENDPOINT=http://localhost:40342 on an Arc server', 'sudo systemctl restart himdsd'];
    },
  },
};

/** Workload-identity wording of identity_not_found (AADSTS700016: the client id is not an app in the tenant). */
export function workloadIdentityNotFound(ctx: CauseContext): { explain: string; fix: string[] } | undefined {
  if (ctx.evidence.identityEndpoint?.protocol !== 'workloadIdentity') return undefined;
  const { ns, sa } = namespaceAndAccount(ctx);
  return {
    explain: `Entra answered that no application with client id ${ctx.settings.clientId ?? '(AZURE_CLIENT_ID)'} exists in tenant ${ctx.settings.platform.tenantId ?? '(AZURE_TENANT_ID)'}${codesText(ctx)}: the service account's azure.workload.identity/client-id annotation names the wrong identity (a typo, a resource id or principal id instead of the client id, or an identity in another tenant).`,
    fix: [
      'az identity show -g <identity-resource-group> -n <identity-name> --query "{clientId:clientId, tenantId:tenantId}"',
      `kubectl annotate serviceaccount ${sa} -n ${ns} azure.workload.identity/client-id=<that-client-id> azure.workload.identity/tenant-id=<that-tenant-id> --overwrite`,
      `# then roll the pods: kubectl rollout restart deployment <deployment> -n ${ns}`,
    ],
  };
}

/** Workload-identity wording of token_expired at the token stage (AADSTS700024: the projected token expired). */
export function workloadIdentityExpired(ctx: CauseContext): { explain: string; fix: string[] } | undefined {
  if (ctx.stage !== 'token' || ctx.evidence.identityEndpoint?.protocol !== 'workloadIdentity') return undefined;
  const t = federatedToken(ctx);
  return {
    explain: `Entra refused the pod's projected service-account token as outside its valid time range${codesText(ctx)}${t?.expiresAt ? `: it expired at ${t.expiresAt}` : ''}. The kubelet refreshes the projected token; one that stays expired means the file is a copy that is not refreshed, the kubelet cannot refresh it, or the node's clock is off.`,
    fix: [
      `# do not copy the token elsewhere; read AZURE_FEDERATED_TOKEN_FILE at each exchange (the SDK does), and check the node's clock`,
      `kubectl rollout restart deployment <deployment> -n ${namespaceAndAccount(ctx).ns}`,
    ],
  };
}

const HOST_LEVEL: ReadonlySet<Cause> = new Set(['no_managed_identity', 'identity_not_found', 'identity_endpoint_error', 'identity_endpoint_unreachable']);

/**
 * The fix for a shared host-level cause on a host that has no `az <group> identity` family (Service Fabric, Cloud
 * Shell, Arc, an AKS pod): the shared entries speak App Service and VM. Undefined = the shared fix applies.
 */
export function hostSpecificFix(cause: Cause, ctx: CauseContext): string[] | undefined {
  if (!HOST_LEVEL.has(cause)) return undefined;
  const identityMissing = cause === 'no_managed_identity' || cause === 'identity_not_found';
  switch (ctx.hostKind) {
    case 'serviceFabric':
      // @azure/identity refuses a client id or resource id on Service Fabric before sending anything.
      if (ctx.settings.clientId || ctx.settings.clientResourceId)
        return ['# Service Fabric picks the identity from the application manifest: unset AZURE_CLIENT_ID / AZURE_CLIENT_RESOURCE_ID (the SDK refuses them here)'];
      return identityMissing
        ? [
            '# assign the identity in the application manifest (<ManagedIdentities>) and bind it in the service manifest (<IdentityBindingPolicy>), then upgrade the application',
            '# Service Fabric picks the identity from the manifest: leave AZURE_CLIENT_ID unset',
          ]
        : ['# check the cluster\'s Managed Identity Token Service (fabricSettings: ManagedIdentityTokenService) and re-run'];
    case 'cloudShell':
      return ['# Cloud Shell hands out the signed-in user\'s token: run az login again (or restart Cloud Shell); AZURE_CLIENT_ID must be unset here'];
    case 'machineLearning':
      return identityMissing
        ? [
            'az ml compute show --name <compute> --resource-group <resource-group> --workspace-name <workspace> --query identity',
            '# assign that user-assigned identity to the compute, or unset AZURE_CLIENT_ID to use the compute\'s DEFAULT_IDENTITY_CLIENT_ID',
          ]
        : ['# re-run in a minute; if it persists, restart the compute instance'];
    case 'arc':
      return identityMissing
        ? ['az connectedmachine show -g <resource-group> -n "$(hostname)" --query identity', 'azcmagent show']
        : ['azcmagent show', 'sudo systemctl restart himdsd'];
    case 'aks':
      // identity_not_found from the exchange (AADSTS700016) has its own workload-identity wording in the catalog.
      if (cause !== 'identity_not_found' && ctx.evidence.identityEndpoint?.protocol === 'workloadIdentity')
        return ['# Entra answered the token exchange with an error (see evidence.identityEndpoint); re-run in a minute', federatedCredentialList(ctx)];
      return undefined;
    default:
      return undefined;
  }
}
