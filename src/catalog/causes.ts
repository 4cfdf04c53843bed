import type { Cause, Category, Evidence, Propagation, Stage, Status } from '../verdict';
import {
  accountArg,
  assignee,
  guidInQuery,
  hostCli,
  narrowestScopeText,
  resourceIdExpr,
  roleAssignmentCreate,
  roleAssignmentList,
  targetHost,
  vaultArg,
  type CommandContext,
} from './commands';
import { controlPlaneTrap, whyIneffective } from '../engine/propagation';
import { forbiddenCode } from './forbiddenCodes';
import { OPERATIONS } from './operations';
import { comment, idOr, oneLine, sh } from './shell';

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
/** The assignments the role look-up found that cover the probe's operation. */
const coveringOf = (ctx: CauseContext) => ctx.evidence.roles?.assignments.filter((a) => a.coversOperation) ?? [];
const selectorText = (ctx: CauseContext) =>
  ctx.settings.clientId ? `the user-assigned identity with client id ${ctx.settings.clientId}` : 'the system-assigned identity';

function identityAssignFix(ctx: CauseContext): string[] {
  const h = hostCli(ctx);
  if (h.group === 'vm') {
    return ctx.settings.clientId
      ? [`az vm identity assign -g ${h.rg} -n <vm-name> --identities ${namedIdentityId(ctx)}`]
      : [`az vm identity assign -g ${h.rg} -n <vm-name>`];
  }
  return ctx.settings.clientId
    ? [`az ${h.group} identity assign -g ${h.rg} -n ${h.name} --identities ${namedIdentityId(ctx)}`]
    : [`az ${h.group} identity assign -g ${h.rg} -n ${h.name}`];
}

function namedIdentityId(ctx: CauseContext): string {
  return `"$(az identity list --query "[?clientId=='${guidInQuery(ctx.settings.clientId, 'client-id')}'].id" -o tsv)"`;
}

/** The identities attached to this host, to pick the one AZURE_CLIENT_ID should name. */
function attachedIdentitiesList(ctx: CauseContext): string {
  const h = hostCli(ctx);
  const vm = h.group === 'vm' ? '<vm-name>' : h.name;
  return `az ${h.group} identity show -g ${h.rg} -n ${vm} --query "{systemAssigned:principalId, userAssigned:userAssignedIdentities}" -o json`;
}

