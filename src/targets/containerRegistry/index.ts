import { z } from 'zod';
import { assignee, privateLinkFix, resourceIdOr } from '../../advice/commands';
import { grantsAction, grantsDataAction, ROLES, type BuiltInRole } from '../../catalog/roles';
import { comment, idOr, oneLine, sh } from '../../advice/shell';
import { baseFields, httpsUrl } from '../fields';
import type { KindContext, TargetKind } from '../kind';

/**
 * A Container Registry: the probe reads one repository's properties (`repository` set) or pulls one page of the
 * catalog (repository names), through ContainerRegistryClient and the registry's own token exchange.
 */

/** A repository name as the OCI distribution spec defines it (path components of lowercase alphanumerics and separators). */
const REPOSITORY = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;

export const ContainerRegistryTargetSchema = z.object({
  ...baseFields,
  kind: z.literal('containerRegistry'),
  /** The registry's login server as a URL (ContainerRegistryClient's `endpoint`). */
  endpoint: httpsUrl('https://<registry>.azurecr.io'),
  /** Read this repository's properties; absent: list one page of the catalog instead (a different permission). */
  repository: z
    .string()
    .max(256)
    .regex(REPOSITORY, 'expected a repository name (lowercase letters and digits, with ".", "_", "-" inside and "/" between parts)')
    .optional(),
});
export type ContainerRegistryTarget = z.infer<typeof ContainerRegistryTargetSchema>;

const REGISTRY = /^[A-Za-z0-9]{5,50}$/;
export const registryName = (endpoint: string): string => new URL(endpoint).hostname.split('.')[0]!;
/** The registry name as a shell word (a placeholder when the host's first label is not a registry name). */
export const registryArg = (endpoint: string): string => idOr(registryName(endpoint), (v) => REGISTRY.test(v), 'registry-name');
const repositoryArg = (repository: string): string => idOr(repository, (v) => REPOSITORY.test(v), 'repository');

const lookupId = (t: ContainerRegistryTarget) => `az acr show --name ${registryArg(t.endpoint)} --query id -o tsv`;

/**
 * What the probe asks the registry for. Its token scope (the WWW-Authenticate challenge's `scope`) and the role that
 * grants it depend on the registry's role assignment permissions mode (`az acr show --query roleAssignmentMode`):
 * "RBAC Registry Permissions" honours AcrPull for both; "RBAC Registry + ABAC Repository Permissions" does not honour
 * AcrPull at all — there a repository read needs Container Registry Repository Reader and a catalog listing needs
 * Container Registry Repository Catalog Lister, which the Repository roles exclude
 * (MicrosoftDocs/azure-management-docs container-registry-rbac-built-in-roles-overview.md, "Recommended built-in roles
 * by scenario", both tabs; container-registry-rbac-abac-repository-permissions.md).
 */
export function registryOperation(t: ContainerRegistryTarget): { what: string; scope: string; dataAction: string; abacRole: BuiltInRole } {
  return t.repository
    ? {
        what: `read the properties of repository ${t.repository}`,
        scope: `repository:${t.repository}:metadata_read`,
        dataAction: 'Microsoft.ContainerRegistry/registries/repositories/metadata/read',
        abacRole: ROLES.containerRegistryRepositoryReader,
      }
    : {
        what: 'list the repositories (catalog)',
        scope: 'registry:catalog:*',
        dataAction: 'Microsoft.ContainerRegistry/registries/catalog/read',
        abacRole: ROLES.containerRegistryRepositoryCatalogLister,
      };
}

const PULL = 'Microsoft.ContainerRegistry/registries/pull/read';

const MODE_CHECK = (t: ContainerRegistryTarget) => `az acr show --name ${registryArg(t.endpoint)} --query roleAssignmentMode -o tsv`;

/** The grant a registry in ABAC mode needs instead of AcrPull, at the registry (an ABAC condition may narrow it). */
function abacGrant(ctx: KindContext<ContainerRegistryTarget>): string {
  const t = ctx.target;
  const role = registryOperation(t).abacRole;
  return (
    `az role assignment create --assignee-object-id ${assignee(ctx)} --assignee-principal-type ServicePrincipal ` +
    `--role ${sh(role.name)} --scope ${resourceIdOr(t.resourceId, lookupId(t))}`
  );
}

