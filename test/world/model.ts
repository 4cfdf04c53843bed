/**
 * The world's state: plain data that tests mutate directly. Every service reads it on every request, so a change
 * takes effect on the next request with no restart (Azurite is re-synced lazily, see azurite.ts).
 */
import type { Fault } from './faults';
import type { OpenAiAccount } from './openai';
import type { MessagingNamespace } from './amqpBroker';

export type { Fault } from './faults';

export interface Identity {
  /** Label used by `host.attached`; never sent on the wire. */
  name: string;
  kind: 'system' | 'user';
  clientId: string;
  /** Object id of the service principal: `oid` in tokens, `principalId` in role assignments. */
  principalId: string;
  tenantId: string;
  /** Becomes `xms_mirid`: the host's id for system-assigned, the identity resource's id for user-assigned. */
  resourceId: string;
  /** Default 3600. Negative values mint already-expired tokens. */
  tokenLifetimeSeconds?: number;
  /** Lifetime per requested resource (audience), over tokenLifetimeSeconds: one audience's tokens expired, the rest fine. */
  tokenLifetimeByResource?: Record<string, number>;
  /**
   * The platform's per-resource token cache (managed-identity tokens are cached ~24 h): a resource listed here is
   * answered with a token minted that many seconds ago, carrying what was true then (Graph app roles). Default none.
   */
  cachedTokenAgeSeconds?: Record<string, number>;
}

export interface Assignment {
  id: string;
  principalId: string;
  /** GUID of a role from src/catalog/roles.ts. */
  roleDefinitionId: string;
  scope: string;
  createdOn: Date;
  /** Seconds after `createdOn` before authorization decisions see it (ARM lists it at once). Default 0. */
  propagationDelaySeconds?: number;
  /**
   * An ABAC condition, listed as ARM lists it. The world does not evaluate conditions: an assignment with one stands
   * for "a condition that does not hold for this request", so decisions ignore it.
   */
  condition?: string;
}

/** A security group: assignments to it reach its members — through a token minted after the assignment. */
export interface Group {
  id: string;
  members: string[];
}

export interface AccessPolicy {
  objectId: string;
  /** Key Vault secret permissions, e.g. `['get', 'list']` (case-insensitive; `all` grants everything). */
  secrets: string[];
}

export interface Vault {
  /** First label of the vault host: `<name>.vault.azure.net`. */
  name: string;
  resourceId: string;
  tenantId: string;
  authorization: 'rbac' | 'accessPolicy';
  accessPolicies?: AccessPolicy[];
  network?: 'open' | 'firewall' | 'private';
  secrets: Record<string, string>;
  /** Secrets whose current version is disabled: get answers 403 SecretDisabled. */
  disabledSecrets?: string[];
  fault?: Fault;
  /** Region named in error messages. Default `eastus`. */
  location?: string;
}

export interface Account {
  /** First label of the account host: `<name>.blob.core.windows.net`. Lowercase letters and digits, 3–24. */
  name: string;
  resourceId: string;
  tenantId: string;
  /** `private`: public network access disabled; real Storage answers it with the same 403 as a firewall rule. */
  network?: 'open' | 'firewall' | 'private';
  /** A disabled account answers 403 AccountIsDisabled. */
  disabled?: boolean;
  /** container → blob name → content. Mirrored into Azurite before the next forwarded request. */
  containers: Record<string, Record<string, string>>;
  fault?: Fault;
  /** queue → message texts, front first (`<name>.queue.core.windows.net`). Mirrored into Azurite's queue service. */
  queues?: Record<string, string[]>;
  /** table → its entities (`<name>.table.core.windows.net`). Mirrored into Azurite's table service. */
  tables?: Record<string, TableEntity[]>;
}

/** A table entity: its keys and string properties. */
export interface TableEntity {
  PartitionKey: string;
  RowKey: string;
  [property: string]: string;
}

/** One key-value of an App Configuration store (test/world/appConfiguration.ts). */
export interface ConfigKeyValue {
  key: string;
  /** Absent: the key-value has no label (the REST API's `\0`). */
  label?: string;
  value: string;
  contentType?: string;
  locked?: boolean;
}

export interface ConfigStore {
  /** First label of the store host: `<name>.azconfig.io`. Letters, digits and `-`, 5–50. */
  name: string;
  resourceId: string;
  tenantId: string;
  /**
   * `private`: public network access disabled, the request did not come through a private endpoint (403
   * ip-address-rejected); `perimeter`: refused by a network security perimeter (403 nsp-rejected).
   */
  network?: 'open' | 'private' | 'perimeter';
  keyValues: ConfigKeyValue[];
  fault?: Fault;
}

