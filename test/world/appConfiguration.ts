import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sameAudience } from '../../src/catalog/clouds';
import { CLOUDS, OPERATIONS, type Cloud } from '../../src/targets/registry';
import { applyFault } from './faults';
import type { ConfigKeyValue, ConfigStore, Counters, WorldState } from './model';
import { callerOf, findDataActionGrant } from './rbac';
import { hostName, parseUrl, startService, type Service } from './service';
import { checkToken } from './tokens';

/**
 * App Configuration data plane for every store: one HTTPS server, the store is the first label of the Host header
 * (`<store>.azconfig.io`, `.azconfig.azure.cn`, `.azconfig.azure.us`). It speaks the REST API @azure/app-configuration
 * calls — GET /kv/{key}?label=… and GET /kv?key=…&label=…&After=… with api-version and $Select — and answers as the
 * service documents it (MicrosoftDocs/azure-docs articles/azure-app-configuration/rest-api-*.md; Azure/AppConfiguration
 * docs/REST/kv.md): `application/vnd.microsoft.appconfig.kv+json` / `.kvset+json` bodies with ETag, Last-Modified and
 * sync-token headers; 401s with no body and the reason in WWW-Authenticate; a bare 403 for a missing data role;
 * problem+json 403s for network refusals; a bare 404 for a missing key-value.
 */
export interface AppConfigurationDeps {
  state: WorldState;
  counters: Counters;
  tls: { cert: string; key: string };
  nowMs(): number;
}

const READ = OPERATIONS.appConfiguration.permission;
const PAGE_SIZE = 100;
const KV_TYPE = 'application/vnd.microsoft.appconfig.kv+json; charset=utf-8';
const KVSET_TYPE = 'application/vnd.microsoft.appconfig.kvset+json; charset=utf-8';
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';
/** rest-api-key-value.md: the fields a key-value has, by their wire names ($Select takes these). */
const WIRE_FIELDS = ['etag', 'key', 'label', 'content_type', 'value', 'tags', 'locked', 'last_modified'] as const;

// rest-api-authentication-azure-ad.md ("Errors"), verbatim.
const CHALLENGE_NO_TOKEN = 'HMAC-SHA256, Bearer';
const CHALLENGE_INVALID = 'HMAC-SHA256, Bearer error="invalid_token", error_description="Authorization token failed validation"';
const CHALLENGE_ISSUER =
  'HMAC-SHA256, Bearer error="invalid_token", error_description="The access token is from the wrong issuer. It must match the AD tenant associated with the subscription to which the configuration store belongs. If you just transferred your subscription and see this error message, please try back later."';

function cloudOf(host: string): Cloud {
  return Object.values(CLOUDS).find((c) => host.endsWith('.' + c.dnsSuffixes.appConfiguration)) ?? CLOUDS.AzurePublicCloud;
}

/** Query parameters by lower-cased name: the SDK sorts and lower-cases them (internal/queryParamPolicy.js). */
function query(url: URL): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of url.searchParams) out.set(k.toLowerCase(), v);
  return out;
}

