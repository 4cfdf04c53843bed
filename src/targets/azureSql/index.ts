import { z } from 'zod';
import { privateLinkFix, resourceIdOr } from '../../advice/commands';
import { comment, idOr, oneLine, sh } from '../../advice/shell';
import { ROLES } from '../../catalog/roles';
import type { Claims } from '../../verdict';
import { baseFields } from '../fields';
import type { ForbiddenCode, KindContext, TargetKind } from '../kind';

/**
 * An Azure SQL database, reached as the workload reaches it: a TDS login with the identity's access token (tedious),
 * then one batch asking who the server thinks the caller is and whether it holds the database roles it needs.
 */

/** A host name without scheme, port or path (a port has its own field). */
const HOST = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
/** A SQL name (sysname: up to 128 characters) without control characters; brackets are quoted where it is pasted. */
// eslint-disable-next-line no-control-regex
const sqlName = (what: string) => z.string().trim().min(1).max(128).regex(/^[^\u0000-\u001f\u007f]+$/, `expected a ${what} (up to 128 characters, no control characters)`);

export const DEFAULT_PORT = 1433;
export const DEFAULT_ROLES = ['db_datareader'] as const;

export const AzureSqlTargetSchema = z.object({
  ...baseFields,
  kind: z.literal('azureSql'),
  server: z.string().trim().regex(HOST, "expected the server's host name, like <server>.database.windows.net (no scheme, no port)"),
  database: sqlName('database name'),
  port: z.number().int().min(1).max(65535).optional(),
  /** The database roles the workload needs (fixed or custom); default db_datareader. */
  roles: z.array(sqlName('database role name')).min(1).max(16).optional(),
});
export type AzureSqlTarget = z.infer<typeof AzureSqlTargetSchema>;

export const portOf = (t: Pick<AzureSqlTarget, 'port'>): number => t.port ?? DEFAULT_PORT;
export const rolesOf = (t: Pick<AzureSqlTarget, 'roles'>): readonly string[] => t.roles ?? DEFAULT_ROLES;

/** The logical server's name: the first label of `<server>.database.windows.net`. */
const SERVER_NAME = /^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$|^[a-z0-9]$/;
const serverName = (t: AzureSqlTarget): string => t.server.toLowerCase().split('.')[0]!;
const serverArg = (t: AzureSqlTarget): string => idOr(serverName(t), (v) => SERVER_NAME.test(v), 'server-name');

/** The server's resource group from its configured ARM id, else a placeholder. */
const rgArg = (t: AzureSqlTarget): string => idOr(t.resourceId?.split('/')[4], (v) => /^[-\w.()]{1,90}$/.test(v), 'resource-group');

/** A SQL identifier in brackets, `]` doubled (T-SQL's quoting of delimited identifiers). */
export const bracket = (name: string): string => `[${name.replace(/]/g, ']]')}]`;

/**
 * The name a database user for this identity is created with: the identity's resource name (a user-assigned
 * identity's name; the app, `<app>/slots/<slot>` or VM for a system-assigned one — SQL-TUT), read from the token's
 * xms_mirid; undefined when the token does not say.
 */
export function identityName(claims: Claims | undefined): string | undefined {
  const id = claims?.xms_mirid;
  if (!id) return undefined;
  const slot = /\/providers\/Microsoft\.Web\/sites\/([^/]+)\/slots\/([^/]+)$/i.exec(id);
  if (slot) return `${slot[1]}/slots/${slot[2]}`;
  const last = /\/providers\/[^/]+\/[^/]+\/([^/]+)$/i.exec(id);
  return last?.[1];
}

/**
 * The line that runs T-SQL in the target's database with go-sqlcmd, signed in as whoever ran `az login` (the server's
 * Microsoft Entra admin): the statement is one single-quoted shell word, identifiers inside it bracket-quoted.
 */
function sqlcmd(t: AzureSqlTarget, statements: string): string {
  return `sqlcmd -S ${sh(`tcp:${t.server},${portOf(t)}`)} -d ${sh(t.database)} --authentication-method ActiveDirectoryDefault -Q ${sh(statements)}`;
}

/** Said after the sqlcmd line (the text report shows a fix's first line: the command itself). */
const asAdmin = (t: AzureSqlTarget) => comment(`run as the Microsoft Entra admin of server ${serverName(t)} (az login as that admin first)`);

