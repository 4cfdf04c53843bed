import type { Cause, Category, Stage, Status } from '../verdict';
import { assignee, guidInQuery, hostCli } from './commands';
import { narrowestScopeText, resourceIdExpr, roleAssignmentCreate, roleAssignmentList, targetHost } from '../targets/commands';
import type { FixContext, ForbiddenCode, KindContext } from '../targets/kind';
import { forbiddenCode, kindOf, KINDS, leastRoleOf, operationOf, type Target } from '../targets/registry';
import { controlPlaneTrap, whyIneffective } from '../engine/propagation';
import { comment, oneLine, sh } from './shell';
import { HOST_CAUSES, workloadIdentityExpired, workloadIdentityNotFound } from './hostCauses';

/**
 * The cause catalog: every cause's category, status, title, what the user sees, and the explanation and fix
 * templates. The README's cause table is tested against this table, so the two cannot drift.
 */

/** The facts an explanation or fix is written from (see FixContext in src/targets/kind.ts). */
export type CauseContext = FixContext;

export interface CauseEntry {
  category: Category | ((stage: Stage) => Category);
  status: Status;
  title: string;
  /** What the user typically sees (for the README's cause table). */
  symptom: string;
  /** The fix in one line, for the README's cause table (the verdict's `fix` holds the real commands). */
  remedy: string;
  explain(ctx: CauseContext): string;
  fix(ctx: CauseContext): string[];
}

/** role_missing's remedy names every kind's least role (data-plane roles first; a control-plane role says its service). */
const RBAC_KINDS = KINDS.filter((k) => !k.permissions);
const OWN_MODEL_REMEDIES = KINDS.flatMap((k) => (k.permissions ? [`${k.nouns.service}: ${k.permissions.remedy}`] : []));
const ROLE_REMEDY = [
  `\`az role assignment create\` of the data-plane role (${[
    RBAC_KINDS.filter((k) => k.operation.plane === 'data').map((k) => k.operation.leastRole.name).join(', '),
    ...RBAC_KINDS.filter((k) => k.operation.plane !== 'data').map((k) => `${k.operation.leastRole.name} for ${k.nouns.short}`),
  ].join('; ')}) at the narrowest scope`,
  ...OWN_MODEL_REMEDIES,
].join('; ');

const svc = (ctx: CauseContext) => kindOf(ctx.target).nouns.service;
const OPERATION = (ctx: CauseContext) => operationOf(ctx.target, ctx.evidence);
/** The 403's row in the target kind's error dialect. */
const rowOf = (ctx: CauseContext) => forbiddenCode(ctx.target.kind, ctx.evidence.errorCode, ctx.evidence.innerErrorCode, ctx.evidence.message);
/** The kind's own fix for a cause, if it has one. */
function kindFix(ctx: CauseContext, cause: Cause, row?: ForbiddenCode): string[] | undefined {
  return kindOf<Target>(ctx.target).fixes[cause]?.(ctx as KindContext<Target>, row);
}
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

