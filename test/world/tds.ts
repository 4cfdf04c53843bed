import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { SqlDatabase, SqlServer, WorldState } from './model';
import type { Service } from './service';
import { checkToken } from './tokens';

/**
 * Azure SQL's front door as the TDS protocol (MS-TDS) speaks it, for the real tedious client: TDS 8.0 strict
 * encryption — TLS first on the raw socket (ALPN "tds/8.0", the world's certificate, the real host name), then
 * PRELOGIN, LOGIN7 carrying the access token in its FEDAUTH feature extension (SECURITYTOKEN library), and the requests
 * the probe sends: tedious's initial SQL batch and one sp_executesql RPC with the probe's SELECT. Only that SELECT is
 * understood; any other statement gets error 102. Logins are answered as Azure SQL answers them: LOGINACK, ENVCHANGE,
 * FEATUREEXTACK and DONE, or ERROR tokens with the real numbers, states, classes and words.
 *
 * Sources for the answers: shared/reference/services-and-hosts.md §11 (SQL-TS: MicrosoftDocs/sql-docs
 * azure-sql/database/troubleshoot-common-errors-issues.md); observed texts cited at each error below.
 */

export interface TdsOptions {
  state: WorldState;
  tls: { cert: string; key: string };
  nowSeconds: () => number;
}

/** Packet types (MS-TDS 2.2.3.1.1). */
const PACKET = { SQL_BATCH: 0x01, RPC: 0x03, TABULAR: 0x04, ATTENTION: 0x06, LOGIN7: 0x10, PRELOGIN: 0x12 } as const;
/** Token types (MS-TDS 2.2.7). */
const TOKEN = { COLMETADATA: 0x81, RETURNSTATUS: 0x79, ERROR: 0xaa, LOGINACK: 0xad, FEATUREEXTACK: 0xae, ROW: 0xd1, ENVCHANGE: 0xe3, DONE: 0xfd, DONEPROC: 0xfe, DONEINPROC: 0xff } as const;
const DONE_MORE = 0x01;
const DONE_ERROR = 0x02;
const DONE_COUNT = 0x10;
const DONE_ATTN = 0x20;
const FEATURE_FEDAUTH = 0x02;
const FEDAUTH_SECURITYTOKEN = 0x01;
/** TDS 7.4 as LOGINACK states it. */
const TDS_74 = 0x74000004;
const SP_EXECUTESQL = 10;
/** What a client may send in one message before the simulator hangs up (a LOGIN7 with a token is a few kB). */
const MAX_MESSAGE = 256 * 1024;
/** Collation Latin1_General_CI_AS (LCID 0x0409, flags) as SQL Server sends it in TYPE_INFO. */
const COLLATION = Buffer.from([0x09, 0x04, 0xd0, 0x00, 0x34]);
/** The fixed database roles (https://learn.microsoft.com/sql/relational-databases/security/authentication-access/database-level-roles). */
const FIXED_ROLES = ['db_owner', 'db_securityadmin', 'db_accessadmin', 'db_backupoperator', 'db_ddladmin', 'db_datawriter', 'db_datareader', 'db_denydatawriter', 'db_denydatareader'];
/** The probe's SELECT, the one statement this server understands. */
const PROBE_SQL = /^SELECT SUSER_SNAME\(\) AS login_name, USER_NAME\(\) AS user_name, DB_NAME\(\) AS database_name((?:, IS_ROLEMEMBER\(@r\d+\) AS r\d+)*);$/;
const PRINCIPAL = '<token-identified principal>';

// ---- encoding -------------------------------------------------------------------------------------------------

const ucs2 = (s: string) => Buffer.from(s, 'ucs2');
const u8 = (n: number) => Buffer.from([n & 0xff]);
const u16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b; };
const u64 = (n: number) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };
/** B_VARCHAR: a one-byte character count, then UCS-2. */
const bVarchar = (s: string) => Buffer.concat([u8(s.length), ucs2(s)]);
/** US_VARCHAR: a two-byte character count, then UCS-2. */
const usVarchar = (s: string) => Buffer.concat([u16(s.length), ucs2(s)]);
/** A token with a two-byte length before its body. */
const sized = (type: number, body: Buffer) => Buffer.concat([u8(type), u16(body.length), body]);

