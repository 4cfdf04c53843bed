import type { Cause, Category, Evidence, Propagation, Stage, Status } from '../verdict';
import {
  accountName,
  assignee,
  hostCli,
  narrowestScope,
  roleAssignmentCreate,
  roleAssignmentList,
  targetHost,
  vaultName,
  type CommandContext,
} from './commands';
import { controlPlaneTrap } from '../engine/propagation';
import { OPERATIONS } from './operations';

/**
 * The cause catalog: every cause's category, status, title, what the user sees, and the explanation and fix
 * templates. The README's cause table is tested against this table, so the two cannot drift.
 */

export interface CauseContext extends CommandContext {
  evidence: Evidence;
  expectedAudience: string;
  stage: Stage;
  propagation?: Propagation;
}

export interface CauseEntry {
  category: Category | ((stage: Stage) => Category);
  status: Status;
  title: string;
  /** What the user typically sees (for the README's cause table). */
  symptom: string;
  explain(ctx: CauseContext): string;
  fix(ctx: CauseContext): string[];
}

const kindNoun = { keyVaultSecret: 'Key Vault', storageBlob: 'Storage', armResource: 'Azure Resource Manager' } as const;
const svc = (ctx: CauseContext) => kindNoun[ctx.target.kind];
const selectorText = (ctx: CauseContext) =>
  ctx.settings.clientId ? `the user-assigned identity with client id ${ctx.settings.clientId}` : 'the system-assigned identity';

function identityAssignFix(ctx: CauseContext): string[] {
  const h = hostCli(ctx);
  if (h.group === 'vm') {
    return ctx.settings.clientId
      ? [`az vm identity assign -g ${h.rg} -n <vm-name> --identities $(az identity list --query "[?clientId=='${ctx.settings.clientId}'].id" -o tsv)`]
      : [`az vm identity assign -g ${h.rg} -n <vm-name>`];
  }
  return ctx.settings.clientId
    ? [
        `az ${h.group} identity assign -g ${h.rg} -n ${h.name} --identities $(az identity list --query "[?clientId=='${ctx.settings.clientId}'].id" -o tsv)`,
      ]
    : [`az ${h.group} identity assign -g ${h.rg} -n ${h.name}`];
}

function notFoundFix(ctx: CauseContext): string[] {
  const t = ctx.target;
  switch (t.kind) {
    case 'keyVaultSecret':
      return [
        `az keyvault secret list --vault-name ${vaultName(t.vaultUrl)} --query "[].name" -o tsv`,
        `# create it, or point "secretName" of target "${t.name}" at a secret that exists`,
      ];
    case 'storageBlob':
      return [
        t.blobName
          ? `az storage blob list --account-name ${accountName(t.accountUrl)} --container-name ${t.container} --auth-mode login --query "[].name" -o tsv`
          : `az storage container list --account-name ${accountName(t.accountUrl)} --auth-mode login --query "[].name" -o tsv`,
        `# fix "container"/"blobName" of target "${t.name}", or create what is missing`,
      ];
    case 'armResource':
      return [`az resource show --ids ${t.resourceId}`, `# fix "resourceId" of target "${t.name}" if the resource was moved or renamed`];
  }
}

