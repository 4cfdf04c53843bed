import type { Settings } from '../config';
import type { Cause } from '../verdict';
import type { AcquisitionFailure } from '../engine/identity';

/**
 * Token-stage causes that only one identity source can produce, decided before the shared fallbacks: the AKS token
 * exchange (Entra's AADSTS numbers, the projected token), Azure Arc's challenge file, and an AKS pod that fell through
 * to the node's IMDS because the workload-identity webhook injected nothing. Pure: same failure, same cause.
 */

/** AADSTS numbers meaning "no federated identity credential matches the assertion" (issuer, subject, audience, case). */
const FEDERATION_MISMATCH = new Set([70021, 700211, 700212, 700213, 7002138]);
const CLIENT_NOT_IN_TENANT = 700016;
const ASSERTION_EXPIRED = 700024;

/** Entra's numbers from the SDK's message (`AADSTS70021: …`) and the raw exchange's `error_codes`. */
export function entraCodes(f: Pick<AcquisitionFailure, 'sdkError' | 'raw'>): number[] {
  const fromMessage = [...(f.sdkError ?? '').matchAll(/AADSTS(\d{5,8})/g)].map((m) => Number(m[1]));
  return [...new Set([...fromMessage, ...(f.raw?.direct?.errorCodes ?? [])])];
}

export function classifySourceFailure(f: AcquisitionFailure, settings: Settings): Cause | undefined {
  if (f.protocol === 'workloadIdentity') {
    const token = f.raw?.direct?.federatedToken;
    if (token && (!token.readable || token.code)) return 'federated_token_unreadable';
    const codes = entraCodes(f);
    if (codes.includes(CLIENT_NOT_IN_TENANT)) return 'identity_not_found';
    if (codes.includes(ASSERTION_EXPIRED)) return 'token_expired';
    if (codes.some((c) => FEDERATION_MISMATCH.has(c))) return 'federation_mismatch';
    // The exchange bypasses our recording client, so "Entra could not be reached" is known from the raw probe.
    if (f.reason === 'sdk' && f.raw?.direct?.transport && f.raw.direct.status === undefined) return 'identity_endpoint_unreachable';
    return undefined;
  }
  if (f.protocol === 'arc' && f.raw?.direct?.keyFile?.problem) return 'arc_key_file_unreadable';
  // Service Fabric names the condition in its own error code (the application manifest assigns no identity).
  if (f.protocol === 'serviceFabric' && f.raw?.direct?.error === 'ManagedIdentityNotFound') return 'identity_not_found';
  // A pod without the webhook's variables asks the node's IMDS, which does not hold the workload's identity.
  if (f.protocol === 'imds' && settings.platform.kubernetes && f.reason !== 'deadline') return 'workload_identity_not_injected';
  return undefined;
}
