import { OTHER_TENANT_ID, RG_APP, TENANT_ID, USER_IDENTITY } from '../scenario';
import type { World } from '../index';
import { ago, DAY, json, type KindWorld } from './types';

const vaultId = (name: string) => `${RG_APP}/providers/Microsoft.KeyVault/vaults/${name}`;
const NAMES = {
  ok: 'ckv-ok', tenant: 'ckv-tenant', expired: 'ckv-expired', norole: 'ckv-norole', policy: 'ckv-policy', firewall: 'ckv-firewall',
  young: 'ckv-young', cond: 'ckv-cond', disabled: 'ckv-disabled', throttled: 'ckv-throttled', down: 'ckv-down',
} as const;

function vault(world: World, name: string, extra: Record<string, unknown> = {}): void {
  world.state.vaults.push({ name, resourceId: vaultId(name), tenantId: TENANT_ID, authorization: 'rbac', secrets: { 'app-secret': `s-${name}-${Math.random()}` }, ...extra });
  world.state.arm.resources.push(vaultId(name));
}

/** Key Vault (test/world/keyVault.ts): one vault per cause, each answering as a real vault would. */
export const keyVaultSecret: KindWorld = {
  kind: 'keyVaultSecret',
  simulator: 'test/world/keyVault.ts',
  stage(world) {
    const oid = USER_IDENTITY.principalId;
    vault(world, NAMES.ok);
    vault(world, NAMES.tenant, { tenantId: OTHER_TENANT_ID });
    // What a vault answers a token past its life (AKV10021).
    vault(world, NAMES.expired, { fault: { status: 401, ...json({ error: { code: 'Unauthorized', message: 'AKV10021: Invalid token: Lifetime validation failed. The token is expired.' } }) } });
    vault(world, NAMES.norole);
    vault(world, NAMES.policy, { authorization: 'accessPolicy', accessPolicies: [] });
    vault(world, NAMES.firewall, { network: 'firewall' });
    vault(world, NAMES.young);
    vault(world, NAMES.cond);
    vault(world, NAMES.disabled, { disabledSecrets: ['app-secret'] });
    vault(world, NAMES.throttled, { fault: { status: 429, headers: { 'Retry-After': '7', 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'Throttled', message: 'Too many requests.' } }) } });
    vault(world, NAMES.down, { fault: { status: 503, ...json({ error: { code: 'ServiceUnavailable', message: 'The service is temporarily unavailable.' } }) } });
    for (const name of [NAMES.ok, NAMES.tenant, NAMES.expired, NAMES.disabled, NAMES.throttled, NAMES.down]) world.grant(oid, 'keyVaultSecretsUser', vaultId(name), { createdOn: ago(DAY) });
    world.grant(oid, 'keyVaultSecretsUser', vaultId(NAMES.young), { createdOn: ago(60), propagationDelaySeconds: 3600 });
    world.grant(oid, 'keyVaultSecretsUser', vaultId(NAMES.cond), { createdOn: ago(2 * DAY), condition: "@Resource[Microsoft.KeyVault/vaults/secrets:name] StringEquals 'other'" });
  },
  cases(world) {
    const t = (name: string, vaultName: string, extra: Record<string, unknown> = {}) =>
      ({ name, kind: 'keyVaultSecret' as const, vaultUrl: world.vaultUrl(vaultName), secretName: 'app-secret', resourceId: vaultId(vaultName), ...extra });
    return {
      authorized: t('kv-c-authorized', NAMES.ok),
      wrong_audience: t('kv-c-wrong-audience', NAMES.ok, { audience: 'https://management.azure.com/' }),
      wrong_tenant: t('kv-c-wrong-tenant', NAMES.tenant),
      token_expired: t('kv-c-token-expired', NAMES.expired),
      role_missing: t('kv-c-role-missing', NAMES.norole),
      access_policy_missing: t('kv-c-access-policy', NAMES.policy),
      network_blocked: t('kv-c-network', NAMES.firewall),
      propagation_pending: t('kv-c-propagation', NAMES.young),
      grant_ineffective: t('kv-c-grant-ineffective', NAMES.cond),
      resource_disabled: t('kv-c-disabled', NAMES.disabled),
      resource_not_found: t('kv-c-not-found', NAMES.ok, { secretName: 'no-such-secret' }),
      throttled: t('kv-c-throttled', NAMES.throttled),
      target_unreachable: { name: 'kv-c-unreachable', kind: 'keyVaultSecret', vaultUrl: world.vaultUrl('nxdomain-ckv'), secretName: 'app-secret' },
      target_error: t('kv-c-error', NAMES.down),
    };
  },
  adHoc: (url) => ({ name: 'adhoc', kind: 'keyVaultSecret', vaultUrl: url, secretName: 'app-secret' }),
};