function errorToken(e: { number: number; state: number; class: number; message: string }, server: string): Buffer {
  return sized(TOKEN.ERROR, Buffer.concat([u32(e.number), u8(e.state), u8(e.class), usVarchar(e.message), bVarchar(server), bVarchar(''), u32(1)]));
}
const done = (type: number, status: number, count = 0) => Buffer.concat([u8(type), u16(status), u16(0xc1), u64(count)]);
const envChange = (type: number, value: string, old = '') => sized(TOKEN.ENVCHANGE, Buffer.concat([u8(type), bVarchar(value), bVarchar(old)]));

function loginAck(): Buffer {
  const version = Buffer.alloc(4);
  version.writeUInt32BE(TDS_74);
  // Azure SQL Database reports itself as version 12.0.2000.8 (SELECT @@VERSION on any Azure SQL database).
  return sized(TOKEN.LOGINACK, Buffer.concat([u8(1), version, bVarchar('Microsoft SQL Server'), Buffer.from([12, 0, 0x07, 0xd0])]));
}

/** FEATUREEXTACK acknowledging FEDAUTH with no data: tedious requires it for a token login (handler.js onFeatureExtAck). */
const featureExtAck = () => Buffer.concat([u8(TOKEN.FEATUREEXTACK), u8(FEATURE_FEDAUTH), u32(0), u8(0xff)]);

/** One message as packets of at most 4096 bytes (the default packet size). */
function packets(type: number, payload: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const max = 4096 - 8;
  let id = 1;
  for (let off = 0; off < payload.length || off === 0; off += max) {
    const chunk = payload.subarray(off, off + max);
    const last = off + max >= payload.length;
    const header = Buffer.alloc(8);
    header.writeUInt8(type, 0);
    header.writeUInt8(last ? 0x01 : 0x00, 1);
    header.writeUInt16BE(chunk.length + 8, 2);
    header.writeUInt16BE(0x0033, 4);
    header.writeUInt8(id++ & 0xff, 6);
    out.push(Buffer.concat([header, chunk]));
    if (last) break;
  }
  return out;
}

// ---- decoding -------------------------------------------------------------------------------------------------

/** PRELOGIN options (MS-TDS 2.2.6.5): token, offset (BE), length (BE), until 0xFF. */
function preloginOptions(data: Buffer): Map<number, Buffer> {
  const options = new Map<number, Buffer>();
  for (let i = 0; i + 5 <= data.length && data[i] !== 0xff; i += 5) {
    const offset = data.readUInt16BE(i + 1);
    const length = data.readUInt16BE(i + 3);
    options.set(data[i]!, data.subarray(offset, offset + length));
  }
  return options;
}

function preloginAnswer(request: Buffer): Buffer {
  const asked = preloginOptions(request);
  const options: [number, Buffer][] = [
    [0x00, Buffer.from([12, 0, 0x07, 0xd0, 0, 0])],
    // Inside TDS 8.0's TLS the encryption option no longer decides anything; the server says encryption is on.
    [0x01, Buffer.from([0x01])],
    [0x02, Buffer.from([0x00])],
    [0x04, Buffer.from([0x00])],
    // B_FEDAUTHREQUIRED only when the client sent the option (MS-TDS 2.2.6.5).
    ...(asked.has(0x06) ? [[0x06, Buffer.from([0x01])] as [number, Buffer]] : []),
  ];
  let offset = options.length * 5 + 1;
  const head: Buffer[] = [];
  for (const [token, data] of options) {
    const h = Buffer.alloc(5);
    h.writeUInt8(token, 0);
    h.writeUInt16BE(offset, 1);
    h.writeUInt16BE(data.length, 3);
    head.push(h);
    offset += data.length;
  }
  return Buffer.concat([...head, u8(0xff), ...options.map(([, d]) => d)]);
}

interface Login7 {
  serverName: string;
  database: string;
  /** The FEDAUTH SECURITYTOKEN, when the client sent one. */
  token?: string;
}

/** LOGIN7 (MS-TDS 2.2.6.4): the fixed part's offset/length pairs, and the FeatureExt block ibExtension points at. */
function parseLogin7(data: Buffer): Login7 {
  const field = (at: number) => {
    const offset = data.readUInt16LE(at);
    const chars = data.readUInt16LE(at + 2);
    return data.subarray(offset, offset + chars * 2).toString('ucs2');
  };
  const serverName = field(52);
  const database = field(68);
  const extensionUsed = (data.readUInt8(27) & 0x10) !== 0;
  let token: string | undefined;
  if (extensionUsed) {
    const pointer = data.readUInt16LE(56);
    let at = data.readUInt32LE(pointer);
    while (at < data.length && data[at] !== 0xff) {
      const id = data.readUInt8(at);
      const length = data.readUInt32LE(at + 1);
      const body = data.subarray(at + 5, at + 5 + length);
      if (id === FEATURE_FEDAUTH && body.length >= 5 && body[0]! >> 1 === FEDAUTH_SECURITYTOKEN) {
        const tokenLength = body.readUInt32LE(1);
        token = body.subarray(5, 5 + tokenLength).toString('ucs2');
      }
      at += 5 + length;
    }
  }
  return { serverName, database, ...(token !== undefined ? { token } : {}) };
}

