import { AsyncLocalStorage } from 'node:async_hooks';
import { ManagedIdentityCredential, type AccessToken, type TokenCredential, type GetTokenOptions } from '@azure/identity';
import type { HttpClient, PipelineRequest } from '@azure/core-rest-pipeline';
import { sameAudience } from '../catalog/clouds';
import type { Settings } from '../config';
import type { Claims, Transport } from '../verdict';
import { rememberSecret } from '../http/redact';
import { decodeClaims } from './claims';
import { raceSignal, type Deadline } from './deadline';
import { proxyFor, type ProxyUse } from './proxy';
import { identityRequestUrl, rawProbe, type RawProbeResult } from './rawProbe';
import { hostPort, transportFromError } from '../wire/transport';
import { detectSource } from '../identity/sources';
import { jsonObject, summariseAnswer } from '../identity/rawHttp';
import type { IdentityProtocol } from '../verdict';
import { boundedHttpClient, isResponseTooLarge } from '../wire/boundedClient';
import { withImdsSlot } from './limits';

/**
 * Token acquisition with ManagedIdentityCredential, bounded and observed.
 *
 * The SDK hides what the identity endpoint did behind one "network_error"; a recording HTTP client underneath it keeps
 * the evidence (refused, silent, status, the endpoint's own `error`/`error_description`). The SDK also retries for
 * seconds and ignores its abort signal on a silent endpoint, so retries are off and our own signal cuts the request.
 *
 * The token lives only here and inside the SDK clients: callers get Claims and a TokenCredential that hands the
 * token to the SDK's auth policy, never a string they could log or return.
 */

export type { IdentityProtocol } from '../verdict';

export interface AcquisitionFailure {
  reason: 'no_endpoint' | 'transport' | 'endpoint_status' | 'malformed' | 'deadline' | 'sdk';
  protocol: IdentityProtocol;
  endpoint?: string;
  selector: string;
  status?: number;
  error?: string;
  errorDescription?: string;
  transport?: Transport;
  sdkError?: string;
  /** The raw probes run beside the SDK (always after a failure). */
  raw?: EndpointProbes;
}

/** What the raw probes found, directly and through the proxy the SDK would use. */
export interface EndpointProbes {
  direct?: RawProbeResult;
  viaProxy?: RawProbeResult;
  proxy?: Omit<ProxyUse, 'target'>;
  skipped?: string;
}

export interface ChallengeRecord {
  scopes: string[];
  tenantId?: string;
}

export interface TokenGrant {
  audience: string;
  claims?: Claims;
  expiresOnTimestamp: number;
  /**
   * A credential for one SDK client; `onRequest` sees each scope/tenant the client asked for (the challenge). It hands
   * out this grant's token only for a scope of this grant's audience or of `serviceAudiences` (the audiences the
   * target's own service is known by, which its SDK or challenge asks for); any other scope is refused with
   * ScopeRefusedError, so a challenge can narrow the request to the service's own audience but never widen it.
   */
  credentialFor(onRequest?: (c: ChallengeRecord) => void, serviceAudiences?: readonly string[]): TokenCredential;
}

export type Acquisition =
  | { ok: true; grant: TokenGrant; durationMs: number; protocol: IdentityProtocol; endpoint?: string; selector: string; raw?: EndpointProbes }
  | { ok: false; failure: AcquisitionFailure; durationMs: number };

/** True when the process runs on an App Service-family host (the platform's own variables say so). */
export function onAppServicePlatform(settings: Settings): boolean {
  return !!(settings.platform.siteName || settings.platform.containerAppName);
}

/** Which source @azure/identity will use on this host, in its own order (src/identity/sources). */
export function identityProtocol(settings: Settings): IdentityProtocol {
  return detectSource(settings).id;
}

export function identityEndpointHost(settings: Settings): string {
  return detectSource(settings).endpoint(settings) ?? 'unknown';
}

