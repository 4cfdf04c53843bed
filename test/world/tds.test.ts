import { runChild } from './childProcess';
import { startWorld, serviceEnv, TENANT_ID, USER_IDENTITY, type World } from './index';

/**
 * The TDS simulator (tds.ts) against the real tedious client, in a child process with the service's environment (DNS
 * preload, the world's CA): the built probe (dist/src/targets/azureSql/probe.js, as the service runs it) and tedious
 * configured by hand. Run `npm run build` first.
 */

/** Runs the built probe for `target` with a credential that hands out `token`; prints its outcome and how long it took. */
const PROBE = `
const { probeAzureSql } = require('./dist/src/targets/azureSql/probe.js');
const input = JSON.parse(process.env.PROBE_INPUT);
const controller = new AbortController();
if (input.abortAfterMs) setTimeout(() => controller.abort(), input.abortAfterMs);
const credential = { getToken: async () => ({ token: input.token, expiresOnTimestamp: Date.now() + 3600e3 }) };
const started = Date.now();
probeAzureSql(input.target, {
  credential, signal: controller.signal, audience: 'https://database.windows.net/',
  endpoint: 'mssql://' + input.target.server + ':' + input.target.port, maxResponseBytes: input.maxResponseBytes ?? 1048576,
  remainingMs: input.remainingMs,
}).then((outcome) => { console.log(JSON.stringify({ outcome, ms: Date.now() - started })); process.exit(0); });
`;

/** tedious configured by hand: `encrypt` as given, the token as access-token authentication. */
const RAW = `
const { Connection } = require('tedious');
const input = JSON.parse(process.env.PROBE_INPUT);
const errors = [];
const c = new Connection({ server: input.server, authentication: { type: 'azure-active-directory-access-token', options: { token: input.token } },
  options: { port: input.port, database: 'appdb', encrypt: input.encrypt, connectTimeout: 5000, maxRetriesOnTransientErrors: 0 } });
c.on('errorMessage', (t) => errors.push(t.number));
c.on('error', () => {});
c.connect((err) => { console.log(JSON.stringify({ ok: !err, code: err && err.code, errors })); process.exit(0); });
`;

let world: World;
const server = (name: string, extra: Record<string, unknown> = {}) => {
  world.state.sqlServers.push({
    name,
    resourceId: `/subscriptions/x/resourceGroups/rg/providers/Microsoft.Sql/servers/${name}`,
    tenantId: TENANT_ID,
    entraAdmin: { login: 'admins', objectId: '11111111-2222-4333-8444-555555555555' },
    databases: [{ name: 'appdb', users: [{ name: 'id-doctor', objectId: USER_IDENTITY.principalId, roles: ['db_datareader'] }], customRoles: ['app_reader'] }],
    ...extra,
  });
  return `${name}.database.windows.net`;
};

beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world?.stop();
});

const token = () => world.mintToken(USER_IDENTITY, 'https://database.windows.net/');
const probe = (input: Record<string, unknown>) => runChild(PROBE, { ...serviceEnv(world), PROBE_INPUT: JSON.stringify({ token: token(), ...input }) });

