import { randomBytes, randomUUID } from 'node:crypto';
import { ROLES } from '../../../src/catalog/roles';
import { OTHER_TENANT_ID, RG_APP, TENANT_ID, USER_IDENTITY } from '../scenario';
import type { World } from '../index';
import type { CosmosAccount } from '../model';
import { ago, DAY, type KindWorld } from './types';

const accountId = (name: string) => `${RG_APP}/providers/Microsoft.DocumentDB/databaseAccounts/${name}`;
const NAMES = {
  ok: 'ccos-ok', tenant: 'ccos-tenant', expired: 'ccos-expired', norole: 'ccos-norole', firewall: 'ccos-firewall',
  young: 'ccos-young', throttled: 'ccos-throttled', down: 'ccos-down',
} as const;
const READER = ROLES.cosmosDbBuiltInDataReader.id;
const SCOPE = '/dbs/app/colls/orders';

/** The body and headers Cosmos answers with (every error body is JSON: the SDK parses it). */
const cosmosError = (status: number, code: string, message: string, headers: Record<string, string> = {}) => ({
  status,
  headers: { 'content-type': 'application/json', 'x-ms-activity-id': randomUUID(), ...headers },
  body: JSON.stringify({ code, message: `${message}\r\nActivityId: ${randomUUID()}, Microsoft.Azure.Documents.Common/2.14.0` }),
});

function account(world: World, name: string, extra: Partial<CosmosAccount> = {}): void {
  world.state.cosmos.accounts.push({
    name,
    resourceId: accountId(name),
    tenantId: TENANT_ID,
    // Fresh per world: the leak test looks for these values in every output.
    databases: { app: { orders: { partitionKeyPath: '/tenant', items: [{ id: 'order-1', tenant: 'contoso', note: `c0sm0s-${randomBytes(8).toString('hex')}` }] } } },
    ...extra,
  });
  world.state.arm.resources.push(accountId(name));
}

function sqlGrant(world: World, name: string, effectiveAt?: Date): void {
  world.state.cosmos.sqlAssignments.push({
    id: randomUUID(),
    accountName: name,
    principalId: USER_IDENTITY.principalId,
    roleDefinitionId: READER,
    scope: SCOPE,
    ...(effectiveAt ? { effectiveAt } : {}),
  });
}

/** Cosmos DB for NoSQL (test/world/cosmos.ts): one account per cause, its grants Cosmos SQL role assignments. */
export const cosmosDb: KindWorld = {
  kind: 'cosmosDb',
  simulator: 'test/world/cosmos.ts',
  stage(world) {
    account(world, NAMES.ok);
    account(world, NAMES.tenant, { tenantId: OTHER_TENANT_ID });
    // What Cosmos answers a token past its life (Azure/azure-sdk-for-js#22620).
    account(world, NAMES.expired, {
      fault: cosmosError(401, 'Unauthorized', `Request blocked by Auth ${NAMES.expired} : Provided AAD token has been expired since [7/17/2022 5:09:09 PM (UTC)]. Current server time is [7/18/2022 12:04:25 AM (UTC)]. Please refresh the AAD token.`),
    });
    account(world, NAMES.norole);
    account(world, NAMES.firewall, { network: 'firewall' });
    account(world, NAMES.young);
    account(world, NAMES.throttled, {
      fault: cosmosError(429, 'TooManyRequests', 'Message: {"Errors":["Request rate is large. More Request Units may be needed, so no changes were made. Please retry this request later. Learn more: http://aka.ms/cosmosdb-error-429"]}', { 'x-ms-retry-after-ms': '7000', 'x-ms-substatus': '3200' }),
    });
    account(world, NAMES.down, { fault: cosmosError(503, 'ServiceUnavailable', 'Service is currently unavailable. More info: https://aka.ms/cosmosdb-tsg-service-unavailable', { 'x-ms-substatus': '0' }) });
    for (const name of [NAMES.ok, NAMES.tenant, NAMES.expired, NAMES.firewall, NAMES.throttled, NAMES.down]) sqlGrant(world, name);
    // A SQL role assignment made a minute ago: ARM lists it, the data plane does not honour it yet.
    sqlGrant(world, NAMES.young, new Date(Date.now() + 3600_000));
    // The trap: Azure RBAC roles on the account (control plane), no SQL role assignment.
    world.grant(USER_IDENTITY.principalId, 'cosmosDbAccountReader', accountId(NAMES.norole), { createdOn: ago(DAY) });
    world.grant(USER_IDENTITY.principalId, 'documentDbAccountContributor', accountId(NAMES.norole), { createdOn: ago(DAY) });
  },
  cases(world) {
    const t = (name: string, accountName: string, extra: Record<string, unknown> = {}) => ({
      name,
      kind: 'cosmosDb' as const,
      accountEndpoint: world.cosmosUrl(accountName),
      database: 'app',
      container: 'orders',
      itemId: 'order-1',
      partitionKey: 'contoso',
      resourceId: accountId(accountName),
      ...extra,
    });
    return {
      authorized: t('cosmos-c-authorized', NAMES.ok),
      wrong_audience: t('cosmos-c-wrong-audience', NAMES.ok, { audience: 'https://management.azure.com/' }),
      wrong_tenant: t('cosmos-c-wrong-tenant', NAMES.tenant),
      token_expired: t('cosmos-c-token-expired', NAMES.expired),
      role_missing: t('cosmos-c-role-missing', NAMES.norole),
      network_blocked: t('cosmos-c-network', NAMES.firewall),
      propagation_pending: t('cosmos-c-propagation', NAMES.young),
      // Inside the granted container: a name outside it is refused first (403/5301), as Cosmos authorizes before it looks.
      resource_not_found: t('cosmos-c-not-found', NAMES.ok, { itemId: 'no-such-order' }),
      throttled: t('cosmos-c-throttled', NAMES.throttled),
      target_unreachable: { name: 'cosmos-c-unreachable', kind: 'cosmosDb', accountEndpoint: world.cosmosUrl('nxdomain-ccos'), database: 'app', container: 'orders' },
      target_error: t('cosmos-c-error', NAMES.down),
    };
  },
  adHoc: (url) => ({ name: 'adhoc', kind: 'cosmosDb', accountEndpoint: url, database: 'app', container: 'orders' }),
};
