import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sameAudience } from '../../src/catalog/clouds';
import { CLOUDS, OPERATIONS, type Cloud } from '../../src/targets/registry';
import { applyFault } from './faults';
import type { Counters, Vault, WorldState } from './model';
import { callerOf, findDataActionGrant } from './rbac';
import { hostName, parseUrl, sendJson, startService, type Service } from './service';
import { callerDescription, checkToken, type TokenClaims } from './tokens';

/**
 * Key Vault data plane for every vault: one HTTPS server, the vault is the first label of the Host header.
 * Reproduces the challenge flow (first request has no token → 401 + WWW-Authenticate naming tenant and resource),
 * the AKV100xx 401 messages, and the 403/404 bodies with their `innererror` codes.
 */
export interface KeyVaultDeps {
  state: WorldState;
  counters: Counters;
  tls: { cert: string; key: string };
  nowMs(): number;
}

const GET_SECRET = OPERATIONS.keyVaultSecret.permission;
const LIST_SECRETS = 'Microsoft.KeyVault/vaults/secrets/readMetadata/action';
const SERVICE_VERSION = '1.9.2611.1';

function cloudOf(host: string): Cloud {
  return (
    Object.values(CLOUDS).find((c) => host.endsWith('.' + c.dnsSuffixes.keyVaultSecret)) ?? CLOUDS.AzurePublicCloud
  );
}

interface SecretVersion {
  value: string;
  version: string;
  created: number;
}

function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