export function selectorOf(settings: Settings): string {
  if (settings.clientId) return `client_id=${settings.clientId}`;
  if (settings.clientResourceId) return `mi_res_id=${settings.clientResourceId}`;
  return 'system-assigned';
}

/** Off Azure, IMDS is pinged this long before concluding nobody is there (the SDK's own probe uses 1 s). */
export const IMDS_PING_MS = 1500;
/** The raw probes after a failure get at most this long (and this share of the deadline), and end before it. */
export const RAW_PROBE_MS = 3000;
export const RAW_PROBE_SHARE = 0.2;
const DEADLINE_MARGIN_MS = 150;

/** Raw probes of the endpoint: directly, and through the proxy when the SDK would use one for it. Never throws. */
export async function probeEndpoint(settings: Settings, audience: string, deadline: Deadline, direct?: RawProbeResult): Promise<EndpointProbes> {
  const budget = Math.min(RAW_PROBE_MS, Math.floor(deadline.budgetMs * RAW_PROBE_SHARE), deadline.remainingMs - DEADLINE_MARGIN_MS);
  const target = identityRequestUrl(settings, audience);
  const proxy = target ? proxyFor(target.url.href, settings.platform.proxy) : undefined;
  const proxyEvidence = proxy ? { url: proxy.url, bypassed: proxy.bypassed, source: proxy.source } : undefined;
  if (budget < 100) return { ...(direct ? { direct } : {}), ...(proxyEvidence ? { proxy: proxyEvidence } : {}), skipped: 'no time left before the deadline' };
  const opts = { timeoutMs: budget, signal: deadline.signal };
  const [d, viaProxy] = await Promise.all([
    direct ?? rawProbe(settings, audience, opts),
    // Through the proxy only for plain-HTTP endpoints: the raw probe does not speak CONNECT (Entra's exchange is HTTPS).
    proxy && !proxy.bypassed && target?.url.protocol === 'http:' ? rawProbe(settings, audience, { ...opts, proxy: proxy.target }) : undefined,
  ]);
  return { direct: d, ...(viaProxy ? { viaProxy } : {}), ...(proxyEvidence ? { proxy: proxyEvidence } : {}) };
}

/** The share of the deadline the token stage may use, so a silent endpoint still leaves time to say so. */
export const TOKEN_STAGE_SHARE = 0.6;

interface Exchange {
  endpoint?: string;
  status?: number;
  error?: string;
  errorDescription?: string;
  wellFormed?: boolean;
  failure?: unknown;
  elapsedMs: number;
}

/** What one acquisition sees of the wire: its stage signal goes onto every request, every answer is recorded. */
interface AcquisitionScope {
  signal: AbortSignal;
  exchanges: Exchange[];
  /** DIAGNOSE_MAX_RESPONSE_BYTES: the identity endpoint's answers are capped like every other. */
  maxResponseBytes: number;
  /** The endpoint is IMDS: each request waits for one of its slots (limits.ts, withImdsSlot). */
  imds: boolean;
}

/** The cap for identity-endpoint calls made outside an acquisition (none are expected; a token answer is ~2 KB). */
const UNSCOPED_MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * MSAL picks its managed-identity source — and with it the HTTP client — once per process
 * (`ManagedIdentityClient.identitySource` is static): every later credential sends through the first one's client.
 * So there is one recording client for the process, and each acquisition's signal and evidence travel with the
 * async context instead of with the client.
 */
const acquisitionScope = new AsyncLocalStorage<AcquisitionScope>();

/**
 * The HTTP client under every credential. It reads only error fields of a body, and on success only whether the
 * body parsed — never the token in it.
 */
