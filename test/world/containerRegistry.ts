import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { audienceAccepted, CLOUDS, OPERATIONS, type Cloud } from '../../src/targets/registry';
import { applyFault } from './faults';
import type { Registry, WorldState } from './model';
import { callerOf, findActionGrant, findDataActionGrant } from './rbac';
import { hostName, parseUrl, sendJson, startService, type Service } from './service';
import { decodeJwt, encodeJwt, issuerTenant, type TokenClaims } from './tokens';

/**
 * Azure Container Registry's data plane for every registry: one HTTPS server, the registry is the first label of the
 * Host header (`<name>.azurecr.io`, `.azurecr.cn`, `.azurecr.us`). It speaks ACR's token exchange as
 * @azure/container-registry drives it:
 *
 * 1. GET /acr/v1/_catalog or /acr/v1/{name} without a token → 401, `WWW-Authenticate: Bearer realm="https://<host>/oauth2/token",
 *    service="<login server>",scope="registry:catalog:*"` (or `repository:<name>:metadata_read`) and ACR's Docker-style
 *    body `{"errors":[{"code":"UNAUTHORIZED","message":…,"detail":[…]}]}`.
 * 2. POST /oauth2/exchange (form grant_type=access_token, service, access_token[, tenant]) → `{"refresh_token"}`: the
 *    Microsoft Entra token is checked here (audience, issuer tenant, lifetime), as Key Vault checks its bearer.
 * 3. POST /oauth2/token (form grant_type=refresh_token, service, scope, refresh_token) → `{"access_token"}` granting
 *    the part of the scope the identity holds — possibly nothing, which the token spec says is not an error.
 * 4. The call again with `Bearer <access token>` → 200, 404 NAME_UNKNOWN, or 401 UNAUTHORIZED when the token lacks the
 *    scope's action.
 *
 * Authorization reads the world's role assignments by the registry's role assignment permissions mode (model.ts
 * `Registry.roleAssignmentMode`). Both registry tokens are JWTs (the SDK reads the refresh token's `exp`) and go into
 * `mintedTokens`, so the leak checks look for them too.
 *
 * Sources: @azure/container-registry 1.1.2 (containerRegistryChallengeHandler.js, containerRegistryTokenCredential.js,
 * generated operations: paths, form fields, AcrErrors); the challenge headers as Azure/azure-sdk-for-net's
 * ContainerRegistryChallengeAuthenticationPolicy tests and azure-sdk-for-java's ContainerRegistryCredentialPolicyTests
 * record them; the token semantics from distribution/distribution docs/spec/auth/token.md.
 */
export interface ContainerRegistryDeps {
  state: WorldState;
  tls: { cert: string; key: string };
  nowMs(): number;
  /** Every registry token handed out goes here (the leak checks read it). */
  remember(token: string): void;
}

const PULL = OPERATIONS.containerRegistry.permission;
const METADATA_READ = 'Microsoft.ContainerRegistry/registries/repositories/metadata/read';
const CATALOG_READ = 'Microsoft.ContainerRegistry/registries/catalog/read';
const ISSUER = 'Azure Container Registry';
const REFRESH_LIFETIME_SECONDS = 3 * 3600;
const ACCESS_LIFETIME_SECONDS = 75 * 60;
/** observed: Azure/acr#841, and Microsoft's "Authentication required" troubleshooting page. */
const AUTH_REQUIRED = 'authentication required, visit https://aka.ms/acr/authorization for more information.';

type Access = { type: string; name: string; actions: string[] };

function cloudOf(host: string): Cloud {
  return Object.values(CLOUDS).find((c) => host.endsWith('.' + c.dnsSuffixes.containerRegistry)) ?? CLOUDS.AzurePublicCloud;
}

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
  });
}

/** `repository:<name>:<a,b>` or `registry:catalog:*` → what it asks for. */
function parseScope(scope: string): Access | undefined {
  const m = /^(repository|registry):(.+):([^:]+)$/.exec(scope);
  return m ? { type: m[1]!, name: m[2]!, actions: m[3]!.split(',') } : undefined;
}

