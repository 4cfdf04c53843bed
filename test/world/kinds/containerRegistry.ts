import { OTHER_TENANT_ID, RG_APP, SUBSCRIPTION, TENANT_ID, USER_IDENTITY } from '../scenario';
import type { World } from '../index';
import type { Registry } from '../model';
import { ago, DAY, json, type KindWorld } from './types';

/** Registries the identity holds no role over: a resource group of their own, with no Reader (Reader pulls, in RBAC mode). */
export const RG_ACR = `${SUBSCRIPTION}/resourceGroups/rg-acr`;
const registryId = (name: string, rg = RG_APP) => `${rg}/providers/Microsoft.ContainerRegistry/registries/${name}`;
const NAMES = {
  ok: 'cacrok', tenant: 'cacrtenant', norole: 'cacrnorole', young: 'cacryoung', abac: 'cacrabac', firewall: 'cacrfirewall',
  throttled: 'cacrthrottled', down: 'cacrdown',
} as const;
const REPOSITORIES = { 'app/api': { tagCount: 3, manifestCount: 4 }, 'app/web': { tagCount: 1, manifestCount: 1 }, base: { tagCount: 2, manifestCount: 2 } };

function registry(world: World, name: string, extra: Partial<Registry> & { rg?: string } = {}): void {
  const { rg, ...rest } = extra;
  const resourceId = registryId(name, rg);
  world.state.registries.push({ name, resourceId, tenantId: TENANT_ID, repositories: { ...REPOSITORIES }, ...rest });
  world.state.arm.resources.push(resourceId);
}
const acrError = (status: number, code: string, message: string, headers: Record<string, string> = {}) => {
  const j = json({ errors: [{ code, message }] });
  return { status, headers: { ...j.headers, ...headers }, body: j.body };
};

/**
 * Container Registry (test/world/containerRegistry.ts): one registry per cause. The standard world's Reader on rg-app
 * lets the identity pull from every RBAC-mode registry there (Reader's *\/read), so the registry without a role lives in
 * rg-acr; the young grant and the AcrPull trap are ABAC-mode registries in rg-app, where Reader and AcrPull give no
 * image access and the role look-up can still read the assignments.
 */
export const containerRegistry: KindWorld = {
  kind: 'containerRegistry',
  simulator: 'test/world/containerRegistry.ts',
  stage(world) {
    const oid = USER_IDENTITY.principalId;
    world.state.arm.resourceGroups.push(RG_ACR);
    registry(world, NAMES.ok);
    registry(world, NAMES.tenant, { tenantId: OTHER_TENANT_ID });
    registry(world, NAMES.norole, { rg: RG_ACR });
    registry(world, NAMES.young, { roleAssignmentMode: 'abac' });
    registry(world, NAMES.abac, { roleAssignmentMode: 'abac' });
    registry(world, NAMES.firewall, { network: 'firewall' });
    // The Docker registry error code for throttling (distribution spec: TOOMANYREQUESTS, 429); ACR's own text unconfirmed.
    registry(world, NAMES.throttled, { fault: acrError(429, 'TOOMANYREQUESTS', 'too many requests', { 'Retry-After': '7' }) });
    registry(world, NAMES.down, { fault: acrError(503, 'UNAVAILABLE', 'service unavailable') });
    for (const name of [NAMES.ok, NAMES.tenant]) world.grant(oid, 'acrPull', registryId(name), { createdOn: ago(DAY) });
    world.grant(oid, 'containerRegistryRepositoryCatalogLister', registryId(NAMES.young), { createdOn: ago(60), propagationDelaySeconds: 3600 });
    // The trap: AcrPull granted long ago on a registry whose mode no longer honours it.
    world.grant(oid, 'acrPull', registryId(NAMES.abac), { createdOn: ago(2 * DAY) });
  },
  cases(world) {
    const t = (name: string, registryName: string, extra: Record<string, unknown> = {}) =>
      ({ name, kind: 'containerRegistry' as const, endpoint: world.registryUrl(registryName), resourceId: registryId(registryName), ...extra });
    return {
      authorized: t('acr-c-authorized', NAMES.ok),
      wrong_audience: t('acr-c-wrong-audience', NAMES.ok, { audience: 'https://vault.azure.net' }),
      token_rejected: t('acr-c-token-rejected', NAMES.tenant),
      role_missing: t('acr-c-role-missing', NAMES.norole, { resourceId: registryId(NAMES.norole, RG_ACR) }),
      propagation_pending: t('acr-c-propagation', NAMES.young),
      grant_ineffective: t('acr-c-grant-ineffective', NAMES.abac),
      network_blocked: t('acr-c-network', NAMES.firewall),
      resource_not_found: t('acr-c-not-found', NAMES.ok, { repository: 'app/gone' }),
      throttled: t('acr-c-throttled', NAMES.throttled),
      target_unreachable: { name: 'acr-c-unreachable', kind: 'containerRegistry', endpoint: world.registryUrl('nxdomaincacr') },
      target_error: t('acr-c-error', NAMES.down),
    };
  },
  adHoc: (url) => ({ name: 'adhoc', kind: 'containerRegistry', endpoint: url }),
};
