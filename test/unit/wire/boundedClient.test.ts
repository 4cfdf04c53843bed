import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import zlib from 'node:zlib';
import { createHttpHeaders, createPipelineRequest, type PipelineRequest } from '@azure/core-rest-pipeline';
import { boundedHttpClient, RESPONSE_TOO_LARGE } from '../../../src/wire/boundedClient';

/**
 * The capped client on its own, against a loopback server: answers past the cap are cut while they stream — buffered
 * or streamed, plain or gzip-encoded — and small answers come through unchanged.
 */
const CAP = 64 * 1024;
const MiB = 1024 * 1024;
let server: http.Server;
let base: string;
const sockets = new Set<Socket>();
/** Bytes the server managed to write per path (the cut must come long before the end). */
const written: Record<string, number> = {};

function pump(res: http.ServerResponse, path: string, chunk: Buffer, total: number) {
  written[path] = 0;
  const next = () => {
    while (written[path]! < total && !res.destroyed) {
      written[path]! += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', next);
    }
    if (!res.destroyed) res.end();
  };
  next();
}

beforeAll(async () => {
  const bombMember = zlib.gzipSync(Buffer.alloc(16 * MiB));
  server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    if (path === '/huge') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1024 * MiB });
      return pump(res, path, Buffer.alloc(MiB, 'x'), 1024 * MiB);
    }
    if (path === '/bomb') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      return pump(res, path, bombMember, bombMember.length * 64);
    }
    if (path === '/small-gzip') {
      const body = zlib.gzipSync(JSON.stringify({ ok: true }));
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length });
      return res.end(body);
    }
    if (path === '/reset') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1000 });
      return res.write('{"value":"', () => req.socket.destroy());
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const request = (path: string, extra: Partial<PipelineRequest> = {}) =>
  createPipelineRequest({ url: `${base}${path}`, allowInsecureConnection: true, headers: createHttpHeaders(), ...extra });

describe('the capped HTTP client', () => {
  it('passes a small answer through as text, decoding a gzip body nobody asked for', async () => {
    const client = boundedHttpClient(CAP);
    expect((await client.sendRequest(request('/ok'))).bodyAsText).toBe('{"ok":true}');
    expect((await client.sendRequest(request('/small-gzip'))).bodyAsText).toBe('{"ok":true}');
  });

  it.each(['/huge', '/bomb'])('cuts %s at the cap instead of reading it whole', async (path) => {
    await expect(boundedHttpClient(CAP).sendRequest(request(path))).rejects.toMatchObject({ code: RESPONSE_TOO_LARGE, answeredStatus: 200 });
    // The connection was closed: the server got nowhere near the end of its body.
    await new Promise((r) => setTimeout(r, 200));
    expect(written[path]).toBeLessThan(256 * MiB);
  });

  it('cuts a streamed body (a blob download) at the cap too', async () => {
    const response = await boundedHttpClient(CAP).sendRequest(request('/huge', { streamResponseStatusCodes: new Set([200]) }));
    const stream = response.readableStreamBody as NodeJS.ReadableStream;
    let seen = 0;
    const failure = await new Promise<unknown>((resolve) => {
      stream.on('data', (c: Buffer) => (seen += c.length));
      stream.on('error', resolve);
      stream.on('end', () => resolve(undefined));
    });
    expect(failure).toMatchObject({ code: RESPONSE_TOO_LARGE });
    expect(seen).toBeLessThanOrEqual(CAP);
  });

  it('keeps the pipeline\'s PARSE_ERROR for a connection that drops mid-body', async () => {
    await expect(boundedHttpClient(CAP).sendRequest(request('/reset'))).rejects.toMatchObject({ code: 'PARSE_ERROR' });
  });
});
