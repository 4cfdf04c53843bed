import { timeoutSignal } from '../engine/deadline';
import http from 'node:http';
import https from 'node:https';
import type { Transport } from '../verdict';
import { decodeClaims } from '../engine/claims';
import { rememberSecret } from '../http/redact';
import { hostPort, transportFromError } from '../wire/transport';
import type { RawProbeResult, SourceRequest } from './sources/types';

/**
 * One request in a platform's own protocol, bounded, read up to a cap, never thrown: the wire under the raw probes.
 * `proxy` sends it through an HTTP proxy (absolute URI in the request line, as HttpProxyAgent does) to compare with
 * the direct path. Header values (identity header, Arc key, proxy credentials) and form values (a client assertion)
 * go on the wire only — and are remembered by the redactor, so no echo of them can reach an output (SECURITY.md).
 */

export interface RawAnswer {
  status?: number;
  headers?: http.IncomingHttpHeaders;
  body?: string;
  transport?: Transport;
  elapsedMs: number;
}

const MAX_BODY = 64 * 1024;

export function sendRaw(request: SourceRequest, opts: { timeoutMs: number; signal?: AbortSignal; proxy?: URL }): Promise<RawAnswer> {
  const started = Date.now();
  const { url } = request;
  const endpoint = hostPort(url.href);
  const own = timeoutSignal(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, own]) : own;
  const body = request.form ? new URLSearchParams(request.form).toString() : undefined;
  const headers: Record<string, string> = {
    ...request.headers,
    Accept: 'application/json',
    ...(body !== undefined ? { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(Buffer.byteLength(body)) } : {}),
  };
  // Accept/Metadata/Content-* carry nothing secret; every other header or form value may (and short ones are ignored).
  for (const [name, value] of Object.entries(headers)) if (!/^(accept|metadata|content-type|content-length|host)$/i.test(name)) rememberSecret(value);
  for (const value of Object.values(request.form ?? {})) rememberSecret(value);
  const https_ = url.protocol === 'https:';
  let requestOptions: http.RequestOptions;
  if (opts.proxy && !https_) {
    if (opts.proxy.username) {
      const creds = `${decodeURIComponent(opts.proxy.username)}:${decodeURIComponent(opts.proxy.password)}`;
      headers['Proxy-Authorization'] = `Basic ${Buffer.from(creds).toString('base64')}`;
      rememberSecret(creds);
      rememberSecret(headers['Proxy-Authorization']);
    }
    headers.Host = url.host;
    requestOptions = { host: opts.proxy.hostname, port: Number(opts.proxy.port || 80), path: url.href, method: request.method, headers, signal };
  } else {
    requestOptions = { host: url.hostname, port: Number(url.port || (https_ ? 443 : 80)), path: `${url.pathname}${url.search}`, method: request.method, headers, signal };
  }
  return new Promise<RawAnswer>((resolve) => {
    const done = (r: Omit<RawAnswer, 'elapsedMs'>) => resolve({ ...r, elapsedMs: Date.now() - started });
    const req = (https_ ? https : http).request({ ...requestOptions, ...(https_ ? { servername: url.hostname } : {}) }, (res) => {
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
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', (err) => {
      const transport = transportFromError(err, { endpoint: opts.proxy ? hostPort(opts.proxy.href) : endpoint, timedOut: own.aborted, elapsedMs: Date.now() - started });
      done({ transport: transport ?? { kind: 'other', endpoint, detail: 'the request failed before any answer' } });
    });
    req.end(body);
  });
}

/** The JSON object of a body, or undefined. */
export function jsonObject(body: string | undefined): Record<string, unknown> | undefined {
  try {
    const parsed = body ? (JSON.parse(body) as unknown) : undefined;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Status and body → what a raw probe reports. Only the audience and principal of a token leave this function. */
export function summariseAnswer(status: number, body: string | undefined, endpoint: string | undefined): Pick<RawProbeResult, 'status' | 'error' | 'errorDescription' | 'errorCodes' | 'tokenIssued' | 'tokenAudience' | 'tokenPrincipalId' | 'transport'> {
  const obj = jsonObject(body);
  const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 500) : undefined);
  if (status >= 200 && status < 300) {
    const token = typeof obj?.access_token === 'string' ? obj.access_token : undefined;
    if (!token) {
      return { status, tokenIssued: false, transport: { kind: 'malformed', endpoint, detail: 'answered 2xx with a body that is not a token response' } };
    }
    rememberSecret(token);
    const claims = decodeClaims(token);
    return { status, tokenIssued: true, ...(claims?.aud ? { tokenAudience: claims.aud } : {}), ...(claims?.oid ? { tokenPrincipalId: claims.oid } : {}) };
  }
  // IMDS and Entra answer {error, error_description}; App Service {statusCode, message}; Service Fabric {error: {code, message}}.
  const nested = obj?.error && typeof obj.error === 'object' ? (obj.error as Record<string, unknown>) : undefined;
  const codes = Array.isArray(obj?.error_codes) ? (obj.error_codes as unknown[]).filter((c): c is number => typeof c === 'number').slice(0, 10) : [];
  return {
    status,
    error: text(obj?.error) ?? text(nested?.code) ?? (obj ? undefined : 'unparseable_body'),
    errorDescription: text(obj?.error_description) ?? text(nested?.message) ?? text(obj?.message) ?? text(obj?.Message),
    ...(codes.length ? { errorCodes: codes } : {}),
  };
}
