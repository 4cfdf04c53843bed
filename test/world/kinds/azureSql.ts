import { RG_APP, TENANT_ID, USER_IDENTITY } from '../scenario';
import type { SqlLoginFault, SqlServer } from '../model';
import type { World } from '../index';
import type { KindWorld } from './types';

const serverId = (name: string) => `${RG_APP}/providers/Microsoft.Sql/servers/${name}`;
const NAMES = {
  ok: 'csql-ok', noadmin: 'csql-noadmin', nouser: 'csql-nouser', norole: 'csql-norole', firewall: 'csql-firewall',
  expired: 'csql-expired', busy: 'csql-busy', down: 'csql-down',
} as const;
/** The server's Microsoft Entra admin: somebody, never the diagnosed identity. */
const ADMIN = { login: 'sql-admins', objectId: '5b1e7c3a-9d2f-4e8b-a6c4-0f3d5e7a9b12' };

/** The answers Azure SQL gives instead of checking anything (see test/world/tds.ts for their sources). */
const FAULTS: Record<'expired' | 'busy' | 'down', SqlLoginFault> = {
  // What a server answers a token past its life (microsoft/azuredatastudio#14497).
  expired: { number: 18456, state: 233, class: 14, message: "Login failed for user '<token-identified principal>'. Token is expired." },
  // SQL-TS transient errors: 40501 (busy, resource governor) and 40613 (database not currently available).
  busy: { number: 40501, state: 1, class: 20, message: 'The service is currently busy. Retry the request after 10 seconds. Incident ID: 6a3f2b1c-0d4e-4f5a-8b9c-1d2e3f4a5b6c. Code: 4194304.' },
  down: { number: 40613, state: 1, class: 17, message: "Database 'appdb' on server 'csql-down' is not currently available. Please retry the connection later. If the problem persists, contact customer support, and provide them the session tracing ID of '2b7c9d1e-3f4a-4b5c-9d6e-7f8a9b0c1d2e'." },
};

/** A server with database appdb; `roles`: the identity's user and its roles in it, null for no user at all. */
function server(world: World, name: string, extra: Partial<SqlServer> = {}, roles: string[] | null = ['db_datareader']): void {
  world.state.sqlServers.push({
    name,
    resourceId: serverId(name),
    tenantId: TENANT_ID,
    entraAdmin: ADMIN,
    databases: [{ name: 'appdb', users: roles ? [{ name: USER_IDENTITY.name, objectId: USER_IDENTITY.principalId, roles }] : [] }],
    ...extra,
  });
  world.state.arm.resources.push(serverId(name));
}

/** Azure SQL (test/world/tds.ts, TDS 8.0): one logical server per cause, each answering the login as Azure SQL would. */
export const azureSql: KindWorld = {
  kind: 'azureSql',
  simulator: 'test/world/tds.ts',
  stage(world) {
    server(world, NAMES.ok);
    server(world, NAMES.noadmin, { entraAdmin: undefined });
    server(world, NAMES.nouser, {}, null);
    server(world, NAMES.norole, {}, []);
    server(world, NAMES.firewall, { network: 'firewall' });
    server(world, NAMES.expired, { fault: FAULTS.expired });
    server(world, NAMES.busy, { fault: FAULTS.busy });
    server(world, NAMES.down, { fault: FAULTS.down });
  },
  cases(world) {
    const t = (name: string, serverName: string, extra: Record<string, unknown> = {}) => ({
      name,
      kind: 'azureSql' as const,
      server: `${serverName}.database.windows.net`,
      port: world.sqlPort,
      database: 'appdb',
      resourceId: serverId(serverName),
      ...extra,
    });
    return {
      authorized: t('sql-c-authorized', NAMES.ok),
      wrong_audience: t('sql-c-wrong-audience', NAMES.ok, { audience: 'https://vault.azure.net' }),
      token_expired: t('sql-c-token-expired', NAMES.expired),
      token_rejected: t('sql-c-no-entra-admin', NAMES.noadmin),
      database_user_missing: t('sql-c-no-user', NAMES.nouser),
      role_missing: t('sql-c-role-missing', NAMES.norole),
      network_blocked: t('sql-c-network', NAMES.firewall),
      resource_not_found: t('sql-c-not-found', NAMES.ok, { database: 'nodb' }),
      throttled: t('sql-c-throttled', NAMES.busy),
      target_unreachable: { name: 'sql-c-unreachable', kind: 'azureSql', server: 'nxdomain-csql.database.windows.net', port: world.sqlPort, database: 'appdb' },
      target_error: t('sql-c-error', NAMES.down),
    };
  },
  adHoc: (url) => ({ name: 'adhoc', kind: 'azureSql', server: new URL(url).hostname, database: 'appdb' }),
};