/** A REST filter (`abc*`, `*abc`, `a,b` up to 5, `\` escapes `*`, `,` and `\`) as a predicate. */
function filterOf(filter: string | undefined): (value: string) => boolean {
  if (filter === undefined || filter === '*') return () => true;
  const alternatives: RegExp[] = [];
  let pattern = '';
  const flush = () => {
    alternatives.push(new RegExp(`^${pattern}$`));
    pattern = '';
  };
  for (let i = 0; i < filter.length; i++) {
    const c = filter[i]!;
    if (c === '\\' && i + 1 < filter.length) pattern += filter[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else if (c === '*') pattern += '[\\s\\S]*';
    else if (c === ',') flush();
    else pattern += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  flush();
  return (value) => alternatives.some((re) => re.test(value));
}

/** The label a request names: absent or `\0` is "no label" for a get; for a list, absent is any label. */
const NO_LABEL = '\0';
const labelOf = (kv: ConfigKeyValue): string => kv.label ?? NO_LABEL;

export function startAppConfiguration(deps: AppConfigurationDeps): Promise<Service> {
  // Each key-value keeps its etag and last-modified time while its content stays the same, as the service does.
  const versions = new Map<string, { digest: string; etag: string; modified: Date }>();
  const versionOf = (store: ConfigStore, kv: ConfigKeyValue) => {
    const id = `${store.name}\n${kv.key}\n${labelOf(kv)}`;
    const digest = createHash('sha256').update(JSON.stringify(kv)).digest('base64url');
    const known = versions.get(id);
    if (known && known.digest === digest) return known;
    const fresh = { digest, etag: createHash('sha256').update(`${id}\n${digest}\n${randomUUID()}`).digest('base64url').slice(0, 43), modified: new Date(deps.nowMs()) };
    versions.set(id, fresh);
    return fresh;
  };
  let sequence = 0;

  const handler = (req: IncomingMessage, res: ServerResponse, tools: { track(t: NodeJS.Timeout): void }): void => {
    req.resume();
    const host = hostName(req);
    const storeName = host.split('.')[0] ?? '';
    deps.counters.appConfiguration[storeName] = (deps.counters.appConfiguration[storeName] ?? 0) + 1;
    const store = deps.state.configStores.find((s) => s.name.toLowerCase() === storeName);
    const requestId = randomUUID();
    const clientRequestId = req.headers['x-ms-client-request-id'];
    // Headers every answer carries (observed: Azure/AppConfiguration#410 — the correlation id repeats the request id).
    const base: Record<string, string> = {
      'x-ms-request-id': requestId,
      'x-ms-correlation-request-id': requestId,
      ...(typeof clientRequestId === 'string' ? { 'x-ms-client-request-id': clientRequestId } : {}),
      'strict-transport-security': 'max-age=15724800; includeSubDomains',
      'access-control-allow-origin': '*',
    };
    const bare = (status: number, extra: Record<string, string> = {}): void => {
      res.writeHead(status, { ...base, ...extra, 'content-length': 0 });
      res.end();
    };
    const send = (status: number, contentType: string, body: unknown, extra: Record<string, string> = {}): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { ...base, ...extra, 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    const problem = (status: number, type: string, title: string, extra: Record<string, unknown> = {}): void =>
      send(status, PROBLEM_TYPE, { type: `https://azconfig.io/errors/${type}`, title, ...extra, status });

    if (!store) {
      // A store that does not exist fails at DNS in Azure; stage that with an `nxdomain-*` name.
      return problem(404, 'not-found', `The configuration store '${storeName}' does not exist in this simulated world.`);
    }
    if (applyFault(store.fault, { req, res, contentType: PROBLEM_TYPE, track: tools.track })) return;

    const cloud = cloudOf(host);
    const accepted = [cloud.audiences.appConfiguration, ...cloud.alsoAccepted.appConfiguration];
    const check = checkToken(req, (aud) => accepted.some((a) => sameAudience(a, aud)), store.tenantId, Math.floor(deps.nowMs() / 1000));
    if (!check.ok) {
      if (check.problem === 'missing') return bare(401, { 'www-authenticate': CHALLENGE_NO_TOKEN });
      return bare(401, { 'www-authenticate': check.problem === 'issuer' ? CHALLENGE_ISSUER : CHALLENGE_INVALID });
    }

    // network-access-errors.md: public access disabled (no private endpoint here), or a network security perimeter.
    if (store.network === 'private') {
      return problem(403, 'ip-address-rejected', 'Access to this resource is governed by a network access policy. The client IP address fails to meet the criteria for access. See https://aka.ms/appconfig/network-access-errors for more information.');
    }
    if (store.network === 'perimeter') {
      return problem(403, 'nsp-rejected', 'Access to this resource is governed by a Network Security Perimeter. The request fails to meet the criteria for inbound access. See https://aka.ms/appconfig/network-access-errors for more information.');
    }

    const url = parseUrl(req);
    const q = query(url);
    if (!q.has('api-version')) {
      // rest-api-versioning.md ("API Version is not specified").
      return problem(400, 'invalid-argument', 'API version is not specified', { name: 'api-version', detail: 'An API version is required, but was not specified.' });
    }
    const route = /^\/kv(?:\/(.+))?$/.exec(url.pathname);
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !route) {
      return problem(405, 'method-not-allowed', `The simulated App Configuration store serves only GET /kv and GET /kv/{key}, not ${req.method} ${url.pathname}.`);
    }

    // Authorization after authentication and network, before anything about the data (a 404 proves the read was allowed).
    const caller = callerOf(String(check.claims.oid ?? ''), deps.state.groups, check.claims.iat, deps.state.arm.managementGroups);
    if (!findDataActionGrant(deps.state.assignments, caller, store.resourceId, READ, deps.nowMs())) return bare(403);

    const select = q.get('$select')?.split(',').map((f) => f.trim()).filter(Boolean);
    const fields = select?.length ? WIRE_FIELDS.filter((f) => select.includes(f)) : WIRE_FIELDS;
    const render = (kv: ConfigKeyValue): Record<string, unknown> => {
      const v = versionOf(store, kv);
      const all: Record<(typeof WIRE_FIELDS)[number], unknown> = {
        etag: v.etag,
        key: kv.key,
        label: kv.label ?? null,
        content_type: kv.contentType ?? null,
        value: kv.value,
        tags: {},
        locked: kv.locked ?? false,
        last_modified: v.modified.toISOString(),
      };
      return Object.fromEntries(fields.map((f) => [f, all[f]]));
    };
    const syncToken = { 'sync-token': `${store.name}=${Buffer.from(`0:${++sequence}`).toString('base64')};sn=${sequence}` };

    if (route[1] !== undefined) {
      const key = decodeURIComponent(route[1]);
      const label = q.get('label') ?? NO_LABEL;
      const kv = store.keyValues.find((x) => x.key === key && labelOf(x) === label);
      // kv.md: "If it doesn't exist: HTTP/1.1 404 Not Found" (no body).
      if (!kv) return bare(404);
      const v = versionOf(store, kv);
      return send(200, KV_TYPE, render(kv), { etag: `"${v.etag}"`, 'last-modified': v.modified.toUTCString(), ...syncToken });
    }

    const keyMatches = filterOf(q.get('key'));
    const labelFilter = q.get('label');
    const labelMatches = filterOf(labelFilter);
    const matching = store.keyValues
      .filter((kv) => keyMatches(kv.key) && (labelFilter === undefined || labelMatches(labelOf(kv))))
      .sort((a, b) => (a.key === b.key ? labelOf(a).localeCompare(labelOf(b)) : a.key < b.key ? -1 : 1));
    const after = Number(q.get('after') ?? '0');
    const start = Number.isInteger(after) && after > 0 ? after : 0;
    const items = matching.slice(start, start + PAGE_SIZE).map(render);
    const next = start + PAGE_SIZE < matching.length ? `/kv?${new URLSearchParams({ ...Object.fromEntries(q), after: String(start + PAGE_SIZE) }).toString()}` : undefined;
    const etag = createHash('sha256').update(JSON.stringify(items)).digest('base64url').slice(0, 43);
    // kv.md ("Pagination"): the next page in a Link header and in @nextLink.
    return send(200, KVSET_TYPE, { items, etag, ...(next ? { '@nextLink': next } : {}) }, { etag: `"${etag}"`, ...syncToken, ...(next ? { link: `<${next}>; rel="next"` } : {}) });
  };

  return startService({ tls: deps.tls, latencyMs: () => deps.state.latencyMs, handler });
}