/** A container registry (test/world/containerRegistry.ts). */
export interface Registry {
  /** First label of the login server: `<name>.azurecr.io`. Letters and digits, 5–50. */
  name: string;
  resourceId: string;
  tenantId: string;
  /**
   * The role assignment permissions mode. `rbac` ("RBAC Registry Permissions", the default): AcrPull's
   * registries/pull/read grants repository reads and catalog listing. `abac` ("RBAC Registry + ABAC Repository
   * Permissions"): AcrPull is not honoured; repository reads need repositories/metadata/read (Container Registry
   * Repository Reader), catalog listing needs catalog/read (… Catalog Lister).
   */
  roleAssignmentMode?: 'rbac' | 'abac';
  /** `firewall` / `private`: every request is refused with 403 DENIED, as ACR's network rules do. */
  network?: 'open' | 'firewall' | 'private';
  /** Repository name → what GET /acr/v1/{name} reports. */
  repositories: Record<string, { tagCount: number; manifestCount: number }>;
  /** A hostile registry: its 401 for a token without the access quotes that token's signature (redaction tests). */
  echoTokens?: boolean;
  fault?: Fault;
}

export interface ArmState {
  /** Tenant every subscription belongs to; tokens from another issuer get `InvalidAuthenticationTokenTenant`. */
  tenantId: string;
  /** Subscription GUIDs (not ids). */
  subscriptions: string[];
  /** Full resource group ids. */
  resourceGroups: string[];
  /** Full resource ids. */
  resources: string[];
  /** Management groups (`/providers/Microsoft.Management/managementGroups/<name>`) and the subscriptions under them. */
  managementGroups?: ManagementGroup[];
  /** Faults played for requests at or below one scope only (the rest of ARM answers normally). */
  scopeFaults?: { scope: string; fault: Fault }[];
}

export interface ManagementGroup {
  id: string;
  /** Subscription GUIDs. */
  subscriptions: string[];
}

export type IdentityFault =
  | 'identity_not_found'
  | { status: number; body?: string }
  | 'silent'
  | 'refuse'
  | 'malformed'
  | 'non_jwt'
  | 'no_expires_on'
  /** The same hostile answers a target can give (see faults.ts). */
  | 'huge_body'
  | 'gzip_bomb';

/**
 * One more host beside the default app host, reached through the identity server's `/hosts/<name>/…` prefix: its own
 * attached identities and fault, so one world can stage a VM, an Arc server, a Service Fabric node… side by side.
 */
export interface HostState {
  attached: string[];
  fault?: IdentityFault;
  /** Azure Arc: the realm (key file path) the 401 challenge names. */
  arcKeyFile?: string;
  /** Azure Arc: the content expected as `Authorization: Basic <content>` (what the key file held when staged). */
  arcSecret?: string;
}

/** A federated identity credential on a user-assigned identity (what Entra checks a client assertion against). */
export interface FederatedCredential {
  /** Name of the identity (Identity.name) it belongs to. */
  identity: string;
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
  createdOn: Date;
  /** Seconds after `createdOn` before Entra honours it (a new credential takes a few seconds). Default 0. */
  propagationDelaySeconds?: number;
}

export interface WorldState {
  identities: Identity[];
  host: { attached: string[] };
  /** Further hosts by name (see HostState). */
  hosts: Record<string, HostState>;
  /** Federated identity credentials Entra's token endpoint honours (AKS workload identity). */
  federatedCredentials: FederatedCredential[];
  /**
   * `'refuse'` makes the identity server drop each connection as soon as it is accepted; for a true ECONNREFUSED
   * point the service at `world.closedPort()` instead.
   */
  identityFault?: IdentityFault;
  assignments: Assignment[];
  groups: Group[];
  vaults: Vault[];
  accounts: Account[];
  arm: ArmState;
  /** Container registries (test/world/containerRegistry.ts). */
  registries: Registry[];
  armFault?: Fault;
  /** Delay (ms) before every simulated service answers. */
  latencyMs: number;
  /**
   * IMDS's limit on identity requests in flight at once, per host (Azure documents 5 concurrent requests for the
   * identity category; more are answered 429). Counted from a request's arrival to its answer, latency included.
   */
  imdsMaxConcurrent: number;
  /** App Configuration stores (test/world/appConfiguration.ts). */
  configStores: ConfigStore[];
  /** Microsoft Graph (test/world/graph.ts): its app role assignments and the tenant's directory. */
  graph: GraphState;
  /** Cosmos DB accounts and their SQL role assignments (test/world/cosmos.ts). */
  cosmos: CosmosState;
  /** Azure OpenAI resources (test/world/openai.ts). */
  openAiAccounts?: OpenAiAccount[];
  /** Service Bus and Event Hubs namespaces the AMQP broker serves (amqpBroker.ts). */
  namespaces?: MessagingNamespace[];
  /** Azure SQL logical servers (test/world/tds.ts). */
  sqlServers: SqlServer[];
}