/** The step of the token exchange the evidence names, in prose. */
function stepText(step: string | undefined): string {
  switch (step) {
    case 'entra_token':
      return 'handing the Microsoft Entra token to the SDK';
    case 'exchange':
      return 'POST /oauth2/exchange (Microsoft Entra token → registry refresh token)';
    case 'token':
      return 'POST /oauth2/token (refresh token → access token for one scope)';
    case 'call':
      return 'the registry API call itself';
    default:
      return 'an unknown step';
  }
}

export const containerRegistry: TargetKind<ContainerRegistryTarget, typeof ContainerRegistryTargetSchema> = {
  kind: 'containerRegistry',
  schema: ContainerRegistryTargetSchema,
  nouns: { service: 'Container Registry', short: 'ACR', target: 'Container Registry', hosts: 'Container Registry', resource: 'registry', sibling: 'repository' },
  componentType: 'datastore',
  // ContainerRegistryClient asks for `${audience ?? 'https://containerregistry.azure.net'}/.default`; its `audience`
  // option takes KnownContainerRegistryAudience, the ARM audience of each cloud (@azure/container-registry 1.1.2
  // containerRegistryClient.js, models.js). ACR accepts ARM-audience tokens unless "authentication-as-arm" is disabled
  // (container-registry-disable-authentication-as-arm.md). containerregistry.azure.net is not confirmed outside the
  // public cloud (shared/reference/services-and-hosts.md §1), so China and US Gov use their ARM audience.
  audiences: {
    AzurePublicCloud: ['https://containerregistry.azure.net', 'https://containerregistry.azure.net/', 'https://management.azure.com', 'https://management.azure.com/'],
    AzureChinaCloud: ['https://management.chinacloudapi.cn', 'https://management.chinacloudapi.cn/'],
    AzureUSGovernment: ['https://management.usgovcloudapi.net', 'https://management.usgovcloudapi.net/'],
  },
  // Login servers: Azure CLI's cloud table (acr_login_server_endpoint: .azurecr.io / .azurecr.cn / .azurecr.us), which
  // ARM's environment().suffixes.acrLoginServer mirrors; PE-DNS lists azurecr.io and azurecr.us.
  hosts: {
    suffixes: { AzurePublicCloud: 'azurecr.io', AzureChinaCloud: 'azurecr.cn', AzureUSGovernment: 'azurecr.us' },
    shape: 'one-label-under',
  },
  urlField: 'endpoint',
  endpoint: (t) => t.endpoint.replace(/\/+$/, ''),
  // Both probes (GET /acr/v1/{name}, GET /acr/v1/_catalog) are granted by AcrPull's registries/pull/read on a registry
  // in the default "RBAC Registry Permissions" mode. On a registry in ABAC mode the kind's fixes name the Repository
  // role the configured operation needs instead (registryOperation).
  operation: {
    description: 'read a repository\'s properties or list the catalog (pull)',
    plane: 'control',
    permission: PULL,
    leastRole: ROLES.acrPull,
  },
  // The role look-up cannot see the registry's permissions mode, so a role covers the probe if it does in either mode:
  // registries/pull/read (AcrPull; Reader's */read too — container-registry-roles.md's table lists Reader as able to
  // pull) for "RBAC Registry Permissions", the configured operation's data action for "… + ABAC Repository Permissions".
  // A covering role that is old and still refused is then grant_ineffective, which names the mode as the usual reason.
  grants: (role, t) => grantsAction(role, PULL) || grantsDataAction(role, registryOperation(t).dataAction),
  // Granted on the registry: repository-level access is an ABAC condition on a registry-scoped assignment, not a scope.
  scopes: { grant: () => '', touched: () => '' },
  object: (t) => (t.repository ? 'repository' : 'registry'),
  resource: {
    lookup: lookupId,
    text: (t) => `the registry ${registryName(t.endpoint)}`,
    listNames: 'az acr list --query "[].name" -o tsv',
  },
  // `errors[0].code` of a 403 (ACR answers in the Docker registry error format: {"errors":[{"code","message","detail"}]}).
  forbidden: {
    // observed: docker/build-push-action#1214, Azure/acr#633 — 403 `{"errors":[{"code":"DENIED","message":"client with IP
    // '<ip>' is not allowed access. Refer https://aka.ms/acr/firewall to grant access."}]}`; with public access disabled
    // `az acr login` fails the same way at the token exchange (MicrosoftDocs/azure-docs#85239). ACR's DENIED for a
    // missing role is unconfirmed (shared/reference/services-and-hosts.md §7.3): a missing role is a 401 here.
    DENIED: {
      cause: 'network_blocked',
      meaning: 'the registry\'s network rules refuse this client (a firewall rule that leaves its address out, or public network access disabled)',
      network: 'either',
    },
  },
  classify(f) {
    // ACR's token model (the Docker registry token spec, distribution/distribution docs/spec/auth/token.md: a token
    // granting only a subset of the requested access "must not be considered an error"): once the exchange accepted
    // the Entra token, a scope the identity may not use comes back as 401 UNAUTHORIZED from the registry call, or as a
    // refusal at POST /oauth2/token. That is a missing role, not a refused token. A 401 at /oauth2/exchange is the Entra
    // token refused: left to the shared rules (audience, tenant, expiry from the claims).
    if ((f.step === 'call' || f.step === 'token') && (f.httpStatus === 401 || (f.step === 'token' && f.httpStatus === 403)) && f.errorCode !== 'DENIED') return 'role_missing';
    return undefined;
  },
  explain: {
    role_missing: ({ target: t, evidence, claims }) => {
      const op = registryOperation(t);
      const roles = evidence.roles;
      const held = roles?.lookedUp ? [...new Set(roles.assignments.map((a) => `${a.roleName} at ${a.scope}`))] : [];
      return [
        `Container Registry ${evidence.step === 'token' ? 'refused the access token request' : 'accepted the Microsoft Entra token (POST /oauth2/exchange) but issued an access token without the access'} to ${op.what} (scope ${op.scope}): it answered ${evidence.errorCode ?? 'UNAUTHORIZED'} at ${stepText(evidence.step)}. Principal ${oneLine(claims?.oid ?? '(unknown)')} holds no role granting it at ${t.resourceId ?? `the registry ${registryName(t.endpoint)}`}.`,
        `On a registry in the default "RBAC Registry Permissions" mode that is AcrPull (${PULL}); on one in "RBAC Registry + ABAC Repository Permissions" mode AcrPull, Owner, Contributor and Reader give no image access: grant ${op.abacRole.name} (${op.dataAction}) instead — the fix lines show how to tell the mode.`,
        ...(held.length ? [`It holds ${held.join('; ')}.`] : roles?.lookedUp ? ['It holds no role at, above or below the registry.'] : []),
        ...(roles?.unavailable ? [roles.unavailable.reason] : []),
        ...(!roles?.lookedUp ? ['If you granted it minutes ago, wait up to 10 minutes for propagation before granting anything broader.'] : []),
      ].join(' ');
    },
    propagation_pending: ({ target: t, evidence, propagation }) => {
      // The look-up cannot see the registry's mode: the young grant waited for may be an AcrPull (or Reader) that never
      // takes effect there.
      const young = propagation?.assignmentCreatedOn ? Date.parse(propagation.assignmentCreatedOn) : NaN;
      const actionRoles =
        evidence.roles?.assignments
          .filter((a) => a.coversOperation && a.plane === 'control' && a.createdOn !== undefined && Date.parse(a.createdOn) === young)
          .map((a) => a.roleName) ?? [];
      return [
        `A role that covers the operation is assigned, but Container Registry still refuses it (${evidence.errorCode ?? 'UNAUTHORIZED'} at ${stepText(evidence.step)}): it has not propagated yet.`,
        propagation?.advice ?? 'Role assignments take up to 10 minutes to take effect. Wait and re-run; do not grant a broader role.',
        ...(actionRoles.length
          ? [`Unless the registry is in "RBAC Registry + ABAC Repository Permissions" mode (\`${MODE_CHECK(t)}\` prints AbacRepositoryPermissions): there ${[...new Set(actionRoles)].join(' and ')} never take${actionRoles.length === 1 ? 's' : ''} effect, and ${registryOperation(t).abacRole.name} is the role to grant.`]
          : []),
      ].join(' ');
    },
    token_rejected: ({ target: t, evidence }) =>
      `Container Registry refused the Microsoft Entra token at ${stepText(evidence.step)}${evidence.errorCode ? ` with ${evidence.errorCode}` : ''}${evidence.message ? ` ("${oneLine(evidence.message).slice(0, 300)}")` : ''}. ` +
      `ACR's answer does not say which check failed: a token from another tenant than the registry ${registryName(t.endpoint)}'s, an audience it does not take (containerregistry.azure.net, or the ARM audience unless authentication-as-arm is disabled), or an expired token. Compare the claims in this check.`,
    grant_ineffective: (ctx) => {
      const covering = ctx.evidence.roles?.assignments.filter((a) => a.coversOperation) ?? [];
      const op = registryOperation(ctx.target);
      return (
        `${covering.map((a) => `${a.roleName} at ${a.scope}`).join('; ') || 'A role covering the operation'} was assigned longer ago than propagation takes, yet the registry still refuses to ${op.what} (${ctx.evidence.errorCode ?? 'UNAUTHORIZED'} at ${stepText(ctx.evidence.step)}). ` +
        `The usual reason: the registry's role assignment permissions mode is "RBAC Registry + ABAC Repository Permissions", where AcrPull, AcrPush and AcrDelete are not honoured and Owner, Contributor and Reader give no image access — grant ${op.abacRole.name} instead. ` +
        'Otherwise: a deny assignment, a condition on the assignment, or a group grant the token does not carry yet. Waiting will not help.'
      );
    },
  },
  fixes: {
    // Appended after the AcrPull grant: the role a registry in ABAC mode needs instead.
    role_missing: (ctx) => [
      `${MODE_CHECK(ctx.target)}   ${comment('AbacRepositoryPermissions: AcrPull (and Reader) give no image access there; grant the next line instead')}`,
      abacGrant(ctx),
    ],
    grant_ineffective: (ctx) => [
      `${MODE_CHECK(ctx.target)}   ${comment('AbacRepositoryPermissions: AcrPull, Owner, Contributor and Reader give no image access; grant the next line')}`,
      abacGrant(ctx),
    ],
    resource_not_found: ({ target: t }) => [
      `az acr repository list --name ${registryArg(t.endpoint)} -o tsv`,
      comment(`fix "repository" of target "${t.name}", or push the repository${t.repository ? ` ${repositoryArg(t.repository)}` : ''}`),
    ],
    network_blocked: ({ target: t }) => [
      `az acr show --name ${registryArg(t.endpoint)} --query "{publicNetworkAccess:publicNetworkAccess, defaultAction:networkRuleSet.defaultAction}" -o json`,
      `az acr network-rule add --name ${registryArg(t.endpoint)} --ip-address <workload-outbound-ip>   ${comment('if publicNetworkAccess is Enabled and the firewall leaves this host out')}`,
      ...privateLinkFix(resourceIdOr(t.resourceId, lookupId(t)), 'registry', 'privatelink.azurecr.io'),
    ],
  },
  // Not wrong_tenant or token_expired: ACR's 401 at /oauth2/exchange does not say which check failed (its text is
  // unconfirmed), so a token refused there is token_rejected unless the claims show the audience is wrong.
  causes: [
    'authorized', 'wrong_audience', 'token_rejected', 'role_missing', 'propagation_pending', 'grant_ineffective', 'network_blocked',
    'resource_not_found', 'throttled', 'target_unreachable', 'target_error',
  ],
  loadProbe: async () => (await import('./probe')).probeContainerRegistry,
};
