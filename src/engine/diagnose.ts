import { CAUSE_CATALOG, categoryOf } from '../catalog/causes';
import { HOST_CAUSES, hostSpecificFix } from '../catalog/hostCauses';
import type { Settings, Target } from '../config';
import { probe } from '../targets';
import type { CallFailure, Correlation } from '../wire/callFailure';
import {
  worstStatus,
  type Cause,
  type Check,
  type Claims,
  type Evidence,
  type HostKind,
  type Propagation,
  type RoleEvidence,
  type Stage,
  type Transport,
  type Verdict,
} from '../verdict';
import { classifyAcquisition, classifyCallFailure, interpretProbes, overlayIdentity } from './classify';
import { isGuid } from '../catalog/commands';
import { roleAssignmentList } from '../targets/commands';
import { kindOf } from '../targets/registry';
import { narrateLocalChain } from './localChain';
import { decideWithRoles, propagationHint } from './propagation';
import { lookupRoles } from './roles';
import { proxyFor } from './proxy';
import { identityRequestUrl } from './rawProbe';
import { Deadline } from './deadline';
import { acquireToken, identityProtocol, onAppServicePlatform, sdkErrorText, type Acquisition, type AcquisitionFailure, type ChallengeRecord, type EndpointProbes } from './identity';
import { entraCodes } from '../identity/classifySource';
import { detectSource } from '../identity/sources';
import { appService } from '../identity/sources/appService';
import { workloadIdentityVariables } from '../identity/sources/workloadIdentity';
import { sharedAcquisition, withTargetSlot, type Lane } from './limits';
import { escapedErrorLine, withEscapeGuard } from './guard';

/**
 * Plans and runs one diagnose: targets grouped by audience (one token acquisition per distinct audience), every
 * target in parallel, each bounded by the one deadline. Data flows one way: acquire → decode → call → classify →
 * check; nothing here throws for a failing dependency.
 */

export interface DiagnoseOptions {
  /** Aborts the whole diagnose early (e.g. the caller went away). */
  signal?: AbortSignal;
  /** Also probe the identity endpoint raw when the SDK succeeds (`?probe=raw`); after a failure it always is. */
  rawProbe?: boolean;
  /** Whose per-host call slots to use: health has its own, so it never queues behind keyed diagnoses (limits.ts). */
  lane?: Lane;
  /**
   * When the request arrived (ms since the epoch), if it waited for a turn first: the deadline counts from then, so
   * time spent queued comes out of DIAGNOSE_TIMEOUT_MS and `durationMs` is what the caller waited.
   */
  arrivedAt?: number;
}

/** What one target's run found, before host-wide facts (host kind) are known. */
interface Finding {
  target: Target;
  audience: string;
  cause: Cause;
  stage: Stage;
  httpStatus?: number;
  claims?: Claims;
  evidence: Evidence;
  durationMs: number;
  /** Whether the identity endpoint answered at all (tells a VM from a laptop in IMDS mode). */
  endpointAnswered?: boolean;
  propagation?: Propagation;
}

/** The audiences a kind's own service is known by in this cloud: the only scopes its credential answers besides the target's. */
function serviceAudiences(settings: Settings, kind: Target['kind']): string[] {
  return [settings.cloud.audiences[kind], ...settings.cloud.alsoAccepted[kind]];
}

export function audienceOf(target: Target, settings: Settings): string {
  return target.audience ?? settings.cloud.audiences[target.kind];
}

export async function diagnose(settings: Settings, targets: Target[], options: DiagnoseOptions = {}): Promise<Verdict> {
  const started = Math.min(options.arrivedAt ?? Date.now(), Date.now());
  const deadline = new Deadline(Math.max(1, settings.timeoutMs - (Date.now() - started)), options.signal);
  const tokens = new Map<string, Promise<Acquisition>>();
  const tokenFor = (audience: string) => {
    let p = tokens.get(audience);
    if (!p) {
      p = sharedAcquisition(
        settings,
        audience,
        deadline,
        (s, a, d) => acquireToken(s, a, d, { rawProbe: options.rawProbe }),
        options.rawProbe ? 'raw' : '',
      );
      tokens.set(audience, p);
    }
    return p;
  };
  try {
    const findings = await Promise.all(targets.map((t) => runTarget(t, settings, deadline, tokenFor, options.lane)));
    if (settings.localChain && resolveHostKind(settings, findings) === 'local') await addLocalChain(findings, deadline);
    return assemble(settings, findings, started);
  } finally {
    deadline.dispose();
  }
}