function notFoundFix(ctx: CauseContext): string[] {
  const t = ctx.target;
  switch (t.kind) {
    case 'keyVaultSecret':
      return [
        `az keyvault secret list --vault-name ${vaultArg(t.vaultUrl)} --query "[].name" -o tsv`,
        comment(`create it, or point "secretName" of target "${t.name}" at a secret that exists`),
      ];
    case 'storageBlob':
      return [
        t.blobName
          ? `az storage blob list --account-name ${accountArg(t.accountUrl)} --container-name ${sh(t.container)} --auth-mode login --query "[].name" -o tsv`
          : `az storage container list --account-name ${accountArg(t.accountUrl)} --auth-mode login --query "[].name" -o tsv`,
        comment(`fix "container"/"blobName" of target "${t.name}", or create what is missing`),
      ];
    case 'armResource':
      return [`az resource show --ids ${resourceIdExpr(t)}`, comment(`fix "resourceId" of target "${t.name}" if the resource was moved or renamed`)];
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
    explain: (ctx) => {
      const said = ctx.evidence.identityEndpoint?.errorDescription;
      const quoted = said ? ` ("${oneLine(said).slice(0, 300)}")` : '';
      return ctx.settings.clientId
        ? `The identity endpoint answered that ${selectorText(ctx)} is not assigned to this host${quoted}: AZURE_CLIENT_ID names an identity that is not attached, or has a typo. Point AZURE_CLIENT_ID at one of the identities attached to this host, or attach the one it names.`
        : `No identity was named (AZURE_CLIENT_ID is not set) and the identity endpoint could not pick one${quoted}: the host has no system-assigned identity, and its user-assigned identities must be selected by client id (or resource id). Set AZURE_CLIENT_ID (or AZURE_CLIENT_RESOURCE_ID) to one of the attached identities — attaching yet another identity does not help.`;
    },
    fix: (ctx) => {
      const h = hostCli(ctx);
      const setting =
        h.group === 'vm'
          ? comment('set AZURE_CLIENT_ID=<client-id-of-an-attached-identity> in the workload\'s environment')
          : `az ${h.group} config appsettings set -g ${h.rg} -n ${h.name} --settings AZURE_CLIENT_ID=<client-id-of-an-attached-identity>`;
      // The selector first: the identity is usually attached, just not named.
      return [attachedIdentitiesList(ctx), setting, comment('or, if the intended identity is not attached at all:'), ...identityAssignFix(ctx)];
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
        // Only host-shaped entries are carried over: the list is pasted into a command.
        const hostShaped = (e: string) => /^[A-Za-z0-9.*:[\]_-]+$/.test(e);
        const list = [...new Set([...(current && current !== 'absent' ? current.split(',') : []), 'localhost', '127.0.0.1', host, '169.254.169.254'])].filter(hostShaped).join(',');
        return [`az ${h.group} config appsettings set -g ${h.rg} -n ${h.name} --settings ${sh(`NO_PROXY=${list}`)}`, `export ${sh(`NO_PROXY=${list}`)}   # locally`];
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
      comment(`request the token for scope "${ctx.expectedAudience.replace(/\/+$/, '')}/.default"`),
      ctx.target.audience
        ? comment(`in DIAGNOSE_TARGETS, target "${ctx.target.name}": remove "audience" (or set it to "${ctx.expectedAudience}")`)
        : comment(`in the calling code, use the ${svc(ctx)} audience ${ctx.expectedAudience}`),
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
      `az account show --query tenantId -o tsv   ${comment(`the tenant of the subscription holding ${targetHost(ctx.target, ctx.settings)}`)}`,
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
    fix: (ctx) => [comment(`compare the claims with what ${svc(ctx)} expects; the service's code above names the check that failed`)],
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
        `az identity list --query "[?principalId=='${guidInQuery(ctx.settings.expectedPrincipalId, 'principal-id')}'].{name:name, clientId:clientId}" -o table`,
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
      const parts = [`Principal ${oneLine(ctx.claims?.oid ?? '(unknown)')} authenticated, but holds no role granting ${op.permission} at ${narrowestScopeText(ctx.target)}.`];
      const below = roles?.lookedUp ? roles.assignments.filter((a) => a.scopeRelation === 'below') : [];
      if (below.length)
        parts.push(`It holds ${below.map((a) => `${a.roleName} at ${a.scope}`).join('; ')}: granted below, on another ${ctx.target.kind === 'keyVaultSecret' ? 'secret' : ctx.target.kind === 'storageBlob' ? 'container' : 'resource'}, which does not reach this one.`);
      if (controlPlaneTrap(ctx.target, roles))
        parts.push(`It holds only control-plane roles (${held.join('; ')}): they carry no data actions, so they never cure a data-plane 403 — the control-plane vs data-plane trap. Grant the data-plane role ${op.leastRole.name} instead.`);
      else if (op.plane === 'data') parts.push(`Control-plane roles (Owner, Contributor, Reader) do not help here: they carry no data actions. Grant the data-plane role ${op.leastRole.name}.`);
      if (roles?.lookedUp && !held.length) parts.push('It holds no role at, above or below this scope.');
      if (roles?.unavailable) parts.push(roles.unavailable.reason);
      // Only when the roles could not be read: then a fresh grant is possible. With the roles in hand, nothing was granted.
      if (!roles?.lookedUp) parts.push('If you granted it minutes ago, wait up to 10 minutes for propagation before granting anything broader.');
      return parts.join(' ');
    },
    fix: (ctx) => {
      const roles = ctx.evidence.roles;
      const least = OPERATIONS[ctx.target.kind].leastRole.name;
      const existing = roles?.lookedUp ? roles.assignments.find((a) => a.roleName === least && a.scopeRelation === 'at') : undefined;
      // Never ask to create what the look-up found: say it exists instead.
      const grant = existing ? comment(`${least} is already assigned at ${existing.scope}; it does not take effect — see the explanation`) : roleAssignmentCreate(ctx);
      return [grant, ...(roles?.unavailable ? [roles.lookup] : [])];
    },
  },
  grant_ineffective: {
    category: 'authorization',
    status: 'fail',
    title: 'Role assigned long ago, still refused',
    symptom: '403 although a role covering the operation was assigned longer ago than propagation takes.',
    explain: (ctx) => {
      const covering = coveringOf(ctx);
      const reasons = whyIneffective(ctx.evidence.roles, ctx.claims, ctx.evidence.message, Date.now(), OPERATIONS[ctx.target.kind].permission);
      const code = ctx.evidence.innerErrorCode ?? ctx.evidence.errorCode ?? '403';
      return [
        `${covering.map((a) => `${a.roleName} at ${a.scope}`).join('; ')} covers the operation and was assigned longer ago than propagation takes, yet ${svc(ctx)} still answers ${code}. This is not propagation: waiting will not help, and granting the role again changes nothing.`,
        ...(reasons.length
          ? reasons
          : [
              'What usually refuses despite a role: a deny assignment at or above the scope (list them with the command below), a condition (ABAC) on the assignment, a grant through a group that reaches the token only when it is re-minted, or a refusal that is not about roles (read the service\'s message in the evidence).',
            ]),
      ].join(' ');
    },
    fix: (ctx) => {
      const scope = resourceIdExpr(ctx.target);
      const arm = ctx.settings.armEndpoint.replace(/\/+$/, '');
      const oid = ctx.claims?.oid?.toLowerCase();
      const covering = coveringOf(ctx);
      const direct = covering.some((a) => !a.principalId || a.principalId.toLowerCase() === oid);
      const viaGroup = !direct && !!oid && covering.length > 0;
      return [
        `az role assignment list --assignee ${assignee(ctx)} --scope ${scope} --include-inherited --query "[].{role:roleDefinitionName, scope:scope, condition:condition, principal:principalId}" -o table`,
        `az rest --method get --url ${sh(arm)}${scope}${sh('/providers/Microsoft.Authorization/denyAssignments?api-version=2022-04-01')}`,
        // The group's assignment exists; a direct one to the identity does not (it would have been listed).
        ...(viaGroup ? [`${roleAssignmentCreate(ctx)}   ${comment('grant directly to the identity: group grants wait for a new token')}`] : []),
        comment('do not wait and do not grant a broader role: remove the deny assignment or fix the condition the evidence names'),
      ];
    },
  },
  access_policy_missing: {
    category: 'authorization',
    status: 'fail',
    title: 'Key Vault access policy missing',
    symptom: '403 AccessDenied (or ForbiddenByPolicy) from a vault that uses access policies.',
    explain: (ctx) => {
      const ignored = coveringOf(ctx);
      const compound = ctx.evidence.innerErrorCode === 'ForbiddenByPolicy';
      const base = compound
        ? `The vault uses access policies (not RBAC): Key Vault answered ForbiddenByPolicy — the access policy for principal ${oneLine(ctx.claims?.oid ?? '(unknown)')} requires a compound (on-behalf-of) identity, which a managed identity does not present.`
        : `The vault uses access policies (not RBAC): Key Vault answered AccessDenied, and no policy gives principal ${oneLine(ctx.claims?.oid ?? '(unknown)')} secret "get".`;
      return ignored.length
        ? `${base} The RBAC role ${ignored.map((a) => `${a.roleName} at ${a.scope}`).join(', ')} is ignored by such a vault however long ago it was granted, until the vault is switched to RBAC (enableRbacAuthorization): switch it, or add an access policy.`
        : `${base} RBAC roles are ignored by such a vault.`;
    },
    fix: (ctx) => {
      if (ctx.target.kind !== 'keyVaultSecret') return [];
      const v = vaultArg(ctx.target.vaultUrl);
      const policy = `az keyvault set-policy --name ${v} --object-id ${assignee(ctx)} --secret-permissions get`;
      const rbac = `az keyvault update --name ${v} --enable-rbac-authorization true   # then Key Vault Secrets User applies`;
      return ctx.evidence.roles?.assignments.some((a) => a.coversOperation) ? [rbac, `${policy}   # or this instead`] : [policy, `${rbac}   # or move the vault to RBAC instead`];
    },
  },
  network_blocked: {
    category: 'authorization',
    status: 'fail',
    title: 'Blocked by network rules',
    symptom: '403 Key Vault ForbiddenByFirewall/ForbiddenByConnection, Storage AuthorizationFailure.',
    explain: (ctx) => {
      const row = forbiddenCode(ctx.target.kind, ctx.evidence.errorCode, ctx.evidence.innerErrorCode);
      const code = ctx.evidence.innerErrorCode ?? ctx.evidence.errorCode ?? '403';
      const what =
        row?.network === 'private_only'
          ? 'Public network access is disabled: the service answers only over an approved private endpoint, so this host must reach it through one (private endpoint plus private DNS), or the check must run inside that network.'
          : row?.network === 'rule'
            ? 'A firewall rule (IP range or virtual-network rule) does not include this host: add a rule for the workload\'s subnet or outbound address.'
            : 'The code does not say which rule refused: a firewall / virtual-network rule that leaves this host out, or public network access disabled altogether (private endpoints only). The first fix line shows which is set.';
      return `${svc(ctx)} refused the request on network grounds (${code}${row ? `: ${row.meaning}` : ''}). ${what} No role change will fix it.`;
    },
    fix: (ctx) => {
      const t = ctx.target;
      const row = forbiddenCode(t.kind, ctx.evidence.errorCode, ctx.evidence.innerErrorCode);
      const privateLink = (group: string, name: string) => [
        `az network private-endpoint create -g <workload-resource-group> -n <endpoint-name> --vnet-name <workload-vnet> --subnet <endpoint-subnet> --private-connection-resource-id ${resourceIdExpr(t)} --group-id ${group} --connection-name <connection-name>`,
        `az network private-dns zone create -g <workload-resource-group> -n ${name}   ${comment('then link it to the workload VNet and add the endpoint\'s DNS zone group')}`,
        comment('or run this check from inside the network that already has the private endpoint; never re-enable public access to all networks'),
      ];
      if (t.kind === 'keyVaultSecret') {
        if (row?.network === 'private_only') return privateLink('vault', 'privatelink.vaultcore.azure.net');
        return [
          `az keyvault network-rule add --name ${vaultArg(t.vaultUrl)} --subnet <workload-subnet-id>   ${comment('or --ip-address <workload-outbound-ip>/32')}`,
          comment('never open the firewall to all networks'),
        ];
      }
      if (t.kind === 'storageBlob') {
        const rule = `az storage account network-rule add --account-name ${accountArg(t.accountUrl)} --subnet <workload-subnet-id>   ${comment('or --ip-address <workload-outbound-ip>')}`;
        if (row?.network === 'rule') return [rule, comment('never set the default action to Allow')];
        return [
          `az storage account show --name ${accountArg(t.accountUrl)} --query "{publicNetworkAccess:publicNetworkAccess, defaultAction:networkRuleSet.defaultAction}" -o json`,
          `${rule}   ${comment('if publicNetworkAccess is Enabled and a rule leaves this host out')}`,
          ...privateLink('blob', 'privatelink.blob.core.windows.net'),
        ];
      }
      return [comment('check the scope\'s network and policy settings')];
    },
  },
  propagation_pending: {
    category: 'authorization',
    status: 'fail',
    title: 'Role granted, not yet effective',
    symptom: '403 although a role covering the operation is assigned, more recently than propagation takes.',
    explain: (ctx) =>
      `A role that covers the operation is assigned, but ${svc(ctx)} still answers 403: it has not propagated yet. ${ctx.propagation?.advice ?? 'Role assignments take up to 10 minutes to take effect. Wait and re-run; do not grant a broader role.'}`,
    fix: (ctx) => [
      comment(`wait ${ctx.propagation?.retryAfterSeconds ?? 600} s and re-run (or call /api/diagnose?waitSeconds=…); do not grant a broader role`),
      roleAssignmentList(ctx),
    ],
  },
  resource_disabled: {
    category: 'target',
    status: 'fail',
    title: 'Target disabled',
    symptom: '403 Key Vault SecretDisabled ("Operation get is not allowed on a disabled secret"), Storage AccountIsDisabled, ARM ReadOnlyDisabledSubscription.',
    explain: (ctx) => {
      const row = forbiddenCode(ctx.target.kind, ctx.evidence.errorCode, ctx.evidence.innerErrorCode);
      return `${svc(ctx)} answered ${ctx.evidence.innerErrorCode ?? ctx.evidence.errorCode ?? '403'}${ctx.evidence.message ? ` ("${firstLine(ctx.evidence.message)}")` : ''}: ${row?.meaning ?? 'the object is disabled'}. The identity was authenticated; no role change will help — enable it.`;
    },
    fix: (ctx) => {
      const t = ctx.target;
      if (t.kind === 'keyVaultSecret')
        return [`az keyvault secret set-attributes --vault-name ${vaultArg(t.vaultUrl)} --name ${idOr(t.secretName, (v) => /^[0-9A-Za-z-]{1,127}$/.test(v), 'secret-name')} --enabled true`, comment('or point the workload at an enabled version')];
      if (t.kind === 'storageBlob')
        return [
          `az storage account show --name ${accountArg(t.accountUrl)} --query "{status:statusOfPrimary, provisioning:provisioningState}" -o json`,
          comment('a disabled account comes back when its subscription is re-enabled (billing, or a support case)'),
        ];
      return [`az account show --subscription ${sh(t.resourceId.split('/')[2] ?? '')} --query state -o tsv`, comment('re-enable the subscription (billing) before anything else')];
    },
  },
  forbidden_other: {
    category: 'authorization',
    status: 'fail',
    title: 'Refused for another reason',
    symptom: 'A 403 whose code is not about roles, or that Identity Doctor does not recognise (the service\'s code and message are in the evidence).',
    explain: (ctx) => {
      const row = forbiddenCode(ctx.target.kind, ctx.evidence.errorCode, ctx.evidence.innerErrorCode);
      const codes = [ctx.evidence.errorCode, ctx.evidence.innerErrorCode].filter(Boolean).join(' / ') || 'no error code';
      const words = ctx.evidence.message ? ` The service said: "${firstLine(ctx.evidence.message)}".` : '';
      return row
        ? `${svc(ctx)} answered 403 ${codes}: ${row.meaning}. That is not a missing role, so granting one will not help.${words}`
        : `${svc(ctx)} answered 403 with ${codes}, which Identity Doctor does not recognise, so it does not guess a cause: it is not reported as a missing role.${words}`;
    },
    fix: (ctx) => {
      const code = ctx.evidence.errorCode;
      if (code === 'KeyBasedAuthenticationNotPermitted') return [comment('call Storage with a Microsoft Entra token (the SDK with a TokenCredential; az … --auth-mode login), not an account key or key-signed SAS')];
      if (code === 'RequestDisallowedByPolicy') return [`az policy assignment list --scope ${resourceIdExpr(ctx.target)} --query "[].{name:name, policy:policyDefinitionId}" -o table`];
      return [comment('read the service\'s code and message in the evidence; no role change is suggested for a refusal that is not about roles')];
    },
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
    fix: (ctx) => [comment(`wait ${ctx.evidence.retryAfter ?? 'a little'}${ctx.evidence.retryAfter && /^\d+$/.test(ctx.evidence.retryAfter) ? ' s' : ''} and re-run; cache secrets instead of reading them per request`)],
  },
  target_unreachable: {
    category: 'target',
    status: 'fail',
    title: 'Target unreachable',
    symptom: 'DNS failure (the name does not exist), connection refused, reset or TLS failure before any HTTP answer.',
    explain: (ctx) => {
      const t = ctx.evidence.transport;
      const host = oneLine(targetHost(ctx.target, ctx.settings));
      if (t?.kind === 'dns' && ctx.target.kind !== 'armResource') {
        const noun = ctx.target.kind === 'keyVaultSecret' ? 'vault' : 'storage account';
        return `${host} does not resolve${t.code ? ` (${t.code})` : ''}: most often the ${noun} does not exist or its name is misspelt — every ${noun} has a public DNS name, even one behind a private endpoint. If it does exist, this host's DNS cannot see it (a private DNS zone not linked to the workload's network). Nothing was authorized or refused yet.`;
      }
      return `${host} could not be reached: ${t?.detail ?? 'transport failure'}${t?.code ? ` (${t.code})` : ''}. ${t?.kind === 'dns' ? 'The name does not resolve.' : 'The name resolved; the connection failed — a firewall, a proxy or an outage, not a missing resource.'} Nothing was authorized or refused yet.`;
    },
    fix: (ctx) => {
      const host = new URL(`https://${targetHost(ctx.target, ctx.settings)}`).hostname;
      const t = ctx.target;
      if (ctx.evidence.transport?.kind === 'dns' && t.kind !== 'armResource') {
        const list = t.kind === 'keyVaultSecret' ? 'az keyvault list --query "[].name" -o tsv' : 'az storage account list --query "[].name" -o tsv';
        return [list, `nslookup ${sh(host)}`, comment(`fix the URL of target "${t.name}" in DIAGNOSE_TARGETS; if the resource exists, link its private DNS zone to this network`)];
      }
      return [`nslookup ${sh(host)}`, comment('check the URL in DIAGNOSE_TARGETS, private DNS zones and outbound network rules')];
    },
  },
  target_error: {
    category: 'target',
    status: 'fail',
    title: 'Target returned an error',
    symptom: '5xx or an unexpected status from the service.',
    explain: (ctx) =>
      `${svc(ctx)} answered ${ctx.evidence.errorCode ?? ''}${ctx.evidence.message ? `: ${firstLine(ctx.evidence.message)}` : ''}. Not an identity problem; quote the request id in a support case.`,
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
        : comment(`the service did not answer in time: check network paths to ${targetHost(ctx.target, ctx.settings)}, or raise DIAGNOSE_TIMEOUT_MS`),
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
