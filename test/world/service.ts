import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** What a handler gets besides req/res: a place to park timers so `close()` can cancel them. */
export interface ServiceTools {
  track(timer: NodeJS.Timeout): void;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, tools: ServiceTools) => void | Promise<void>;

export interface Service {
  port: number;
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** PEMs for HTTPS; plain HTTP when absent (the identity endpoint is plain HTTP in Azure too). */
  tls?: { cert: string; key: string };
  latencyMs: () => number;
  handler: Handler;
  /**
   * Runs for each request as it arrives, before the latency: return false once it has answered the request itself
   * (a limit on requests in flight, like IMDS's).
   */
  admit?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Runs for each accepted TCP connection; return false to drop it at once (the identity 'refuse' fault). */
  onConnection?: (socket: Socket) => boolean;
}

/**
 * One listener on 127.0.0.1, OS-assigned port. Tracks every socket and timer so `close()` ends silent and slowloris
 * exchanges too: `server.close()` alone would wait for them forever.
 */
export async function startService(opts: ServiceOptions): Promise<Service> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closing = false;
  const tools: ServiceTools = {
    track(timer) {
      if (closing) clearTimeout(timer);
      else timers.add(timer);
    },
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    if (opts.admit && !opts.admit(req, res)) return;
    const run = async (): Promise<void> => {
      const ms = opts.latencyMs();
      if (ms > 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            timers.delete(t);
            resolve();
          }, ms);
          tools.track(t);
        });
      }
      if (closing || res.destroyed) return;
      await opts.handler(req, res, tools);
    };
    run().catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        const body = JSON.stringify({ error: { code: 'InternalError', message: `simulated world bug: ${String(err)}` } });
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      } else {
        res.destroy();
      }
    });
  };

  const server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, listener) : http.createServer(listener);
  // Keep-alive sockets the SDKs hold open are ours to close; ending them early would only add retries.
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket: Socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    if (opts.onConnection && !opts.onConnection(socket)) return;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // Faults destroy sockets mid-exchange; an error here is expected and must not crash the world.
    socket.on('error', () => undefined);
  });
  // Handshake failures (a client that does not trust the CA) are the client's problem to report.
  server.on('tlsClientError', () => undefined);
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    close() {
      closing = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        sockets.clear();
      });
    },
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(res.req?.method === 'HEAD' ? undefined : text);
}

/** The host name without port, lowercased; `Host` is how one server tells vaults/accounts apart. */
export function hostName(req: IncomingMessage): string {
  const host = (req.headers.host ?? '').toLowerCase();
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0] ?? '';
}

export function parseUrl(req: IncomingMessage): URL {
  // The path is resolved against a dummy origin: an SDK path like `//subscriptions/...` must stay a path.
  return new URL('http://world.invalid' + (req.url?.startsWith('/') ? '' : '/') + (req.url ?? '/'));
}