async function runTarget(
  target: Target,
  settings: Settings,
  deadline: Deadline,
  tokenFor: (audience: string) => Promise<Acquisition>,
  lane: Lane = 'diagnose',
): Promise<Finding> {
  const started = Date.now();
  const audience = audienceOf(target, settings);
  // What is known so far: if the deadline cuts the role look-up, the 403 already read is kept, not lost.
  const progress: { stage: Stage; claims?: Claims; known?: { cause: Cause; evidence: Evidence; httpStatus?: number } } = { stage: 'token' };
  const base = (): Evidence => ({
    expectedAudience: settings.cloud.audiences[target.kind],
    ...(settings.expectedPrincipalId ? { expectedPrincipalId: settings.expectedPrincipalId } : {}),
    ...(settings.expectedTenantId ? { expectedTenantId: settings.expectedTenantId } : {}),
  });

  const work = async (): Promise<Finding> => {
    const acquisition = await tokenFor(audience);
    if (!acquisition.ok) {
      const f = acquisition.failure;
      return {
        target,
        audience,
        cause: classifyAcquisition(f, settings),
        stage: 'token',
        evidence: {
          ...base(),
          identityEndpoint: {
            protocol: f.protocol,
            endpoint: f.endpoint,
            selector: f.selector,
            ...(f.status !== undefined ? { status: f.status } : {}),
            ...(f.error ? { error: f.error } : {}),
            ...(f.errorDescription ? { errorDescription: f.errorDescription } : {}),
            ...(f.transport ? { transport: f.transport } : {}),
            ...(f.sdkError ? { sdkError: f.sdkError } : {}),
            ...sourceEvidence(f),
            ...(f.raw ? { rawProbe: rawEvidence(f.raw, { ok: false, status: f.status, transport: f.transport }) } : {}),
          },
          ...(f.transport ? { transport: f.transport } : {}),
          ...proxyEvidence(f.raw?.proxy),
          settings: identitySettingsEvidence(settings),
        },
        durationMs: Date.now() - started,
        endpointAnswered: f.status !== undefined,
      };
    }
    const { grant } = acquisition;
    progress.stage = 'call';
    progress.claims = grant.claims;
    const challenges: ChallengeRecord[] = [];
    const outcome = await withTargetSlot(target, settings, deadline.signal, () => probe(target, {
      credential: grant.credentialFor((c) => challenges.push(c), serviceAudiences(settings, target.kind)),
      signal: deadline.signal,
      oid: grant.claims?.oid,
      audience,
      endpoint: kindOf(target).endpoint(target, settings),
      maxResponseBytes: settings.maxResponseBytes,
    }), lane);
    const evidence: Evidence = {
      ...base(),
      ...(grant.claims?.aud ? { tokenAudience: grant.claims.aud } : {}),
      ...challengeEvidence(challenges),
      ...(acquisition.raw
        ? {
            identityEndpoint: {
              protocol: acquisition.protocol,
              endpoint: acquisition.endpoint,
              selector: acquisition.selector,
              rawProbe: rawEvidence(acquisition.raw, { ok: true }),
            },
          }
        : {}),
      ...proxyEvidence(acquisition.raw?.proxy ?? proxyFor(identityRequestUrl(settings, audience)?.url.href ?? 'http://169.254.169.254', settings.platform.proxy)),
    };
    if (evidence.proxy?.bypassed) {
      (evidence.notes ??= []).push(`A proxy is configured (${evidence.proxy.source}) but NO_PROXY exempts the identity endpoint: harmless for token acquisition.`);
    }
    if (!grant.claims) (evidence.notes ??= []).push('The identity endpoint returned a token that is not a JWT: its claims could not be read.');
    if (settings.platform.kubernetes && identityProtocol(settings) === 'imds') {
      (evidence.notes ??= []).push('This pod has no workload identity: the token came from the node\'s instance metadata service, so it is an identity of the node (shared by every pod on it), not one of this workload\'s own.');
    }
    if (outcome.ok) {
      return {
        target,
        audience,
        cause: overlayIdentity('authorized', grant.claims, settings),
        stage: 'call',
        httpStatus: outcome.httpStatus,
        claims: grant.claims,
        evidence: { ...evidence, ...correlationEvidence(outcome.correlation), result: outcome.result },
        durationMs: Date.now() - started,
        endpointAnswered: true,
      };
    }
    const failure = outcome.failure;
    let cause = overlayIdentity(
      classifyCallFailure({
        target,
        failure,
        claims: grant.claims,
        settings,
        nowSeconds: Math.floor(Date.now() / 1000),
        challengeTenantId: challenges.find((c) => c.tenantId)?.tenantId,
      }),
      grant.claims,
      settings,
    );
    const callEvidence: Evidence = { ...evidence, ...failureEvidence(failure), ...(cause === 'deadline_exceeded' ? { stageCut: 'call' as const } : {}) };
    if (cause === 'role_missing' || cause === 'access_policy_missing') {
      progress.known = { cause, evidence: callEvidence, ...(failure.httpStatus !== undefined ? { httpStatus: failure.httpStatus } : {}) };
      const roles = await roleEvidence(target, grant.claims, settings, deadline, tokenFor, callEvidence);
      if (roles) callEvidence.roles = roles;
      cause = decideWithRoles(cause, roles, grant.claims, Date.now());
    }
    const propagation = propagationHint(cause, callEvidence.roles, grant.claims, Date.now());
    return {
      target,
      audience,
      cause,
      stage: 'call',
      ...(failure.httpStatus !== undefined ? { httpStatus: failure.httpStatus } : {}),
      claims: grant.claims,
      evidence: callEvidence,
      durationMs: Date.now() - started,
      endpointAnswered: true,
      ...(propagation ? { propagation } : {}),
    };
  };

  const cutByDeadline = deadline.expired.then(
    (): Finding => progress.known ? keptAtDeadline(target, audience, progress.known, progress.claims, settings, started) : ({
      target,
      audience,
      cause: 'deadline_exceeded',
      stage: progress.stage,
      claims: progress.claims,
      evidence: { ...base(), stageCut: progress.stage, ...(progress.stage === 'token' ? { settings: identitySettingsEvidence(settings) } : {}) },
      durationMs: Date.now() - started,
    }),
  );

  try {
    // An error escaping the probe (see guard.ts) ends it here too, as diagnostic_error.
    return await Promise.race([withEscapeGuard(work), cutByDeadline]);
  } catch (err) {
    // A bug of ours (or an SDK's), told apart from a failing dependency, logged, and never fatal.
    console.error(escapedErrorLine(`target ${target.name} (${target.kind})`, err));
    return {
      target,
      audience,
      cause: 'diagnostic_error',
      stage: progress.stage,
      evidence: { ...base(), message: sdkErrorText(err) },
      durationMs: Date.now() - started,
    };
  }
}

