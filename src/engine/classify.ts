import { audienceAccepted, forbiddenCode, kindOf } from '../targets/registry';
import type { Settings, Target } from '../config';
import type { CallFailure } from '../wire/callFailure';
import type { Cause, Claims, Transport } from '../verdict';
import { issuerTenant } from './claims';
import { onAppServicePlatform, type AcquisitionFailure, type EndpointProbes } from './identity';
import { sameOutcome, type RawProbeResult } from './rawProbe';
import { classifySourceFailure } from '../identity/classifySource';

/**
 * (stage, what the service said, claims, settings) → cause. Pure and table-driven: all "what does this error mean"
 * knowledge lives here and in the catalog. Codes come first (status, the service's code, inner code,
 * x-ms-error-code); message text only where the service has no code for it (Key Vault's AKVnnnnn, Storage's
 * AuthenticationErrorDetail).
 */

/** Read the raw probes against the SDK's outcome: which part of the chain is at fault. */
export function interpretProbes(
  raw: EndpointProbes,
  sdk: { ok: boolean; status?: number; transport?: Transport },
): { interpretation: 'library_or_configuration' | 'platform_plumbing' | 'proxy_interception' | 'consistent' | 'inconclusive'; explanation: string } {
  const d = raw.direct;
  const p = raw.viaProxy;
  if (d?.tokenIssued && p && !p.tokenIssued) {
    return {
      interpretation: 'proxy_interception',
      explanation: `Asked directly, the identity endpoint issues a token; through the proxy ${raw.proxy?.url ?? ''} it ${describeProbe(p)}. The SDK goes through the proxy because NO_PROXY does not cover the endpoint.`,
    };
  }
  if (sdk.ok) {
    return d?.tokenIssued || !d
      ? { interpretation: 'consistent', explanation: 'The raw probe and the SDK both got a token.' }
      : { interpretation: 'inconclusive', explanation: `The SDK got a token, but the raw probe ${describeProbe(d)}.` };
  }
  if (d?.tokenIssued) {
    return {
      interpretation: 'library_or_configuration',
      explanation: 'Asked directly with the platform\'s own protocol, the endpoint issues a token, yet the SDK failed: a library or configuration problem in this process (proxy, client id, scope), not the platform.',
    };
  }
  if (d && sameOutcome(d, sdk)) {
    return { interpretation: 'platform_plumbing', explanation: `The raw probe failed the same way (${describeProbe(d)}): the platform's identity plumbing, not the library.` };
  }
  return { interpretation: 'inconclusive', explanation: d ? `The raw probe ${describeProbe(d)}.` : raw.skipped ?? 'No raw probe could be made.' };
}

function describeProbe(r: RawProbeResult): string {
  if (r.tokenIssued) return 'got a token';
  if (r.status !== undefined) return `answered ${r.status}${r.error ? ` ${r.error}` : ''}${r.errorDescription ? ` (${r.errorDescription})` : ''}`;
  return r.transport ? `failed: ${r.transport.detail ?? r.transport.kind}${r.transport.code ? ` (${r.transport.code})` : ''}` : 'got no answer';
}

export function classifyAcquisition(f: AcquisitionFailure, settings: Settings): Cause {
  const bySource = classifySourceFailure(f, settings);
  if (bySource) return bySource;
  // A proxy that swallows the link-local endpoint: the endpoint is fine, it is unreachable from the SDK's path.
  if (f.raw?.direct?.tokenIssued && f.raw.viaProxy && !f.raw.viaProxy.tokenIssued) return 'identity_endpoint_unreachable';
  switch (f.reason) {
    case 'no_endpoint':
      return 'no_managed_identity';
    case 'deadline':
      return 'deadline_exceeded';
    case 'transport':
      // Off Azure nothing answers at IMDS: that is the absence of an identity, not a broken endpoint.
      if (f.protocol === 'imds' && !onAppServicePlatform(settings)) return 'no_managed_identity';
      return 'identity_endpoint_unreachable';
    case 'endpoint_status':
      // Branch on status and `error`, never on error_description (Microsoft's own advice for IMDS).
      // 400 invalid_request = the identity (or the one named) is not assigned; App Service says it with {statusCode, message}.
      if (f.status === 400 && f.error !== 'bad_request_102' && f.error !== 'unparseable_body') return 'identity_not_found';
      return 'identity_endpoint_error';
    case 'malformed':
    case 'sdk':
      return 'identity_endpoint_error';
  }
}

