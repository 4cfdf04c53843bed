import net from 'node:net';
import { Connection, Request, TYPES } from 'tedious';
import { describeBytes, RESPONSE_TOO_LARGE } from '../../wire/boundedClient';
import { transportFromError } from '../../wire/transport';
import type { CallFailure } from '../../wire/callFailure';
import type { CallOutcome, Probe } from '../probe';
import { rolesOf, type AzureSqlTarget } from './index';

/**
 * Log in to the database with the identity's token (TDS 8.0: TLS first, then PRELOGIN and LOGIN7 carrying the token
 * in its FEDAUTH extension), then one batch: `SELECT SUSER_SNAME(), USER_NAME(), DB_NAME()` and IS_ROLEMEMBER for
 * each needed role, the role names sent as parameters (sp_executesql), never spliced into the text. It reads no table:
 * the login needs a database user (CONNECT), and the roles are checked as membership. The token goes to the SQL server
 * only. No retries (maxRetriesOnTransientErrors 0: a 4060 or 40613 is reported, not retried); the deadline's signal
 * closes the connection.
 */

/** SQL's own error tokens kept per login (a refused login sends two: e.g. 4060 then 18456). */
const MAX_ERRORS = 4;
const MAX_MESSAGE = 400;
/** Every value the SELECT returns is a sysname (nvarchar(128)) or an int; anything longer is cut. */
const MAX_VALUE = 256;
/** How often the bytes read on the socket are checked against the response cap. */
const CAP_CHECK_MS = 20;
/** tedious's own timers when the deadline is not known (the signal still ends a slow exchange first). */
const TEDIOUS_TIMEOUT_MS = 15_000;

interface SqlError {
  number: number;
  state: number;
  class: number;
  message: string;
}

class AbortError extends Error {
  override readonly name = 'AbortError';
}

class TooLarge extends Error {
  readonly code = RESPONSE_TOO_LARGE;
  constructor(limit: number, host: string) {
    super(`the answers from ${host} passed the response cap of ${describeBytes(limit)} (DIAGNOSE_MAX_RESPONSE_BYTES, counted on the socket); the connection was cut and the rest was not read`);
  }
}

/** A TCP socket to host:port (the name resolved by dns.lookup, as tedious's own connector does), cut by the signal. */
function openSocket(host: string, port: number, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new AbortError('cut by the diagnose deadline'));
    const socket = net.connect({ host, port });
    const onAbort = () => {
      socket.destroy();
      reject(new AbortError('cut by the diagnose deadline'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(socket);
    });
    socket.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(err);
    });
  });
}

const clip = (v: unknown): string | number | boolean | null =>
  v === null || v === undefined ? null : typeof v === 'number' || typeof v === 'boolean' ? v : String(v).slice(0, MAX_VALUE);

const quoted = (v: string | number | boolean | null | undefined) => (v === null || v === undefined ? 'NULL' : `'${String(v).replace(/'/g, "''")}'`);

