import { randomBytes } from 'node:crypto';
import { OTHER_TENANT_ID, RG_APP, TENANT_ID, USER_IDENTITY } from '../scenario';
import type { World } from '../index';
import type { ConfigKeyValue, ConfigStore } from '../model';
import { ago, DAY, type KindWorld } from './types';

const storeId = (name: string) => `${RG_APP}/providers/Microsoft.AppConfiguration/configurationStores/${name}`;
const NAMES = {
  ok: 'cac-ok', tenant: 'cac-tenant', expired: 'cac-expired', norole: 'cac-norole', private: 'cac-private', young: 'cac-young',
  cond: 'cac-cond', throttled: 'cac-throttled', down: 'cac-down',
} as const;
/** The legacy audience the service still accepts: the token_expired case asks for it, and the world mints it expired. */
const LEGACY_AUDIENCE = 'https://azconfig.io';
const problem = (status: number, type: string, title: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: `https://azconfig.io/errors/${type}`, title, ...extra, status });

/** Fresh values per world, so the leak check cannot pass on a value seen before; the probe must report none of them. */
function keyValues(store: string): ConfigKeyValue[] {
  const value = () => `cfg-${store}-${randomBytes(10).toString('hex')}`;
  return [
    { key: 'App:Greeting', value: value() },
    { key: 'App:Greeting', label: 'prod', value: value(), contentType: 'text/plain' },
    { key: 'App:DbPassword', label: 'prod', value: JSON.stringify({ uri: `https://kv-ok.vault.azure.net/secrets/${value()}` }), contentType: 'application/vnd.microsoft.appconfig.keyvaultref+json;charset=utf-8' },
    { key: '.appconfig.featureflag/Beta', value: JSON.stringify({ id: 'Beta', enabled: true, description: value() }), contentType: 'application/vnd.microsoft.appconfig.ff+json;charset=utf-8' },
  ];
}

function store(world: World, name: string, extra: Partial<ConfigStore> = {}): void {
  world.state.configStores.push({ name, resourceId: storeId(name), tenantId: TENANT_ID, keyValues: keyValues(name), ...extra });
  world.state.arm.resources.push(storeId(name));
}

/** App Configuration (test/world/appConfiguration.ts): one store per cause, each answering as the real service does. */
export const appConfiguration: KindWorld = {
  kind: 'appConfiguration',
  simulator: 'test/world/appConfiguration.ts',
  stage(world) {
    const oid = USER_IDENTITY.principalId;
    for (const name of [NAMES.ok, NAMES.expired, NAMES.norole, NAMES.young, NAMES.cond]) store(world, name);
    store(world, NAMES.tenant, { tenantId: OTHER_TENANT_ID });
    store(world, NAMES.private, { network: 'private' });
    // rest-api-throttling.md: 429 problem+json too-many-requests with retry-after-ms; a 503 with retry-after-ms.
    store(world, NAMES.throttled, {
      fault: { status: 429, headers: { 'retry-after-ms': '10', 'content-type': 'application/problem+json; charset=utf-8' }, body: problem(429, 'too-many-requests', 'Resource utilization has surpassed the assigned quota', { policy: 'Total Requests' }) },
    });
    store(world, NAMES.down, { fault: { status: 503, headers: { 'retry-after-ms': '787' } } });
    for (const name of [NAMES.ok, NAMES.tenant, NAMES.expired, NAMES.private, NAMES.throttled, NAMES.down]) {
      world.grant(oid, 'appConfigurationDataReader', storeId(name), { createdOn: ago(DAY) });
    }
    // The control-plane trap: Contributor on the store carries no data action, so the read is refused all the same.
    world.grant(oid, 'contributor', storeId(NAMES.norole), { createdOn: ago(DAY) });
    world.grant(oid, 'appConfigurationDataReader', storeId(NAMES.young), { createdOn: ago(60), propagationDelaySeconds: 3600 });
    world.grant(oid, 'appConfigurationDataReader', storeId(NAMES.cond), { createdOn: ago(2 * DAY), condition: "@Resource[Microsoft.AppConfiguration/configurationStores:name] StringEquals 'other'" });
    // A token past its life, for the legacy audience only (the identity endpoint caches and hands out a stale one).
    const user = world.state.identities.find((i) => i.name === USER_IDENTITY.name);
    if (user) user.tokenLifetimeByResource = { ...user.tokenLifetimeByResource, [LEGACY_AUDIENCE]: -600 };
  },
  cases(world) {
    const t = (name: string, storeName: string, extra: Record<string, unknown> = {}) =>
      ({ name, kind: 'appConfiguration' as const, endpoint: world.appConfigUrl(storeName), key: 'App:Greeting', label: 'prod', resourceId: storeId(storeName), ...extra });
    return {
      authorized: t('appcfg-c-authorized', NAMES.ok),
      wrong_audience: t('appcfg-c-wrong-audience', NAMES.ok, { audience: 'https://vault.azure.net' }),
      wrong_tenant: t('appcfg-c-wrong-tenant', NAMES.tenant),
      token_expired: t('appcfg-c-token-expired', NAMES.expired, { audience: LEGACY_AUDIENCE }),
      role_missing: t('appcfg-c-role-missing', NAMES.norole),
      network_blocked: t('appcfg-c-network', NAMES.private),
      propagation_pending: t('appcfg-c-propagation', NAMES.young),
      grant_ineffective: t('appcfg-c-grant-ineffective', NAMES.cond),
      resource_not_found: t('appcfg-c-not-found', NAMES.ok, { key: 'App:Missing' }),
      throttled: t('appcfg-c-throttled', NAMES.throttled),
      target_unreachable: { name: 'appcfg-c-unreachable', kind: 'appConfiguration', endpoint: world.appConfigUrl('nxdomain-cac') },
      target_error: t('appcfg-c-error', NAMES.down),
    };
  },
  adHoc: (url) => ({ name: 'adhoc', kind: 'appConfiguration', endpoint: url }),
};
