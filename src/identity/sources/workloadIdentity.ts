import { readFile } from 'node:fs/promises';
import type { Settings } from '../../config';
import { hostPort } from '../../wire/transport';
import { sendRaw, summariseAnswer } from '../rawHttp';
import type { FederatedTokenEvidence, IdentitySource, ProbeOptions, RawProbeResult } from './types';
import { resourceOf, setOrAbsent } from './types';

/**
 * AKS workload identity: @azure/identity's ManagedIdentityCredential checks it *before* MSAL's sources — with
 * AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE all set it exchanges the pod's projected
 * service-account token at Entra (POST {AZURE_AUTHORITY_HOST}/{tenant}/oauth2/v2.0/token, client_credentials with a
 * jwt-bearer client assertion) instead of asking any metadata endpoint. The webhook injects the four variables only
 * into pods labelled `azure.workload.identity/use: "true"` whose service account carries the client-id annotation.
 */
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

function authorityOf(s: Settings): string {
  return s.platform.authorityHost ?? s.cloud.authorityHost;
}

export const workloadIdentity: IdentitySource = {
  id: 'workloadIdentity',
  detect: (s) => !!(s.clientId && s.platform.tenantId && s.platform.federatedTokenFile),
  endpoint: (s) => hostPort(authorityOf(s)),
  request(s, audience) {
    if (!s.clientId || !s.platform.tenantId) return undefined;
    const url = new URL(`${authorityOf(s).replace(/\/+$/, '')}/${encodeURIComponent(s.platform.tenantId)}/oauth2/v2.0/token`);
    return {
      url,
      method: 'POST',
      headers: {},
      form: {
        client_id: s.clientId,
        scope: `${resourceOf(audience)}/.default`,
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      },
    };
  },
  // The same three variables work outside Kubernetes (any OIDC-federated workload): only a pod is 'aks'.
  hostKind: (s) => (s.platform.kubernetes ? 'aks' : 'unknown'),
  variables: (s) => workloadIdentityVariables(s),
  probe: probeTokenExchange,
};

/** The four variables the webhook injects, as evidence (the client id and tenant are not secrets). */
export function workloadIdentityVariables(s: Settings): Record<string, string> {
  return {
    AZURE_CLIENT_ID: s.clientId ?? 'absent',
    AZURE_TENANT_ID: s.platform.tenantId ?? 'absent',
    AZURE_FEDERATED_TOKEN_FILE: s.platform.federatedTokenFile ?? 'absent',
    AZURE_AUTHORITY_HOST: s.platform.authorityHost ?? 'absent',
    KUBERNETES_SERVICE_HOST: setOrAbsent(s.platform.kubernetes),
  };
}

/** Read the projected token and decode what Entra will compare (iss, sub, aud, exp). The token stays here. */
export async function readFederatedToken(file: string, nowSeconds: number): Promise<{ evidence: FederatedTokenEvidence; assertion?: string }> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return { evidence: { file, readable: false, code: typeof code === 'string' ? code : 'UNREADABLE' } };
  }
  if (!text) return { evidence: { file, readable: false, code: 'EMPTY' } };
  const payload = decodePayload(text);
  if (!payload) return { evidence: { file, readable: true, code: 'NOT_A_JWT' } };
  const str = (v: unknown) => (typeof v === 'string' ? v.slice(0, 300) : undefined);
  const aud = Array.isArray(payload.aud) ? str(payload.aud[0]) : str(payload.aud);
  const exp = typeof payload.exp === 'number' ? payload.exp : undefined;
  return {
    assertion: text,
    evidence: {
      file,
      readable: true,
      ...(str(payload.iss) ? { iss: str(payload.iss) } : {}),
      ...(str(payload.sub) ? { sub: str(payload.sub) } : {}),
      ...(aud ? { aud } : {}),
      ...(exp !== undefined ? { exp, expiresAt: new Date(exp * 1000).toISOString(), expired: exp < nowSeconds } : {}),
    },
  };
}

function decodePayload(jwt: string): Record<string, unknown> | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const v = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The exchange, asked directly: read the projected token, then POST it to Entra as the SDK would. The projected
 * token goes only to Entra, the audience it was minted for (api://AzureADTokenExchange).
 */
async function probeTokenExchange(s: Settings, audience: string, opts: ProbeOptions): Promise<RawProbeResult> {
  const started = Date.now();
  const via = opts.proxy ? 'proxy' : 'direct';
  const endpoint = workloadIdentity.endpoint(s);
  const base = { via, protocol: 'workloadIdentity', endpoint } as const;
  const file = s.platform.federatedTokenFile;
  const request = workloadIdentity.request(s, audience);
  if (!file || !request) return { ...base, error: 'not_probed', errorDescription: 'AZURE_CLIENT_ID, AZURE_TENANT_ID or AZURE_FEDERATED_TOKEN_FILE is not set', elapsedMs: 0 };
  const { evidence, assertion } = await readFederatedToken(file, Math.floor(Date.now() / 1000));
  if (!assertion) return { ...base, federatedToken: evidence, error: 'not_probed', errorDescription: 'the projected service-account token could not be read', elapsedMs: Date.now() - started };
  const answer = await sendRaw({ ...request, form: { ...request.form, client_assertion: assertion } }, opts);
  if (answer.status === undefined || answer.transport) {
    return { ...base, federatedToken: evidence, ...(answer.status !== undefined ? { status: answer.status } : {}), transport: answer.transport, elapsedMs: Date.now() - started };
  }
  return { ...base, federatedToken: evidence, ...summariseAnswer(answer.status, answer.body, endpoint), elapsedMs: Date.now() - started };
}
