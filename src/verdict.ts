import { z } from 'zod';
import { KIND_NAMES } from './targets/registry';

/**
 * The verdict: the public contract pipelines and probes script against. Field names and cause strings are kept
 * exactly; new ones may be added, none renamed. Every response is validated against these schemas in tests.
 */

export const CAUSES = [
  'authorized',
  'no_managed_identity',
  'identity_not_found',
  'identity_endpoint_unreachable',
  'identity_endpoint_error',
  'wrong_audience',
  'wrong_tenant',
  'token_expired',
  'token_rejected',
  'wrong_identity',
  'role_missing',
  'access_policy_missing',
  'network_blocked',
  'propagation_pending',
  'resource_not_found',
  'throttled',
  'target_unreachable',
  'target_error',
  'deadline_exceeded',
  // Added: a bug or unexpected exception inside Identity Doctor itself, kept apart from a failing dependency.
  'diagnostic_error',
  // Added: a role covering the operation is assigned, older than its propagation window, and still refused.
  'grant_ineffective',
  // Added: the object or resource itself is disabled (a disabled secret, a disabled storage account).
  'resource_disabled',
  // Added: a 403 that is not about roles, or whose code Identity Doctor does not recognise (the service's words kept).
  'forbidden_other',
  // Added with the identity sources beyond App Service and IMDS (src/identity/sources):
  'workload_identity_not_injected',
  'federated_token_unreadable',
  'federation_mismatch',
  'arc_key_file_unreadable',
  // Added with Azure SQL (issue 15): the token was accepted, but the database has no user for its principal.
  'database_user_missing',
] as const;
export const CauseSchema = z.enum(CAUSES);
export type Cause = z.infer<typeof CauseSchema>;

export const CATEGORIES = ['authorized', 'acquisition', 'authentication', 'authorization', 'target', 'internal'] as const;
export const CategorySchema = z.enum(CATEGORIES);
export type Category = z.infer<typeof CategorySchema>;

export const StatusSchema = z.enum(['pass', 'warn', 'fail']);
export type Status = z.infer<typeof StatusSchema>;

export const StageSchema = z.enum(['token', 'call']);
export type Stage = z.infer<typeof StageSchema>;

/** The registered target kinds (src/targets/registry.ts). */
export const KindSchema = z.enum(KIND_NAMES);

// Added after the first six: 'aks' (a Kubernetes pod: workload identity, or the node's IMDS), 'arc' (Arc-enabled
// server), 'serviceFabric', 'cloudShell', 'machineLearning'. Scale-set instances report 'vm' (same IMDS protocol).
export const HostKindSchema = z.enum(['functions', 'appService', 'containerApps', 'vm', 'local', 'unknown', 'aks', 'arc', 'serviceFabric', 'cloudShell', 'machineLearning']);
export type HostKind = z.infer<typeof HostKindSchema>;

/** Decoded token claims (never the token). Times are epoch seconds as in the JWT, plus ISO renderings. */
export const ClaimsSchema = z.object({
  aud: z.string().optional(),
  iss: z.string().optional(),
  tid: z.string().optional(),
  oid: z.string().optional(),
  sub: z.string().optional(),
  appid: z.string().optional(),
  azp: z.string().optional(),
  idtyp: z.string().optional(),
  ver: z.string().optional(),
  xms_mirid: z.string().optional(),
  /** App roles the token carries (application permissions, e.g. Microsoft Graph's "User.Read.All"); added for Graph. */
  roles: z.array(z.string()).optional(),
  iat: z.number().optional(),
  nbf: z.number().optional(),
  exp: z.number().optional(),
  issuedAt: z.string().optional(),
  expiresAt: z.string().optional(),
});
export type Claims = z.infer<typeof ClaimsSchema>;

export const TransportKindSchema = z.enum(['refused', 'timeout', 'reset', 'dns', 'tls', 'malformed', 'aborted', 'other']);
export type TransportKind = z.infer<typeof TransportKindSchema>;

