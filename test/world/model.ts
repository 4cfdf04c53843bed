/**
 * The world's state: plain data that tests mutate directly. Every service reads it on every request, so a change
 * takes effect on the next request with no restart (Azurite is re-synced lazily, see azurite.ts).
 */
import type { Fault } from './faults';

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
  armFault?: Fault;
  /** Delay (ms) before every simulated service answers. */
  latencyMs: number;
  /** Azure SQL logical servers (test/world/tds.ts). */
  sqlServers: SqlServer[];
}

export interface Counters {
  identity: number;
  identityByResource: Record<string, number>;
  keyVault: Record<string, number>;
  storage: Record<string, number>;
  arm: number;
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
