import { z } from 'zod';
import { assignee, guidInQuery, privateLinkFix, resourceIdOr } from '../../advice/commands';
import { ROLES } from '../../catalog/roles';
import { comment, idOr, sh } from '../../advice/shell';
import { baseFields, httpsUrl } from '../fields';
import type { TargetKind } from '../kind';
import { NEEDED_WITH_ITEM, NEEDED_WITH_QUERY } from './actions';

/**
 * A Cosmos DB for NoSQL container (and optionally one item in it), read through @azure/cosmos with a Microsoft Entra
 * token. Data access is granted by Cosmos DB SQL role assignments (the account's own permission model), not by Azure
 * RBAC: Owner, Contributor, "Cosmos DB Account Reader Role" and "DocumentDB Account Contributor" carry no data actions.
 */

/** Cosmos resource ids: 1–255 characters, none of `/ \ ? #`, no trailing space (Cosmos DB service limits). */
const cosmosName = (what: string) =>
  z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^/\\?#]*[^/\\?# ]$/, `expected a ${what} id (1-255 characters, none of / \\ ? #, no trailing space)`);
const pkValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const CosmosDbTargetSchema = z
  .object({
    ...baseFields,
    kind: z.literal('cosmosDb'),
    accountEndpoint: httpsUrl('https://<account>.documents.azure.com').refine((v) => {
      try {
        const u = new URL(v);
        return u.pathname === '/' && !u.search && !u.hash;
      } catch {
        return false;
      }
    }, 'expected the account endpoint alone, like https://<account>.documents.azure.com (no path or query)'),
    database: cosmosName('database'),
    container: cosmosName('container'),
    /** Point-read this item (needs partitionKey); without it the probe pulls one page of one item. */
    itemId: cosmosName('item').optional(),
    /** The item's partition key value (an array for hierarchical keys); for a container partitioned on /id, the itemId. */
    partitionKey: z.union([pkValue, z.array(pkValue).min(1).max(3)]).optional(),
  })
  .superRefine((t, ctx) => {
    if (t.itemId !== undefined && t.partitionKey === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['partitionKey'],
        message: 'required with itemId: the item\'s partition key value (for a container partitioned on /id, the itemId itself)',
      });
    }
  });
export type CosmosDbTarget = z.infer<typeof CosmosDbTargetSchema>;

const ACCOUNT = /^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$/;
export const accountName = (endpoint: string): string => new URL(endpoint).hostname.split('.')[0]!;
/** The account name as a shell word. */
export const accountArg = (endpoint: string): string => idOr(accountName(endpoint), (v) => ACCOUNT.test(v), 'account-name');
/** The resource group, from the configured ARM id (a placeholder without one). */
const resourceGroupArg = (t: CosmosDbTarget): string => idOr(t.resourceId?.split('/')[4], (v) => /^[-\w._()]{1,90}$/.test(v), 'resource-group');
/** The Cosmos SQL scope of the container, as `az cosmosdb sql role assignment` takes it. */
export const containerScope = (t: CosmosDbTarget): string => `/dbs/${t.database}/colls/${t.container}`;

const lookupId = (t: CosmosDbTarget) =>
  `az resource list --resource-type Microsoft.DocumentDB/databaseAccounts --name ${accountArg(t.accountEndpoint)} --query "[0].id" -o tsv`;

/** `az cosmosdb sql role assignment list` for this account, narrowed to the principal. */
export function sqlRoleAssignmentList(target: CosmosDbTarget, oid: string | undefined): string {
  return `az cosmosdb sql role assignment list --account-name ${accountArg(target.accountEndpoint)} --resource-group ${resourceGroupArg(target)} --query "[?principalId=='${guidInQuery(oid, 'principal-object-id')}']" -o table`;
}

const LEAST = ROLES.cosmosDbBuiltInDataReader;