export const TransportSchema = z.object({
  kind: TransportKindSchema,
  /** The system's own code (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED, …). */
  code: z.string().optional(),
  /** The host:port that failed (no path, no query). */
  endpoint: z.string().optional(),
  detail: z.string().optional(),
  elapsedMs: z.number().optional(),
});
export type Transport = z.infer<typeof TransportSchema>;

/**
 * The identity source the SDK uses, in its own detection order (see src/identity/sources). 'appService' and 'imds'
 * came first; the others were added: the AKS token exchange, Service Fabric, Azure ML, Cloud Shell, Azure Arc.
 */
export const IdentityProtocolSchema = z.enum(['appService', 'imds', 'workloadIdentity', 'serviceFabric', 'machineLearning', 'cloudShell', 'arc']);
export type IdentityProtocol = z.infer<typeof IdentityProtocolSchema>;

/** The projected service-account token (AKS workload identity), decoded; never the token. */
export const FederatedTokenSchema = z.object({
  file: z.string(),
  readable: z.boolean(),
  /** ENOENT, EACCES, … when unreadable; EMPTY or NOT_A_JWT when the content is unusable. */
  code: z.string().optional(),
  iss: z.string().optional(),
  sub: z.string().optional(),
  aud: z.string().optional(),
  exp: z.number().optional(),
  expiresAt: z.string().optional(),
  expired: z.boolean().optional(),
});

/** Azure Arc's challenge file: where the agent pointed and what became of reading it; never its content. */
export const KeyFileSchema = z.object({
  path: z.string().optional(),
  expectedDirectory: z.string().optional(),
  problem: z.string().optional(),
  code: z.string().optional(),
});

/** One raw probe of the identity endpoint (the platform's own protocol, beside the SDK). Never carries the token. */
export const RawProbeSchema = z.object({
  via: z.enum(['direct', 'proxy']),
  protocol: IdentityProtocolSchema,
  endpoint: z.string().optional(),
  status: z.number().optional(),
  error: z.string().optional(),
  errorDescription: z.string().optional(),
  /** Entra's AADSTS numbers (token exchange). */
  errorCodes: z.array(z.number()).optional(),
  tokenIssued: z.boolean().optional(),
  tokenAudience: z.string().optional(),
  tokenPrincipalId: z.string().optional(),
  transport: TransportSchema.optional(),
  federatedToken: FederatedTokenSchema.optional(),
  keyFile: KeyFileSchema.optional(),
  elapsedMs: z.number(),
});

export const RawProbesSchema = z.object({
  direct: RawProbeSchema.optional(),
  viaProxy: RawProbeSchema.optional(),
  /**
   * library_or_configuration: the endpoint hands out a token when asked directly, the SDK path failed;
   * platform_plumbing: both failed the same way; proxy_interception: direct works, through the proxy it fails;
   * consistent: both succeeded; inconclusive: anything else (see the explanation).
   */
  interpretation: z.enum(['library_or_configuration', 'platform_plumbing', 'proxy_interception', 'consistent', 'inconclusive']),
  explanation: z.string(),
  skipped: z.string().optional(),
});

export const ProxyEvidenceSchema = z.object({
  /** The proxy URL, credentials redacted. */
  url: z.string(),
  /** Whether NO_PROXY exempts the identity endpoint (then the proxy is harmless for it). */
  bypassed: z.boolean(),
  source: z.enum(['HTTPS_PROXY', 'ALL_PROXY', 'HTTP_PROXY']),
});

/** What the identity endpoint itself answered, beside what the SDK made of it. */
export const IdentityEndpointEvidenceSchema = z.object({
  protocol: IdentityProtocolSchema,
  /** host:port only. */
  endpoint: z.string().optional(),
  /** How the identity was selected: system-assigned, or a client id. */
  selector: z.string().optional(),
  status: z.number().optional(),
  error: z.string().optional(),
  errorDescription: z.string().optional(),
  transport: TransportSchema.optional(),
  /** The SDK's error name and (sanitised) message. */
  sdkError: z.string().optional(),
  /** Entra's AADSTS numbers (token exchange), from the SDK's message or the raw probe. */
  errorCodes: z.array(z.number()).optional(),
  /** AKS workload identity: the projected service-account token's claims. */
  federatedToken: FederatedTokenSchema.optional(),
  /** Azure Arc: the challenge file. */
  keyFile: KeyFileSchema.optional(),
  rawProbe: RawProbesSchema.optional(),
});

