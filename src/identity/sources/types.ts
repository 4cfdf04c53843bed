import type { Settings } from '../../config';
import type { HostKind, IdentityProtocol, Transport } from '../../verdict';

/**
 * One managed-identity source as @azure/identity 4.13 and MSAL 5.6 see it: how the host's variables select it, the
 * request its platform protocol expects (what the raw probe sends beside the SDK), and the host kind it implies.
 */

/** The sources, named as the verdict's `identityEndpoint.protocol` reports them. */
export type SourceId = IdentityProtocol;

/** A request in the platform's own protocol. Header values may be secrets: they never leave the raw probe. */
export interface SourceRequest {
  url: URL;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** application/x-www-form-urlencoded body (Cloud Shell, the token exchange). */
  form?: Record<string, string>;
}

export interface IdentitySource {
  id: SourceId;
  /** Whether the host's variables select this source (the SDK's own test, in the SDK's order). */
  detect(settings: Settings): boolean;
  /** host:port the SDK will call (for evidence; no path, no query). */
  endpoint(settings: Settings): string | undefined;
  /** The request for `audience` with the same identity selector the SDK sends; undefined when it cannot be built. */
  request(settings: Settings, audience: string): SourceRequest | undefined;
  /** The host kind this source implies; `answered` says whether the endpoint answered at all (IMDS: VM vs laptop). */
  hostKind(settings: Settings, answered: boolean): HostKind;
  /** Variables that selected it, for the evidence (names → non-secret values or "set"/"absent"). */
  variables(settings: Settings): Record<string, string>;
  /** A probe of its own when one request is not the whole protocol (the token exchange reads a file first). */
  probe?(settings: Settings, audience: string, opts: ProbeOptions): Promise<RawProbeResult>;
}

export interface ProbeOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  proxy?: URL;
}

/** What the projected service-account token says (workload identity); never the token itself. */
export interface FederatedTokenEvidence {
  file: string;
  readable: boolean;
  /** The system's code when it could not be read (ENOENT, EACCES, …), or EMPTY / NOT_A_JWT. */
  code?: string;
  iss?: string;
  sub?: string;
  aud?: string;
  exp?: number;
  expiresAt?: string;
  expired?: boolean;
}

/** One raw probe of the identity source (the platform's own protocol, beside the SDK). Never carries a token. */
export interface RawProbeResult {
  via: 'direct' | 'proxy';
  protocol: SourceId;
  endpoint?: string;
  status?: number;
  error?: string;
  errorDescription?: string;
  /** Entra's numeric codes (AADSTS…) from the token exchange. */
  errorCodes?: number[];
  /** A 2xx whose body held an access_token. */
  tokenIssued?: boolean;
  /** Claims of the token it got (audience and principal only; the token itself is dropped). */
  tokenAudience?: string;
  tokenPrincipalId?: string;
  transport?: Transport;
  federatedToken?: FederatedTokenEvidence;
  /** Azure Arc: what became of the challenge file (never its content). */
  keyFile?: { path?: string; expectedDirectory?: string; problem?: string; code?: string };
  elapsedMs: number;
}

/** The resource the platform protocols take: the audience without trailing slashes (as MSAL maps a scope). */
export function resourceOf(audience: string): string {
  return audience.replace(/\/+$/, '');
}

export const setOrAbsent = (v: unknown): string => (v ? 'set' : 'absent');
