import type { z } from 'zod';
import type { CloudName } from '../catalog/clouds';
import type { CommandContext } from '../advice/commands';
import type { BuiltInRole, Plane } from '../catalog/roles';
import type { TokenCredential } from '@azure/identity';
import type { Settings } from '../config';
import type { Cause, Claims, Evidence, Propagation, RoleEvidence, Stage } from '../verdict';
import type { CallFailure, Probe } from './probe';

/**
 * The contract a target kind implements: everything Identity Doctor knows about one service, in one folder
 * (`src/targets/<kind>/index.ts`, the probe beside it in `probe.ts`). The registry (`src/targets/registry.ts`) lists
 * the kinds; the settings schema, the verdict's kind enum, dispatch, nouns, health component types, the README's
 * tables and the infra test all derive from it. Nothing outside the registry and the kind folders branches on a kind.
 */

/** What a kind's default endpoint may depend on: the configured ARM endpoint, and the cloud (Settings has both). */
export interface EndpointDefaults {
  armEndpoint: string;
  /** The configured cloud; absent, a kind assumes the public cloud. */
  cloud?: { name: CloudName };
}

/** The fields every target has, whatever its kind. */
export interface BaseTarget {
  kind: string;
  name: string;
  /** ARM id of the resource the target lives in (a vault, an account): fixes and role look-ups read it. */
  resourceId?: string;
  /** Overrides the cloud's audience for this kind (a wrong value here is what the verdict must catch). */
  audience?: string;
}

/** What the probe does, the permission it exercises and the least built-in role that grants it. */
export interface Operation {
  /** Human wording, e.g. "read the secret". */
  description: string;
  plane: Plane;
  /** The action (control plane) or data action (data plane) the service checks. */
  permission: string;
  leastRole: BuiltInRole;
}

/** What the service's text, the verdict's explanation and the outputs call a kind. */
export interface KindNouns {
  /** The service in prose ("Key Vault", "Storage", "Azure Resource Manager"). */
  service: string;
  /** The service on the chain's call step ("Key Vault", "Storage", "ARM"). */
  short: string;
  /** A target of this kind, in the HTML report's table ("Key Vault secret"). */
  target: string;
  /** The service whose hosts the ad-hoc host policy accepts ("Blob Storage"). */
  hosts: string;
  /** The resource a target lives in ("vault", "storage account"), when it has a name of its own in DNS. */
  resource: string;
  /** Another object of the kind a finer grant may reach instead ("secret", "container", "resource"). */
  sibling: string;
}

/** The context an explanation or a fix is written in (the verdict's facts for one check). */
export interface FixContext extends CommandContext {
  evidence: Evidence;
  expectedAudience: string;
  stage: Stage;
  propagation?: Propagation;
}

/** A fix or explanation context whose target is known to be of kind T. */
export type KindContext<T extends BaseTarget> = Omit<FixContext, 'target'> & { target: T };

/** One row of a kind's error dialect: what a service code of a 403 means. */
export interface ForbiddenCode {
  cause: Cause;
  /** What the code means, in a sentence that goes into the explanation. */
  meaning: string;
  /** For network refusals: which rule blocked (decides the fix). */
  network?: 'private_only' | 'rule' | 'either';
  /** A fix of its own, when the code names the remedy better than its cause does (forbidden_other rows). */
  fix?: (ctx: FixContext) => string[];
  /**
   * For a service whose token carries the permissions themselves (Microsoft Graph's `roles` claim): the cause the
   * claims decide, before `cause` (undefined: `cause`). The token is the better witness than the service's code.
   */
  fromClaims?: (claims: Claims | undefined, target: BaseTarget) => Cause | undefined;
}

/** What a kind's own permission look-up is given (see TargetKind.permissions). */
export interface PermissionLookup<T extends BaseTarget> {
  target: T;
  /** The token's oid (a GUID): whose grants to read. */
  oid: string;
  claims?: Claims;
  settings: Settings;
  /** Fires at the diagnose deadline. */
  signal: AbortSignal;
  /** A credential of the same identity for another audience (ARM, Graph) through the same token memo, or why there is none. */
  credentialFor(audience: string): Promise<{ ok: true; credential: TokenCredential } | { ok: false; reason: string }>;
  /** The Azure RBAC look-up every other kind gets (to show control-plane roles beside the service's own grants); undefined without a resourceId. */
  azureRoles(): Promise<RoleEvidence | undefined>;
}

