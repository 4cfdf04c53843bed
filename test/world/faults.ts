import type { IncomingMessage, ServerResponse } from 'node:http';
import zlib from 'node:zlib';
import type { Socket } from 'node:net';

/**
 * Transport-level misbehaviour a target can be given. Applied after the TLS handshake and before any other logic, so
 * the client has already trusted the host and sent its request: this is what a sick service looks like, not a
 * missing one (stage that with an `nxdomain-*` host or `world.closedPort()`).
 */
export type Fault =
  /** A canned answer, e.g. `{ status: 429, headers: { 'Retry-After': '1' } }` or `{ status: 503 }`. */
  | { status: number; body?: string; headers?: Record<string, string> }
  /** Accept the request, never answer. */
  | 'silent'
  /** Destroy the socket as soon as the request arrives (client sees ECONNRESET / "socket hang up"). */
  | 'reset'
  /** Send status, headers and half the promised body, then destroy the socket. */
  | 'reset_mid_body'
  /** Send headers, then one body byte every 500 ms, forever. */
  | 'slowloris'
  /** A 5xx whose body is neither JSON nor XML though the content type says it is. */
  | 'malformed'
  /** 200 with a 1 GiB body, streamed as fast as the client reads (a hostile or broken server). */
  | 'huge_body'
  /** 200, `content-encoding: gzip`, about 1 MB on the wire that decodes to 1 GiB of zeros. */
  | 'gzip_bomb';

export type FaultKind = Extract<Fault, string> | 'status';

export interface FaultContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** The content type the service normally answers with, so garbage arrives labelled as the real thing. */
  contentType: string;
  /** Timers registered here are cleared when the world stops. */
  track(timer: NodeJS.Timeout): void;
}

function kindOf(fault: Fault): FaultKind {
  return typeof fault === 'string' ? fault : 'status';
}

/** One function per fault kind: adding a kind means adding its type member above and one entry here. */
const HANDLERS: { [K in FaultKind]: (ctx: FaultContext, fault: Fault) => void } = {
  status({ res, contentType }, fault) {
    if (typeof fault === 'string') return;
    const body = fault.body ?? '';
    const headers: Record<string, string> = { 'content-type': contentType, ...(fault.headers ?? {}) };
    res.writeHead(fault.status, { ...headers, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  },
  silent() {
    // Nothing: the socket stays open until the client gives up or the world stops.
  },
  reset({ req }) {
    // resetAndDestroy sends a TCP RST, the way a crashing front end or middlebox drops a connection. It needs the
    // TCP handle: under TLS that is the wrapped socket (`_parent`), not the TLSSocket itself.
    const socket = req.socket as Socket & { _parent?: Socket };
    const tcp = socket._parent ?? socket;
    try {
      tcp.resetAndDestroy();
    } catch {
      socket.destroy();
    }
  },
  reset_mid_body({ res, req, contentType }) {
    const body = Buffer.from(
      contentType.includes('xml')
        ? '<?xml version="1.0" encoding="utf-8"?><EnumerationResults>' + 'x'.repeat(200) + '</EnumerationResults>'
        : '{"value":"' + 'x'.repeat(200) + '"}',
    );
    res.writeHead(200, { 'content-type': contentType, 'content-length': body.length });
    res.write(body.subarray(0, body.length >> 1), () => req.socket.destroy());
  },
  slowloris({ res, contentType, track }) {
    res.writeHead(200, { 'content-type': contentType, 'content-length': 1_000_000 });
    res.flushHeaders();
    const timer = setInterval(() => {
      if (res.destroyed || res.writableEnded) clearInterval(timer);
      else res.write(' ');
    }, 500);
    res.on('close', () => clearInterval(timer));
    track(timer);
  },
  huge_body({ res, contentType }) {
    res.writeHead(200, { 'content-type': contentType, 'content-length': GiB });
    stream(res, Buffer.alloc(1024 * 1024, 'x'), GiB);
  },
  gzip_bomb({ res, contentType }) {
    const body = gzipBomb();
    res.writeHead(200, { 'content-type': contentType, 'content-encoding': 'gzip', 'content-length': body.length });
    stream(res, body, body.length);
  },
  malformed({ res, contentType }) {
    const body = '<html><body>502 Bad Gateway</body></html>\u0000\u00ff{"error":';
    res.writeHead(502, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  },
};

const GiB = 1024 * 1024 * 1024;
let bomb: Buffer | undefined;

/**
 * 1 GiB of zeros in ~1 MB: gzip members may be concatenated (RFC 1952) and a decoder reads them all, so one 16 MiB
 * member repeated 64 times is the bomb without ever compressing (or holding) a gibibyte here.
 */
export function gzipBomb(): Buffer {
  if (!bomb) {
    const member = zlib.gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
    bomb = Buffer.concat(Array.from({ length: GiB / (16 * 1024 * 1024) }, () => member));
  }
  return bomb;
}

/** Write `total` bytes of `chunk` repeated, honouring back-pressure, until done or the client goes away. */
function stream(res: ServerResponse, chunk: Buffer, total: number): void {
  let sent = 0;
  const pump = () => {
    while (sent < total && !res.destroyed) {
      const piece = total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent);
      sent += piece.length;
      if (!res.write(piece)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

/** Plays `fault` on the exchange. Returns true when it did (the caller must then do nothing else). */
export function applyFault(fault: Fault | undefined, ctx: FaultContext): boolean {
  if (fault === undefined) return false;
  HANDLERS[kindOf(fault)](ctx, fault);
  return true;
}