const recordingClient: HttpClient = (() => {
  return {
    async sendRequest(request: PipelineRequest) {
      const scope = acquisitionScope.getStore();
      const inner = boundedHttpClient(scope?.maxResponseBytes ?? UNSCOPED_MAX_RESPONSE_BYTES);
      if (!scope) return inner.sendRequest(request);
      const own = request.abortSignal;
      request.abortSignal = own instanceof AbortSignal ? AbortSignal.any([own, scope.signal]) : scope.signal;
      const started = Date.now();
      const endpoint = hostPort(request.url);
      try {
        const response = await (scope.imds ? withImdsSlot(request.abortSignal as AbortSignal, () => inner.sendRequest(request)) : inner.sendRequest(request));
        scope.exchanges.push({ endpoint, ...summariseBody(response.status, response.bodyAsText), elapsedMs: Date.now() - started });
        return response;
      } catch (failure) {
        scope.exchanges.push({ endpoint, failure, elapsedMs: Date.now() - started });
        throw failure;
      }
    },
  };
})();

/** One credential per identity selector for the life of the process (MSAL's cache is process-wide anyway). */
const credentials = new Map<string, ManagedIdentityCredential>();

function credentialFor(settings: Settings): ManagedIdentityCredential {
  const key = selectorOf(settings);
  let credential = credentials.get(key);
  if (!credential) {
    credential = new ManagedIdentityCredential({
      ...(settings.clientId ? { clientId: settings.clientId } : {}),
      ...(settings.clientResourceId ? { resourceId: settings.clientResourceId } : {}),
      // Both retry layers off: a diagnosis reports the first answer, and our deadline bounds the wait.
      retryOptions: { maxRetries: 0 },
      httpClient: recordingClient,
    });
    credentials.set(key, credential);
  }
  return credential;
}

/**
 * What the SDK's token request was answered, read by the one reader of token-endpoint bodies the raw probe uses too
 * (src/identity/rawHttp.ts): a 2xx is well formed when it holds an access_token; an error says its code and words.
 */
function summariseBody(status: number, body: string | null | undefined): Omit<Exchange, 'elapsedMs'> {
  if (status >= 200 && status < 300) return { status, wellFormed: typeof jsonObject(body ?? undefined)?.access_token === 'string' };
  const { error, errorDescription } = summariseAnswer(status, body ?? undefined, undefined);
  return { status, error, errorDescription };
}

/**
 * Acquire one token for `audience`, bounded by the deadline. Never throws. After a failure (or with `rawProbe`) the
 * endpoint is also probed raw, so the verdict can tell library/configuration problems from platform plumbing.
 */
export async function acquireToken(settings: Settings, audience: string, deadline: Deadline, options: { rawProbe?: boolean } = {}): Promise<Acquisition> {
  const attempt = await acquireWithSdk(settings, audience, deadline);
  if (attempt.ok && !options.rawProbe) return attempt;
  if (!attempt.ok && (attempt.failure.reason === 'no_endpoint' || attempt.failure.reason === 'deadline')) return attempt;
  // Off Azure the IMDS ping already probed raw (and found nobody there).
  if (!attempt.ok && attempt.failure.raw?.direct) return attempt;
  const raw = await probeEndpoint(settings, audience, deadline, attempt.ok ? undefined : attempt.failure.raw?.direct);
  if (attempt.ok) return { ...attempt, raw };
  return { ...attempt, failure: { ...attempt.failure, raw }, durationMs: attempt.durationMs };
}

/**
 * Remember what the process sends that is secret before anything is sent — the identity header, the proxy's
 * credentials (the SDK's Proxy-Authorization is base64 of user:password) — so no echo of them can leave the process.
 */
export function rememberPlatformSecrets(settings: Settings): void {
  rememberSecret(settings.platform.identityHeader());
  const p = settings.platform.proxy;
  for (const raw of [p.httpsProxy, p.allProxy, p.httpProxy]) {
    let u: URL;
    try {
      u = new URL(raw ?? '');
    } catch {
      continue;
    }
    const decode = (v: string) => {
      try {
        return decodeURIComponent(v);
      } catch {
        return v;
      }
    };
    for (const [user, pass] of [[u.username, u.password], [decode(u.username), decode(u.password)]] as const) {
      rememberSecret(user);
      rememberSecret(pass);
      if (user || pass) rememberSecret(`${user}:${pass}`);
    }
  }
}

