import { OTHER_TENANT_ID, RG_APP, TENANT_ID, USER_IDENTITY } from '../scenario';
import type { World } from '../index';
import { ago, DAY, type KindWorld } from './types';

const accountId = (name: string) => `${RG_APP}/providers/Microsoft.Storage/storageAccounts/${name}`;
const NAMES = {
  ok: 'cstok', tenant: 'csttenant', expired: 'cstexpired', norole: 'cstnorole', firewall: 'cstfirewall', young: 'cstyoung',
  cond: 'cstcond', disabled: 'cstdisabled', keyonly: 'cstkeyonly', throttled: 'cstthrottled', down: 'cstdown',
} as const;

function account(world: World, name: string, extra: Record<string, unknown> = {}): void {
  world.state.accounts.push({ name, resourceId: accountId(name), tenantId: TENANT_ID, containers: { data: { 'hello.txt': 'hello' } }, ...extra });
  world.state.arm.resources.push(accountId(name));
}
const storageError = (status: number, code: string, message: string, detail?: string) => ({
  status,
  headers: { 'x-ms-error-code': code, 'content-type': 'application/xml' },
  body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message>${detail ? `<AuthenticationErrorDetail>${detail}</AuthenticationErrorDetail>` : ''}</Error>`,
});

/** Blob Storage (test/world/storageFront.ts in front of Azurite): one account per cause. */
export const storageBlob: KindWorld = {
  kind: 'storageBlob',
  simulator: 'test/world/storageFront.ts',
  stage(world) {
    const oid = USER_IDENTITY.principalId;
    account(world, NAMES.ok);
    account(world, NAMES.tenant, { tenantId: OTHER_TENANT_ID });
    // What Storage answers a token past its life: 403 AuthenticationFailed with the detail saying so.
    account(world, NAMES.expired, { fault: storageError(403, 'AuthenticationFailed', 'Server failed to authenticate the request.', 'Lifetime validation failed. The token is expired.') });
    account(world, NAMES.norole);
    account(world, NAMES.firewall, { network: 'firewall' });
    account(world, NAMES.young);
    account(world, NAMES.cond);
    account(world, NAMES.disabled, { disabled: true });
    account(world, NAMES.keyonly, { fault: storageError(403, 'KeyBasedAuthenticationNotPermitted', 'Key based authentication is not permitted on this storage account.') });
    account(world, NAMES.throttled, { fault: { status: 429, headers: { 'Retry-After': '7', 'x-ms-error-code': 'ServerBusy' } } });
    account(world, NAMES.down, { fault: { status: 503, headers: { 'x-ms-error-code': 'ServerBusy' } } });
    for (const name of [NAMES.ok, NAMES.tenant, NAMES.disabled]) world.grant(oid, 'storageBlobDataReader', accountId(name), { createdOn: ago(DAY) });
    world.grant(oid, 'storageBlobDataReader', `${accountId(NAMES.young)}/blobServices/default/containers/data`, { createdOn: ago(60), propagationDelaySeconds: 3600 });
    world.grant(oid, 'storageBlobDataReader', accountId(NAMES.cond), { createdOn: ago(2 * DAY), condition: "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'other'" });
  },
  cases(world) {
    const t = (name: string, accountName: string, extra: Record<string, unknown> = {}) =>
      ({ name, kind: 'storageBlob' as const, accountUrl: world.accountUrl(accountName), container: 'data', blobName: 'hello.txt', resourceId: accountId(accountName), ...extra });
    return {
      authorized: t('blob-c-authorized', NAMES.ok),
      wrong_audience: t('blob-c-wrong-audience', NAMES.ok, { audience: 'https://vault.azure.net' }),
      wrong_tenant: t('blob-c-wrong-tenant', NAMES.tenant),
      token_expired: t('blob-c-token-expired', NAMES.expired),
      role_missing: t('blob-c-role-missing', NAMES.norole),
      network_blocked: t('blob-c-network', NAMES.firewall),
      propagation_pending: t('blob-c-propagation', NAMES.young),
      grant_ineffective: t('blob-c-grant-ineffective', NAMES.cond),
      resource_disabled: t('blob-c-disabled', NAMES.disabled),
      forbidden_other: t('blob-c-forbidden-other', NAMES.keyonly),
      resource_not_found: t('blob-c-not-found', NAMES.ok, { container: 'nope', blobName: undefined }),
      throttled: t('blob-c-throttled', NAMES.throttled),
      target_unreachable: { name: 'blob-c-unreachable', kind: 'storageBlob', accountUrl: world.accountUrl('nxdomaincst'), container: 'data' },
      target_error: t('blob-c-error', NAMES.down),
    };
  },
  adHoc: (url) => ({ name: 'adhoc', kind: 'storageBlob', accountUrl: url, container: 'data' }),
};
