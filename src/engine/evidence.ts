import type { Settings } from '../config';
import type { CallFailure, Correlation } from '../wire/callFailure';
import { type Evidence, type Transport } from '../verdict';
import { interpretProbes } from './classify';
import { identityProtocol, type AcquisitionFailure, type ChallengeRecord, type EndpointProbes } from './identity';
import { entraCodes } from '../identity/classifySource';
import { detectSource } from '../identity/sources';
import { workloadIdentityVariables } from '../identity/sources/workloadIdentity';

/**
 * The evidence a check carries, built from what each stage saw: the identity endpoint's answer (and the raw probe's
 * reading of it), the proxy in the way, the settings that decide the identity, the service's challenge, codes and
 * correlation ids. Never a token or a secret value.
 */

export function rawEvidence(raw: EndpointProbes, sdk: { ok: boolean; status?: number; transport?: Transport }): NonNullable<NonNullable<Evidence['identityEndpoint']>['rawProbe']> {
  return {
    ...(raw.direct ? { direct: raw.direct } : {}),
    ...(raw.viaProxy ? { viaProxy: raw.viaProxy } : {}),
    ...interpretProbes(raw, sdk),
    ...(raw.skipped ? { skipped: raw.skipped } : {}),
  };
}

/** What only one source shows: Entra's AADSTS numbers, the projected token's claims, Arc's challenge file. */
export function sourceEvidence(f: AcquisitionFailure): Pick<NonNullable<Evidence['identityEndpoint']>, 'errorCodes' | 'federatedToken' | 'keyFile'> {
  const codes = entraCodes(f);
  const direct = f.raw?.direct;
  return {
    ...(codes.length ? { errorCodes: codes } : {}),
    ...(direct?.federatedToken ? { federatedToken: direct.federatedToken } : {}),
    ...(direct?.keyFile ? { keyFile: direct.keyFile } : {}),
  };
}

export function proxyEvidence(proxy: { url: string; bypassed: boolean; source: 'HTTPS_PROXY' | 'ALL_PROXY' | 'HTTP_PROXY' } | undefined): Evidence {
  return proxy ? { proxy: { url: proxy.url, bypassed: proxy.bypassed, source: proxy.source } } : {};
}

export function identitySettingsEvidence(settings: Settings): Record<string, string> {
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

export function challengeEvidence(challenges: ChallengeRecord[]): Evidence {
  // Key Vault names its audience and tenant in the 401 challenge; the SDK relays them as scope and tenantId.
  const withTenant = challenges.find((c) => c.tenantId) ?? challenges[0];
  if (!withTenant) return {};
  return { challenge: { scopes: withTenant.scopes, ...(withTenant.tenantId ? { tenantId: withTenant.tenantId } : {}) } };
}

export function correlationEvidence(c: Correlation): Evidence {
  return {
    ...(c.requestId ? { requestId: c.requestId } : {}),
    ...(c.clientRequestId ? { clientRequestId: c.clientRequestId } : {}),
    ...(c.correlationId ? { correlationId: c.correlationId } : {}),
  };
}

export function failureEvidence(f: CallFailure): Evidence {
  return {
    ...(f.errorCode ? { errorCode: f.errorCode } : {}),
    ...(f.innerErrorCode ? { innerErrorCode: f.innerErrorCode } : {}),
    ...(f.message || f.authenticationDetail
      ? { message: [f.message, f.authenticationDetail].filter(Boolean).join('\n') }
      : {}),
    ...(f.wwwAuthenticate ? { wwwAuthenticate: f.wwwAuthenticate } : {}),
    ...(f.retryAfter ? { retryAfter: f.retryAfter } : {}),
    ...(f.transport ? { transport: f.transport } : {}),
    ...(f.step ? { step: f.step } : {}),
    ...(f.amqpCondition ? { amqpCondition: f.amqpCondition } : {}),
    ...correlationEvidence(f),
  };
}