/**
 * The deadline cut the role look-up after the service had answered: keep the cause that answer gave (e.g. role_missing
 * from ForbiddenByRbac) and its evidence, and say the look-up did not finish — not deadline_exceeded.
 */
function keptAtDeadline(
  target: Target,
  audience: string,
  known: { cause: Cause; evidence: Evidence; httpStatus?: number },
  claims: Claims | undefined,
  settings: Settings,
  started: number,
): Finding {
  const reason = `The role look-up did not finish within the ${settings.timeoutMs} ms deadline (DIAGNOSE_TIMEOUT_MS): the roles this identity holds are unknown.`;
  const evidence: Evidence = {
    ...known.evidence,
    notes: [...(known.evidence.notes ?? []), reason],
    ...(target.resourceId
      ? {
          roles: {
            scope: target.resourceId,
            lookedUp: false,
            assignments: [],
            unavailable: { reason },
            lookup: roleAssignmentList({ target, settings, claims, hostKind: 'unknown' }),
          },
        }
      : {}),
  };
  const propagation = propagationHint(known.cause, evidence.roles, claims, Date.now());
  return {
    target,
    audience,
    cause: known.cause,
    stage: 'call',
    ...(known.httpStatus !== undefined ? { httpStatus: known.httpStatus } : {}),
    claims,
    evidence,
    durationMs: Date.now() - started,
    endpointAnswered: true,
    ...(propagation ? { propagation } : {}),
  };
}

/**
 * What the identity holds at the target's scope, read through ARM with a token for the ARM audience (one more
 * acquisition through the same per-audience memo). Without a resourceId there is no scope to ask about: say so.
 */
async function roleEvidence(
  target: Target,
  claims: Claims | undefined,
  settings: Settings,
  deadline: Deadline,
  tokenFor: (audience: string) => Promise<Acquisition>,
  evidence: Evidence,
): Promise<RoleEvidence | undefined> {
  if (!target.resourceId) {
    (evidence.notes ??= []).push(`Add "resourceId" (the ARM id of the ${kindOf(target).nouns.resource}) to target "${target.name}" to let the diagnose look up the roles the identity holds there.`);
    return undefined;
  }
  const commandContext = { target, settings, claims, hostKind: 'unknown' as const };
  const scope = target.resourceId;
  if (!claims?.oid || !isGuid(claims.oid)) {
    return { scope, lookedUp: false, assignments: [], unavailable: { reason: 'The token carries no readable oid (a GUID) to look up.' }, lookup: roleAssignmentList(commandContext) };
  }
  const arm = await tokenFor(settings.cloud.armAudiences[0]);
  if (!arm.ok) {
    return {
      scope,
      lookedUp: false,
      assignments: [],
      unavailable: { reason: `No token for ARM (${classifyAcquisition(arm.failure, settings)}), so the roles could not be read.` },
      lookup: roleAssignmentList(commandContext),
    };
  }
  return lookupRoles({ target, scope, oid: claims.oid, credential: arm.grant.credentialFor(undefined, settings.cloud.armAudiences), settings, signal: deadline.signal, commandContext });
}

