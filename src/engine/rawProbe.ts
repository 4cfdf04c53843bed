import http from 'node:http';
import type { Settings } from '../config';
import type { Transport } from '../verdict';
import { rememberSecret } from '../http/redact';
import { decodeClaims } from './claims';
import { identityProtocol, type IdentityProtocol } from './identity';
import { hostPort, transportFromError } from './transport';

/**
 * A raw probe of the identity endpoint with the platform's own protocol — a diagnostic *beside* the SDK, not a
 * substitute for it: what an expert would try with curl. App Service: GET {IDENTITY_ENDPOINT}?api-version=2019-08-01
 * with X-IDENTITY-HEADER; IMDS: GET /metadata/identity/oauth2/token?api-version=2018-02-01 with Metadata: true.
 * Same resource and identity selector as the SDK. The token it may get is decoded for comparison and dropped here.
 */

export interface RawProbeResult {
  via: 'direct' | 'proxy';
  protocol: IdentityProtocol;
  endpoint?: string;
  status?: number;
  error?: string;
  errorDescription?: string;
  /** A 2xx whose body held an access_token. */
  tokenIssued?: boolean;
  /** Claims of the token it got (audience and principal only; the token itself is dropped). */
  tokenAudience?: string;
  tokenPrincipalId?: string;
  transport?: Transport;
  elapsedMs: number;
}

const MAX_BODY = 64 * 1024;

/** The URL the SDK would call for `audience`, with the same selector (client id or resource id). */
export function identityRequestUrl(settings: Settings, audience: string): { url: URL; headers: Record<string, string> } | undefined {
  const resource = audience.replace(/\/+$/, '');
  const p = settings.platform;
  if (identityProtocol(settings) === 'appService') {
    const url = new URL(p.identityEndpoint!);
    url.searchParams.set('api-version', '2019-08-01');
    url.searchParams.set('resource', resource);
    if (settings.clientId) url.searchParams.set('client_id', settings.clientId);
    if (settings.clientResourceId) url.searchParams.set('mi_res_id', settings.clientResourceId);
    const header = p.identityHeader();
    return header ? { url, headers: { 'X-IDENTITY-HEADER': header } } : undefined;
  }
  const url = new URL('/metadata/identity/oauth2/token', p.imdsAuthorityHost ?? 'http://169.254.169.254');
  url.searchParams.set('api-version', '2018-02-01');
  url.searchParams.set('resource', resource);
  if (settings.clientId) url.searchParams.set('client_id', settings.clientId);
  if (settings.clientResourceId) url.searchParams.set('msi_res_id', settings.clientResourceId);
  return { url, headers: { Metadata: 'true' } };
}

/**
 * Probe once, bounded by `timeoutMs` and `signal`. `proxy` sends the request through an HTTP proxy (absolute URI in
 * the request line, as HttpProxyAgent does) to compare with the direct path. Never throws.
 */
export async function rawProbe(
  settings: Settings,
  audience: string,
  opts: { timeoutMs: number; signal?: AbortSignal; proxy?: URL },
): Promise<RawProbeResult> {
  const started = Date.now();
  const protocol = identityProtocol(settings);
  const via = opts.proxy ? 'proxy' : 'direct';
  const target = identityRequestUrl(settings, audience);
  if (!target) {
    return { via, protocol, elapsedMs: 0, error: 'not_probed', errorDescription: 'IDENTITY_HEADER is not set, so the App Service protocol cannot be spoken' };
  }
  const endpoint = hostPort(target.url.href);
  const own = AbortSignal.timeout(Math.max(1, opts.timeoutMs));
  const signal = opts.signal ? AbortSignal.any([opts.signal, own]) : own;
  const headers: Record<string, string> = { ...target.headers, Accept: 'application/json' };
  let requestOptions: http.RequestOptions;
  if (opts.proxy) {
    if (opts.proxy.username) {
      const creds = `${decodeURIComponent(opts.proxy.username)}:${decodeURIComponent(opts.proxy.password)}`;
      headers['Proxy-Authorization'] = `Basic ${Buffer.from(creds).toString('base64')}`;
    }
    headers.Host = target.url.host;
    requestOptions = { host: opts.proxy.hostname, port: Number(opts.proxy.port || 80), path: target.url.href, method: 'GET', headers, signal };
  } else {
    requestOptions = { host: target.url.hostname, port: Number(target.url.port || 80), path: `${target.url.pathname}${target.url.search}`, method: 'GET', headers, signal };
  }
  return new Promise<RawProbeResult>((resolve) => {
    const done = (r: Omit<RawProbeResult, 'via' | 'protocol' | 'endpoint' | 'elapsedMs'>) =>
      resolve({ via, protocol, endpoint, ...r, elapsedMs: Date.now() - started });
    const req = http.request(requestOptions, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) {
          chunks.push(c);
          return;
        }
        // A token answer is a few KB: past the cap, stop reading and close the connection instead of draining it.
        chunks.length = 0;
        done({ status: res.statusCode, transport: { kind: 'malformed', endpoint, detail: `the answer passed the raw probe's cap of ${MAX_BODY / 1024} KiB; the connection was cut` } });
        req.destroy();
      });
      res.on('error', (err) => done({ status: res.statusCode, transport: transportFromError(err, { endpoint, timedOut: own.aborted }) }));
      res.on('end', () => done(summarise(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), endpoint)));
    });
    req.on('error', (err) => {
      const transport = transportFromError(err, { endpoint: opts.proxy ? hostPort(opts.proxy.href) : endpoint, timedOut: own.aborted, elapsedMs: Date.now() - started });
      done({ transport: transport ?? { kind: 'other', endpoint, detail: 'the request failed before any answer' } });
    });
    req.end();
  });
}

function summarise(status: number, body: string, endpoint: string | undefined): Omit<RawProbeResult, 'via' | 'protocol' | 'endpoint' | 'elapsedMs'> {
  let obj: Record<string, unknown> | undefined;
  try {
    const parsed = JSON.parse(body) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) obj = parsed as Record<string, unknown>;
  } catch {
    obj = undefined;
  }
  const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 500) : undefined);
  if (status >= 200 && status < 300) {
    const token = typeof obj?.access_token === 'string' ? obj.access_token : undefined;
    if (!token) {
      return { status, tokenIssued: false, transport: { kind: 'malformed', endpoint, detail: 'answered 2xx with a body that is not a token response' } };
    }
    rememberSecret(token);
    const claims = decodeClaims(token);
    // Only the audience and principal leave this function; the token string goes out of scope here.
    return { status, tokenIssued: true, ...(claims?.aud ? { tokenAudience: claims.aud } : {}), ...(claims?.oid ? { tokenPrincipalId: claims.oid } : {}) };
  }
  // 502/504 from a proxy are gateway errors: the request never reached the endpoint.
  return {
    status,
    error: text(obj?.error) ?? (obj ? undefined : 'unparseable_body'),
    errorDescription: text(obj?.error_description) ?? text(obj?.message) ?? text(obj?.Message),
  };
}

/** Whether two probe outcomes failed "the same way" (same status, or the same transport failure). */
export function sameOutcome(a: { status?: number; transport?: Transport }, b: { status?: number; transport?: Transport }): boolean {
  if (a.status !== undefined || b.status !== undefined) return a.status === b.status;
  return a.transport?.kind === b.transport?.kind;
}
