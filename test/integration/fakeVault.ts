import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import type { World } from '../world';
import { TENANT_ID } from '../world/scenario';

/**
 * A Key Vault that only answers one secret, but watches everything it receives: how many requests are in flight at
 * once, and which carried a bearer token. It speaks the challenge flow the SDK expects (401 + WWW-Authenticate naming
 * `challengeResource`, then 200 with the secret), on `<name>.vault.azure.net:<port>` with the world's certificate, so
 * the service reaches it through the DNS preload like any world vault.
 */
export interface FakeVault {
  /** `https://<name>.vault.azure.net:<port>`. */
  url: string;
  /** `<name>.vault.azure.net:<port>`. */
  host: string;
  port: number;
  /** The value it serves: a needle for leak checks. */
  secretValue: string;
  /** Requests received, and those that carried `Authorization`. */
  requests: number;
  withToken: number;
  inFlight: number;
  maxInFlight: number;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeVault(
  world: World,
  opts: {
    name: string;
    delayMs?: number;
    challengeResource?: string;
    hostName?: string;
    /** Answer an authorized request with a 500 whose message quotes only the bearer token's signature part. */
    echoSignature?: boolean;
  },
): Promise<FakeVault> {
  // The world keeps its server certificate beside its CA file; it covers *.vault.azure.net, localhost and 127.0.0.1.
  const dir = path.dirname(world.caFile);
  const cert = fs.readFileSync(path.join(dir, 'server-cert.pem'), 'utf8');
  const key = fs.readFileSync(path.join(dir, 'server-key.pem'), 'utf8');
  const secretValue = `fake-vault-${randomBytes(12).toString('hex')}`;
  const version = randomBytes(16).toString('hex');
  const sockets = new Set<Socket>();
  const resource = opts.challengeResource ?? 'https://vault.azure.net';

  const server = https.createServer({ cert, key }, (req, res) => {
    vault.requests++;
    if (req.headers.authorization) vault.withToken++;
    vault.inFlight++;
    vault.maxInFlight = Math.max(vault.maxInFlight, vault.inFlight);
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        vault.inFlight--;
      }
    };
    res.on('close', finish);
    req.resume();
    setTimeout(() => {
      const name = (req.url ?? '').split('?')[0]!.split('/').filter(Boolean)[1] ?? 'secret';
      if (opts.echoSignature && req.headers.authorization) {
        const signature = req.headers.authorization.split('.').at(-1) ?? '';
        const echo = JSON.stringify({ error: { code: 'InternalError', message: `upstream refused signature ${signature}` } });
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(echo) });
        finish();
        res.end(echo);
        return;
      }
      const body = req.headers.authorization
        ? JSON.stringify({
            value: secretValue,
            id: `https://${vault.host}/secrets/${name}/${version}`,
            attributes: { enabled: true, created: 1700000000, updated: 1700000000, recoveryLevel: 'Recoverable+Purgeable' },
          })
        : JSON.stringify({ error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } });
      res.writeHead(req.headers.authorization ? 200 : 401, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'x-ms-request-id': randomBytes(8).toString('hex'),
        ...(req.headers.authorization
          ? {}
          : { 'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/${TENANT_ID}", resource="${resource}"` }),
      });
      finish();
      res.end(body);
    }, opts.delayMs ?? 0).unref();
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const hostName = opts.hostName ?? `${opts.name}.vault.azure.net`;
  const vault: FakeVault = {
    url: `https://${hostName}:${port}`,
    host: `${hostName}:${port}`,
    port,
    secretValue,
    requests: 0,
    withToken: 0,
    inFlight: 0,
    maxInFlight: 0,
    reset() {
      vault.requests = 0;
      vault.withToken = 0;
      vault.maxInFlight = vault.inFlight;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
  return vault;
}

/** A small seeded PRNG (mulberry32): the same subsets on every run, so a failure can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