/** Off Azure, on request: narrate the developer credential chain once per audience, within the deadline. */
async function addLocalChain(findings: Finding[], deadline: Deadline): Promise<void> {
  const byAudience = new Map<string, ReturnType<typeof narrateLocalChain>>();
  const budget = Math.max(0, deadline.remainingMs - 200);
  for (const f of findings) {
    if (f.cause !== 'no_managed_identity') continue;
    if (!byAudience.has(f.audience)) byAudience.set(f.audience, narrateLocalChain(f.audience, budget, deadline.signal));
    f.evidence.localChain = await byAudience.get(f.audience)!;
  }
}

function rawEvidence(raw: EndpointProbes, sdk: { ok: boolean; status?: number; transport?: Transport }): NonNullable<NonNullable<Evidence['identityEndpoint']>['rawProbe']> {
  return {
    ...(raw.direct ? { direct: raw.direct } : {}),
    ...(raw.viaProxy ? { viaProxy: raw.viaProxy } : {}),
    ...interpretProbes(raw, sdk),
    ...(raw.skipped ? { skipped: raw.skipped } : {}),
  };
}

/** What only one source shows: Entra's AADSTS numbers, the projected token's claims, Arc's challenge file. */
function sourceEvidence(f: AcquisitionFailure): Pick<NonNullable<Evidence['identityEndpoint']>, 'errorCodes' | 'federatedToken' | 'keyFile'> {
  const codes = entraCodes(f);
  const direct = f.raw?.direct;
  return {
    ...(codes.length ? { errorCodes: codes } : {}),
    ...(direct?.federatedToken ? { federatedToken: direct.federatedToken } : {}),
    ...(direct?.keyFile ? { keyFile: direct.keyFile } : {}),
  };
}

function proxyEvidence(proxy: { url: string; bypassed: boolean; source: 'HTTPS_PROXY' | 'ALL_PROXY' | 'HTTP_PROXY' } | undefined): Evidence {
  return proxy ? { proxy: { url: proxy.url, bypassed: proxy.bypassed, source: proxy.source } } : {};
}

function identitySettingsEvidence(settings: Settings): Record<string, string> {
  const p = settings.platform;
  const e: Record<string, string> = {
    IDENTITY_ENDPOINT: p.identityEndpoint ? 'set' : 'absent',
    IDENTITY_HEADER: p.identityHeaderSet ? 'set' : 'absent',
    AZURE_CLIENT_ID: settings.clientId ?? (settings.clientResourceId ? 'absent' : 'absent (system-assigned)'),
  };
  if (settings.clientResourceId) e.AZURE_CLIENT_RESOURCE_ID = settings.clientResourceId;
  const proxy = p.proxy.httpsProxy ?? p.proxy.allProxy ?? p.proxy.httpProxy;
  if (proxy) e.NO_PROXY = p.proxy.noProxy ?? 'absent';
  if (p.siteName) e.WEBSITE_SITE_NAME = p.siteName;
  if (p.containerAppName) e.CONTAINER_APP_NAME = p.containerAppName;
  if (p.msiDisabled) e.WEBSITE_DISABLE_MSI = 'true';
  if (p.msiEndpoint) e.MSI_ENDPOINT = 'set';
  // The variables that selected the source, and in a pod the four the workload-identity webhook injects.
  Object.assign(e, detectSource(settings).variables(settings), p.kubernetes ? workloadIdentityVariables(settings) : {});
  if (identityProtocol(settings) === 'imds') e.AZURE_POD_IDENTITY_AUTHORITY_HOST = p.imdsAuthorityHost ?? 'absent (IMDS at 169.254.169.254)';
  return e;
}

function challengeEvidence(challenges: ChallengeRecord[]): Evidence {
  // Key Vault names its audience and tenant in the 401 challenge; the SDK relays them as scope and tenantId.
  const withTenant = challenges.find((c) => c.tenantId) ?? challenges[0];
  if (!withTenant) return {};
  return { challenge: { scopes: withTenant.scopes, ...(withTenant.tenantId ? { tenantId: withTenant.tenantId } : {}) } };
}