describe('the TDS simulator with the real tedious client', () => {
  it('logs the probe in over TDS 8.0 and answers its SELECT: who the server thinks the caller is, and its roles', async () => {
    const target = { name: 't', kind: 'azureSql', server: server('tds-ok'), port: world.sqlPort, database: 'appdb', roles: ['db_datareader', 'app_reader'] };
    const { outcome } = await probe({ target });
    expect(outcome.ok).toBe(false);
    // A member of db_datareader, not of the custom role app_reader: the second IS_ROLEMEMBER answers 0.
    expect(outcome.failure).toMatchObject({ errorCode: 'IS_ROLEMEMBER', innerErrorCode: 'app_reader' });
    expect(outcome.failure.message).toContain("as database user 'id-doctor'");
    expect(outcome.failure.message).toContain(`login '${USER_IDENTITY.clientId}@${TENANT_ID}'`);
    expect(outcome.failure.message).toContain("IS_ROLEMEMBER(N'db_datareader') = 1, IS_ROLEMEMBER(N'app_reader') = 0");
  });

  it('receives role names as parameters, never as SQL text: a hostile name is just a role that does not exist', async () => {
    const hostile = "db_owner') OR 1=1 --";
    const target = { name: 't', kind: 'azureSql', server: server('tds-params'), port: world.sqlPort, database: 'appdb', roles: ['db_datareader', hostile] };
    const { outcome } = await probe({ target });
    // The server understood the statement (only the probe's exact text is accepted) and looked the name up as a value.
    expect(outcome.failure).toMatchObject({ errorCode: 'IS_ROLEMEMBER', innerErrorCode: hostile });
    expect(outcome.failure.message).toContain(`IS_ROLEMEMBER(N'db_owner'') OR 1=1 --') = NULL`);
  });

  it('answers a login with the ERROR tokens Azure SQL sends: 4060 then 18456 for a database that does not exist', async () => {
    const target = { name: 't', kind: 'azureSql', server: server('tds-nodb'), port: world.sqlPort, database: 'nodb' };
    const { outcome } = await probe({ target });
    expect(outcome.failure.errorCode).toBe('4060');
    expect(outcome.failure.message.split('\n')).toEqual([
      'Msg 4060, Level 11, State 1: Cannot open database "nodb" requested by the login. The login failed.',
      "Msg 18456, Level 14, State 1: Login failed for user '<token-identified principal>'.",
    ]);
  });

  it('refuses a token minted for another audience, and one of another tenant, with 18456 and Azure SQL\'s words', async () => {
    const host = server('tds-aud');
    const other = world.mintToken(USER_IDENTITY, 'https://management.azure.com/');
    const aud = await runChild(PROBE, { ...serviceEnv(world), PROBE_INPUT: JSON.stringify({ token: other, target: { name: 't', server: host, port: world.sqlPort, database: 'appdb' } }) });
    expect(aud.outcome.failure.message).toBe("Msg 18456, Level 14, State 1: Login failed for user '<token-identified principal>'. Incorrect or invalid token.");
    const foreign = world.mintToken({ ...USER_IDENTITY, tenantId: '9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d' }, 'https://database.windows.net/');
    const tenant = await runChild(PROBE, { ...serviceEnv(world), PROBE_INPUT: JSON.stringify({ token: foreign, target: { name: 't', server: host, port: world.sqlPort, database: 'appdb' } }) });
    expect(tenant.outcome.failure.message).toContain('The server is not currently configured to accept this token.');
  });

  it('speaks only TDS 8.0: a client that starts with PRELOGIN in clear text gets no login', async () => {
    const host = server('tds-strict');
    const strict = await runChild(RAW, { ...serviceEnv(world), PROBE_INPUT: JSON.stringify({ token: token(), server: host, port: world.sqlPort, encrypt: 'strict' }) });
    expect(strict).toEqual({ ok: true, errors: [] });
    const legacy = await runChild(RAW, { ...serviceEnv(world), PROBE_INPUT: JSON.stringify({ token: token(), server: host, port: world.sqlPort, encrypt: true }) });
    expect(legacy.ok).toBe(false);
  });

  it('is cut by the deadline\'s signal while the server is silent, closing the connection', async () => {
    const target = { name: 't', kind: 'azureSql', server: server('tds-slow'), port: world.sqlPort, database: 'appdb' };
    world.state.latencyMs = 10_000;
    try {
      const { outcome, ms } = await probe({ target, abortAfterMs: 300 });
      expect(outcome.failure.transport).toMatchObject({ kind: 'aborted' });
      expect(ms).toBeLessThan(5_000);
    } finally {
      world.state.latencyMs = 0;
    }
  });

  it('ends tedious\'s own timers inside the deadline: a silent server is a timeout, not a wait', async () => {
    const target = { name: 't', kind: 'azureSql', server: server('tds-timer'), port: world.sqlPort, database: 'appdb' };
    world.state.latencyMs = 10_000;
    try {
      const { outcome, ms } = await probe({ target, remainingMs: 400 });
      expect(outcome.failure.transport).toMatchObject({ kind: 'timeout', code: 'ETIMEOUT' });
      expect(ms).toBeLessThan(5_000);
    } finally {
      world.state.latencyMs = 0;
    }
  });

  it('stops reading past the response cap', async () => {
    const target = { name: 't', kind: 'azureSql', server: server('tds-cap'), port: world.sqlPort, database: 'appdb' };
    // The TLS handshake alone (the world's certificate chain) is larger than 512 bytes.
    const { outcome } = await probe({ target, maxResponseBytes: 512 });
    expect(outcome.failure.transport).toMatchObject({ kind: 'malformed', code: 'RESPONSE_TOO_LARGE' });
  });
});