export const probeAzureSql: Probe<AzureSqlTarget> = async (target, ctx) => {
  const started = Date.now();
  const url = new URL(ctx.endpoint);
  const host = url.hostname;
  const port = Number(url.port);
  const endpoint = `${host}:${port}`;
  const transportFailure = (err: unknown): CallOutcome => {
    const transport = transportFromError(err, { endpoint, elapsedMs: Date.now() - started }) ?? {
      kind: 'other' as const,
      endpoint,
      detail: err instanceof Error ? err.message.slice(0, 300) : 'the connection failed before any answer',
    };
    // An abort we did not cause is still an abort; one at our deadline is the deadline's.
    if (transport.kind === 'aborted' && !ctx.signal.aborted) transport.kind = 'other';
    return { ok: false, failure: { transport } };
  };

  let token: string;
  try {
    // The token for this target's own audience only, handed to tedious as is (azure-active-directory-access-token).
    token = (await ctx.credential.getToken(`${ctx.audience.replace(/\/+$/, '')}/.default`, { abortSignal: ctx.signal }))?.token ?? '';
  } catch (err) {
    return transportFailure(err);
  }
  if (!token) return transportFailure(new Error('the credential returned no token, so no login was attempted'));

  // tedious's connect and request timers end inside the deadline (its connect timer also covers the TLS handshake).
  const timeoutMs = Math.max(1, Math.min(TEDIOUS_TIMEOUT_MS, ctx.remainingMs ?? TEDIOUS_TIMEOUT_MS));
  let socket: net.Socket | undefined;
  let socketError: unknown;
  let capTimer: NodeJS.Timeout | undefined;
  // Every wait below races this: the deadline's signal or the response cap ends the exchange at once, whatever state
  // tedious is in (a socket destroyed under its TLS layer is not always reported back).
  let cutOff: (err: Error) => void = () => {};
  const cut = new Promise<never>((_, reject) => {
    cutOff = reject;
  });
  cut.catch(() => {});
  const errors: SqlError[] = [];
  const connection = new Connection({
    server: host,
    authentication: { type: 'azure-active-directory-access-token', options: { token } },
    options: {
      port,
      database: target.database,
      // TDS 8.0: TLS before any TDS byte, ALPN tds/8.0, the server's certificate verified against its host name.
      encrypt: 'strict',
      connectTimeout: timeoutMs,
      requestTimeout: timeoutMs,
      cancelTimeout: 1000,
      maxRetriesOnTransientErrors: 0,
      appName: 'identity-doctor',
      connector: async () => {
        try {
          socket = await openSocket(host, port, ctx.signal);
        } catch (err) {
          socketError = err;
          throw err;
        }
        // tedious reads as much as the server sends; the cap is held on the socket's byte count (TLS included).
        const s = socket;
        capTimer = setInterval(() => {
          if (s.bytesRead > ctx.maxResponseBytes) {
            socketError = new TooLarge(ctx.maxResponseBytes, endpoint);
            clearInterval(capTimer);
            s.destroy();
            cutOff(socketError as Error);
          }
        }, CAP_CHECK_MS);
        capTimer.unref();
        return s;
      },
    },
  });
  connection.on('errorMessage', (t: { number: number; state: number; class: number; message: string }) => {
    if (errors.length < MAX_ERRORS) errors.push({ number: t.number, state: t.state, class: t.class, message: String(t.message).slice(0, MAX_MESSAGE) });
  });
  // A socket error after the login arrives as an 'error' event: recorded, never thrown into the process.
  connection.on('error', (err) => {
    socketError ??= err;
  });
  const onAbort = () => {
    cutOff(new AbortError('cut by the diagnose deadline'));
    connection.close();
  };
  if (ctx.signal.aborted) onAbort();
  ctx.signal.addEventListener('abort', onAbort, { once: true });

  const sqlFailure = (): CallOutcome => {
    const first = errors[0]!;
    const failure: CallFailure = {
      errorCode: String(first.number),
      message: errors.map((e) => `Msg ${e.number}, Level ${e.class}, State ${e.state}: ${e.message}`).join('\n'),
    };
    return { ok: false, failure };
  };
  const failed = (err: unknown): CallOutcome => {
    if (ctx.signal.aborted) return transportFailure(new AbortError('cut by the diagnose deadline'));
    if (err instanceof TooLarge) return transportFailure(err);
    if (errors.length) return sqlFailure();
    // tedious's own connect or request timer (set inside the deadline) fired: no answer in time.
    if ((err as { code?: unknown })?.code === 'ETIMEOUT') {
      return { ok: false, failure: { transport: { kind: 'timeout', code: 'ETIMEOUT', endpoint, detail: 'no answer before the time limit', elapsedMs: Date.now() - started } } };
    }
    return transportFailure(socketError ?? err);
  };

  try {
    try {
      await Promise.race([
        cut,
        new Promise<void>((resolve, reject) => connection.connect((err) => (err ? reject(err) : resolve()))),
      ]);
    } catch (err) {
      return failed(err);
    }

    const roles = rolesOf(target);
    const sql =
      'SELECT SUSER_SNAME() AS login_name, USER_NAME() AS user_name, DB_NAME() AS database_name' +
      roles.map((_, i) => `, IS_ROLEMEMBER(@r${i}) AS r${i}`).join('') +
      ';';
    let row: (string | number | boolean | null)[] | undefined;
    let rows = 0;
    try {
      await Promise.race([cut, new Promise<void>((resolve, reject) => {
        const request = new Request(sql, (err) => (err ? reject(err) : resolve()));
        roles.forEach((r, i) => request.addParameter(`r${i}`, TYPES.NVarChar, r));
        request.on('row', (columns: { value: unknown }[]) => {
          rows += 1;
          // One row is the answer; a server sending more is not this query's answer: stop reading.
          if (rows === 1) row = columns.slice(0, 3 + roles.length).map((c) => clip(c.value));
          else connection.cancel();
        });
        connection.execSql(request);
      })]);
    } catch (err) {
      return failed(err);
    }
    if (!row || rows !== 1 || row.length !== 3 + roles.length) {
      return { ok: false, failure: { transport: { kind: 'malformed', endpoint, detail: `the SELECT returned ${rows} rows of ${row?.length ?? 0} columns, not one row of ${3 + roles.length}`, elapsedMs: Date.now() - started } } };
    }
    const [login, user, database, ...membership] = row;
    const missing = roles.filter((_, i) => membership[i] !== 1);
    const found = roles.map((r, i) => `IS_ROLEMEMBER(N${quoted(r)}) = ${membership[i] === null ? 'NULL' : String(membership[i])}`).join(', ');
    if (missing.length) {
      return {
        ok: false,
        failure: {
          // Not a service error code: the probe's own reading of what IS_ROLEMEMBER answered (see index.ts classify).
          errorCode: 'IS_ROLEMEMBER',
          innerErrorCode: missing.join(','),
          message: `Logged in as database user ${quoted(user)} (login ${quoted(login)}) in database ${quoted(database)}; ${found}. NULL means the role does not exist in this database (or its membership is not visible).`,
        },
      };
    }
    return {
      ok: true,
      // A TDS login has no HTTP status; 200 stands for "answered and authorized" as for the HTTP kinds.
      httpStatus: 200,
      result: { loggedIn: true, loginName: login ?? null, databaseUser: user ?? null, database: database ?? null, roles: roles.join(','), rolesHeld: roles.length },
      correlation: {},
    };
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    if (capTimer) clearInterval(capTimer);
    connection.close();
    socket?.destroy();
  }
};