export const CAUSE_CATALOG: Record<Cause, CauseEntry> = {
  authorized: {
    category: 'authorized',
    status: 'pass',
    title: 'Authorized',
    symptom: 'The call succeeded with the managed identity\'s token.',
    explain: (ctx) =>
      `The identity got a token for ${ctx.expectedAudience} and ${svc(ctx)} accepted it: it may ${OPERATIONS[ctx.target.kind].description} on "${ctx.target.name}".`,
    fix: () => [],
  },
  no_managed_identity: {
    category: 'acquisition',
    status: 'fail',
    title: 'No managed identity on this host',
    symptom: 'No token: IDENTITY_ENDPOINT/IDENTITY_HEADER absent on App Service/Functions, or no IMDS answers (off Azure).',
    explain: (ctx) => {
      if (ctx.settings.platform.msiDisabled)
        return 'WEBSITE_DISABLE_MSI is set: the platform\'s token service was turned off on purpose, so no token can be had even if the portal shows the identity as on.';
      if (ctx.hostKind === 'local')
        return 'No identity endpoint answered: this process is not running on an Azure host with a managed identity (a laptop or build agent), or the instance metadata service is blocked. Managed identity only works on Azure.';
      return `The platform injects IDENTITY_ENDPOINT and IDENTITY_HEADER only once a managed identity is enabled; they are absent here, so ${ctx.hostKind === 'containerApps' ? 'this container app' : 'this app'} has no identity enabled.`;
    },
    fix: (ctx) => {
      const h = hostCli(ctx);
      if (ctx.settings.platform.msiDisabled)
        return [`az ${h.group} config appsettings delete -g ${h.rg} -n ${h.name} --setting-names WEBSITE_DISABLE_MSI`];
      if (ctx.hostKind === 'local')
        return [
          '# run this diagnose on the Azure host itself (deploy it beside the workload), or',
          '# for local development use a developer credential instead: az login   (or: azd auth login)',
        ];
      return [...identityAssignFix(ctx), `az ${h.group} restart -g ${h.rg} -n ${h.name}`];
    },
  },
  identity_not_found: {
    category: 'acquisition',
    status: 'fail',
    title: 'Requested identity is not attached to this host',
    symptom: 'The identity endpoint answers 400 invalid_request "Identity not found".',
    explain: (ctx) =>
      ctx.settings.clientId
        ? `The identity endpoint answered that ${selectorText(ctx)} is not assigned to this host (AZURE_CLIENT_ID names an identity that is not attached, or a typo).`
        : 'The identity endpoint answered that this host has no system-assigned identity. If only user-assigned identities are attached, name one with AZURE_CLIENT_ID.',
    fix: (ctx) => {
      const h = hostCli(ctx);
      return [
        `az ${h.group} identity show -g ${h.rg} -n ${h.name} --query "{principalId:principalId, userAssigned:userAssignedIdentities}"`,
        ...identityAssignFix(ctx),
      ];
    },
  },
  identity_endpoint_unreachable: {
    category: 'acquisition',
    status: 'fail',
    title: 'Identity endpoint unreachable',
    symptom: 'No token: the identity endpoint refused the connection or never answered (often a proxy capturing it).',
    explain: (ctx) => {
      const proxy = ctx.evidence.proxy;
      if (proxy && !proxy.bypassed && ctx.evidence.identityEndpoint?.rawProbe?.interpretation === 'proxy_interception')
        return `The SDK sends its token request through the proxy ${proxy.url} (${proxy.source}), and NO_PROXY does not exempt the identity endpoint ${ctx.evidence.identityEndpoint?.endpoint ?? ''}: the proxy cannot reach a host-local endpoint (IMDS refuses proxied calls). Asked directly, the endpoint issues a token.`;
      const t = ctx.evidence.identityEndpoint?.transport ?? ctx.evidence.transport;
      const what = t?.kind === 'timeout' ? 'accepted the request but never answered' : t?.kind === 'refused' ? 'refused the connection' : 'could not be reached';
      return `The identity endpoint ${ctx.evidence.identityEndpoint?.endpoint ?? ''} ${what}${t?.code ? ` (${t.code})` : ''}. The SDK reports this only as a generic network error; it is platform plumbing (or a proxy in the way), not a role problem.`;
    },
    fix: (ctx) => {
      const h = hostCli(ctx);
      const proxy = ctx.evidence.proxy;
      if (proxy && !proxy.bypassed) {
        const host = (ctx.evidence.identityEndpoint?.endpoint ?? '169.254.169.254').split(':')[0]!;
        const current = ctx.evidence.settings?.NO_PROXY;
        const list = [...new Set([...(current && current !== 'absent' ? current.split(',') : []), 'localhost', '127.0.0.1', host, '169.254.169.254'])].join(',');
        return [`az ${h.group} config appsettings set -g ${h.rg} -n ${h.name} --settings NO_PROXY=${list}`, `# locally: export NO_PROXY=${list}`];
      }
      return [
        `az ${h.group} restart -g ${h.rg} -n ${h.name}`,
        '# if HTTP_PROXY/HTTPS_PROXY is set, exclude the identity endpoint: NO_PROXY=localhost,127.0.0.1,169.254.169.254',
      ];
    },
  },
  identity_endpoint_error: {
    category: 'acquisition',
    status: 'fail',
    title: 'Identity endpoint returned an error',
    symptom: 'No token: the identity endpoint answered with an error status or an unusable body.',
    explain: (ctx) => {
      const e = ctx.evidence.identityEndpoint;
      return `The identity endpoint answered${e?.status ? ` ${e.status}` : ''}${e?.error ? ` "${e.error}"` : ''}${e?.errorDescription ? `: ${e.errorDescription}` : ''}. 5xx, 404 and 429 are transient per the platform's guidance; other answers point at the request or the platform.`;
    },
    fix: (ctx) => {
      const h = hostCli(ctx);
      return ['# re-run in a minute: transient identity-endpoint errors clear by themselves', `az ${h.group} restart -g ${h.rg} -n ${h.name}`];
    },
  },
  wrong_audience: {
    category: 'authentication',
    status: 'fail',
    title: 'Token minted for the wrong audience',
    symptom: '401 (ARM InvalidAuthenticationTokenAudience, Key Vault AKV10022, Storage "Audience validation failed").',
    explain: (ctx) =>
      `The token's audience is ${ctx.evidence.tokenAudience ?? '(unreadable)'} but ${svc(ctx)} accepts only ${ctx.expectedAudience}. The identity is fine; the token was requested for another resource.`,
    fix: (ctx) => [
      `# request the token for scope "${ctx.expectedAudience.replace(/\/+$/, '')}/.default"`,
      ctx.target.audience
        ? `# in DIAGNOSE_TARGETS, target "${ctx.target.name}": remove "audience" (or set it to "${ctx.expectedAudience}")`
        : `# in the calling code, use the ${svc(ctx)} audience ${ctx.expectedAudience}`,
    ],
  },
  wrong_tenant: {
    category: 'authentication',
    status: 'fail',
    title: 'Token from the wrong tenant',
    symptom: '401 InvalidAuthenticationTokenTenant / AKV10032, Storage "Issuer validation failed", or tid ≠ EXPECTED_TENANT_ID.',
    explain: (ctx) =>
      `The token was issued by tenant ${ctx.claims?.tid ?? '(unknown)'}${ctx.settings.expectedTenantId ? ` but ${ctx.settings.expectedTenantId} was expected` : ', which the resource does not trust'}. A managed identity lives in one tenant and cannot get tokens for another; use an identity in the resource's tenant (or a multi-tenant app registration with federated credentials).`,
    fix: (ctx) => [
      `az account show --query tenantId -o tsv   # the tenant of the subscription holding ${targetHost(ctx.target, ctx.settings)}`,
      '# run the workload (and this diagnose) with an identity from that tenant',
    ],
  },
  token_expired: {
    category: 'authentication',
    status: 'fail',
    title: 'Token expired',
    symptom: '401 ExpiredAuthenticationToken / "Lifetime validation failed", or exp in the past.',
    explain: (ctx) =>
      `The token expired${ctx.claims?.expiresAt ? ` at ${ctx.claims.expiresAt}` : ''}. Hold the credential, not the token: the SDK refreshes tokens itself when you call getToken per request.`,
    fix: () => ['# keep a TokenCredential and let each SDK client call getToken; never cache the token string'],
  },
  token_rejected: {
    category: 'authentication',
    status: 'fail',
    title: 'Token rejected',
    symptom: 'Another 401 (or Storage 403 AuthenticationFailed) with the service\'s own code.',
    explain: (ctx) =>
      `${svc(ctx)} rejected the token${ctx.evidence.errorCode ? ` with ${ctx.evidence.errorCode}` : ''}${ctx.evidence.message ? `: ${firstLine(ctx.evidence.message)}` : ''}.`,
    fix: (ctx) => [`# compare the claims with what ${svc(ctx)} expects; the service's code above names the check that failed`],
  },
  wrong_identity: {
    category: 'authorization',
    status: 'fail',
    title: 'A different identity answered',
    symptom: 'A token came back, but its oid is not EXPECTED_PRINCIPAL_ID.',
    explain: (ctx) =>
      `The token belongs to principal ${ctx.claims?.oid ?? '(unknown)'}${ctx.claims?.xms_mirid ? ` (${ctx.claims.xms_mirid})` : ''}, not the expected ${ctx.settings.expectedPrincipalId}. Typical: several user-assigned identities and none pinned, or system- and user-assigned mixed up — the role was granted to the other one.`,
    fix: (ctx) => {
      const h = hostCli(ctx);
      return [
        `az identity list --query "[?principalId=='${ctx.settings.expectedPrincipalId}'].{name:name, clientId:clientId}" -o table`,
        'az identity show -g <identity-resource-group> -n <identity-name> --query clientId -o tsv',
        `az ${h.group} config appsettings set -g ${h.rg} -n ${h.name} --settings AZURE_CLIENT_ID=<that-client-id>`,
      ];
    },
  },
  role_missing: {
    category: 'authorization',
    status: 'fail',
    title: 'Role missing',
    symptom: '403 Key Vault ForbiddenByRbac, Storage AuthorizationPermissionMismatch, ARM AuthorizationFailed.',
    explain: (ctx) => {
      const op = OPERATIONS[ctx.target.kind];
      const roles = ctx.evidence.roles;
      const held = roles?.lookedUp ? [...new Set(roles.assignments.map((a) => `${a.roleName} at ${a.scope}`))] : [];
      const parts = [`Principal ${ctx.claims?.oid ?? '(unknown)'} authenticated, but holds no role granting ${op.permission} at ${narrowestScope(ctx.target)}.`];
      if (controlPlaneTrap(ctx.target, roles))
        parts.push(`It holds only control-plane roles (${held.join('; ')}): they carry no data actions, so they never cure a data-plane 403 — the control-plane vs data-plane trap. Grant the data-plane role ${op.leastRole.name} instead.`);
      else if (op.plane === 'data') parts.push(`Control-plane roles (Owner, Contributor, Reader) do not help here: they carry no data actions. Grant the data-plane role ${op.leastRole.name}.`);
      if (roles?.lookedUp && !held.length) parts.push('It holds no role at or above this scope.');
      if (roles?.unavailable) parts.push(roles.unavailable.reason);
      parts.push('If you granted it minutes ago, wait up to 10 minutes for propagation before granting anything broader.');
      return parts.join(' ');
    },
    fix: (ctx) => [roleAssignmentCreate(ctx), ...(ctx.evidence.roles?.unavailable ? [ctx.evidence.roles.lookup] : [])],
  },
  access_policy_missing: {
    category: 'authorization',
    status: 'fail',
    title: 'Key Vault access policy missing',
    symptom: '403 AccessDenied from a vault that uses access policies.',
    explain: (ctx) => {
      const ignored = ctx.evidence.roles?.assignments.filter((a) => a.coversOperation) ?? [];
      const base = `The vault uses access policies (not RBAC): Key Vault answered AccessDenied, and no policy gives principal ${ctx.claims?.oid ?? '(unknown)'} secret "get".`;
      return ignored.length
        ? `${base} The RBAC role ${ignored.map((a) => `${a.roleName} at ${a.scope}`).join(', ')} is ignored by such a vault until it is switched to RBAC (enableRbacAuthorization): switch it, or add an access policy.`
        : `${base} RBAC roles are ignored by such a vault.`;
    },
    fix: (ctx) => {
      if (ctx.target.kind !== 'keyVaultSecret') return [];
      const v = vaultName(ctx.target.vaultUrl);
      const policy = `az keyvault set-policy --name ${v} --object-id ${assignee(ctx)} --secret-permissions get`;
      const rbac = `az keyvault update --name ${v} --enable-rbac-authorization true   # then Key Vault Secrets User applies`;
      return ctx.evidence.roles?.assignments.some((a) => a.coversOperation) ? [rbac, `# or: ${policy}`] : [policy, `# or move the vault to RBAC: ${rbac}`];
    },
  },
  network_blocked: {
    category: 'authorization',
    status: 'fail',
    title: 'Blocked by network rules',
    symptom: '403 Key Vault ForbiddenByFirewall/ForbiddenByConnection, Storage AuthorizationFailure.',
    explain: (ctx) =>
      `${svc(ctx)} refused the request on network grounds (${ctx.evidence.innerErrorCode ?? ctx.evidence.errorCode ?? '403'}): this host's address or network is not allowed. No role change will fix it.`,
    fix: (ctx) => {
      const t = ctx.target;
      if (t.kind === 'keyVaultSecret')
        return [
          `az keyvault network-rule add --name ${vaultName(t.vaultUrl)} --subnet <workload-subnet-id>   # or reach it over a private endpoint`,
          `# never open the firewall to all networks`,
        ];
      if (t.kind === 'storageBlob')
        return [
          `az storage account network-rule add --account-name ${accountName(t.accountUrl)} --subnet <workload-subnet-id>   # or a private endpoint`,
          '# never set the default action to Allow',
        ];
      return ['# check the scope\'s network and policy settings'];
    },
  },
  propagation_pending: {
    category: 'authorization',
    status: 'fail',
    title: 'Role granted, not yet effective',
    symptom: '403 although a role covering the operation is assigned (granted minutes ago).',
    explain: (ctx) =>
      `A role that covers the operation is assigned, but ${svc(ctx)} still answers 403: it has not propagated yet. ${ctx.propagation?.advice ?? 'Role assignments take up to 10 minutes to take effect. Wait and re-run; do not grant a broader role.'}`,
    fix: (ctx) => [
      `# wait ${ctx.propagation?.retryAfterSeconds ?? 600} s and re-run (or call /api/diagnose?waitSeconds=…); do not grant a broader role`,
      roleAssignmentList(ctx),
    ],
  },
  resource_not_found: {
    category: 'target',
    status: 'warn',
    title: 'Resource not found (but authorized)',
    symptom: '404 SecretNotFound / ContainerNotFound / BlobNotFound / ResourceNotFound.',
    explain: (ctx) =>
      ctx.target.kind === 'armResource'
        ? `ARM answered 404 for ${ctx.target.resourceId}: the identity may read there, but the resource does not exist (moved, renamed or deleted).`
        : `${svc(ctx)} answered 404 — which it only does after authorization passed: the identity may read, but the ${ctx.target.kind === 'keyVaultSecret' ? 'secret' : ctx.target.kind === 'storageBlob' && ctx.target.blobName ? 'blob' : 'container'} does not exist.`,
    fix: notFoundFix,
  },
  throttled: {
    category: 'target',
    status: 'warn',
    title: 'Throttled',
    symptom: '429 with Retry-After.',
    explain: (ctx) =>
      `${svc(ctx)} throttled the request${ctx.evidence.retryAfter ? ` (Retry-After: ${ctx.evidence.retryAfter})` : ''}. Authorization was not evaluated; something is calling it too often.`,
    fix: (ctx) => [`# wait ${ctx.evidence.retryAfter ?? 'a little'}${ctx.evidence.retryAfter && /^\d+$/.test(ctx.evidence.retryAfter) ? ' s' : ''} and re-run; cache secrets instead of reading them per request`],
  },
  target_unreachable: {
    category: 'target',
    status: 'fail',
    title: 'Target unreachable',
    symptom: 'DNS failure, connection refused, reset or TLS failure before any HTTP answer.',
    explain: (ctx) =>
      `${targetHost(ctx.target, ctx.settings)} could not be reached: ${ctx.evidence.transport?.detail ?? 'transport failure'}${ctx.evidence.transport?.code ? ` (${ctx.evidence.transport.code})` : ''}. Nothing was authorized or refused yet.`,
    fix: (ctx) => {
      const host = new URL(`https://${targetHost(ctx.target, ctx.settings)}`).hostname;
      return [`nslookup ${host}`, '# check the URL in DIAGNOSE_TARGETS, private DNS zones and outbound network rules'];
    },
  },
  target_error: {
    category: 'target',
    status: 'fail',
    title: 'Target returned an error',
    symptom: '5xx or an unexpected status from the service.',
    explain: (ctx) =>
      ctx.evidence.transport?.kind === 'malformed'
        ? `${svc(ctx)} sent an answer that could not be used: ${ctx.evidence.transport.detail ?? 'unreadable'}. Not an identity problem.`
        : `${svc(ctx)} answered ${ctx.evidence.errorCode ?? ''}${ctx.evidence.message ? `: ${firstLine(ctx.evidence.message)}` : ''}. Not an identity problem; quote the request id in a support case.`,
    fix: () => ['# re-run; if it persists, open a support case with the request and correlation ids above'],
  },
  deadline_exceeded: {
    category: (stage) => (stage === 'token' ? 'acquisition' : 'target'),
    status: 'fail',
    title: 'Deadline exceeded',
    symptom: 'A stage did not finish within DIAGNOSE_TIMEOUT_MS.',
    explain: (ctx) =>
      `The ${ctx.stage === 'token' ? 'token acquisition' : `call to ${targetHost(ctx.target, ctx.settings)}`} did not finish within the ${ctx.settings.timeoutMs} ms deadline (DIAGNOSE_TIMEOUT_MS).`,
    fix: (ctx) => [
      ctx.stage === 'token'
        ? '# the identity endpoint is slow or silent: re-run; if it persists, restart the host'
        : `# the service did not answer in time: check network paths to ${targetHost(ctx.target, ctx.settings)}, or raise DIAGNOSE_TIMEOUT_MS`,
    ],
  },
  diagnostic_error: {
    category: 'internal',
    status: 'fail',
    title: 'Identity Doctor itself failed',
    symptom: 'An unexpected exception inside the diagnose (a bug, not your dependency).',
    explain: (ctx) => `The diagnose failed unexpectedly: ${ctx.evidence.message ?? 'unknown error'}. This is a bug in Identity Doctor, not a verdict on ${svc(ctx)}.`,
    fix: () => ['# please report it with this response (it contains no token)'],
  },
};

function firstLine(s: string): string {
  return s.split(/\r?\n/)[0]!.slice(0, 300);
}

export function categoryOf(cause: Cause, stage: Stage): Category {
  const c = CAUSE_CATALOG[cause].category;
  return typeof c === 'function' ? c(stage) : c;
}