/** sp_executesql (MS-TDS 2.2.6.6): ALL_HEADERS, ProcID, flags, then NVARCHAR parameters (short or PLP). */
function parseExecuteSql(data: Buffer): { statement: string; params: Map<string, string | null> } | undefined {
  let at = data.readUInt32LE(0);
  if (data.readUInt16LE(at) !== 0xffff || data.readUInt16LE(at + 2) !== SP_EXECUTESQL) return undefined;
  at += 6;
  const values: { name: string; value: string | null }[] = [];
  while (at < data.length) {
    const nameChars = data.readUInt8(at);
    const name = data.subarray(at + 1, at + 1 + nameChars * 2).toString('ucs2');
    at += 1 + nameChars * 2 + 1;
    if (data.readUInt8(at) !== 0xe7) return undefined; // only NVARCHAR: what the probe sends
    const maxLength = data.readUInt16LE(at + 1);
    at += 8;
    let value: string | null;
    if (maxLength === 0xffff) {
      const total = data.readBigUInt64LE(at);
      at += 8;
      if (total === 0xffffffffffffffffn) value = null;
      else {
        const parts: Buffer[] = [];
        for (let chunk = data.readUInt32LE(at); chunk > 0; chunk = data.readUInt32LE(at)) {
          parts.push(data.subarray(at + 4, at + 4 + chunk));
          at += 4 + chunk;
        }
        at += 4;
        value = Buffer.concat(parts).toString('ucs2');
      }
    } else {
      const length = data.readUInt16LE(at);
      at += 2;
      value = length === 0xffff ? null : data.subarray(at, at + length).toString('ucs2');
      if (length !== 0xffff) at += length;
    }
    values.push({ name, value });
  }
  const [statement, , ...params] = values;
  if (!statement?.value) return undefined;
  return { statement: statement.value, params: new Map(params.map((p) => [p.name.replace(/^@/, ''), p.value])) };
}

// ---- the server -----------------------------------------------------------------------------------------------

type Answer = { number: number; state: number; class: number; message: string };

/** 18456 with a sentence after the principal: the words Azure SQL adds for a token problem. */
const loginFailed = (state: number, detail = ''): Answer => ({ number: 18456, state, class: 14, message: `Login failed for user '${PRINCIPAL}'.${detail ? ` ${detail}` : ''}` });

/** Audience accepted by a server under `suffix`: its cloud's resource id, with or without the trailing slash. */
const audienceFor = (suffix: string) => `https://${suffix}/`;

interface Session {
  server?: SqlServer;
  database?: SqlDatabase;
  user?: { name: string; roles: string[]; dbo: boolean };
  login?: string;
}

export async function startTds(opts: TdsOptions): Promise<Service> {
  const sockets = new Set<Socket>();
  const server = tls.createServer({ cert: opts.tls.cert, key: opts.tls.key, ALPNProtocols: ['tds/8.0'] }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    serve(socket as tls.TLSSocket, opts);
  });
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function serve(socket: tls.TLSSocket, opts: TdsOptions): void {
  const session: Session = {};
  const host = (socket.servername || '').toLowerCase();
  let pending = Buffer.alloc(0);
  let parts: Buffer[] = [];
  let size = 0;
  const send = (payload: Buffer) => {
    for (const p of packets(PACKET.TABULAR, payload)) socket.write(p);
  };
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 8) {
      const length = pending.readUInt16BE(2);
      if (length < 8) return void socket.destroy();
      if (pending.length < length) break;
      const type = pending.readUInt8(0);
      const eom = (pending.readUInt8(1) & 0x01) !== 0;
      parts.push(pending.subarray(8, length));
      size += length - 8;
      pending = pending.subarray(length);
      if (size > MAX_MESSAGE) return void socket.destroy();
      if (!eom) continue;
      const message = Buffer.concat(parts);
      parts = [];
      size = 0;
      const latency = opts.state.latencyMs;
      const answer = () => {
        if (socket.destroyed) return;
        try {
          handle(type, message, session, host, socket, opts, send);
        } catch {
          // A message the simulator cannot parse: a real server drops such a connection too.
          socket.destroy();
        }
      };
      if (latency > 0) setTimeout(answer, latency).unref();
      else answer();
    }
  });
}