/**
 * A service whose data access is granted outside Azure RBAC: Cosmos DB SQL role assignments, Microsoft Graph app role
 * assignments, SQL database users and roles. After a role_missing its look-up replaces the ARM role look-up, and the
 * kind's `fixes.role_missing` replaces `az role assignment create`. Its evidence keeps the RoleEvidence shape (with
 * `model` and, when it differs, `windowSeconds` set), so propagation_pending and grant_ineffective are judged as for RBAC.
 */
export interface PermissionModel<T extends BaseTarget> {
  /** What its grants are called, plural ("Cosmos DB SQL role assignments"). */
  model: string;
  /** The README's one-line remedy for role_missing with this kind ("`az cosmosdb sql role assignment create` of …"). */
  remedy: string;
  /** Recognises a fix line that creates a grant in this model (the conformance suite: no grant for a cause no grant cures). */
  grantLine: RegExp;
  /** Reads what the principal holds; never throws (an unreadable model is `lookedUp: false` with the reason). Absent: no look-up. */
  lookup?(args: PermissionLookup<T>): Promise<RoleEvidence>;
}

/** A kind module: see the file comment. T is its target type, S its zod schema. */
export interface TargetKind<T extends BaseTarget = BaseTarget, S extends z.ZodType<T> = z.ZodType<T>> {
  kind: T['kind'];
  /** The settings schema of one target (zod), with `kind` as its literal discriminator. */
  schema: S;
  nouns: KindNouns;
  /** Its componentType in application/health+json (the IETF draft's predefined values). */
  componentType: 'datastore' | 'system' | 'component';
  /** The audiences the service accepts in each cloud; the first is the one a token is requested for. */
  audiences: Readonly<Record<CloudName, readonly [string, ...string[]]>>;
  /** The service's host suffix in each cloud, and whether a target's host is one label under it or exactly it. */
  hosts: {
    suffixes: Readonly<Record<CloudName, string>>;
    shape: 'one-label-under' | 'exactly';
    /**
     * Further suffixes of the same service in each cloud, for a service reachable under more than one domain (Azure
     * OpenAI: `<name>.openai.azure.com` and `<name>.cognitiveservices.azure.com` are both a resource's custom subdomain).
     * The ad-hoc host policy accepts a host under any of them, with the same shape. Optional; most services have one.
     */
    alsoSuffixes?: Readonly<Partial<Record<CloudName, readonly string[]>>>;
  };
  /** The field that holds the URL the token is sent to (what the ad-hoc host policy checks). */
  urlField: string;
  /** The URL the probe calls: the URL field, or a configured default (ARM; Graph: the cloud's). */
  endpoint(target: T, defaults: EndpointDefaults): string;
  /** The default endpoint as configured, trusted for ad-hoc targets because the operator configured it. */
  configuredEndpoint?(defaults: { armEndpoint: string }): string;
  operation: Operation;
  /**
   * The least role of this target, when it depends on the target (Microsoft Graph: the application permission the
   * target configures, from src/catalog/graphPermissions.ts). Absent: `operation.leastRole`, the kind's one least role
   * (which stays what the README's role table and infra/ show). Read it through `leastRoleOf` (registry.ts).
   */
  leastRoleFor?(target: T): BuiltInRole;
  /** The ARM scopes that decide access, as suffixes below the resource id. */
  scopes: {
    /** Where the least role is granted: the narrowest scope the operation succeeds at (a container beats its account). */
    grant(target: T): string;
    /** What the operation touches (one secret, one container): finer grants there decide access too. */
    touched(target: T): string;
  };
  /** What the probe reads, for a 404 ("secret", "blob", "container"). */
  object(target: T): string;
  /** The resource a target lives in, for fixes and the role look-up. */
  resource: {
    /** An az command printing its ARM id from what the target knows, when the resourceId is not configured. */
    lookup(target: T): string | undefined;
    /** The resource in prose when no resourceId is configured. */
    text(target: T): string;
    /** An az command listing the names of such resources (for a name that does not resolve). */
    listNames?: string;
  };
  /** The error dialect: a 403's service code (the inner code first) → cause. Unknown codes fall back in the engine. */
  forbidden: Readonly<Record<string, ForbiddenCode>>;
  /**
   * A 401's service code (the inner code first) that is NOT an authentication failure, → its cause. For a service that
   * answers an authorization refusal with 401: Azure OpenAI says a missing data action with 401 `PermissionDenied`
   * ("The principal … lacks the required data action …"), which is role_missing, not a rejected token. Optional: a 401
   * whose code is not listed here is read as authentication, as for every other kind.
   */
  unauthorized?: Readonly<Record<string, ForbiddenCode>>;
  /** Explanations the kind words itself (the shared catalog's wording otherwise). */
  explain?: Partial<Record<Cause, (ctx: KindContext<T>) => string>>;
  /**
   * A sentence the kind adds after the shared catalog's explanation of a cause, when the catalog's wording holds and
   * only a fact of the service is missing (e.g. Storage queues: the probe only peeks; a consumer that dequeues needs more).
   * Ignored for a cause the kind words itself in `explain`.
   */
  explainAlso?: Partial<Record<Cause, (ctx: KindContext<T>) => string>>;
  /** Fix commands per cause the kind knows better than the shared catalog (az; values quoted for bash). */
  fixes: Partial<Record<Cause, (ctx: KindContext<T>, row: ForbiddenCode | undefined) => string[]>>;
  /**
   * Its token carries the identity's permissions themselves (Microsoft Graph: the app roles in `roles`): an ad-hoc
   * target of another kind may not ask for this kind's audience (the wrong-audience test an ad-hoc caller may run with
   * any other service's audience), so such a token goes to its own service only. Configured targets are the operator's.
   */
  tokenCarriesPermissions?: true;
  /** Set when the service grants data access outside Azure RBAC (see PermissionModel). */
  permissions?: PermissionModel<T>;
  /**
   * Set when a target's own settings select what it probes (Service Bus `access`: receive and/or send), so the least
   * role differs per target; `operation` stays the default. `evidence` (when known) tells which claim was refused.
   * Read it through `operationOf` (registry.ts).
   */
  operationFor?(target: T, evidence?: Evidence): Operation;
  /**
   * Classifies a call failure before the shared rules, for a service whose answers do not follow 401 = token refused,
   * 403 = not permitted, or carry no code of their own: Container Registry refuses a missing permission with 401 once
   * its own token exchange has succeeded; App Configuration answers a missing data role with a bare 403 and a wrong
   * tenant only in its 401's WWW-Authenticate; SQL answers in TDS error numbers. Undefined leaves the failure to the shared rules (codes, then the
   * token's claims). A service that answers in its own protocol (AMQP: Service Bus, Event Hubs) reads its failure here
   * too, and may answer 'authentication' to let the shared token rules (codes, then claims) decide. Pure, like the
   * rest of classification.
   */
  classify?(failure: CallFailure): Cause | 'authentication' | undefined;
  /**
   * The audience a token is requested for when it depends on the target, not only on the cloud (Cosmos DB: the
   * account's own endpoint, `https://<account>.documents.azure.com`, exactly as its SDK asks). Absent: `audiences[cloud][0]`.
   * A target's `audience` override still wins. The service is taken to accept it besides `audiences[cloud]`.
   */
  audienceFor?(target: T, cloud: CloudName): string;
  /**
   * A 403's key in `forbidden` when the service's code and inner code alone do not tell (Cosmos DB: the x-ms-substatus
   * is the inner code, but its firewall answers sub-status 0 and says so only in words). Consulted before the codes.
   */
  forbiddenKey?(failure: { errorCode?: string; innerErrorCode?: string; message?: string }): string | undefined;
  /**
   * Whether a role grants the operation on this target, when the operation's one permission cannot say it (Container
   * Registry honours AcrPull's Action in one permission mode and the Repository roles' data actions in the other, and
   * which data action depends on the configured fields). Absent: the operation's plane and permission decide.
   */
  grants?(role: BuiltInRole, target: T): boolean;
  /**
   * For a target that names a host rather than an https URL (SQL's TDS on port 1433): the URL the ad-hoc host policy
   * checks, from the raw request item — `https://<host>` on the service's own port, `https://<host>:<port>` on any
   * other (which the policy then refuses unless DIAGNOSE_ALLOWED_HOSTS lists it). '' when the item names no host (the
   * schema refuses it). Absent: the `urlField` value is that URL.
   */
  policyUrl?(item: Record<string, unknown>): string;
  /** The causes this kind's checks can produce; the conformance suite stages every one in the simulated world. */
  causes: readonly Cause[];
  /** The probe (and with it the service's SDK), loaded on first use. */
  loadProbe(): Promise<Probe<T>>;
}