const AUDIENCE_CODES = new Set(['InvalidAuthenticationTokenAudience']);
const TENANT_CODES = new Set(['InvalidAuthenticationTokenTenant']);
const EXPIRED_CODES = new Set(['ExpiredAuthenticationToken']);
export interface CallClassificationInput {
  target: Target;
  failure: CallFailure;
  claims?: Claims;
  settings: Settings;
  /** Epoch seconds (injected so the function stays pure). */
  nowSeconds: number;
  /** The tenant Key Vault's 401 challenge named (authorization="…/<tenant>"). */
  challengeTenantId?: string;
}

export function classifyCallFailure(input: CallClassificationInput): Cause {
  const { failure } = input;
  if (failure.transport) {
    // An answer came, but not a usable one (e.g. past the response cap): the service's side, not the path to it.
    if (failure.transport.kind === 'malformed') return 'target_error';
    return failure.transport.kind === 'aborted' || failure.transport.kind === 'timeout' ? 'deadline_exceeded' : 'target_unreachable';
  }
  // A service with its own protocol (SQL's TDS) reads its own failures first (src/targets/<kind>/).
  const own = kindOf(input.target.kind).classify?.(failure);
  if (own === 'authentication') return authenticationCause(input);
  if (own) return own;
  const status = failure.httpStatus ?? 0;
  if (status === 401) return authenticationCause(input);
  if (status === 403) {
    // Storage answers some token failures with 403 AuthenticationFailed: a 403 that is authentication, not a role.
    if (failure.errorCode === 'AuthenticationFailed' || failure.errorCode === 'InvalidAuthenticationInfo') return authenticationCause(input);
    // Read by the service's own code (its kind's error dialect, src/targets/<kind>/). An unknown code is not dressed up as a missing
    // role: forbidden_other carries the service's words.
    return forbiddenCode(input.target.kind, failure.errorCode, failure.innerErrorCode)?.cause ?? 'forbidden_other';
  }
  if (status === 404) return 'resource_not_found';
  if (status === 429) return 'throttled';
  return 'target_error';
}

function authenticationCause({ target, failure, claims, settings, nowSeconds, challengeTenantId }: CallClassificationInput): Cause {
  const code = failure.errorCode ?? '';
  const text = `${failure.message ?? ''}\n${failure.authenticationDetail ?? ''}`;
  if (AUDIENCE_CODES.has(code) || /AKV10022|Audience validation failed/i.test(text)) return 'wrong_audience';
  if (TENANT_CODES.has(code) || /AKV10032|Issuer validation failed/i.test(text)) return 'wrong_tenant';
  const tokenTenant = claims?.tid?.toLowerCase() ?? issuerTenant(claims?.iss);
  if (challengeTenantId && tokenTenant && challengeTenantId.toLowerCase() !== tokenTenant) return 'wrong_tenant';
  if (EXPIRED_CODES.has(code) || /AKV10021|Lifetime validation failed|token is expired/i.test(text)) return 'token_expired';
  // No code said which check failed: read the claims.
  if (claims?.aud && !audienceAccepted(settings.cloud, target.kind, claims.aud)) return 'wrong_audience';
  if (settings.expectedTenantId && tokenTenant && tokenTenant !== settings.expectedTenantId) return 'wrong_tenant';
  if (claims?.exp !== undefined && claims.exp < nowSeconds) return 'token_expired';
  return 'token_rejected';
}

const OVERLAID: ReadonlySet<Cause> = new Set(['authorized', 'role_missing', 'access_policy_missing', 'propagation_pending', 'grant_ineffective', 'token_rejected']);

/**
 * The identity overlay: a token from another tenant, or whose oid is not the expected principal, explains the
 * outcome better than the outcome itself (the role was granted to the other identity) — even a success, since the
 * workload is then not running as the identity the operator believes it is.
 */
export function overlayIdentity(cause: Cause, claims: Claims | undefined, settings: Settings): Cause {
  if (!OVERLAID.has(cause)) return cause;
  const tid = claims?.tid?.toLowerCase() ?? issuerTenant(claims?.iss);
  if (settings.expectedTenantId && tid && tid !== settings.expectedTenantId) return 'wrong_tenant';
  const oid = claims?.oid?.toLowerCase();
  if (settings.expectedPrincipalId && oid && oid !== settings.expectedPrincipalId && cause !== 'token_rejected') return 'wrong_identity';
  return cause;
}
