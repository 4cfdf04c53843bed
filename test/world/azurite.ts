import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import https from 'node:https';
import type { Account } from './model';
import { AZURITE_BLOB_MAIN, AZURITE_GUARD } from './paths';

/**
 * Azurite's blob service as the storage back end: containers, blobs, listings, properties and their 404s come from
 * the real emulator. It is started lazily and restarted whenever the set of accounts changes, because Azurite reads
 * its account list (`AZURITE_ACCOUNTS`) from the environment once; contents are then mirrored from world state.
 */
export interface AzuriteOptions {
  dir: string;
  certFile: string;
  keyFile: string;
  caPem: string;
  /** A bearer token for `account` (aud https://storage.azure.com/, issuer sts.windows.net): Azurite checks only that. */
  seedToken(account: Account): string;
}

const SEED_API_VERSION = '2021-12-02';

interface Running {
  proc: ChildProcess;
  port: number;
  accounts: string;
  /** account/container → blob → content hash, as last written to Azurite. */
  seeded: Map<string, Map<string, string>>;
}

export class Azurite {
  private running: Running | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private lastSignature = '';
  private readonly keys = new Map<string, string>();
  private readonly agent: https.Agent;
  private stopped = false;
  private readonly onExit = (): void => {
    this.running?.proc.kill('SIGKILL');
  };

  constructor(private readonly opts: AzuriteOptions) {
    this.agent = new https.Agent({ keepAlive: true, ca: opts.caPem });
    // Last line of defence if stop() is never called: the guard preload also exits when our stdin pipe closes.
    process.once('exit', this.onExit);
  }

  get port(): number | undefined {
    return this.running?.port;
  }

  /** The agent the storage front forwards with: trusts the world CA through `ca`, not through the environment. */
  get httpsAgent(): https.Agent {
    return this.agent;
  }

  /** Makes Azurite hold exactly the accounts, containers and blobs in `accounts`. Serialised; cheap when unchanged. */
  sync(accounts: readonly Account[]): Promise<number> {
    const next = this.chain.then(() => this.syncNow(accounts));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async syncNow(accounts: readonly Account[]): Promise<number> {
    if (this.stopped) throw new Error('the simulated world has stopped');
    const signature = JSON.stringify(accounts.map((a) => [a.name, a.containers]));
    if (this.running && signature === this.lastSignature && this.running.proc.exitCode === null) return this.running.port;

    if (accounts.length === 0) {
      // Azurite falls back to its well-known dev account when given none; there is nothing to serve.
      await this.kill();
      return 0;
    }
    const names = accounts.map((a) => a.name.toLowerCase()).sort().join(',');
    if (!this.running || this.running.accounts !== names || this.running.proc.exitCode !== null) {
      await this.kill();
      this.running = await this.spawn(accounts, names);
    }
    for (const account of accounts) await this.mirror(account, this.running);
    this.lastSignature = signature;
    return this.running.port;
  }

  private keyFor(account: string): string {
    let key = this.keys.get(account);
    if (!key) {
      key = randomBytes(64).toString('base64');
      this.keys.set(account, key);
    }
    return key;
  }

  private spawn(accounts: readonly Account[], names: string): Promise<Running> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AZURITE_ACCOUNTS: accounts.map((a) => `${a.name.toLowerCase()}:${this.keyFor(a.name.toLowerCase())}`).join(';'),
    };
    // Azurite rejects --location together with --inMemoryPersistence; it uses the working directory instead.
    const args = [
      '--require',
      AZURITE_GUARD,
      AZURITE_BLOB_MAIN,
      '--oauth',
      'basic',
      '--cert',
      this.opts.certFile,
      '--key',
      this.opts.keyFile,
      '--inMemoryPersistence',
      '--silent',
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      '0',
    ];
    const proc = spawn(process.execPath, args, { cwd: this.opts.dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    return new Promise<Running>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error(`Azurite did not start within 15 s:\n${out}`)), 15_000);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        proc.kill('SIGKILL');
        reject(err);
      };
      const onData = (chunk: Buffer): void => {
        out += chunk.toString();
        const m = /successfully listens on https?:\/\/[^:\s]+:(\d+)/.exec(out);
        if (m?.[1]) {
          clearTimeout(timer);
          proc.stdout?.off('data', onData);
          // Keep draining so a chatty Azurite never blocks on a full pipe.
          proc.stdout?.resume();
          resolve({ proc, port: Number(m[1]), accounts: names, seeded: new Map() });
        }
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      proc.once('error', fail);
      proc.once('exit', (code) => fail(new Error(`Azurite exited with code ${String(code)}:\n${out}`)));
    });
  }

  private request(
    running: Running,
    account: Account,
    method: string,
    pathAndQuery: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<number> {
    const host = `${account.name.toLowerCase()}.blob.core.windows.net`;
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: running.port,
          servername: host,
          method,
          path: pathAndQuery,
          agent: this.agent,
          headers: {
            host: `${host}:${running.port}`,
            authorization: `Bearer ${this.opts.seedToken(account)}`,
            'x-ms-version': SEED_API_VERSION,
            'x-ms-date': new Date().toUTCString(),
            'content-length': String(body === undefined ? 0 : Buffer.byteLength(body)),
            ...headers,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  private async mirror(account: Account, running: Running): Promise<void> {
    const expect = async (p: Promise<number>, ok: number[], what: string): Promise<void> => {
      const status = await p;
      if (!ok.includes(status)) throw new Error(`Azurite seeding failed: ${what} → HTTP ${status}`);
    };
    const enc = (s: string): string => s.split('/').map(encodeURIComponent).join('/');
    const prefix = `${account.name.toLowerCase()}/`;
    for (const [key, blobs] of [...running.seeded]) {
      if (!key.startsWith(prefix)) continue;
      const container = key.slice(prefix.length);
      if (!(container in account.containers)) {
        await expect(this.request(running, account, 'DELETE', `/${enc(container)}?restype=container`), [202, 404], `delete ${key}`);
        running.seeded.delete(key);
        continue;
      }
      for (const blob of [...blobs.keys()]) {
        if (account.containers[container]?.[blob] === undefined) {
          await expect(this.request(running, account, 'DELETE', `/${enc(container)}/${enc(blob)}`), [202, 404], `delete ${key}/${blob}`);
          blobs.delete(blob);
        }
      }
    }
    for (const [container, blobs] of Object.entries(account.containers)) {
      const key = prefix + container;
      let seeded = running.seeded.get(key);
      if (!seeded) {
        await expect(this.request(running, account, 'PUT', `/${enc(container)}?restype=container`), [201, 409], `create ${key}`);
        seeded = new Map();
        running.seeded.set(key, seeded);
      }
      for (const [blob, content] of Object.entries(blobs)) {
        const hash = createHash('sha256').update(content).digest('hex');
        if (seeded.get(blob) === hash) continue;
        await expect(
          this.request(running, account, 'PUT', `/${enc(container)}/${enc(blob)}`, content, {
            'x-ms-blob-type': 'BlockBlob',
            'content-type': 'text/plain; charset=utf-8',
          }),
          [201],
          `upload ${key}/${blob}`,
        );
        seeded.set(blob, hash);
      }
    }
  }

  private async kill(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    this.lastSignature = '';
    if (!running || running.proc.exitCode !== null || running.proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      running.proc.once('exit', () => resolve());
      running.proc.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.chain.catch(() => undefined);
    await this.kill();
    this.agent.destroy();
    process.off('exit', this.onExit);
  }
}
