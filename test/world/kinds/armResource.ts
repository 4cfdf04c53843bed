import { SUBSCRIPTION, USER_IDENTITY } from '../scenario';
import type { Fault } from '../model';
import { ago, DAY, json, type KindWorld } from './types';

const rg = (name: string) => `${SUBSCRIPTION}/resourceGroups/rg-c-${name}`;
const error = (status: number, code: string, message: string): Fault => ({ status, ...json({ error: { code, message } }) });
/** Scopes where ARM answers as it does for these conditions (test/world/arm.ts plays a fault for one scope only). */
const FAULTS: Record<string, Fault> = {
  tenant: error(401, 'InvalidAuthenticationTokenTenant', 'The access token is from the wrong issuer. It must match the tenant associated with this subscription.'),
  expired: error(401, 'ExpiredAuthenticationToken', 'The access token expiry UTC time is earlier than current UTC time.'),
  disabled: error(403, 'ReadOnlyDisabledSubscription', 'The subscription is disabled and therefore marked as read only.'),
  policy: error(403, 'RequestDisallowedByPolicy', 'Resource was disallowed by policy.'),
  throttled: { status: 429, headers: { 'Retry-After': '7', 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'TooManyRequests', message: 'Too many requests.' } }) },
  down: error(503, 'ServiceUnavailable', 'The service is temporarily unavailable.'),
};

/** Azure Resource Manager (test/world/arm.ts): one resource group per cause. */
export const armResource: KindWorld = {
  kind: 'armResource',
  simulator: 'test/world/arm.ts',
  stage(world) {
    const oid = USER_IDENTITY.principalId;
    world.state.arm.resourceGroups.push(...['ok', 'norole', ...Object.keys(FAULTS)].map(rg));
    world.grant(oid, 'reader', rg('ok'), { createdOn: ago(DAY) });
    world.state.arm.scopeFaults = [...(world.state.arm.scopeFaults ?? []), ...Object.entries(FAULTS).map(([name, fault]) => ({ scope: rg(name), fault }))];
  },
  cases(world) {
    const t = (name: string, group: string, extra: Record<string, unknown> = {}) =>
      ({ name, kind: 'armResource' as const, resourceId: rg(group), endpoint: world.armEndpoint, ...extra });
    return {
      authorized: t('arm-c-authorized', 'ok'),
      wrong_audience: t('arm-c-wrong-audience', 'ok', { audience: 'https://vault.azure.net' }),
      wrong_tenant: t('arm-c-wrong-tenant', 'tenant'),
      token_expired: t('arm-c-token-expired', 'expired'),
      role_missing: t('arm-c-role-missing', 'norole'),
      resource_disabled: t('arm-c-disabled', 'disabled'),
      forbidden_other: t('arm-c-forbidden-other', 'policy'),
      resource_not_found: t('arm-c-not-found', 'ok', { resourceId: `${rg('ok')}/providers/Microsoft.KeyVault/vaults/kv-never` }),
      throttled: t('arm-c-throttled', 'throttled'),
      target_unreachable: t('arm-c-unreachable', 'ok', { endpoint: world.armEndpoint.replace('management.azure.com', 'nxdomain.management.azure.com') }),
      target_error: t('arm-c-error', 'down'),
    };
  },
  adHoc: (url) => ({ name: 'adhoc', kind: 'armResource', resourceId: `${SUBSCRIPTION}/resourceGroups/rg-app`, endpoint: url }),
};