/** What the identity holds at the target's scope (looked up after a 403). */
export const RoleEvidenceSchema = z.object({
  scope: z.string(),
  /** False when the look-up could not be made or was refused; see `unavailable`. */
  lookedUp: z.boolean(),
  assignments: z.array(
    z.object({
      roleName: z.string(),
      roleDefinitionId: z.string(),
      scope: z.string(),
      plane: z.enum(['data', 'control', 'unknown']),
      /** Whether the role's (data) actions cover the probe's operation. */
      coversOperation: z.boolean(),
      principalId: z.string().optional(),
      createdOn: z.string().optional(),
      /** An ABAC condition on the assignment: the role applies only when it holds. */
      condition: z.string().optional(),
      /** Where the assignment sits relative to what the operation touches (a grant below does not reach it). */
      scopeRelation: z.enum(['above', 'at', 'below']).optional(),
    }),
  ),
  /** The caller's effective permissions at the scope (Permissions - List For Resource / Resource Group). */
  effective: z.object({ actions: z.array(z.string()), dataActions: z.array(z.string()) }).optional(),
  unavailable: z.object({ reason: z.string(), errorCode: z.string().optional(), httpStatus: z.number().optional() }).optional(),
  /** The command to look for yourself. */
  lookup: z.string(),
  /**
   * Whose grants these are when the service has its own permission model (e.g. "Cosmos DB SQL role assignments",
   * "Microsoft Graph app role assignments"); absent for Azure RBAC role assignments.
   */
  model: z.string().optional(),
  /** How long a grant in that model takes to reach the service (seconds), when not the RBAC window of 10 minutes. */
  windowSeconds: z.number().optional(),
});
export type RoleEvidence = z.infer<typeof RoleEvidenceSchema>;

/** Off Azure (DIAGNOSE_LOCAL_CHAIN=true): what a developer credential chain would do here. */
export const LocalChainSchema = z.object({
  steps: z.array(
    z.object({
      credential: z.string(),
      outcome: z.enum(['succeeded', 'unavailable', 'failed', 'timed_out', 'not_tried']),
      reason: z.string().optional(),
      tokenAudience: z.string().optional(),
      principalId: z.string().optional(),
      tenantId: z.string().optional(),
      elapsedMs: z.number(),
    }),
  ),
  /** @azure/identity's own log lines while the chain ran (redacted). */
  log: z.array(z.string()),
  hint: z.string(),
});
export type LocalChain = z.infer<typeof LocalChainSchema>;

export const EvidenceSchema = z.object({
  errorCode: z.string().optional(),
  innerErrorCode: z.string().optional(),
  message: z.string().optional(),
  requestId: z.string().optional(),
  clientRequestId: z.string().optional(),
  correlationId: z.string().optional(),
  wwwAuthenticate: z.string().optional(),
  retryAfter: z.string().optional(),
  transport: TransportSchema.optional(),
  /** Added with the AMQP kinds (Service Bus, Event Hubs): the AMQP error condition of the refusal. */
  amqpCondition: z.string().optional(),
  identityEndpoint: IdentityEndpointEvidenceSchema.optional(),
  proxy: ProxyEvidenceSchema.optional(),
  localChain: LocalChainSchema.optional(),
  roles: RoleEvidenceSchema.optional(),
  expectedAudience: z.string().optional(),
  tokenAudience: z.string().optional(),
  /** What the service's challenge asked for (Key Vault's WWW-Authenticate resource and tenant). */
  challenge: z.object({ scopes: z.array(z.string()).optional(), tenantId: z.string().optional() }).optional(),
  expectedPrincipalId: z.string().optional(),
  expectedTenantId: z.string().optional(),
  /** Settings and platform variables that led to the verdict (names → non-secret values or "set"/"absent"). */
  settings: z.record(z.string(), z.string()).optional(),
  /** What the call proved when it succeeded (secret version, blob count, …) — never a secret value. */
  result: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  /** The stage a deadline cut. */
  stageCut: StageSchema.optional(),
  /**
   * Which request of a multi-request call failed: Container Registry's `entra_token` (the Microsoft Entra token
   * handed to the SDK), `exchange` (POST /oauth2/exchange: Entra token → registry refresh token), `token`
   * (POST /oauth2/token: refresh token → access token for one scope) or `call` (the registry API itself).
   */
  step: z.string().optional(),
  notes: z.array(z.string()).optional(),
});
export type Evidence = z.infer<typeof EvidenceSchema>;