/** The user's name in a fix: from the token, else a placeholder the admin fills in (never guessed). */
const userFor = (ctx: KindContext<AzureSqlTarget>): string => identityName(ctx.claims) ?? '<identity-name>';

/** The roles a role_missing check found missing (the probe names them in innerErrorCode), else every needed role. */
function missingRoles(ctx: KindContext<AzureSqlTarget>): string[] {
  const needed = rolesOf(ctx.target);
  const named = (ctx.evidence.innerErrorCode ?? '').split(',').map((r) => r.trim()).filter((r) => needed.includes(r));
  return named.length ? named : [...needed];
}

const addMembers = (roles: readonly string[], user: string): string =>
  roles.map((r) => `ALTER ROLE ${bracket(r)} ADD MEMBER ${bracket(user)};`).join(' ');

const lookupServerId = (t: AzureSqlTarget) => `az sql server list --query ${sh(`[?fullyQualifiedDomainName=='${t.server.toLowerCase()}'].id`)} -o tsv`;

/** 18456's principal part, and what the server said after it ("Token is expired.", …) — empty for the plain refusal. */
const LOGIN_FAILED = /^Login failed for user '[^']*'\.\s*(.*)$/s;

export const azureSql: TargetKind<AzureSqlTarget, typeof AzureSqlTargetSchema> = {
  kind: 'azureSql',
  schema: AzureSqlTargetSchema,
  nouns: { service: 'Azure SQL', short: 'SQL', target: 'Azure SQL database', hosts: 'Azure SQL', resource: 'server', sibling: 'database' },
  componentType: 'datastore',
  // Managed identities' resource ids for Azure SQL per cloud (MicrosoftDocs/azure-docs
  // articles/active-directory/managed-identities-azure-resources/services-support-managed-identities.md, "Azure SQL").
  // The form without the slash is what tedious's token-credential path asks for (scope `new URL('/.default', spn)`,
  // tedious 19.2.2 lib/connection.js) and is accepted too.
  audiences: {
    AzurePublicCloud: ['https://database.windows.net/', 'https://database.windows.net'],
    AzureChinaCloud: ['https://database.chinacloudapi.cn/', 'https://database.chinacloudapi.cn'],
    AzureUSGovernment: ['https://database.usgovcloudapi.net/', 'https://database.usgovcloudapi.net'],
  },
  // shared/reference/services-and-hosts.md §1 (PE-DNS): privatelink.database.windows.net and its sovereign twins.
  hosts: {
    suffixes: { AzurePublicCloud: 'database.windows.net', AzureChinaCloud: 'database.chinacloudapi.cn', AzureUSGovernment: 'database.usgovcloudapi.net' },
    shape: 'one-label-under',
  },
  urlField: 'server',
  // Not HTTP: TDS on the server's port. The scheme only names the protocol for host:port read-outs.
  endpoint: (t) => `mssql://${t.server.toLowerCase()}:${portOf(t)}`,
  policyUrl: (item) => {
    const server = item.server;
    if (typeof server !== 'string') return '';
    const port = item.port;
    return `https://${server.trim()}${typeof port === 'number' && port !== DEFAULT_PORT ? `:${port}` : ''}`;
  },
  // The probe logs in (CONNECT needs a database user) and asks IS_ROLEMEMBER for each needed role; reading rows
  // needs db_datareader (or a narrower GRANT SELECT), which the probe checks as membership, never by reading data.
  operation: {
    description: 'log in to the database and check its database roles',
    plane: 'data',
    permission: 'CONNECT as a database user; membership of the needed database roles',
    leastRole: ROLES.sqlDbDataReader,
  },
  // SQL grants live in the database, not at an ARM scope: the database is what the login touches.
  scopes: { grant: () => '', touched: (t) => `/databases/${t.database}` },
  object: () => 'database',
  resource: {
    lookup: lookupServerId,
    text: (t) => `the database ${oneLine(t.database)} on server ${t.server.toLowerCase()}`,
    listNames: 'az sql server list --query "[].fullyQualifiedDomainName" -o tsv',
  },
  // SQL error numbers (the first ERROR token of the login) → cause. 18456 and the probe's own role answer are read by
  // `classify` below, since their meaning is in the words after the number.
  forbidden: {
    // SQL-TS (MicrosoftDocs/sql-docs azure-sql/database/troubleshoot-common-errors-issues.md): 40615 "Cannot open server
    // '…' requested by the login. Client with IP address '…' is not allowed to access the server."
    '40615': { cause: 'network_blocked', meaning: 'the server firewall has no rule for this client address', network: 'rule' },
    // Azure/SQL-Connectivity-Checker: 47073 "Connection was denied since Deny Public Network Access is set to Yes".
    '47073': { cause: 'network_blocked', meaning: 'public network access is denied: the server answers only over a private endpoint', network: 'private_only' },
    // SQL-TS (transient errors table): 4060 "Cannot open database "%.*ls" requested by the login. The login failed." —
    // the database does not exist, or this login cannot open it.
    '4060': { cause: 'resource_not_found', meaning: 'the database does not exist, or this identity cannot open it' },
  },
  classify: (f) => {
    // The probe's own answer: logged in, IS_ROLEMEMBER said no (or NULL) for a needed role.
    if (f.errorCode === 'IS_ROLEMEMBER') return 'role_missing';
    if (f.errorCode === '18456') {
      // Observed texts (shared/reference/services-and-hosts.md §11.3; microsoft/azuredatastudio#14497,
      // microsoft/vscode-mssql#18966 and #22031): the plain refusal is a valid token without a database user; a sentence
      // after it names a token problem ("Token is expired.", "Incorrect or invalid token.", "The server is not currently
      // configured to accept this token.") — the shared token reasoning reads those words and the claims.
      const after = LOGIN_FAILED.exec(messageText(f.message))?.[1]?.trim();
      return after ? 'authentication' : 'database_user_missing';
    }
    const row = f.errorCode !== undefined && Object.hasOwn(azureSql.forbidden, f.errorCode) ? azureSql.forbidden[f.errorCode] : undefined;
    if (row) return row.cause;
    // SQL-TS: 40501 "The service is currently busy." — throttling by the resource governor.
    if (f.errorCode === '40501') return 'throttled';
    return undefined;
  },
  explain: {
    database_user_missing: (ctx) =>
      `Azure SQL accepted the token but refused the login with 18456 "Login failed for user '<token-identified principal>'.": principal ${oneLine(ctx.claims?.oid ?? '(unknown)')}${identityName(ctx.claims) ? ` (${oneLine(identityName(ctx.claims)!)})` : ''} has no user in database ${oneLine(ctx.target.database)}. A directory principal is necessary but not sufficient: the server's Microsoft Entra admin must create a database user for it (CREATE USER … FROM EXTERNAL PROVIDER) and add it to the roles it needs. No Azure role assignment grants SQL access.`,
    role_missing: (ctx) =>
      `Logged in to database ${oneLine(ctx.target.database)}${dbUserFrom(ctx.evidence.message) ? ` as database user ${oneLine(dbUserFrom(ctx.evidence.message)!)}` : ''}, but IS_ROLEMEMBER says it does not hold ${missingRoles(ctx).join(', ')} (the answers are in the evidence: 0 is not a member, NULL a role this database does not have). Database roles are granted in the database with ALTER ROLE … ADD MEMBER by its Entra admin or owner, and take effect at the next login; Azure role assignments (Owner, Contributor, SQL DB Contributor) do not reach into the database.`,
    resource_not_found: (ctx) =>
      `Azure SQL answered 4060 "Cannot open database … requested by the login": either database ${oneLine(ctx.target.database)} does not exist on ${ctx.target.server.toLowerCase()}, or it exists and this identity cannot open it — SQL gives both the same answer. Check the name first; if it is right, the identity needs a user in it.`,
    // "The server is not currently configured to accept this token": observed for a server without an Entra admin
    // (microsoft/vscode-mssql#18966) and for a token of another tenant; Microsoft's query-editor page
    // (MicrosoftDocs/sql-docs azure-sql/database/query-editor.md) gives it for a user without access to the database.
    token_rejected: (ctx) =>
      `Azure SQL refused the token${ctx.evidence.message ? ` (${oneLine(messageText(ctx.evidence.message))})` : ''}. SQL gives these words for three things it does not tell apart: a logical server without a Microsoft Entra admin (it then accepts no Entra token at all), a token from a tenant the server is not in (this one's is ${oneLine(ctx.claims?.tid ?? 'unknown')}), and — per Microsoft's query-editor page — an identity without a user in the database. Check them in that order.`,
  },
  fixes: {
    database_user_missing: (ctx) => {
      const t = ctx.target;
      const user = userFor(ctx);
      return [
        sqlcmd(t, `CREATE USER ${bracket(user)} FROM EXTERNAL PROVIDER; ${addMembers(rolesOf(t), user)}`),
        asAdmin(t),
        ...(identityName(ctx.claims) ? [] : [comment('<identity-name>: the user-assigned identity\'s name, or the app (<app>/slots/<slot>) or VM name for a system-assigned one')]),
      ];
    },
    role_missing: (ctx) => {
      const t = ctx.target;
      return [sqlcmd(t, addMembers(missingRoles(ctx), dbUserFrom(ctx.evidence.message) ?? userFor(ctx))), asAdmin(t)];
    },
    resource_not_found: ({ target: t }) => [
      `az sql db list --server ${serverArg(t)} --resource-group ${rgArg(t)} --query "[].name" -o tsv`,
      comment(`if database ${t.database} is listed, the identity has no access to it: its Entra admin creates a user for it (CREATE USER … FROM EXTERNAL PROVIDER)`),
    ],
    network_blocked: ({ target: t }, row: ForbiddenCode | undefined) =>
      row?.network === 'private_only'
        ? // Private Link's group id for a logical server is sqlServer, its zone privatelink.<the server's suffix> (PE-DNS).
          privateLinkFix(resourceIdOr(t.resourceId, lookupServerId(t)), 'sqlServer', sh(`privatelink.${t.server.toLowerCase().split('.').slice(1).join('.')}`))
        : [
            `az sql server firewall-rule create --resource-group ${rgArg(t)} --server ${serverArg(t)} --name allow-workload --start-ip-address <workload-outbound-ip> --end-ip-address <workload-outbound-ip>`,
            comment('or a virtual-network rule for the workload\'s subnet (az sql server vnet-rule create), or a private endpoint; never 0.0.0.0–255.255.255.255'),
          ],
    token_rejected: ({ target: t }) => [
      `az sql server ad-admin list --resource-group ${rgArg(t)} --server ${serverArg(t)} -o table`,
      `az sql server ad-admin create --resource-group ${rgArg(t)} --server ${serverArg(t)} --display-name <admin-name> --object-id <admin-object-id>   ${comment('only if the list is empty')}`,
      comment(`if an admin is set and the tenant is the server's: its admin creates a user for the identity in database ${t.database} (CREATE USER … FROM EXTERNAL PROVIDER)`),
    ],
  },
  permissions: {
    model: 'SQL database users and roles',
    remedy: 'the server\'s Entra admin runs `ALTER ROLE db_datareader ADD MEMBER [<identity>]` (T-SQL) in the database',
    grantLine: /^sqlcmd .*(CREATE USER|ALTER ROLE) /m,
    // The database is the authority, and the probe has just asked it: a role_missing comes only from its IS_ROLEMEMBER
    // answer (evidence.message), so this reads nothing more — it records that the needed roles are not held, and that
    // a membership change counts at the next login (no propagation window).
    lookup: async ({ target, claims }) => ({
      scope: `${target.server.toLowerCase()}/databases/${target.database}`,
      lookedUp: true,
      assignments: [],
      lookup: sqlcmd(target, `SELECT r.name FROM sys.database_role_members m JOIN sys.database_principals r ON r.principal_id = m.role_principal_id JOIN sys.database_principals u ON u.principal_id = m.member_principal_id WHERE u.name = N'${(identityName(claims) ?? '<database-user>').replace(/'/g, "''")}';`),
      model: 'SQL database users and roles',
      windowSeconds: 0,
    }),
  },
  causes: [
    'authorized', 'wrong_audience', 'token_expired', 'token_rejected', 'database_user_missing', 'role_missing', 'network_blocked',
    'resource_not_found', 'throttled', 'target_unreachable', 'target_error',
  ],
  loadProbe: async () => (await import('./probe')).probeAzureSql,
};

/** The server's words without the "Msg n, Level c, State s: " prefix the probe writes. */
function messageText(message: string | undefined): string {
  return (message ?? '').replace(/^Msg \d+, Level \d+, State \d+: /, '').split('\n')[0]!;
}

/** The database user the probe's SELECT named (USER_NAME()), from its message. */
function dbUserFrom(message: string | undefined): string | undefined {
  return /as database user '((?:[^']|'')+)'/.exec(message ?? '')?.[1]?.replace(/''/g, "'");
}