export const cosmosDb: TargetKind<CosmosDbTarget, typeof CosmosDbTargetSchema> = {
  kind: 'cosmosDb',
  schema: CosmosDbTargetSchema,
  nouns: { service: 'Cosmos DB', short: 'Cosmos DB', target: 'Cosmos DB container', hosts: 'Cosmos DB', resource: 'Cosmos DB account', sibling: 'container' },
  componentType: 'datastore',
  // Generic audiences the service also accepts. @azure/cosmos asks for the account's own endpoint (audienceFor below)
  // and falls back to https://cosmos.azure.com only on AADSTS500011 (@azure/cosmos 4.9.3 ClientContext.js; the
  // accepted list as a 401/5008 prints it: Azure/azure-sdk-for-java#42800). The China and US Gov generic ones are seen
  // only in the .NET Tables tests: unconfirmed for NoSQL (shared/reference/services-and-hosts.md §2.1, §14).
  audiences: {
    AzurePublicCloud: ['https://cosmos.azure.com'],
    AzureChinaCloud: ['https://cosmos.azure.cn'],
    AzureUSGovernment: ['https://cosmos.azure.us'],
  },
  // What the SDK requests: `${sanitizeEndpoint(endpoint)}/.default` — the account endpoint without a trailing slash
  // (Cosmos refuses `https://<account>.documents.azure.com/` with the slash: 401/5008 in #42800).
  audienceFor: (t) => new URL(t.accountEndpoint).origin,
  // Private DNS zone forwarders (PE-DNS): documents.azure.com / .cn / .us.
  hosts: {
    suffixes: { AzurePublicCloud: 'documents.azure.com', AzureChinaCloud: 'documents.azure.cn', AzureUSGovernment: 'documents.azure.us' },
    shape: 'one-label-under',
  },
  urlField: 'accountEndpoint',
  endpoint: (t) => t.accountEndpoint,
  // The container read needs readMetadata; the point read items/read; a page of a query executeQuery.
  // Cosmos DB Built-in Data Reader holds all of them (src/targets/cosmosDb/actions.ts).
  operation: {
    description: 'read the container and one item',
    plane: 'data',
    permission: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/read',
    leastRole: LEAST,
  },
  // Cosmos SQL role assignments take an account-relative scope: "/", "/dbs/<db>", "/dbs/<db>/colls/<container>".
  scopes: { grant: containerScope, touched: containerScope },
  object: (t) => (t.itemId ? 'item (or its database or container)' : 'database or container'),
  resource: {
    lookup: lookupId,
    text: (t) => `the Cosmos DB account ${accountName(t.accountEndpoint)}`,
    listNames: 'az cosmosdb list --query "[].name" -o tsv',
  },
  // A 403's x-ms-substatus (the probe reports it as the inner code) or, where Cosmos gives none, the key forbiddenKey reads.
  forbidden: {
    // observed: Azure/azure-cosmos-dotnet-v3#2891, #3110 — 403/5301 "Request blocked by Auth <account> : Request is blocked
    // because principal [<oid>] does not have required RBAC permissions to perform action [...] on resource [...]."
    '5301': {
      cause: 'role_missing',
      meaning: 'no Cosmos DB SQL role assignment (the account\'s own data-plane permission model) grants this principal the data action; Azure RBAC roles do not count',
    },
    // observed: microsoft/azure-tools-for-java#7123 — 403 Forbidden, sub-status 0: "Request originated from IP <ip> through
    // public internet. This is blocked by your Cosmos DB account firewall settings." Also what an account with public
    // network access disabled answers from outside its private endpoints: the words do not say which.
    firewall: {
      cause: 'network_blocked',
      meaning: 'the account\'s firewall (IP or virtual-network rules) or disabled public network access refuses this caller',
      network: 'either',
    },
    // observed: Azure/azure-cosmos-dotnet-v3#2298, #4116 — 403, sub-status 0: "Request is blocked. Please check your
    // authorization token and Cosmos DB account firewall settings." A missing data role is answered 5301 instead.
    blocked: {
      cause: 'network_blocked',
      meaning: 'the account refused the request and names its firewall settings (a missing data role would have been answered 5301)',
      network: 'either',
    },
    // observed: dotnet/efcore#32197 — 403/5300 "The given request [POST /dbs/...] cannot be authorized by AAD token in data
    // plane": a control-plane operation (create a database or container, change throughput). The probe only reads.
    '5300': {
      cause: 'forbidden_other',
      meaning: 'the request is a control-plane operation that a Microsoft Entra token cannot authorize on the data plane',
      fix: () => [comment('create databases and containers, and change throughput, through ARM (az cosmosdb sql database/container create, Bicep), not the data-plane SDK')],
    },
  },
  forbiddenKey: ({ innerErrorCode, message }) => {
    if (innerErrorCode && innerErrorCode !== '0') return undefined;
    if (/This is blocked by your Cosmos DB account firewall settings/i.test(message ?? '')) return 'firewall';
    if (/Please check your authorization token and Cosmos DB account firewall settings/i.test(message ?? '')) return 'blocked';
    return undefined;
  },
  // Cosmos DB's 401s all say "Unauthorized": the sub-status and the words tell which check failed. 5008 "Provided AAD
  // token is intended for […]" (Azure/azure-sdk-for-java#42800); 5007 "… issued by the authority […] which is not
  // trusted by this database account" (Azure/azure-cosmos-dotnet-v3#3339); "Provided AAD token has been expired since
  // […]" (Azure/azure-sdk-for-js#22620, no sub-status shown). Anything else: the shared reading of the claims.
  classify: (f) => {
    if (f.httpStatus !== 401) return undefined;
    const m = f.message ?? '';
    if (f.innerErrorCode === '5008' || /Provided AAD token is intended for/i.test(m)) return 'wrong_audience';
    if (f.innerErrorCode === '5007' || /which is not trusted by this database account/i.test(m)) return 'wrong_tenant';
    if (/Provided AAD token has been expired/i.test(m)) return 'token_expired';
    return undefined;
  },
  explain: {
    role_missing: (ctx) => {
      const roles = ctx.evidence.roles;
      const held = roles?.assignments ?? [];
      const azure = held.filter((a) => a.plane === 'control').map((a) => `${a.roleName} at ${a.scope}`);
      const sql = held.filter((a) => a.plane !== 'control').map((a) => `${a.roleName} at ${a.scope}`);
      const parts = [
        `Cosmos DB answered 403${ctx.evidence.innerErrorCode ? ` with sub-status ${ctx.evidence.innerErrorCode}` : ''}: principal ${ctx.claims?.oid ?? '(unknown)'} authenticated, but no Cosmos DB SQL role assignment grants it ${ctx.target.itemId ? NEEDED_WITH_ITEM.join(' and ') : NEEDED_WITH_QUERY.join(' and ')} on ${containerScope(ctx.target)}.`,
        'Cosmos DB data-plane access is not Azure RBAC: it is granted by the account\'s own SQL role assignments (az cosmosdb sql role assignment create), never by az role assignment create.',
      ];
      if (azure.length && !sql.length && roles?.lookedUp)
        parts.push(`The identity holds only Azure RBAC (control-plane) roles here — ${azure.join('; ')} — which manage the account but carry no Cosmos data actions: the control-plane vs data-plane trap. Grant the SQL role ${LEAST.name} (${LEAST.id}) instead.`);
      else if (sql.length) parts.push(`It holds ${sql.join('; ')}, which does not reach this container or lacks the data action.`);
      else if (azure.length) parts.push(`Its Azure RBAC roles here (${azure.join('; ')}) carry no Cosmos data actions whatever they are.`);
      if (roles?.lookedUp && !held.length) parts.push('It holds no Cosmos DB SQL role assignment on this account, and no Azure role at, above or below it.');
      if (roles?.unavailable) parts.push(roles.unavailable.reason);
      if (!roles?.lookedUp) parts.push('If you created the SQL role assignment minutes ago, wait and re-run before granting anything broader.');
      return parts.join(' ');
    },
    propagation_pending: (ctx) => {
      const covering = (ctx.evidence.roles?.assignments ?? []).filter((a) => a.coversOperation).map((a) => `${a.roleName} at ${a.scope}`);
      return [
        `A Cosmos DB SQL role assignment covers the read (${covering.join('; ') || 'listed in the evidence'}), yet Cosmos DB still answers 403${ctx.evidence.innerErrorCode ? `/${ctx.evidence.innerErrorCode}` : ''}.`,
        'Cosmos does not record when a SQL role assignment was made, so its age is unknown: if it was created in the last minutes it has not reached the data plane yet — wait and re-run, do not grant a broader role.',
        'If it is older than that, this is not propagation: check that its principalId is this identity\'s object id (not its client id) and that the token is from the account\'s tenant.',
      ].join(' ');
    },
    resource_not_found: (ctx) =>
      ctx.evidence.message?.startsWith('reading the item')
        ? `Cosmos DB answered 404 for the item "${ctx.target.itemId ?? ''}" — after authorization passed: the identity may read the container, but no item has that id and partition key value.`
        : 'Cosmos DB answered 404 for the container — after authorization passed: the identity may read there, but the database or the container does not exist.',
  },
  fixes: {
    role_missing: (ctx) => [
      `az cosmosdb sql role assignment create --account-name ${accountArg(ctx.target.accountEndpoint)} --resource-group ${resourceGroupArg(ctx.target)} --role-definition-id ${LEAST.id} --principal-id ${assignee(ctx)} --scope ${sh(containerScope(ctx.target))}`,
      comment(`${LEAST.name} is a Cosmos DB SQL role, not an Azure role: Cosmos DB Account Reader Role, DocumentDB Account Contributor, Contributor and Owner never grant data access`),
    ],
    propagation_pending: (ctx) => [sqlRoleAssignmentList(ctx.target, ctx.claims?.oid)],
    resource_not_found: ({ target: t }) => [
      `az cosmosdb sql container show --account-name ${accountArg(t.accountEndpoint)} --resource-group ${resourceGroupArg(t)} --database-name ${sh(t.database)} --name ${sh(t.container)} --query "{id:resource.id, partitionKey:resource.partitionKey.paths}" -o json`,
      comment(`fix "database"/"container"${t.itemId ? '/"itemId"/"partitionKey"' : ''} of target "${t.name}", or create what is missing`),
    ],
    network_blocked: ({ target: t }) => [
      `az cosmosdb show --name ${accountArg(t.accountEndpoint)} --resource-group ${resourceGroupArg(t)} --query "{publicNetworkAccess:publicNetworkAccess, ipRules:ipRules, vnetFilter:isVirtualNetworkFilterEnabled}" -o json`,
      `az cosmosdb network-rule add --name ${accountArg(t.accountEndpoint)} --resource-group ${resourceGroupArg(t)} --vnet-name <workload-vnet> --subnet <workload-subnet>   ${comment('or add the workload\'s outbound IP to --ip-range-filter; never allow all networks')}`,
      ...privateLinkFix(resourceIdOr(t.resourceId, lookupId(t)), 'Sql', 'privatelink.documents.azure.com'),
    ],
  },
  permissions: {
    model: 'Cosmos DB SQL role assignments',
    remedy: `\`az cosmosdb sql role assignment create\` of ${LEAST.name} (${LEAST.id}) at the container scope (/dbs/<db>/colls/<container>) — not \`az role assignment create\``,
    grantLine: /^az cosmosdb sql role assignment create /,
    lookup: async (args) => (await import('./permissions')).lookupSqlRoles(args),
  },
  // Not grant_ineffective: Cosmos SQL role assignments carry no creation time, so an old grant cannot be told from a
  // young one (a covering assignment that is refused is reported as propagation_pending, its age unknown). Not
  // resource_disabled or forbidden_other: a read with an Entra token has no such answer the world could stage truthfully.
  causes: [
    'authorized', 'wrong_audience', 'wrong_tenant', 'token_expired', 'role_missing', 'network_blocked', 'propagation_pending',
    'resource_not_found', 'throttled', 'target_unreachable', 'target_error',
  ],
  loadProbe: async () => (await import('./probe')).probeCosmosDb,
};