function handle(type: number, message: Buffer, session: Session, host: string, socket: tls.TLSSocket, opts: TdsOptions, send: (b: Buffer) => void): void {
  switch (type) {
    case PACKET.PRELOGIN:
      return send(preloginAnswer(message));
    case PACKET.LOGIN7: {
      const login = parseLogin7(message);
      const refusal = admit(login, host, session, opts, socket.remoteAddress ?? '127.0.0.1');
      if (refusal.length) {
        send(Buffer.concat([...refusal.map((e) => errorToken(e, session.server?.name ?? host.split('.')[0] ?? '')), done(TOKEN.DONE, DONE_ERROR)]));
        // Azure SQL closes the connection after a failed login.
        socket.end();
        return;
      }
      return send(Buffer.concat([loginAck(), envChange(1, session.database!.name, 'master'), envChange(4, '4096', '4096'), featureExtAck(), done(TOKEN.DONE, 0)]));
    }
    case PACKET.SQL_BATCH:
      // tedious's initial SET options after the login: accepted.
      return send(done(TOKEN.DONE, 0));
    case PACKET.RPC:
      return send(execute(message, session));
    case PACKET.ATTENTION:
      return send(done(TOKEN.DONE, DONE_ATTN));
    default:
      socket.destroy();
  }
}

/**
 * The login's checks in the order Azure SQL makes them: the server and its firewall at the gateway (before any
 * credential is read), then the token, then the database and the user in it. Empty: logged in (session filled).
 */
function admit(login: Login7, host: string, session: Session, opts: TdsOptions, clientIp: string): Answer[] {
  const name = (host || login.serverName).toLowerCase().split('.')[0]!;
  const suffix = (host || login.serverName).toLowerCase().split('.').slice(1).join('.');
  const server = opts.state.sqlServers.find((s) => s.name === name);
  // SQL-TS: 40532 "Cannot open server "%.*ls" requested by the login. The login failed."
  if (!server) return [{ number: 40532, state: 1, class: 20, message: `Cannot open server "${name}" requested by the login. The login failed.` }];
  session.server = server;
  if (server.fault) return [server.fault];
  if (server.network === 'firewall') {
    // Number in SQL-TS; full text from a public log (shared/reference/services-and-hosts.md §11.3).
    return [{
      number: 40615,
      state: 1,
      class: 14,
      message: `Cannot open server '${server.name}' requested by the login. Client with IP address '${clientIp}' is not allowed to access the server. To enable access, use the Azure Management Portal or run sp_set_firewall_rule on the master database to create a firewall rule for this IP address or address range. It may take up to five minutes for this change to take effect.`,
    }];
  }
  if (server.network === 'private') {
    // Azure/SQL-Connectivity-Checker: 47073 when public network access is denied.
    return [{ number: 47073, state: 1, class: 14, message: 'Reason: An instance-specific error occurred while establishing a connection to SQL Server. Connection was denied since Deny Public Network Access is set to Yes (https://docs.microsoft.com/azure/azure-sql/database/connectivity-settings#deny-public-network-access). To connect to this server, use the Private Endpoint from inside your virtual network (https://docs.microsoft.com/azure/sql-database/sql-database-private-endpoint-overview#how-to-set-up-private-link-for-azure-sql-database).' }];
  }
  if (login.token === undefined) return [{ number: 18456, state: 1, class: 14, message: "Login failed for user ''." }];
  const audience = audienceFor(suffix || 'database.windows.net');
  const check = checkToken(
    { headers: { authorization: `Bearer ${login.token}` } } as IncomingMessage,
    (aud) => aud.replace(/\/+$/, '') === audience.replace(/\/+$/, ''),
    server.tenantId,
    opts.nowSeconds(),
  );
  if (!check.ok) {
    switch (check.problem) {
      case 'expired':
        // Observed: "Msg 18456, Level 14, State 233 … Login failed for user '<token-identified principal>'. Token is expired." (microsoft/azuredatastudio#14497)
        return [loginFailed(233, 'Token is expired.')];
      case 'issuer':
        // Observed for a token of another tenant (public deployment notes quoting Azure SQL): the same words as a server without an Entra admin.
        return [loginFailed(235, 'The server is not currently configured to accept this token.')];
      default:
        // Observed for a token of another audience (an ARM token): "Login failed for user '<token-identified principal>'. Incorrect or invalid token." (microsoft/vscode-mssql#22031); state unconfirmed.
        return [loginFailed(1, 'Incorrect or invalid token.')];
    }
  }
  // Observed: "… The server is not currently configured to accept this token." for a server without a Microsoft Entra
  // admin (microsoft/vscode-mssql#18966, microsoft/azuredatastudio#21422; state 235 quoted in a public deployment note;
  // Microsoft's query-editor page gives the same words for a user without access, which the simulator answers with the
  // plain 18456 instead).
  if (!server.entraAdmin) return [loginFailed(235, 'The server is not currently configured to accept this token.')];
  const database = server.databases.find((d) => d.name.toLowerCase() === login.database.toLowerCase());
  // SQL-TS: 4060 "Cannot open database "%.*ls" requested by the login. The login failed." (class 11), then the 18456.
  if (!database) return [{ number: 4060, state: 1, class: 11, message: `Cannot open database "${login.database}" requested by the login. The login failed.` }, loginFailed(1)];
  const oid = String(check.claims.oid ?? '').toLowerCase();
  const admin = server.entraAdmin.objectId.toLowerCase() === oid;
  const user = database.users.find((u) => u.objectId.toLowerCase() === oid);
  // A valid token without a database user (a contained user is looked up by the principal's object id).
  if (!admin && !user) return [loginFailed(1)];
  session.database = database;
  session.user = admin ? { name: 'dbo', roles: ['db_owner'], dbo: true } : { name: user!.name, roles: user!.roles, dbo: false };
  // SUSER_SNAME() of an Entra application login is `<client id>@<tenant id>` (observed; unconfirmed in docs).
  session.login = `${String(check.claims.appid ?? check.claims.oid)}@${String(check.claims.tid ?? server.tenantId)}`;
  return [];
}

