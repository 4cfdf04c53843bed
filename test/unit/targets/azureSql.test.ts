import { loadSettings } from '../../../src/config';
import { classifyCallFailure } from '../../../src/engine/classify';
import { adHocRefusals } from '../../../src/http/adHocTargets';
import { azureSql, bracket, identityName, type AzureSqlTarget } from '../../../src/targets/azureSql';
import type { KindContext } from '../../../src/targets/kind';
import { TargetSchema } from '../../../src/targets/registry';
import type { CallFailure } from '../../../src/wire/callFailure';

const target: AzureSqlTarget = { name: 'orders', kind: 'azureSql', server: 'sql-orders.database.windows.net', database: 'orders' };
const settings = loadSettings({});
const now = Math.floor(Date.now() / 1000);
const claims = { aud: 'https://database.windows.net/', tid: '72f988bf-0000-4c1a-9d3e-5b7a1e2c4d6f', oid: 'c3f5a7e9-1b2d-4c6e-8a0f-2d4b6f8a0c15', exp: now + 3600 };
const sql = (number: number, state: number, text: string): CallFailure => ({ errorCode: String(number), message: `Msg ${number}, Level 14, State ${state}: ${text}` });
const classify = (failure: CallFailure, c: Record<string, unknown> = claims) => classifyCallFailure({ target, failure, claims: c, settings, nowSeconds: now });

describe('the azureSql error dialect', () => {
  it('reads the plain 18456 as a valid token without a database user', () => {
    expect(classify(sql(18456, 1, "Login failed for user '<token-identified principal>'."))).toBe('database_user_missing');
  });

  it('reads the words after 18456 as the token problem they name', () => {
    expect(classify(sql(18456, 233, "Login failed for user '<token-identified principal>'. Token is expired."))).toBe('token_expired');
    expect(classify(sql(18456, 235, "Login failed for user '<token-identified principal>'. The server is not currently configured to accept this token."))).toBe('token_rejected');
    expect(classify(sql(18456, 1, "Login failed for user '<token-identified principal>'. Incorrect or invalid token."), { ...claims, aud: 'https://management.azure.com/' })).toBe('wrong_audience');
  });

  it('maps the firewall, private-only, missing-database and busy numbers, and leaves unknown ones to target_error', () => {
    expect(classify(sql(40615, 1, "Cannot open server 'x' requested by the login. Client with IP address '1.2.3.4' is not allowed to access the server."))).toBe('network_blocked');
    expect(classify(sql(47073, 1, 'Connection was denied since Deny Public Network Access is set to Yes'))).toBe('network_blocked');
    expect(classify(sql(4060, 1, 'Cannot open database "x" requested by the login. The login failed.'))).toBe('resource_not_found');
    expect(classify(sql(40501, 1, 'The service is currently busy.'))).toBe('throttled');
    expect(classify(sql(40613, 1, "Database 'x' on server 'y' is not currently available."))).toBe('target_error');
  });

  it('reads the probe\'s own IS_ROLEMEMBER answer as a missing database role', () => {
    expect(classify({ errorCode: 'IS_ROLEMEMBER', innerErrorCode: 'db_datareader', message: "Logged in as database user 'x'" })).toBe('role_missing');
  });
});