/**
 * Whether IMDS has answered this process at all. The ping beside each acquisition asks only "is anybody there?" —
 * off Azure nobody is, and the SDK would wait for its whole stage — so once IMDS has answered, it is not asked again:
 * every ping is a token request of its own, against IMDS's limit of 5 in flight (limits.ts).
 */
let imdsAnswered = false;
let imdsPingInFlight: Promise<RawProbeResult> | undefined;

/** One ping at a time for the process, whatever the audience: reachability is one fact per host. Never rejects. */
function imdsPingOnce(settings: Settings, audience: string, timeoutMs: number): Promise<RawProbeResult> {
  imdsPingInFlight ??= rawProbe(settings, audience, { timeoutMs })
    .then((r) => {
      if (r.status !== undefined) imdsAnswered = true;
      return r;
    })
    .finally(() => {
      imdsPingInFlight = undefined;
    });
  return imdsPingInFlight;
}

async function acquireWithSdk(settings: Settings, audience: string, deadline: Deadline): Promise<Acquisition> {
  const started = Date.now();
  rememberPlatformSecrets(settings);
  const protocol = identityProtocol(settings);
  const endpoint = identityEndpointHost(settings);
  const selector = selectorOf(settings);
  const fail = (f: Omit<AcquisitionFailure, 'protocol' | 'selector' | 'endpoint'>): Acquisition => ({
    ok: false,
    failure: { protocol, endpoint, selector, ...f },
    durationMs: Date.now() - started,
  });

  // On App Service / Functions / Container Apps the platform injects IDENTITY_ENDPOINT only once an identity is
  // enabled: its absence is the proof, and asking IMDS (which those hosts do not serve) would only burn the deadline.
  if (onAppServicePlatform(settings) && protocol === 'imds') {
    return fail({ reason: 'no_endpoint' });
  }

  const stageBudget = Math.max(250, Math.floor(deadline.budgetMs * TOKEN_STAGE_SHARE));
  const timed = deadline.stageSignal(stageBudget);
  // Off Azure the SDK waits on IMDS for as long as it is allowed to; a concurrent raw ping that finds nobody there
  // ends the stage early, so a laptop gets its verdict in about a second.
  const nobodyThere = new AbortController();
  const stageSignal = AbortSignal.any([timed, nobodyThere.signal]);
  let imdsPing: RawProbeResult | undefined;
  const imds = protocol === 'imds' && !onAppServicePlatform(settings);
  if (imds && !imdsAnswered) {
    void imdsPingOnce(settings, audience, Math.min(IMDS_PING_MS, stageBudget)).then((r) => {
      imdsPing = r;
      if (r.status === undefined && r.transport) nobodyThere.abort(new Error('no IMDS'));
    });
  }
  const exchanges: Exchange[] = [];
  let credential: ManagedIdentityCredential;
  try {
    credential = credentialFor(settings);
  } catch (err) {
    return fail({ reason: 'sdk', sdkError: sdkErrorText(err) });
  }

  let token: AccessToken;
  try {
    // getToken ignores its abort signal while MSAL waits on the network; raceSignal makes the cut certain.
    const scope: AcquisitionScope = { signal: stageSignal, exchanges, maxResponseBytes: settings.maxResponseBytes, imds };
    const pending = acquisitionScope.run(scope, () => credential.getToken(`${trimSlash(audience)}/.default`, { abortSignal: stageSignal }));
    token = await raceSignal(pending, stageSignal);
  } catch (err) {
    if (nobodyThere.signal.aborted && imdsPing?.transport) {
      return fail({ reason: 'transport', transport: imdsPing.transport, sdkError: sdkErrorText(err), raw: { direct: imdsPing } });
    }
    const last = exchanges.at(-1);
    const deadlinePassed = deadline.passed;
    if (deadlinePassed && !last?.status) return fail({ reason: 'deadline', sdkError: sdkErrorText(err) });
    if (isResponseTooLarge(last?.failure)) {
      const detail = last.failure.message;
      return fail({
        reason: 'malformed',
        ...(last.failure.answeredStatus !== undefined ? { status: last.failure.answeredStatus } : {}),
        error: 'response_too_large',
        errorDescription: detail,
        transport: { kind: 'malformed', endpoint, detail, elapsedMs: last.elapsedMs },
        sdkError: sdkErrorText(err),
      });
    }
    if (last?.failure !== undefined || (!last && stageSignal.aborted)) {
      const timedOut = timed.aborted && !deadlinePassed;
      const transport = transportFromError(last?.failure ?? err, {
        endpoint,
        timedOut,
        elapsedMs: last?.elapsedMs ?? Date.now() - started,
      }) ?? { kind: 'other' as const, endpoint, detail: 'the request failed before any answer' };
      return fail({ reason: 'transport', transport, sdkError: sdkErrorText(err) });
    }
    if (last?.status !== undefined && (last.status < 200 || last.status >= 300)) {
      return fail({
        reason: 'endpoint_status',
        status: last.status,
        error: last.error,
        errorDescription: last.errorDescription,
        sdkError: sdkErrorText(err),
      });
    }
    if (last?.status !== undefined && last.wellFormed === false) {
      return fail({
        reason: 'malformed',
        status: last.status,
        transport: { kind: 'malformed', endpoint, detail: 'the identity endpoint answered 200 with a body that is not a token response' },
        sdkError: sdkErrorText(err),
      });
    }
    return fail({ reason: 'sdk', status: last?.status, sdkError: sdkErrorText(err) });
  }

  if (imds) imdsAnswered = true;
  const claims = decodeClaims(token.token);
  const secret = token.token;
  rememberSecret(secret);
  const expiresOnTimestamp = token.expiresOnTimestamp;
  const grant: TokenGrant = {
    audience,
    claims,
    expiresOnTimestamp,
    credentialFor(onRequest, serviceAudiences = []) {
      const accepted = [audience, ...serviceAudiences];
      return {
        // The SDK clients ask for their own scope (Key Vault from its challenge); we answer with the token minted for
        // the configured audience, because reproducing the configured audience is what the diagnosis is about — but
        // only when the scope asked for is that audience or the service's own: a challenge naming anything else
        // (a parent domain, another service) gets no token at all.
        async getToken(scopes: string | string[], options?: GetTokenOptions) {
          const list = Array.isArray(scopes) ? scopes : [scopes];
          onRequest?.({ scopes: list, tenantId: options?.tenantId });
          const foreign = list.find((s) => !accepted.some((a) => sameAudience(a, s.replace(/\/\.default$/, ''))));
          if (foreign !== undefined || list.length === 0) throw new ScopeRefusedError(foreign ?? '(none)', audience);
          return { token: secret, expiresOnTimestamp, tokenType: 'Bearer' } as AccessToken;
        },
      };
    },
  };
  return { ok: true, grant, durationMs: Date.now() - started, protocol, endpoint, selector };
}

/** A client (or a service's challenge) asked for a token for a scope other than the target's own: none is given. */
export class ScopeRefusedError extends Error {
  override readonly name = 'ScopeRefusedError';
  readonly code = 'SCOPE_REFUSED';
  constructor(scope: string, audience: string) {
    super(
      `the service asked for a token for "${scope.slice(0, 200)}", which is not this target's audience (${audience}); ` +
        'a token is only handed out for its own service, so none was sent',
    );
  }
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, '');
}

/** The SDK error's name and first line, shortened: its messages carry URLs and codes, never tokens. */
export function sdkErrorText(err: unknown): string {
  const e = err as { name?: unknown; message?: unknown } | undefined;
  const name = typeof e?.name === 'string' ? e.name : 'Error';
  const message = typeof e?.message === 'string' ? e.message.split('\n')[0]!.slice(0, 300) : String(err).slice(0, 300);
  return `${name}: ${message}`;
}
