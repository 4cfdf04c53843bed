import type { Settings, Target } from '../config';
import { probe } from '../targets';
import { type Cause, type Claims, type Evidence, type Propagation, type RoleEvidence, type Stage } from '../verdict';
import { classifyAcquisition, classifyCallFailure, overlayIdentity } from './classify';
import { isGuid } from '../advice/commands';
import { roleAssignmentList } from '../targets/commands';
import { defaultAudienceOf, kindOf } from '../targets/registry';
import type { PermissionModel } from '../targets/kind';
import { decideWithRoles, propagationHint } from './propagation';
import { lookupRoles } from './roles';
import { proxyFor } from './proxy';
import { identityRequestUrl } from './rawProbe';
import { Deadline } from './deadline';
import { identityProtocol, sdkErrorText, type Acquisition, type ChallengeRecord } from './identity';
import { withTargetSlot, type Lane } from './limits';
import { escapedErrorLine, withEscapeGuard } from './guard';
import { rawEvidence, sourceEvidence, proxyEvidence, identitySettingsEvidence, challengeEvidence, correlationEvidence, failureEvidence } from './evidence';

/**
 * One target's run: acquire a token for its audience → call its kind's probe → classify what the service said →
 * after a 403, look up the roles the identity holds there. Nothing here throws for a failing dependency; a bug of
 * ours becomes diagnostic_error, and the deadline keeps what was already known.
 */

/** What one target's run found, before host-wide facts (host kind) are known. */
export interface Finding {
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

/** The audiences a target's own service is known by in this cloud: the only scopes its credential answers besides the target's. */
function serviceAudiences(settings: Settings, target: Target): string[] {
  return [defaultAudienceOf(target, settings.cloud), settings.cloud.audiences[target.kind], ...settings.cloud.alsoAccepted[target.kind]];
}

export function audienceOf(target: Target, settings: Settings): string {
  return target.audience ?? defaultAudienceOf(target, settings.cloud);
}

export async function runTarget(
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
    expectedAudience: defaultAudienceOf(target, settings.cloud),
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
      credential: grant.credentialFor((c) => challenges.push(c), serviceAudiences(settings, target)),
      signal: deadline.signal,
      oid: grant.claims?.oid,
      audience,
      endpoint: kindOf(target).endpoint(target, settings),
      maxResponseBytes: settings.maxResponseBytes,
      remainingMs: deadline.remainingMs,
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
        ...(outcome.httpStatus !== undefined ? { httpStatus: outcome.httpStatus } : {}),
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
  const own = kindOf(target).permissions;
  if (own) return ownPermissions(own, target, claims, settings, deadline, tokenFor, evidence);
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
  return lookupRoles({ target, scope, oid: claims.oid, credential: arm.grant.credentialFor(undefined, settings.cloud.armAudiences), settings, signal: deadline.signal, commandContext, evidence });
}

/**
 * A kind with its own permission model (Cosmos DB SQL roles, Graph app roles, SQL database users) reads its grants
 * itself; it may ask for the Azure RBAC look-up too (the control-plane roles beside them).
 */
async function ownPermissions(
  own: PermissionModel<Target>,
  target: Target,
  claims: Claims | undefined,
  settings: Settings,
  deadline: Deadline,
  tokenFor: (audience: string) => Promise<Acquisition>,
  evidence: Evidence,
): Promise<RoleEvidence | undefined> {
  if (!own.lookup) return undefined;
  if (!claims?.oid || !isGuid(claims.oid)) {
    (evidence.notes ??= []).push(`The token carries no readable oid (a GUID): the ${own.model} could not be looked up.`);
    return undefined;
  }
  const credentialFor = async (audience: string) => {
    const acquired = await tokenFor(audience);
    return acquired.ok
      ? { ok: true as const, credential: acquired.grant.credentialFor(undefined, [audience]) }
      : { ok: false as const, reason: `No token for ${audience} (${classifyAcquisition(acquired.failure, settings)}).` };
  };
  const azureRoles = async () => {
    if (!target.resourceId) return undefined;
    const arm = await tokenFor(settings.cloud.armAudiences[0]);
    if (!arm.ok) return undefined;
    const commandContext = { target, settings, claims, hostKind: 'unknown' as const };
    return lookupRoles({ target, scope: target.resourceId, oid: claims.oid!, credential: arm.grant.credentialFor(undefined, settings.cloud.armAudiences), settings, signal: deadline.signal, commandContext });
  };
  return own.lookup({ target, oid: claims.oid, claims, settings, signal: deadline.signal, credentialFor, azureRoles });
}