export interface Counters {
  identity: number;
  identityByResource: Record<string, number>;
  keyVault: Record<string, number>;
  storage: Record<string, number>;
  arm: number;
  /** Requests per App Configuration store name. */
  appConfiguration: Record<string, number>;
  graph: number;
  /** IMDS requests refused with 429 for passing `imdsMaxConcurrent`. */
  imdsOverLimit: number;
}

/** An app role assignment (a Microsoft Graph application permission granted to a service principal). */
export interface AppRoleAssignment {
  id: string;
  /** The service principal (a managed identity's principal id) it is granted to. */
  principalId: string;
  /** The app role: a Graph permission id from src/catalog/graphPermissions.ts. */
  appRoleId: string;
  /** Listed by Graph at once; a token carries it when minted after this (see Identity.cachedTokenAgeSeconds). */
  createdDateTime: Date;
}

/** Microsoft Graph as one tenant sees it. */
export interface GraphState {
  /** The tenant Graph serves; a token issued elsewhere is refused. */
  tenantId: string;
  /** Object id of Microsoft Graph's own service principal in the tenant (every assignment's resourceId). */
  servicePrincipalId: string;
  appRoleAssignments: AppRoleAssignment[];
  /** Object ids GET /users/{id}, /groups/{id}, /applications/{id} find; the lists answer with them. */
  users: string[];
  groups: string[];
  applications: string[];
  /** A tenant with Microsoft Entra ID P1/P2: sign-in logs answer instead of 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant. */
  premium?: boolean;
  /** Faults played for requests whose path (after the version) starts with `path`, e.g. `/domains`. */
  pathFaults?: { path: string; fault: Fault }[];
}

/** A Cosmos DB container: its partition key path and its items (plain JSON documents with an `id`). */
export interface CosmosContainer {
  partitionKeyPath: string;
  items: Record<string, unknown>[];
}

/** A Cosmos DB for NoSQL account: `<name>.documents.azure.com` (test/world/cosmos.ts). */
export interface CosmosAccount {
  name: string;
  /** ARM id (…/providers/Microsoft.DocumentDB/databaseAccounts/<name>); ARM lists its SQL role assignments. */
  resourceId: string;
  tenantId: string;
  /** `firewall`: IP / virtual-network rules leave the caller out (403/0 naming the firewall); `blocked`: the generic 403/0. */
  network?: 'open' | 'firewall' | 'blocked';
  /** database id → container id → container. */
  databases: Record<string, Record<string, CosmosContainer>>;
  /** Custom SQL role definitions (the built-in Data Reader / Contributor always exist). */
  customRoles?: import('../../src/catalog/roles').BuiltInRole[];
  fault?: Fault;
  /** Region named in the account read. Default `East US`. */
  location?: string;
}

/** A Cosmos DB SQL role assignment: the account's own data-plane grant, not an Azure role assignment. */
export interface CosmosSqlAssignment {
  id: string;
  accountName: string;
  principalId: string;
  /** GUID of a SQL role definition (built-in 00000000-0000-0000-0000-00000000000{1,2}, or a custom one). */
  roleDefinitionId: string;
  /** Account-relative ("/", "/dbs/<db>", "/dbs/<db>/colls/<c>") or the full ARM form. */
  scope: string;
  /** Before this moment the data plane does not honour it yet (staged propagation); ARM lists it at once. */
  effectiveAt?: Date;
}

export interface CosmosState {
  accounts: CosmosAccount[];
  sqlAssignments: CosmosSqlAssignment[];
}

/** A user in a SQL database: created `FROM EXTERNAL PROVIDER` for a directory principal (looked up by its object id). */
export interface SqlDatabaseUser {
  /** What USER_NAME() answers: the name the user was created with (the identity's display name). */
  name: string;
  /** The principal's object id: the token's `oid` a login is matched with. */
  objectId: string;
  /** Database roles it is a member of (`db_datareader`, custom roles…). */
  roles: string[];
}

export interface SqlDatabase {
  name: string;
  users: SqlDatabaseUser[];
  /** Roles created with CREATE ROLE (the fixed db_* roles always exist). */
  customRoles?: string[];
}

/** An ERROR token the server answers a login with instead of checking anything (40613 unavailable, 40501 busy…). */
export interface SqlLoginFault {
  number: number;
  state: number;
  class: number;
  message: string;
}

/** An Azure SQL logical server: `<name>.database.windows.net` (or a sovereign suffix), reached over TDS 8.0. */
export interface SqlServer {
  /** First label of the server host. */
  name: string;
  resourceId: string;
  /** The tenant whose tokens it accepts (once it has an Entra admin). */
  tenantId: string;
  /** Its Microsoft Entra admin; absent: the server accepts no Entra token at all. */
  entraAdmin?: { login: string; objectId: string };
  /** `firewall`: no rule admits the client (40615); `private`: public network access denied (47073). */
  network?: 'open' | 'firewall' | 'private';
  databases: SqlDatabase[];
  fault?: SqlLoginFault;
}