export const CAUSE_CATALOG: Record<Cause, CauseEntry> = {
  authorized: {
    category: 'authorized',
    status: 'pass',
    title: 'Authorized',
    symptom: 'The call succeeded with the managed identity\'s token.',
    remedy: '—',
    explain: (ctx) =>
      `The identity got a token for ${ctx.expectedAudience} and ${svc(ctx)} accepted it: it may ${OPERATION(ctx).description} on "${ctx.target.name}".`,
    fix: () => [],
  },
  no_managed_identity: {
    category: 'acquisition',
    status: 'fail',
    title: 'No managed identity on this host',
    symptom: 'No token: IDENTITY_ENDPOINT/IDENTITY_HEADER absent on App Service/Functions, or no IMDS answers (off Azure).',
    remedy: 'enable an identity: `az functionapp identity assign …` (or run on Azure; locally `az login`)',
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
    remedy: 'set `AZURE_CLIENT_ID` to one of the identities attached to the host (`az … identity show` lists them); attach one only if none fits',
    explain: (ctx) => {
      const wi = workloadIdentityNotFound(ctx);
      if (wi) return wi.explain;
      const said = ctx.evidence.identityEndpoint?.errorDescription;
      const quoted = said ? ` ("${oneLine(said).slice(0, 300)}")` : '';
      return ctx.settings.clientId
        ? `The identity endpoint answered that ${selectorText(ctx)} is not assigned to this host${quoted}: AZURE_CLIENT_ID names an identity that is not attached, or has a typo. Point AZURE_CLIENT_ID at one of the identities attached to this host, or attach the one it names.`
        : `No identity was named (AZURE_CLIENT_ID is not set) and the identity endpoint could not pick one${quoted}: the host has no system-assigned identity, and its user-assigned identities must be selected by client id (or resource id). Set AZURE_CLIENT_ID (or AZURE_CLIENT_RESOURCE_ID) to one of the attached identities — attaching yet another identity does not help.`;
    },
    fix: (ctx) => {
      const wi = workloadIdentityNotFound(ctx);
      if (wi) return wi.fix;
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
    remedy: 'restart the host; exclude the endpoint from any proxy (`NO_PROXY`)',
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
    remedy: 're-run (transient); restart the host if it persists',
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
    remedy: 'request the token for the service\'s audience (`<audience>/.default`); drop a wrong `audience` override',
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
    remedy: 'use an identity from the resource\'s tenant — a managed identity cannot cross tenants',
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
    remedy: 'hold the credential, not the token: let the SDK call `getToken` per request',
    explain: (ctx) =>
      workloadIdentityExpired(ctx)?.explain ??
      `The token expired${ctx.claims?.expiresAt ? ` at ${ctx.claims.expiresAt}` : ''}. Hold the credential, not the token: the SDK refreshes tokens itself when you call getToken per request.`,
    fix: (ctx) => workloadIdentityExpired(ctx)?.fix ?? ['# keep a TokenCredential and let each SDK client call getToken; never cache the token string'],
  },
  token_rejected: {
    category: 'authentication',
    status: 'fail',
    title: 'Token rejected',
    symptom: 'Another 401 (or Storage 403 AuthenticationFailed) with the service\'s own code.',
    remedy: 'read the service\'s error code in the evidence; compare the claims',
    explain: (ctx) =>
      `${svc(ctx)} rejected the token${ctx.evidence.errorCode ? ` with ${ctx.evidence.errorCode}` : ''}${ctx.evidence.message ? `: ${firstLine(ctx.evidence.message)}` : ''}.`,
    fix: (ctx) => kindFix(ctx, 'token_rejected') ?? [comment(`compare the claims with what ${svc(ctx)} expects; the service's code above names the check that failed`)],
  },
  wrong_identity: {
    category: 'authorization',
    status: 'fail',
    title: 'A different identity answered',
    symptom: 'A token came back, but its oid is not EXPECTED_PRINCIPAL_ID.',
    remedy: 'pin the intended identity with `AZURE_CLIENT_ID`',
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
    symptom: '403 Key Vault ForbiddenByRbac, Storage AuthorizationPermissionMismatch, ARM AuthorizationFailed; ACR 401 UNAUTHORIZED after its token exchange; Azure OpenAI 401 PermissionDenied; Service Bus / Event Hubs amqp:unauthorized-access "\'Listen\' (or \'Send\') claim(s) are required".',
    remedy: ROLE_REMEDY,
    explain: (ctx) => {
      const op = OPERATION(ctx);
      const roles = ctx.evidence.roles;
      const held = roles?.lookedUp ? [...new Set(roles.assignments.map((a) => `${a.roleName} at ${a.scope}`))] : [];
      const parts = [`Principal ${oneLine(ctx.claims?.oid ?? '(unknown)')} authenticated, but holds no role granting ${op.permission} at ${narrowestScopeText(ctx.target)}.`];
      const below = roles?.lookedUp ? roles.assignments.filter((a) => a.scopeRelation === 'below') : [];
      if (below.length)
        parts.push(`It holds ${below.map((a) => `${a.roleName} at ${a.scope}`).join('; ')}: granted below, on another ${kindOf(ctx.target).nouns.sibling}, which does not reach this one.`);
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
      // A service with its own permission model grants with its own command (Cosmos DB SQL roles, Graph app roles).
      if (kindOf(ctx.target).permissions) return kindFix(ctx, 'role_missing') ?? [];
      const roles = ctx.evidence.roles;
      const least = leastRoleOf(ctx.target, ctx.evidence).name;
      const existing = roles?.lookedUp ? roles.assignments.find((a) => a.roleName === least && a.scopeRelation === 'at') : undefined;
      // Never ask to create what the look-up found: say it exists instead.
      const grant = existing ? comment(`${least} is already assigned at ${existing.scope}; it does not take effect — see the explanation`) : roleAssignmentCreate(ctx);
      // A kind may add lines after the grant (Container Registry: the role its other permission mode honours).
      return [grant, ...(kindFix(ctx, 'role_missing') ?? []), ...(roles?.unavailable ? [roles.lookup] : [])];
    },
  },
  grant_ineffective: {
    category: 'authorization',
    status: 'fail',
    title: 'Role assigned long ago, still refused',
    symptom: '403 although a role covering the operation was assigned longer ago than propagation takes.',
    remedy: 'not propagation — look for a deny assignment, a condition on the assignment, or a group grant the token does not carry yet; never wait',
    explain: (ctx) => {
      const covering = coveringOf(ctx);
      const reasons = whyIneffective(ctx.evidence.roles, ctx.claims, ctx.evidence.message, Date.now(), OPERATION(ctx).permission);
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
      // A service with its own permission model says where its grants are listed (Graph: app role assignments).
      const own = kindFix(ctx, 'grant_ineffective');
      if (own) return own;
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
        // A kind's own reasons a covering role does not apply (Container Registry: AcrPull on an ABAC-mode registry).
        ...(kindFix(ctx, 'grant_ineffective') ?? []),
      ];
    },
  },
  access_policy_missing: {
    category: 'authorization',
    status: 'fail',
    title: 'Key Vault access policy missing',
    symptom: '403 AccessDenied (or ForbiddenByPolicy) from a vault that uses access policies.',
    remedy: '`az keyvault set-policy … --secret-permissions get`, or move the vault to RBAC',
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
    fix: (ctx) => kindFix(ctx, 'access_policy_missing') ?? [],
  },
  network_blocked: {
    category: 'authorization',
    status: 'fail',
    title: 'Blocked by network rules',
    symptom: '403 Key Vault ForbiddenByFirewall/ForbiddenByConnection, Storage AuthorizationFailure, ACR DENIED; Service Bus / Event Hubs 401 "Ip has been prevented to connect to the endpoint".',
    remedy: 'firewall rule → add a network rule for the workload; public access disabled → private endpoint + private DNS (or run inside that network); never open to all',
    explain: (ctx) => {
      const row = rowOf(ctx);
      const code = ctx.evidence.innerErrorCode ?? ctx.evidence.errorCode ?? '403';
      const what =
        row?.network === 'private_only'
          ? 'Public network access is disabled: the service answers only over an approved private endpoint, so this host must reach it through one (private endpoint plus private DNS), or the check must run inside that network.'
          : row?.network === 'rule'
            ? 'A firewall rule (IP range or virtual-network rule) does not include this host: add a rule for the workload\'s subnet or outbound address.'
            : 'The code does not say which rule refused: a firewall / virtual-network rule that leaves this host out, or public network access disabled altogether (private endpoints only). The first fix line shows which is set.';
      return `${svc(ctx)} refused the request on network grounds (${code}${row ? `: ${row.meaning}` : ''}). ${what} No role change will fix it.`;
    },
    fix: (ctx) => kindFix(ctx, 'network_blocked', rowOf(ctx)) ?? [comment('check the scope\'s network and policy settings')],
  },
  propagation_pending: {
    category: 'authorization',
    status: 'fail',
    title: 'Role granted, not yet effective',
    symptom: '403 although a role covering the operation is assigned, more recently than propagation takes.',
    remedy: 'wait (up to 10 min; Graph app roles: until the token is re-minted, up to ~24 h) and re-run; do not grant a broader role',
    explain: (ctx) =>
      `A role that covers the operation is assigned, but ${svc(ctx)} still answers 403: it has not propagated yet. ${ctx.propagation?.advice ?? 'Role assignments take up to 10 minutes to take effect. Wait and re-run; do not grant a broader role.'}`,
    fix: (ctx) => [
      comment(`wait ${ctx.propagation?.retryAfterSeconds ?? 600} s and re-run (or call /api/diagnose?waitSeconds=…); do not grant a broader role`),
      // A service with its own permission model lists its grants its own way (Graph: app role assignments).
      ...(kindFix(ctx, 'propagation_pending') ?? [roleAssignmentList(ctx)]),
    ],
  },
  resource_disabled: {
    category: 'target',
    status: 'fail',
    title: 'Target disabled',
    symptom: '403 Key Vault SecretDisabled ("Operation get is not allowed on a disabled secret"), Storage AccountIsDisabled, ARM ReadOnlyDisabledSubscription.',
    remedy: 'enable it: `az keyvault secret set-attributes … --enabled true`; re-enable a disabled account or subscription',
    explain: (ctx) => {
      const row = rowOf(ctx);
      return `${svc(ctx)} answered ${ctx.evidence.innerErrorCode ?? ctx.evidence.errorCode ?? '403'}${ctx.evidence.message ? ` ("${firstLine(ctx.evidence.message)}")` : ''}: ${row?.meaning ?? 'the object is disabled'}. The identity was authenticated; no role change will help — enable it.`;
    },
    fix: (ctx) => kindFix(ctx, 'resource_disabled', rowOf(ctx)) ?? [comment('enable it again, then re-run')],
  },
  forbidden_other: {
    category: 'authorization',
    status: 'fail',
    title: 'Refused for another reason',
    symptom: 'A 403 whose code is not about roles, or that Identity Doctor does not recognise (the service\'s code and message are in the evidence).',
    remedy: 'read the service\'s code and message in the evidence; no role change is suggested',
    explain: (ctx) => {
      const row = rowOf(ctx);
      const codes = [ctx.evidence.errorCode, ctx.evidence.innerErrorCode].filter(Boolean).join(' / ') || 'no error code';
      const words = ctx.evidence.message ? ` The service said: "${firstLine(ctx.evidence.message)}".` : '';
      return row
        ? `${svc(ctx)} answered 403 ${codes}: ${row.meaning}. That is not a missing role, so granting one will not help.${words}`
        : `${svc(ctx)} answered 403 with ${codes}, which Identity Doctor does not recognise, so it does not guess a cause: it is not reported as a missing role.${words}`;
    },
    fix: (ctx) => {
      const own = rowOf(ctx)?.fix?.(ctx);
      if (own) return own;
      return [comment('read the service\'s code and message in the evidence; no role change is suggested for a refusal that is not about roles')];
    },
  },
  resource_not_found: {
    category: 'target',
    status: 'warn',
    title: 'Resource not found (but authorized)',
    symptom: '404 SecretNotFound / ContainerNotFound / BlobNotFound / ResourceNotFound.',
    remedy: 'fix the name in `DIAGNOSE_TARGETS`, or create the resource',
    explain: (ctx) =>
      `${svc(ctx)} answered 404 — which it only does after authorization passed: the identity may read, but the ${kindOf(ctx.target).object(ctx.target)} does not exist.`,
    fix: (ctx) => kindFix(ctx, 'resource_not_found') ?? [comment(`fix target "${ctx.target.name}" in DIAGNOSE_TARGETS, or create what is missing`)],
  },
  throttled: {
    category: 'target',
    status: 'warn',
    title: 'Throttled',
    symptom: '429 with Retry-After.',
    remedy: 'wait `Retry-After`; cache instead of reading per request',
    explain: (ctx) =>
      `${svc(ctx)} throttled the request${ctx.evidence.retryAfter ? ` (Retry-After: ${ctx.evidence.retryAfter})` : ''}. Authorization was not evaluated; something is calling it too often.`,
    fix: (ctx) => [comment(`wait ${ctx.evidence.retryAfter ?? 'a little'}${ctx.evidence.retryAfter && /^\d+$/.test(ctx.evidence.retryAfter) ? ' s' : ''} and re-run; cache secrets instead of reading them per request`)],
  },
  target_unreachable: {
    category: 'target',
    status: 'fail',
    title: 'Target unreachable',
    symptom: 'DNS failure (the name does not exist), connection refused, reset or TLS failure before any HTTP answer.',
    remedy: 'a name that does not resolve → the resource does not exist or is misspelt (or private DNS is missing); refused/timeout → network path',
    explain: (ctx) => {
      const t = ctx.evidence.transport;
      const host = oneLine(targetHost(ctx.target, ctx.settings));
      const kind = kindOf(ctx.target);
      if (t?.kind === 'dns' && kind.resource.listNames) {
        const noun = kind.nouns.resource;
        return `${host} does not resolve${t.code ? ` (${t.code})` : ''}: most often the ${noun} does not exist or its name is misspelt — every ${noun} has a public DNS name, even one behind a private endpoint. If it does exist, this host's DNS cannot see it (a private DNS zone not linked to the workload's network). Nothing was authorized or refused yet.`;
      }
      return `${host} could not be reached: ${t?.detail ?? 'transport failure'}${t?.code ? ` (${t.code})` : ''}. ${t?.kind === 'dns' ? 'The name does not resolve.' : 'The name resolved; the connection failed — a firewall, a proxy or an outage, not a missing resource.'} Nothing was authorized or refused yet.`;
    },
    fix: (ctx) => {
      const host = new URL(`https://${targetHost(ctx.target, ctx.settings)}`).hostname;
      const t = ctx.target;
      const list = kindOf(t).resource.listNames;
      if (ctx.evidence.transport?.kind === 'dns' && list) {
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
    remedy: 're-run; quote the request/correlation ids in a support case',
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
    remedy: 're-run; check the slow stage named in `evidence.stageCut`',
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
    remedy: 'report the bug with the response (it holds no token)',
    explain: (ctx) => `The diagnose failed unexpectedly: ${ctx.evidence.message ?? 'unknown error'}. This is a bug in Identity Doctor, not a verdict on ${svc(ctx)}.`,
    fix: () => ['# please report it with this response (it contains no token)'],
  },
  ...HOST_CAUSES,
  database_user_missing: {
    category: 'authorization',
    status: 'fail',
    title: 'No database user for the identity',
    symptom: 'Azure SQL 18456 "Login failed for user \'<token-identified principal>\'." although the token is valid.',
    remedy: 'the server\'s Microsoft Entra admin runs `CREATE USER [<identity>] FROM EXTERNAL PROVIDER` and `ALTER ROLE … ADD MEMBER` in that database',
    explain: (ctx) =>
      `${svc(ctx)} accepted the token but refused the login: principal ${oneLine(ctx.claims?.oid ?? '(unknown)')} has no user in the database. Being a directory principal is necessary, not sufficient — someone must create a database user for it.`,
    fix: (ctx) => kindFix(ctx, 'database_user_missing') ?? [comment('create a database user for the identity, then add it to the roles it needs')],
  },
};

function firstLine(s: string): string {
  return s.split(/\r?\n/)[0]!.slice(0, 300);
}

/** A cause's explanation: the target kind's own wording when it has one (src/targets/<kind>/), else the catalog's (and the kind's `explainAlso` sentence). */
export function explainCause(cause: Cause, ctx: CauseContext): string {
  const kind = kindOf<Target>(ctx.target);
  const own = kind.explain?.[cause]?.(ctx as KindContext<Target>);
  if (own !== undefined) return own;
  const also = kind.explainAlso?.[cause]?.(ctx as KindContext<Target>);
  const shared = CAUSE_CATALOG[cause].explain(ctx);
  return also ? `${shared} ${also}` : shared;
}

export function categoryOf(cause: Cause, stage: Stage): Category {
  const c = CAUSE_CATALOG[cause].category;
  return typeof c === 'function' ? c(stage) : c;
}