export function startKeyVault(deps: KeyVaultDeps): Promise<Service> {
  // Version ids are minted on first sight of a value and kept while the value stays the same.
  const versions = new Map<string, SecretVersion>();
  const versionOf = (vault: Vault, name: string, value: string): SecretVersion => {
    const key = `${vault.name}/${name}`;
    const known = versions.get(key);
    if (known && known.value === value) return known;
    const fresh = { value, version: randomBytes(16).toString('hex'), created: epochSeconds(deps.nowMs()) };
    versions.set(key, fresh);
    return fresh;
  };

  const handler = (req: IncomingMessage, res: ServerResponse, tools: { track(t: NodeJS.Timeout): void }): void => {
    req.resume();
    const host = hostName(req);
    const vaultName = host.split('.')[0] ?? '';
    deps.counters.keyVault[vaultName] = (deps.counters.keyVault[vaultName] ?? 0) + 1;
    const vault = deps.state.vaults.find((v) => v.name.toLowerCase() === vaultName);
    const location = vault?.location ?? 'eastus';
    const baseHeaders: Record<string, string> = {
      'cache-control': 'no-cache',
      'x-ms-request-id': randomUUID(),
      'x-ms-keyvault-service-version': SERVICE_VERSION,
      'x-ms-keyvault-region': location,
      'x-ms-keyvault-network-info': `conn_type=Ipv4;addr=${req.socket.remoteAddress ?? '127.0.0.1'};act_addr_fam=InterNetwork;`,
      'strict-transport-security': 'max-age=31536000;includeSubDomains',
      'x-content-type-options': 'nosniff',
    };
    if (vault && applyFault(vault.fault, { req, res, contentType: 'application/json; charset=utf-8', track: tools.track })) return;
    const reply = (status: number, body: unknown, extra: Record<string, string> = {}): void =>
      sendJson(res, status, body, { ...baseHeaders, ...extra });
    const error = (status: number, code: string, message: string, inner?: string, extra?: Record<string, string>): void =>
      reply(status, { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } }, extra);

    if (!vault) {
      // Real Key Vault fails at DNS for a vault that does not exist; stage that with an `nxdomain-*` name.
      error(404, 'VaultNotFound', `The vault '${vaultName}' does not exist in this simulated world.`);
      return;
    }

    const cloud = cloudOf(host);
    const kvAudience = cloud.audiences.keyVaultSecret;
    const challenge = {
      'www-authenticate': `Bearer authorization="${cloud.authorityHost}/${vault.tenantId}", resource="${kvAudience}"`,
    };
    const unauthorized = (message: string): void => error(401, 'Unauthorized', message, undefined, challenge);

    const check = checkToken(req, (aud) => sameAudience(aud, kvAudience), vault.tenantId, epochSeconds(deps.nowMs()));
    if (!check.ok) {
      switch (check.problem) {
        case 'missing':
          return unauthorized('AKV10000: Request is missing a Bearer or PoP token.');
        case 'malformed':
          return unauthorized('AKV10013: Invalid token: the token could not be parsed.');
        case 'audience':
          return unauthorized(`AKV10022: Invalid audience. Expected ${kvAudience}, found: ${check.claims.aud}.`);
        case 'issuer':
          return unauthorized(
            `AKV10032: Invalid issuer. Expected one of https://sts.windows.net/${vault.tenantId}/, found ${String(check.claims.iss)}.`,
          );
        case 'expired':
          return unauthorized('AKV10021: Token is expired.');
        case 'not_yet_valid':
          return unauthorized('AKV10020: Token is not yet valid.');
      }
    }
    const claims = check.claims;
    const caller = callerDescription(claims);
    const vaultTag = `${vault.name};location=${location}`;

    if (vault.network === 'firewall') {
      return error(
        403,
        'Forbidden',
        `Client address is not authorized and caller is not a trusted service.\r\nClient address: 127.0.0.1\r\nCaller: ${caller}\r\nVault: ${vaultTag}`,
        'ForbiddenByFirewall',
      );
    }
    if (vault.network === 'private') {
      return error(
        403,
        'Forbidden',
        `Public network access is disabled and request is not from a trusted service nor via an approved private link.\r\nCaller: ${caller}\r\nVault: ${vaultTag}`,
        'ForbiddenByConnection',
      );
    }

    const url = parseUrl(req);
    const segments = url.pathname.split('/').filter(Boolean);
    if (req.method !== 'GET' || segments[0]?.toLowerCase() !== 'secrets' || segments.length > 3) {
      return error(405, 'BadParameter', `The request URI is not supported by the simulated Key Vault: ${req.method} ${url.pathname}`);
    }
    const [, secretName, version] = segments;
    const base = `https://${req.headers.host ?? host}`;

    if (!authorize(vault, claims, secretName)) {
      return denied(vault, claims, secretName);
    }

    if (secretName === undefined) {
      const value = Object.entries(vault.secrets).map(([name, v]) => {
        const sv = versionOf(vault, name, v);
        return { id: `${base}/secrets/${name}`, attributes: attributes(sv), tags: {} };
      });
      return reply(200, { value, nextLink: null });
    }

    if ((vault.disabledSecrets ?? []).includes(secretName)) {
      // Azure/azure-sdk-for-js#24756 (RestError details as recorded): 403 Forbidden, innerError SecretDisabled.
      return error(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled');
    }
    const value = vault.secrets[secretName];
    const current = value === undefined ? undefined : versionOf(vault, secretName, value);
    if (!current || (version !== undefined && version.toLowerCase() !== current.version)) {
      const named = version === undefined ? secretName : `${secretName}/${version}`;
      return error(
        404,
        'SecretNotFound',
        `A secret with (name/id) ${named} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
      );
    }
    return reply(200, {
      value: current.value,
      id: `${base}/secrets/${secretName}/${current.version}`,
      attributes: attributes(current),
      tags: {},
    });

    function authorize(v: Vault, c: TokenClaims, secret: string | undefined): boolean {
      const oid = String(c.oid ?? '');
      if (v.authorization === 'accessPolicy') {
        const needed = secret === undefined ? 'list' : 'get';
        return (v.accessPolicies ?? []).some(
          (p) =>
            p.objectId.toLowerCase() === oid.toLowerCase() &&
            p.secrets.some((s) => s.toLowerCase() === needed || s.toLowerCase() === 'all'),
        );
      }
      const target = secret === undefined ? v.resourceId : `${v.resourceId}/secrets/${secret}`;
      const action = secret === undefined ? LIST_SECRETS : GET_SECRET;
      return findDataActionGrant(deps.state.assignments, callerOf(oid, deps.state.groups, c.iat, deps.state.arm.managementGroups), target, action, deps.nowMs()) !== undefined;
    }

    function denied(v: Vault, c: TokenClaims, secret: string | undefined): void {
      const who = callerDescription(c);
      if (v.authorization === 'accessPolicy') {
        const perm = secret === undefined ? 'list' : 'get';
        return error(
          403,
          'Forbidden',
          `The user, group or application '${who}' does not have secrets ${perm} permission on key vault '${vaultTag}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287`,
          'AccessDenied',
        );
      }
      const action = secret === undefined ? LIST_SECRETS : GET_SECRET;
      const resource = secret === undefined ? v.resourceId.toLowerCase() : `${v.resourceId.toLowerCase()}/secrets/${secret}`;
      return error(
        403,
        'Forbidden',
        `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: ${who}\r\nAction: '${action}'\r\nResource: '${resource}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\nVault: ${vaultTag}\r\n`,
        'ForbiddenByRbac',
      );
    }
  };

  return startService({ tls: deps.tls, latencyMs: () => deps.state.latencyMs, handler });
}

function attributes(sv: SecretVersion): Record<string, unknown> {
  return {
    enabled: true,
    created: sv.created,
    updated: sv.created,
    recoveryLevel: 'Recoverable+Purgeable',
    recoverableDays: 90,
  };
}