export function startContainerRegistry(deps: ContainerRegistryDeps): Promise<Service> {
  const now = () => Math.floor(deps.nowMs() / 1000);
  const mint = (claims: Record<string, unknown>): string => {
    const token = encodeJwt(claims);
    deps.remember(token);
    return token;
  };

  const handler = async (req: IncomingMessage, res: ServerResponse, tools: { track(t: NodeJS.Timeout): void }): Promise<void> => {
    const host = hostName(req);
    const name = host.split('.')[0] ?? '';
    const registry = deps.state.registries.find((r) => r.name.toLowerCase() === name);
    const base = {
      'docker-distribution-api-version': 'registry/2.0',
      'x-ms-correlation-request-id': randomUUID(),
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
    };
    const errors = (status: number, code: string, message: string, detail?: unknown, extra: Record<string, string> = {}): void =>
      sendJson(res, status, { errors: [{ code, message, ...(detail !== undefined ? { detail } : {}) }] }, { ...base, ...extra });
    const url = parseUrl(req);
    const form = req.method === 'POST' ? await readForm(req) : (req.resume(), undefined);

    if (!registry) {
      // A registry that does not exist fails at DNS in Azure; stage that with an `nxdomain…` name.
      return errors(404, 'NAME_UNKNOWN', `registry '${name}' does not exist in this simulated world`);
    }
    if (applyFault(registry.fault, { req, res, contentType: 'application/json; charset=utf-8', track: tools.track })) return;
    if (registry.network === 'firewall' || registry.network === 'private') {
      // observed: docker/build-push-action#1214, Azure/acr#633 (403 with this body); every endpoint, the exchange too.
      return errors(403, 'DENIED', `client with IP '${req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1'}' is not allowed access. Refer https://aka.ms/acr/firewall to grant access.`);
    }
    const loginServer = `${registry.name}.${cloudOf(host).dnsSuffixes.containerRegistry}`;
    const realm = `https://${req.headers.host ?? host}/oauth2/token`;
    const sameService = (s: string | null | undefined) => (s ?? '').toLowerCase() === loginServer.toLowerCase();

    if (req.method === 'POST' && url.pathname === '/oauth2/exchange') return exchange(registry, form!);
    if (req.method === 'POST' && url.pathname === '/oauth2/token') return token(registry, form!);
    if (req.method === 'GET' && url.pathname === '/acr/v1/_catalog') return catalog(registry);
    const repo = /^\/acr\/v1\/(.+)$/.exec(url.pathname)?.[1];
    if (req.method === 'GET' && repo && !repo.includes('/_')) return repository(registry, decodeURIComponent(repo));
    return errors(404, 'UNSUPPORTED', `the simulated registry does not serve ${req.method} ${url.pathname}`);

    function exchange(r: Registry, f: URLSearchParams): void {
      if (f.get('grant_type') !== 'access_token' || !sameService(f.get('service'))) {
        return errors(400, 'UNSUPPORTED', 'grant_type must be access_token and service the registry login server');
      }
      // ACR does not say which check failed; the world answers the observed generic body for each (its exact text
      // per check is unconfirmed: shared/reference/services-and-hosts.md §7.3).
      const refused = (): void => errors(401, 'UNAUTHORIZED', AUTH_REQUIRED);
      const claims = decodeJwt(f.get('access_token') ?? '');
      if (!claims || typeof claims.aud !== 'string') return refused();
      if (!audienceAccepted(cloudOf(host), 'containerRegistry', claims.aud)) return refused();
      if ((issuerTenant(claims) ?? '').toLowerCase() !== r.tenantId.toLowerCase()) return refused();
      if (typeof claims.exp !== 'number' || claims.exp < now()) return refused();
      const t = now();
      sendJson(
        res,
        200,
        {
          refresh_token: mint({
            jti: randomUUID(),
            sub: claims.oid,
            nbf: t - 300,
            exp: t + REFRESH_LIFETIME_SECONDS,
            iat: t - 300,
            iss: ISSUER,
            aud: loginServer,
            version: '1.0',
            grant_type: 'refresh_token',
            tenant: r.tenantId,
            // The Entra token's issue time: a group's grant reaches only a token minted after it (rbac.ts).
            entra_iat: claims.iat,
            nonce: randomBytes(8).toString('hex'),
          }),
        },
        base,
      );
    }

    function token(r: Registry, f: URLSearchParams): void {
      const refresh = decodeJwt(f.get('refresh_token') ?? '');
      const scope = parseScope(f.get('scope') ?? '');
      if (f.get('grant_type') !== 'refresh_token' || !sameService(f.get('service')) || !scope) {
        return errors(400, 'UNSUPPORTED', 'grant_type must be refresh_token, service the registry login server, scope a registry scope');
      }
      if (!refresh || refresh.iss !== ISSUER || refresh.aud !== loginServer || typeof refresh.exp !== 'number' || refresh.exp < now()) {
        return errors(401, 'UNAUTHORIZED', AUTH_REQUIRED);
      }
      // The token server grants the subset the identity may use — possibly none — and says nothing about the rest
      // (distribution docs/spec/auth/token.md); the registry then refuses the call.
      const granted = scope.actions.filter((a) => allowed(r, refresh, scope, a));
      const t = now();
      sendJson(
        res,
        200,
        {
          access_token: mint({
            jti: randomUUID(),
            sub: refresh.sub,
            nbf: t - 300,
            exp: t + ACCESS_LIFETIME_SECONDS,
            iat: t - 300,
            iss: ISSUER,
            aud: loginServer,
            version: '1.0',
            access: [{ type: scope.type, name: scope.name, actions: granted }],
          }),
        },
        base,
      );
    }

    /** May the refresh token's principal perform `action` of `scope`, under the registry's permissions mode? */
    function allowed(r: Registry, refresh: TokenClaims, scope: Access, action: string): boolean {
      const caller = callerOf(String(refresh.sub ?? ''), deps.state.groups, refresh.entra_iat, deps.state.arm.managementGroups);
      const catalog = scope.type === 'registry' && scope.name === 'catalog';
      if (!catalog && !(scope.type === 'repository' && ['metadata_read', 'pull'].includes(action))) return false;
      if (r.roleAssignmentMode === 'abac') {
        // AcrPull (an Action) is not honoured; the Repository roles' data actions are (ABAC conditions: see rbac.ts).
        const dataAction = catalog ? CATALOG_READ : METADATA_READ;
        return findDataActionGrant(deps.state.assignments, caller, r.resourceId, dataAction, deps.nowMs()) !== undefined;
      }
      return findActionGrant(deps.state.assignments, caller, r.resourceId, PULL, deps.nowMs()) !== undefined;
    }

    /** The bearer's access for (type, name, action), or the 401 challenge that asks for it. */
    function authorized(need: Access, r: Registry): boolean {
      const challenge = (error?: string) => ({
        'www-authenticate': `Bearer realm="${realm}",service="${loginServer}",scope="${need.type}:${need.name}:${need.actions.join(',')}"${error ? `,error="${error}"` : ''}`,
      });
      const detail = [{ Type: need.type, Name: need.name, Action: need.actions.join(',') }];
      const header = req.headers.authorization;
      const bearer = header ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
      if (!bearer) {
        errors(401, 'UNAUTHORIZED', AUTH_REQUIRED, detail, challenge());
        return false;
      }
      const claims = decodeJwt(bearer);
      if (!claims || claims.iss !== ISSUER || claims.aud !== loginServer || typeof claims.exp !== 'number' || claims.exp < now()) {
        errors(401, 'UNAUTHORIZED', AUTH_REQUIRED, detail, challenge('invalid_token'));
        return false;
      }
      const access = Array.isArray(claims.access) ? (claims.access as Access[]) : [];
      const ok = need.actions.every((a) => access.some((x) => x.type === need.type && x.name === need.name && x.actions.includes(a)));
      const echo = r.echoTokens ? ` (token signature ${bearer.split('.')[2] ?? ''})` : '';
      if (!ok) errors(401, 'UNAUTHORIZED', `${AUTH_REQUIRED}${echo}`, detail, challenge('insufficient_scope'));
      return ok;
    }

    function catalog(r: Registry): void {
      if (!authorized({ type: 'registry', name: 'catalog', actions: ['*'] }, r)) return;
      const names = Object.keys(r.repositories).sort();
      const n = Math.max(1, Number(url.searchParams.get('n') ?? '100') || 100);
      const last = url.searchParams.get('last');
      const rest = last ? names.filter((x) => x > last) : names;
      const page = rest.slice(0, n);
      const more = rest.length > page.length;
      sendJson(res, 200, { repositories: page }, {
        ...base,
        ...(more ? { link: `</acr/v1/_catalog?last=${encodeURIComponent(page.at(-1)!)}&n=${n}&orderby=>; rel="next"` } : {}),
      });
    }

    function repository(r: Registry, repo: string): void {
      if (!authorized({ type: 'repository', name: repo, actions: ['metadata_read'] }, r)) return;
      const found = r.repositories[repo];
      if (!found) {
        // distribution spec error code NAME_UNKNOWN ("repository name not known to registry"), 404.
        return errors(404, 'NAME_UNKNOWN', 'repository name not known to registry', { name: repo });
      }
      const created = new Date(deps.nowMs() - 30 * 86_400_000).toISOString();
      sendJson(
        res,
        200,
        {
          registry: loginServer,
          imageName: repo,
          createdTime: created,
          lastUpdateTime: created,
          manifestCount: found.manifestCount,
          tagCount: found.tagCount,
          changeableAttributes: { deleteEnabled: true, writeEnabled: true, readEnabled: true, listEnabled: true },
        },
        base,
      );
    }
  };

  return startService({ tls: deps.tls, latencyMs: () => deps.state.latencyMs, handler });
}