describe('the azureSql fixes', () => {
  const ctx = (over: Partial<KindContext<AzureSqlTarget>> = {}): KindContext<AzureSqlTarget> =>
    ({ target, settings, claims, hostKind: 'unknown', evidence: {}, expectedAudience: 'https://database.windows.net/', stage: 'call', ...over }) as KindContext<AzureSqlTarget>;

  it('quotes SQL identifiers by doubling ], and the whole statement as one shell word', () => {
    expect(bracket('a]b')).toBe('[a]]b]');
    const [line] = azureSql.fixes.database_user_missing!(ctx({ claims: { ...claims, xms_mirid: "/subscriptions/s/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/o'brien]x" } }), undefined);
    expect(line).toBe(
      "sqlcmd -S tcp:sql-orders.database.windows.net,1433 -d orders --authentication-method ActiveDirectoryDefault -Q 'CREATE USER [o'\\''brien]]x] FROM EXTERNAL PROVIDER; ALTER ROLE [db_datareader] ADD MEMBER [o'\\''brien]]x];'",
    );
  });

  it('names the identity after its resource (a slot as <app>/slots/<slot>), or leaves a placeholder', () => {
    expect(identityName({ xms_mirid: '/subscriptions/s/resourceGroups/r/providers/Microsoft.Web/sites/app1/slots/staging' })).toBe('app1/slots/staging');
    expect(identityName({ xms_mirid: '/subscriptions/s/resourceGroups/r/providers/Microsoft.Web/sites/app1' })).toBe('app1');
    expect(azureSql.fixes.database_user_missing!(ctx({ claims: { oid: claims.oid } }), undefined)[0]).toContain('CREATE USER [<identity-name>]');
  });

  it('adds the database user the server named to the roles IS_ROLEMEMBER said it lacks', () => {
    const evidence = { errorCode: 'IS_ROLEMEMBER', innerErrorCode: 'app_writer', message: "Logged in as database user 'orders''api' (login 'a@t') in database 'orders'; …" };
    const [line] = azureSql.fixes.role_missing!(ctx({ target: { ...target, roles: ['db_datareader', 'app_writer'] }, evidence }), undefined);
    expect(line).toContain(`-Q 'ALTER ROLE [app_writer] ADD MEMBER [orders'\\''api];'`);
    expect(line).toMatch(azureSql.permissions!.grantLine);
  });
});

describe('the azureSql network fixes', () => {
  const ctx = { target: { ...target, server: 'sql-orders.database.chinacloudapi.cn', resourceId: '/subscriptions/s1/resourceGroups/rg-data/providers/Microsoft.Sql/servers/sql-orders' }, settings, claims, hostKind: 'unknown', evidence: {}, expectedAudience: '', stage: 'call' } as unknown as KindContext<AzureSqlTarget>;

  it('adds a firewall rule on the server\'s own resource group for 40615, never opening it to all', () => {
    const lines = azureSql.fixes.network_blocked!(ctx, azureSql.forbidden['40615']);
    expect(lines[0]).toMatch(/^az sql server firewall-rule create --resource-group rg-data --server sql-orders /);
    expect(lines.join('\n')).not.toContain('0.0.0.0 ');
  });

  it('reaches a server without public access through a private endpoint in its cloud\'s zone for 47073', () => {
    const lines = azureSql.fixes.network_blocked!(ctx, azureSql.forbidden['47073']).join('\n');
    expect(lines).toContain('--private-connection-resource-id /subscriptions/s1/resourceGroups/rg-data/providers/Microsoft.Sql/servers/sql-orders --group-id sqlServer');
    expect(lines).toContain('-n privatelink.database.chinacloudapi.cn');
  });
});

describe('the azureSql target', () => {
  it('refuses a server that is not a host name, naming the field', () => {
    const r = TargetSchema.safeParse({ ...target, server: 'tcp:sql-orders.database.windows.net,1433' });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toContain('server');
  });

  it('sends a token only to a SQL host on its own port, unless DIAGNOSE_ALLOWED_HOSTS lists another', () => {
    expect(adHocRefusals([{ ...target }], settings)).toEqual([]);
    expect(adHocRefusals([{ ...target, port: 1433 }], settings)).toEqual([]);
    expect(adHocRefusals([{ ...target, port: 8443 }], settings).map((r) => r.rule)).toEqual(['port-not-allowed']);
    expect(adHocRefusals([{ ...target, server: 'sql-orders.database.windows.net.evil.example' }], settings).map((r) => r.rule)).toEqual(['host-not-allowed']);
  });
});
