import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import https from 'node:https';
import type { Account, TableEntity } from './model';
import { AZURITE_GUARD, AZURITE_MAIN } from './paths';

/**
 * Azurite as the storage back end — its blob, queue and table services in one process: containers, blobs, queues,
 * messages, tables, entities, listings and their 404s come from the real emulator. It is started lazily and restarted
 * whenever the set of accounts changes, because Azurite reads its account list (`AZURITE_ACCOUNTS`) from the
 * environment once; contents are then mirrored from world state.
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
/** Azurite's keep-alive timeout (its default is 5 s): longer than our agent keeps an idle socket. */
const AZURITE_KEEP_ALIVE_S = 60;

/** A Storage data service Azurite serves, by the first label of its host suffix. */
export type AzuriteService = 'blob' | 'queue' | 'table';
export type AzuritePorts = Readonly<Record<AzuriteService, number>>;

interface Running {
  proc: ChildProcess;
  ports: AzuritePorts;
  accounts: string;
  /** account/container → blob → content hash, as last written to Azurite. */
  seeded: Map<string, Map<string, string>>;
  /** account/queue → hash of its message list, as last written. */
  seededQueues: Map<string, string>;
  /** account/table → entity key → entity hash, as last written. */
  seededTables: Map<string, Map<string, string>>;
}

