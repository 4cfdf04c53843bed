import type { RoleKey } from '../../../src/catalog/roles';
import type { Cause } from '../../../src/verdict';
import type { Account, Fault } from '../model';
import { OTHER_TENANT_ID, RG_APP, TENANT_ID, USER_IDENTITY, type DiagnoseTarget } from '../scenario';
import type { World } from '../index';
import { ago, DAY } from './types';

/**
 * The causes of a storage kind (blobs, queues, tables), staged alike: one account per cause behind the storage front
 * (test/world/storageFront.ts, Azurite behind it), the same grants and faults; only the service's contents, its role,
 * the scope below the account and the shape of its error body differ.
 */
export interface StorageCauseSpec {
  /** Account names are `<prefix><case>` (lowercase letters and digits, 3-24). */
  prefix: string;
  /** What each account holds (containers, queues or tables). */
  contents(name: string): Pick<Account, 'containers' | 'queues' | 'tables'>;
  /** The service's least role. */
  role: RoleKey;
  /** The scope below the account that the cases touch (`/queueServices/default/queues/jobs`). */
  below: string;
  /** The ABAC attribute a condition that does not hold names (`Microsoft.Storage/storageAccounts/queueServices/queues:name`). */
  conditionAttribute: string;
  /** The service's error answer (XML for blobs and queues, OData JSON for tables; the code in x-ms-error-code). */
  error(status: number, code: string, message: string, detail?: string): Fault;
  /** How firewalled accounts refuse: a rule, or public network access disabled (both answer AuthorizationFailure). */
  network: 'firewall' | 'private';
  /** A role on the rule-less account that carries no data action (the control-plane trap), if any. */
  controlPlaneRole?: RoleKey;
}

const CASES = ['ok', 'tenant', 'expired', 'norole', 'firewall', 'young', 'cond', 'disabled', 'keyonly', 'throttled', 'down'] as const;
type Case = (typeof CASES)[number];

export const storageAccountId = (name: string): string => `${RG_APP}/providers/Microsoft.Storage/storageAccounts/${name}`;
export const accountOf = (spec: StorageCauseSpec, c: Case): string => `${spec.prefix}${c}`;

/** Adds one account per cause, its grants and faults. */
export function stageStorageCauses(world: World, spec: StorageCauseSpec): void {
  const oid = USER_IDENTITY.principalId;
  const extra: Partial<Record<Case, Partial<Account>>> = {
    tenant: { tenantId: OTHER_TENANT_ID },
    // What Storage answers a token past its life: 403 AuthenticationFailed with the detail saying so.
    expired: { fault: spec.error(403, 'AuthenticationFailed', 'Server failed to authenticate the request.', 'Lifetime validation failed. The token is expired.') },
    firewall: { network: spec.network },
    disabled: { disabled: true },
    keyonly: { fault: spec.error(403, 'KeyBasedAuthenticationNotPermitted', 'Key based authentication is not permitted on this storage account.') },
    throttled: { fault: { status: 429, headers: { 'Retry-After': '7', 'x-ms-error-code': 'ServerBusy' } } },
    down: { fault: { status: 503, headers: { 'x-ms-error-code': 'ServerBusy' } } },
  };
  for (const c of CASES) {
    const name = accountOf(spec, c);
    world.state.accounts.push({ name, resourceId: storageAccountId(name), tenantId: TENANT_ID, ...spec.contents(name), ...extra[c] });
    world.state.arm.resources.push(storageAccountId(name));
  }
  const id = (c: Case) => storageAccountId(accountOf(spec, c));
  for (const c of ['ok', 'tenant', 'disabled'] as const) world.grant(oid, spec.role, id(c), { createdOn: ago(DAY) });
  if (spec.controlPlaneRole) world.grant(oid, spec.controlPlaneRole, id('norole'), { createdOn: ago(DAY) });
  world.grant(oid, spec.role, `${id('young')}${spec.below}`, { createdOn: ago(60), propagationDelaySeconds: 3600 });
  world.grant(oid, spec.role, id('cond'), { createdOn: ago(2 * DAY), condition: `@Resource[${spec.conditionAttribute}] StringEquals 'other'` });
}

/**
 * One target per cause. `target(name, account, extra)` builds the kind's target on an account of these cases;
 * `notFound` and `unreachable` are the kind's own (what is missing, and a target on an account that does not resolve).
 */
export function storageCases(
  spec: StorageCauseSpec,
  label: string,
  target: (name: string, account: string, extra?: Record<string, unknown>) => DiagnoseTarget,
  own: { notFound: Record<string, unknown>; unreachable: DiagnoseTarget; disabled?: Record<string, unknown> },
): Partial<Record<Cause, DiagnoseTarget>> {
  const t = (suffix: string, c: Case, extra: Record<string, unknown> = {}) => target(`${label}-c-${suffix}`, accountOf(spec, c), extra);
  return {
    authorized: t('authorized', 'ok'),
    wrong_audience: t('wrong-audience', 'ok', { audience: 'https://vault.azure.net' }),
    wrong_tenant: t('wrong-tenant', 'tenant'),
    token_expired: t('token-expired', 'expired'),
    role_missing: t('role-missing', 'norole'),
    network_blocked: t('network', 'firewall'),
    propagation_pending: t('propagation', 'young'),
    grant_ineffective: t('grant-ineffective', 'cond'),
    resource_disabled: t('disabled', 'disabled', own.disabled),
    forbidden_other: t('forbidden-other', 'keyonly'),
    resource_not_found: t('not-found', 'ok', own.notFound),
    throttled: t('throttled', 'throttled'),
    target_unreachable: own.unreachable,
    target_error: t('error', 'down'),
  };
}

/** A blob or queue error as Storage answers it: an XML body, the code also in x-ms-error-code. */
export const xmlStorageError = (status: number, code: string, message: string, detail?: string): Fault => ({
  status,
  headers: { 'x-ms-error-code': code, 'content-type': 'application/xml' },
  body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message>${detail ? `<AuthenticationErrorDetail>${detail}</AuthenticationErrorDetail>` : ''}</Error>`,
});