/** The propagation-wait hint: is this a role granted but not yet effective, and how long to wait. */
export const PropagationSchema = z.object({
  assignmentCreatedOn: z.string().optional(),
  assignmentAgeSeconds: z.number().optional(),
  tokenIssuedAt: z.string().optional(),
  tokenPredatesAssignment: z.boolean().optional(),
  expectedWindowSeconds: z.number(),
  retryAfterSeconds: z.number(),
  /** Granted through a group: the token is what must change, and the platform caches it for ~24 h. */
  viaGroup: z.boolean().optional(),
  advice: z.string(),
});
export type Propagation = z.infer<typeof PropagationSchema>;

/** One target's result: its cause (a stable string pipelines script against), stage, category, evidence and fix. */
export const CheckSchema = z.object({
  target: z.string(),
  kind: KindSchema,
  audience: z.string(),
  status: StatusSchema,
  category: CategorySchema,
  cause: CauseSchema,
  /** Short human title of the cause. */
  title: z.string(),
  stage: StageSchema,
  httpStatus: z.number().int().optional(),
  claims: ClaimsSchema.optional(),
  evidence: EvidenceSchema,
  explanation: z.string(),
  fix: z.array(z.string()),
  propagation: PropagationSchema.optional(),
  /** Wait mode (?waitSeconds=): how many probes this check took, and how long until it passed. */
  attempts: z.number().int().optional(),
  secondsUntilAuthorized: z.number().optional(),
  durationMs: z.number(),
});
export type Check = z.infer<typeof CheckSchema>;

/**
 * The verdict: the public contract of `/api/diagnose`, the CLI and every output format. Fields are added, never
 * renamed; `status` is the worst check's; `kind` enums and cause strings derive from the registry and the catalog.
 */
export const VerdictSchema = z.object({
  status: StatusSchema,
  summary: z.string(),
  durationMs: z.number(),
  /** When the diagnose ran (ISO 8601). */
  checkedAt: z.string(),
  identity: z.object({
    hostKind: HostKindSchema,
    clientId: z.string().optional(),
    principalId: z.string().optional(),
    tenantId: z.string().optional(),
    /** The identity resource that answered (xms_mirid). */
    resourceId: z.string().optional(),
  }),
  checks: z.array(CheckSchema),
  /** Wait mode (?waitSeconds=): what was asked, what was applied, how long it waited and why it stopped. */
  wait: z
    .object({
      requestedSeconds: z.number(),
      appliedSeconds: z.number(),
      waitedSeconds: z.number(),
      rounds: z.number().int(),
      stoppedBecause: z.enum(['all_passed', 'cannot_heal', 'time_up']),
      /** The checks whose cause waiting cannot cure (they stopped the wait). */
      cannotHeal: z.array(z.string()).optional(),
    })
    .optional(),
});
export type Verdict = z.infer<typeof VerdictSchema>;

const ORDER: Record<Status, number> = { pass: 0, warn: 1, fail: 2 };
export function worstStatus(statuses: Iterable<Status>): Status {
  let worst: Status = 'pass';
  for (const s of statuses) if (ORDER[s] > ORDER[worst]) worst = s;
  return worst;
}