const sha = (v: unknown): string => createHash('sha256').update(JSON.stringify(v)).digest('hex');
const xmlText = (s: string): string => s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c] ?? c);
/** OData key literal inside a URL: quotes doubled, then percent-encoded. */
const odataKey = (v: string): string => encodeURIComponent(v.replace(/'/g, "''"));
const entityPath = (table: string, e: Pick<TableEntity, 'PartitionKey' | 'RowKey'>): string =>
  `/${table}(PartitionKey='${odataKey(e.PartitionKey)}',RowKey='${odataKey(e.RowKey)}')`;

async function expectStatus(p: Promise<number>, ok: number[], what: string): Promise<void> {
  const status = await p;
  if (!ok.includes(status)) throw new Error(`Azurite seeding failed: ${what} → HTTP ${status}`);
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
    // Pooled sockets are dropped after 10 s idle, well before Azurite closes its end (AZURITE_KEEP_ALIVE_S): reusing a
    // socket the server is closing at that very moment fails the forwarded request with "socket hang up".
    this.agent = new https.Agent({ keepAlive: true, timeout: 10_000, ca: opts.caPem });
    // Last line of defence if stop() is never called: the guard preload also exits when our stdin pipe closes.
    process.once('exit', this.onExit);
  }

  /** The blob service's port while Azurite runs. */
  get port(): number | undefined {
    return this.running?.ports.blob;
  }

  /** The agent the storage front forwards with: trusts the world CA through `ca`, not through the environment. */
  get httpsAgent(): https.Agent {
    return this.agent;
  }

  /**
   * Makes Azurite hold exactly the accounts, containers, blobs, queues, messages, tables and entities in `accounts`,
   * and answers each service's port. Serialised; cheap when unchanged.
   */
  sync(accounts: readonly Account[]): Promise<AzuritePorts> {
    const next = this.chain.then(() => this.syncNow(accounts));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async syncNow(accounts: readonly Account[]): Promise<AzuritePorts> {
    if (this.stopped) throw new Error('the simulated world has stopped');
    const signature = JSON.stringify(accounts.map((a) => [a.name, a.containers, a.queues ?? {}, a.tables ?? {}]));
    if (this.running && signature === this.lastSignature && this.running.proc.exitCode === null) return this.running.ports;

    if (accounts.length === 0) {
      // Azurite falls back to its well-known dev account when given none; there is nothing to serve.
      await this.kill();
      return { blob: 0, queue: 0, table: 0 };
    }
    const names = accounts.map((a) => a.name.toLowerCase()).sort().join(',');
    if (!this.running || this.running.accounts !== names || this.running.proc.exitCode !== null) {
      await this.kill();
      this.running = await this.spawn(accounts, names);
    }
    for (const account of accounts) {
      await this.mirror(account, this.running);
      await this.mirrorQueues(account, this.running);
      await this.mirrorTables(account, this.running);
    }
    this.lastSignature = signature;
    return this.running.ports;
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
      AZURITE_MAIN,
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
      ...(['blob', 'queue', 'table'] as const).flatMap((svc) => [
        `--${svc}Host`, '127.0.0.1', `--${svc}Port`, '0', `--${svc}KeepAliveTimeout`, String(AZURITE_KEEP_ALIVE_S),
      ]),
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
      // azurite.js prints "Azurite <Blob|Queue|Table> service is successfully listening at https://127.0.0.1:<port>",
      // one service after the other (table last).
      const portOf = (svc: string): number | undefined => {
        const m = new RegExp(`Azurite ${svc} service is successfully listening at https?://[^:\\s]+:(\\d+)`).exec(out);
        return m?.[1] ? Number(m[1]) : undefined;
      };
      const onData = (chunk: Buffer): void => {
        out += chunk.toString();
        const [blob, queue, table] = [portOf('Blob'), portOf('Queue'), portOf('Table')];
        if (blob && queue && table) {
          clearTimeout(timer);
          proc.stdout?.off('data', onData);
          // Keep draining so a chatty Azurite never blocks on a full pipe.
          proc.stdout?.resume();
          resolve({ proc, ports: { blob, queue, table }, accounts: names, seeded: new Map(), seededQueues: new Map(), seededTables: new Map() });
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
    service: AzuriteService = 'blob',
  ): Promise<number> {
    const host = `${account.name.toLowerCase()}.${service}.core.windows.net`;
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: running.ports[service],
          servername: host,
          method,
          path: pathAndQuery,
          agent: this.agent,
          headers: {
            host: `${host}:${running.ports[service]}`,
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
    const expect = expectStatus;
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

  /** Queues and their messages: a queue whose message list changed is cleared and refilled, front first. */
  private async mirrorQueues(account: Account, running: Running): Promise<void> {
    const queues = account.queues ?? {};
    const prefix = `${account.name.toLowerCase()}/`;
    const send = (method: string, path: string, body?: string) =>
      this.request(running, account, method, path, body, body ? { 'content-type': 'application/xml' } : {}, 'queue');
    for (const key of [...running.seededQueues.keys()]) {
      if (!key.startsWith(prefix) || key.slice(prefix.length) in queues) continue;
      await expectStatus(send('DELETE', `/${key.slice(prefix.length)}`), [204, 404], `delete queue ${key}`);
      running.seededQueues.delete(key);
    }
    for (const [queue, messages] of Object.entries(queues)) {
      const key = prefix + queue;
      const hash = sha(messages);
      const seeded = running.seededQueues.get(key);
      if (seeded === hash) continue;
      if (seeded === undefined) await expectStatus(send('PUT', `/${queue}`), [201, 204], `create queue ${key}`);
      else await expectStatus(send('DELETE', `/${queue}/messages`), [204], `clear queue ${key}`);
      for (const text of messages) {
        await expectStatus(send('POST', `/${queue}/messages`, `<QueueMessage><MessageText>${xmlText(text)}</MessageText></QueueMessage>`), [201], `enqueue into ${key}`);
      }
      running.seededQueues.set(key, hash);
    }
  }

  /** Tables and their entities: entities are upserted (InsertOrReplace) and removed one by one. */
  private async mirrorTables(account: Account, running: Running): Promise<void> {
    const tables = account.tables ?? {};
    const prefix = `${account.name.toLowerCase()}/`;
    const send = (method: string, path: string, body?: unknown, extra: Record<string, string> = {}) =>
      this.request(
        running,
        account,
        method,
        path,
        body === undefined ? undefined : JSON.stringify(body),
        { accept: 'application/json;odata=nometadata', 'content-type': 'application/json', dataserviceversion: '3.0', ...extra },
        'table',
      );
    for (const key of [...running.seededTables.keys()]) {
      if (!key.startsWith(prefix) || key.slice(prefix.length) in tables) continue;
      await expectStatus(send('DELETE', `/Tables('${key.slice(prefix.length)}')`), [204, 404], `delete table ${key}`);
      running.seededTables.delete(key);
    }
    for (const [table, entities] of Object.entries(tables)) {
      const key = prefix + table;
      let seeded = running.seededTables.get(key);
      if (!seeded) {
        await expectStatus(send('POST', '/Tables', { TableName: table }), [201, 204, 409], `create table ${key}`);
        seeded = new Map();
        running.seededTables.set(key, seeded);
      }
      const wanted = new Map(entities.map((e) => [`${e.PartitionKey}\u0000${e.RowKey}`, e]));
      for (const entityKey of [...seeded.keys()]) {
        if (wanted.has(entityKey)) continue;
        const [PartitionKey = '', RowKey = ''] = entityKey.split('\u0000');
        await expectStatus(send('DELETE', entityPath(table, { PartitionKey, RowKey }), undefined, { 'if-match': '*' }), [204, 404], `delete entity of ${key}`);
        seeded.delete(entityKey);
      }
      for (const [entityKey, entity] of wanted) {
        const hash = sha(entity);
        if (seeded.get(entityKey) === hash) continue;
        await expectStatus(send('PUT', entityPath(table, entity), entity), [204], `upsert entity into ${key}`);
        seeded.set(entityKey, hash);
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