/** The probe's SELECT: one row of three sysnames and an int per role. Anything else is error 102. */
function execute(message: Buffer, session: Session): Buffer {
  const call = parseExecuteSql(message);
  const shape = call ? PROBE_SQL.exec(call.statement) : null;
  if (!call || !shape || !session.database || !session.user) {
    return Buffer.concat([errorToken({ number: 102, state: 1, class: 15, message: "Incorrect syntax near 'statement'." }, session.server?.name ?? ''), done(TOKEN.DONEPROC, DONE_ERROR)]);
  }
  const roleParams = [...shape[1]!.matchAll(/IS_ROLEMEMBER\(@(r\d+)\) AS (r\d+)/g)].map((m) => m[1]!);
  const db = session.database;
  const user = session.user;
  const membership = roleParams.map((p): number | null => {
    const role = call.params.get(p);
    if (role === undefined || role === null) return null;
    const exists = FIXED_ROLES.includes(role.toLowerCase()) || (db.customRoles ?? []).some((r) => r.toLowerCase() === role.toLowerCase());
    if (!exists) return null;
    // dbo (the Entra admin) is db_owner, which holds every permission of the other roles.
    return user.dbo || user.roles.some((r) => r.toLowerCase() === role.toLowerCase()) ? 1 : 0;
  });
  const nvarchar = (name: string) => Buffer.concat([u32(0), u16(0x0001), u8(0xe7), u16(256), COLLATION, bVarchar(name)]);
  const intn = (name: string) => Buffer.concat([u32(0), u16(0x0001), u8(0x26), u8(4), bVarchar(name)]);
  const columns = [nvarchar('login_name'), nvarchar('user_name'), nvarchar('database_name'), ...roleParams.map((p) => intn(p))];
  const text = (s: string) => Buffer.concat([u16(Buffer.byteLength(s, 'ucs2')), ucs2(s)]);
  const int = (v: number | null) => (v === null ? u8(0) : Buffer.concat([u8(4), u32(v)]));
  const row = Buffer.concat([u8(TOKEN.ROW), text(session.login ?? ''), text(user.name), text(db.name), ...membership.map(int)]);
  return Buffer.concat([
    u8(TOKEN.COLMETADATA),
    u16(columns.length),
    ...columns,
    row,
    done(TOKEN.DONEINPROC, DONE_MORE | DONE_COUNT, 1),
    Buffer.concat([u8(TOKEN.RETURNSTATUS), u32(0)]),
    done(TOKEN.DONEPROC, 0),
  ]);
}
