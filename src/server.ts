import './compileCache';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { assertMayListen, keyGateFor } from './http/apiKey';
import { HttpRequest, HttpResponse, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import { ConfigError, getSettings, type Settings } from './config';
import { installLastResortGuard } from './engine/guard';
import { PROBLEM_HEADERS, problem } from './http/problem';
import { redactText } from './http/redact';
import { ROUTES, type Route } from './routes';
import { preloadProbes } from './targets';

/**
 * `npm run serve`: the same handlers on a plain node:http server, configured from the environment exactly as in
 * Azure — and in the container image. There is no Functions host here to check function keys: with DIAGNOSE_API_KEY
 * (or _FILE) it checks its own (./http/apiKey.ts); without one it listens on loopback only and refuses any other HOST.
 */

/** Bodies larger than this are refused before they are read in full. */
export const MAX_BODY_BYTES = 64 * 1024;

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLarge());
        req.pause();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function send(res: ServerResponse, init: HttpResponseInit | HttpResponse): Promise<void> {
  const response = init instanceof HttpResponse ? init : new HttpResponse(init);
  const headers: Record<string, string> = {};
  response.headers.forEach((v, k) => (headers[k] = v));
  const body = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, { ...headers, 'content-length': String(body.length) });
  res.end(body);
}

/** The Host header is the client's to garble: a value that is no host must not turn the request into a 500. */
function hostOf(header: string | undefined): string {
  try {
    return new URL(`http://${header ?? 'localhost'}`).host || 'localhost';
  } catch {
    return 'localhost';
  }
}

export function matchRoute(pathname: string): Route | undefined {
  return ROUTES.find((r) => pathname === `/api/${r.route}`);
}

/** How often Node looks for sockets past their headers or request timeout (its default, 30 s, lets them linger). */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/**
 * The local server, with the slow-loris guards of `limits` (SERVER_*_TIMEOUT_MS): a client that dribbles its headers
 * or body, or holds an idle keep-alive socket, is cut within seconds. A long answer (wait mode) is not: the timeouts
 * bound receiving the request, not computing the response.
 */
export function createAppServer(limits: Settings['server'] = getSettings().server) {
  const server = createServer({
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  }, (req, res) => {
    void handle(req, res).catch((err: unknown) => {
      console.error(`request failed: ${err instanceof Error ? err.name : 'error'}`);
      if (!res.headersSent) void send(res, problem(500, 'Internal error', 'The request failed unexpectedly.'));
      else res.destroy();
    });
  });
  // Requests Node's HTTP parser refuses before any handler runs (headers or request line over its 16 KiB limit,
  // malformed HTTP) still get a problem+json, like every other refusal, instead of Node's bare status line.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (socket as { _httpMessage?: unknown })._httpMessage) return socket.destroy();
    const [status, title, detail] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request header fields too large', 'The request line and headers exceed the server\'s limit (16 KiB); send fewer or shorter parameters.']
        : [400, 'Bad request', 'The request is not well-formed HTTP.'];
    const init = problem(status, title, detail);
    const body = String(init.body);
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\n${Object.entries(PROBLEM_HEADERS).map(([k, v]) => `${k}: ${v}\r\n`).join('')}` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}

/** The request target as a URL: origin-form is a path even when it starts with "//"; what does not parse is "/". */
function requestUrl(target: string | undefined): URL {
  const t = target ?? '/';
  try {
    return t.startsWith('/') ? new URL(`http://localhost${t}`) : new URL(t);
  } catch {
    return new URL('http://localhost/');
  }
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = requestUrl(req.url);
  const route = matchRoute(url.pathname);
  // The path is the caller's text: not repeated back (see problem.ts).
  if (!route) return send(res, problem(404, 'Not found', 'No such route. Try /api/diagnose, /api/health or /api/openapi.json.'));
  const method = (req.method ?? 'GET').toUpperCase();
  if (!(route.methods as string[]).includes(method)) {
    const init = problem(405, 'Method not allowed', `${url.pathname} accepts ${route.methods.join(', ')}.`);
    return send(res, { ...init, headers: { ...(init.headers as Record<string, string>), allow: route.methods.join(', ') } });
  }
  const keyHeader = req.headers['x-functions-key'];
  const denied = keyGateFor(getSettings())?.deny(route, { header: typeof keyHeader === 'string' ? keyHeader : undefined, code: url.searchParams.get('code') });
  if (denied) return send(res, denied);
  let body: Buffer;
  try {
    body = await readBody(req);
  } catch (err) {
    if (err instanceof BodyTooLarge) {
      res.setHeader('connection', 'close');
      return send(res, problem(413, 'Body too large', `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`));
    }
    throw err;
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
  const request = new HttpRequest({
    method,
    url: `http://${hostOf(req.headers.host)}${url.pathname}${url.search}`,
    headers,
    ...(body.length ? { body: { bytes: body } } : {}),
  });
  const context = new InvocationContext({
    functionName: route.name,
    invocationId: randomUUID(),
    logHandler: (level, ...args) => {
      const line = redactText(`[${level}] ${route.name}: ${args.map(String).join(' ')}`);
      if (level === 'error' || level === 'warning') console.error(line);
      else console.log(line);
    },
  });
  return send(res, await route.handler(request, context));
}

/** Start the local server from its settings (what `node dist/src/server.js` and the bundle's server entry run). */
export function main(): void {
  let settings;
  try {
    settings = getSettings();
    assertMayListen(settings);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  // No answer from a dependency may end the process (see SECURITY.md).
  installLastResortGuard();
  // The SDKs of the configured kinds load now, not during the first diagnose (a failure surfaces at that probe).
  preloadProbes(settings.targets).catch(() => undefined);
  const server = createAppServer(settings.server);
  server.listen(settings.server.port, settings.server.host, () => {
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : settings.server.port;
    const keys = settings.apiKey ? `/api/diagnose requires the key from ${settings.apiKey.setting}` : 'function keys are not enforced by this local server';
    console.log(`identity-doctor listening on http://${settings.server.host}:${port} (${keys})`);
    console.log(`targets: ${settings.targets.map((t) => t.name).join(', ') || '(none: set DIAGNOSE_TARGETS)'}`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// Run directly (tsc's CommonJS output): start. The ES module bundle starts through src/serverMain.ts, where `module`
// does not exist — hence the typeof.
if (typeof module !== 'undefined' && require.main === module) main();