function correlationEvidence(c: Correlation): Evidence {
  return {
    ...(c.requestId ? { requestId: c.requestId } : {}),
    ...(c.clientRequestId ? { clientRequestId: c.clientRequestId } : {}),
    ...(c.correlationId ? { correlationId: c.correlationId } : {}),
  };
}

function failureEvidence(f: CallFailure): Evidence {
  return {
    ...(f.errorCode ? { errorCode: f.errorCode } : {}),
    ...(f.innerErrorCode ? { innerErrorCode: f.innerErrorCode } : {}),
    ...(f.message || f.authenticationDetail
      ? { message: [f.message, f.authenticationDetail].filter(Boolean).join('\n') }
      : {}),
    ...(f.wwwAuthenticate ? { wwwAuthenticate: f.wwwAuthenticate } : {}),
    ...(f.retryAfter ? { retryAfter: f.retryAfter } : {}),
    ...(f.transport ? { transport: f.transport } : {}),
    ...correlationEvidence(f),
  };
}

/** The host kind: the source's, from the platform's variables, or — on the IMDS path — from whether anything answered. */
export function resolveHostKind(settings: Settings, findings: { endpointAnswered?: boolean }[]): HostKind {
  const source = detectSource(settings);
  // App Service-family hosts name themselves even when no identity is enabled (then the SDK falls through to IMDS).
  if (source.id === 'imds' && onAppServicePlatform(settings)) return appService.hostKind(settings, false);
  if (source.id === 'imds' && findings.length === 0 && !settings.platform.kubernetes) return 'unknown';
  return source.hostKind(settings, findings.some((f) => f.endpointAnswered));
}

function assemble(settings: Settings, findings: Finding[], started: number): Verdict {
  const hostKind = resolveHostKind(settings, findings);
  const checks: Check[] = findings.map((f) => toCheck(f, settings, hostKind));
  const status = checks.length ? worstStatus(checks.map((c) => c.status)) : 'warn';
  const claims = findings.find((f) => f.claims)?.claims;
  return {
    status,
    summary: summarise(checks),
    durationMs: Date.now() - started,
    checkedAt: new Date(started).toISOString(),
    identity: {
      hostKind,
      ...(settings.clientId ?? claims?.appid ? { clientId: settings.clientId ?? claims?.appid } : {}),
      ...(claims?.oid ? { principalId: claims.oid } : {}),
      ...(claims?.tid ? { tenantId: claims.tid } : {}),
      ...(claims?.xms_mirid ? { resourceId: claims.xms_mirid } : {}),
    },
    checks,
  };
}

function toCheck(f: Finding, settings: Settings, hostKind: HostKind): Check {
  const entry = CAUSE_CATALOG[f.cause];
  const ctx = {
    target: f.target,
    settings,
    claims: f.claims,
    hostKind,
    evidence: f.evidence,
    expectedAudience: settings.cloud.audiences[f.target.kind],
    stage: f.stage,
    propagation: f.propagation,
  };
  return {
    target: f.target.name,
    kind: f.target.kind,
    audience: f.audience,
    status: entry.status,
    category: categoryOf(f.cause, f.stage),
    cause: f.cause,
    title: entry.title,
    stage: f.stage,
    ...(f.httpStatus !== undefined ? { httpStatus: f.httpStatus } : {}),
    ...(f.claims ? { claims: f.claims } : {}),
    evidence: f.evidence,
    // A source's own cause already reads its raw probe (Entra's answer, the key file); the generic reading would blur it.
    explanation: [entry.explain(ctx), f.stage === 'token' && !(f.cause in HOST_CAUSES) ? f.evidence.identityEndpoint?.rawProbe?.explanation : undefined].filter(Boolean).join(' '),
    ...(f.propagation ? { propagation: f.propagation } : {}),
    fix: hostSpecificFix(f.cause, ctx) ?? entry.fix(ctx),
    durationMs: f.durationMs,
  };
}

export function summarise(checks: Check[]): string {
  if (checks.length === 0) return 'No targets to diagnose: DIAGNOSE_TARGETS is empty (or the request selected none).';
  const passed = checks.filter((c) => c.status === 'pass').length;
  const problems = checks.filter((c) => c.status !== 'pass').map((c) => `${c.target}: ${c.cause}`);
  if (!problems.length) return `All ${checks.length} ${checks.length === 1 ? 'dependency is' : 'dependencies are'} authorized.`;
  return `${passed} of ${checks.length} ${checks.length === 1 ? 'dependency' : 'dependencies'} authorized; ${problems.join(', ')}.`;
}
