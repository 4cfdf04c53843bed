import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { sameAudience } from '../catalog/clouds';
import { audienceAccepted, isKindName, kindOf, KIND_NAMES, type Cloud, type TargetKindName } from '../targets/registry';
import { TargetListSchema, type AllowedHost, type Settings, type Target } from '../config';
import { problem } from './problem';

/**
 * Ad-hoc targets: `POST /api/diagnose` with a body of the same shape as DIAGNOSE_TARGETS, so a pipeline can check a
 * dependency it has not configured.
 *
 * The service attaches its identity's live token to every target it calls, so a caller-chosen URL would be a
 * token-exfiltration oracle. An ad-hoc target therefore may only name a host of its own service in the configured
 * cloud (`<vault>.vault.azure.net`, `<account>.blob.core.windows.net`, the ARM endpoint; China / US Gov equivalents)
 * or a host the operator listed in DIAGNOSE_ALLOWED_HOSTS for that kind (`kind:host`; a plain entry counts only for
 * the kind whose service domain holds the host); https on 443 only (another port only when listed as host:port); no
 * credentials in the URL; and only an audience the cloud's services use — on a listed host, only an audience of a kind
 * listed for it. Everything is checked before
 * anything leaves the process. Configured targets (app settings) are trusted as the operator wrote them.
 */

/** Request bodies are refused above this size (the local server refuses before reading; see server.ts). */
export const MAX_BODY_BYTES = 64 * 1024;
/** Targets one ad-hoc request may carry. */
export const MAX_AD_HOC_TARGETS = 16;

/** The body of `POST /api/diagnose`: 1 to MAX_AD_HOC_TARGETS targets of the DIAGNOSE_TARGETS shape (OpenAPI reads it too). */
export const AdHocTargetsBodySchema = TargetListSchema.min(1).max(MAX_AD_HOC_TARGETS);

/** The rules an ad-hoc target can break; each refusal names one. */
export const AD_HOC_RULES = {
  'https-only': 'the URL must use https',
  'no-credentials': 'the URL must carry no user name, password or query string (a SAS is a credential)',
  'port-not-allowed': 'only port 443, unless DIAGNOSE_ALLOWED_HOSTS lists host:port',
  'host-not-allowed': "the host must be one of the target kind's service hosts in the configured cloud, or listed in DIAGNOSE_ALLOWED_HOSTS for that kind (kind:host)",
  'audience-not-allowed': "an audience override must be one of the configured cloud's service audiences (on a host listed in DIAGNOSE_ALLOWED_HOSTS, one of the kinds listed for it)",
} as const;
export type AdHocRule = keyof typeof AD_HOC_RULES;

export interface Refusal {
  rule: AdHocRule;
  /** Where in the body, e.g. `body[0].vaultUrl`. */
  parameter: string;
  message: string;
}

type TargetKind = TargetKindName;

function serviceHostPattern(cloud: Cloud, kind: TargetKind): string {
  return kindOf(kind).hosts.shape === 'exactly' ? cloud.dnsSuffixes[kind] : `<name>.${cloud.dnsSuffixes[kind]}`;
}

/** Exactly one label under the service's suffix (`kv1.vault.azure.net`), or exactly its host (the ARM endpoint's). */
function isServiceHost(cloud: Cloud, kind: TargetKind, hostname: string): boolean {
  const hosts = kindOf(kind).hosts;
  // A service may live under more than one domain (hosts.alsoSuffixes): each is held to the same shape.
  return [cloud.dnsSuffixes[kind], ...(hosts.alsoSuffixes?.[cloud.name] ?? [])].some((suffix) =>
    hosts.shape === 'exactly' ? hostname === suffix : hostname.endsWith(`.${suffix}`) && /^[a-z0-9-]+$/.test(hostname.slice(0, -suffix.length - 1)),
  );
}

const KINDS = KIND_NAMES;

/** The kinds a DIAGNOSE_ALLOWED_HOSTS entry admits: the one it names, or (plain form) the kind whose service domain holds it. */
function entryKinds(cloud: Cloud, entry: AllowedHost): TargetKind[] {
  return entry.kind ? [entry.kind] : KINDS.filter((k) => isServiceHost(cloud, k, entry.hostname));
}

/** How a target's URL is reached: as its kind's own service (any cloud audience may then be diagnosed) or through entries. */
type Reach = { refusal: Refusal } | { via: 'service' } | { via: 'listed'; kinds: TargetKind[] };

function reachOf(raw: string, kind: TargetKind, parameter: string, settings: Settings): Reach | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined; // Not a URL at all: the schema says so (400).
  }
  const refuse = (rule: AdHocRule, message: string): Reach => ({ refusal: { rule, parameter, message: `${rule}: ${message}` } });
  if (u.protocol !== 'https:') return refuse('https-only', `${u.protocol.replace(/:$/, '')} is not allowed; the token only travels over https`);
  if (u.username || u.password || u.search) return refuse('no-credentials', 'remove the user name, password or query string from the URL');
  const hostname = u.hostname.toLowerCase();
  const port = u.port || '443';
  const entries = settings.allowedHosts.filter((e) => e.hostname === hostname);
  const listed = [...new Set(entries.filter((e) => (e.port ?? '443') === port).flatMap((e) => entryKinds(settings.cloud, e)))];
  if (listed.includes(kind)) return { via: 'listed', kinds: listed };
  // An endpoint the operator configured for the kind (DIAGNOSE_ARM_ENDPOINT, e.g. Azure Stack Hub) is trusted as configured.
  const configured = kindOf(kind).configuredEndpoint?.(settings);
  if (configured && u.origin === new URL(configured).origin) return { via: 'service' };
  const serviceHost = isServiceHost(settings.cloud, kind, hostname);
  if (serviceHost && port === '443') return { via: 'service' };
  const listedForKind = entries.some((e) => entryKinds(settings.cloud, e).includes(kind));
  if (!serviceHost && !listedForKind) {
    const otherKinds = [...new Set(entries.flatMap((e) => entryKinds(settings.cloud, e)))];
    const why = entries.length
      ? otherKinds.length
        ? `is listed in DIAGNOSE_ALLOWED_HOSTS only for ${otherKinds.join(', ')}, not for ${kind} (list ${kind}:${hostname} to allow it)`
        : `is listed in DIAGNOSE_ALLOWED_HOSTS without a kind, and a plain entry only counts for a host in a service's own domain (list ${kind}:${hostname} to allow it)`
      : `is neither a ${kindOf(kind).nouns.hosts} host of ${settings.cloud.name} (${serviceHostPattern(settings.cloud, kind)}) nor listed in DIAGNOSE_ALLOWED_HOSTS`;
    return refuse('host-not-allowed', `${hostname} ${why}`);
  }
  return refuse('port-not-allowed', `port ${port} is not allowed for ${hostname}; DIAGNOSE_ALLOWED_HOSTS would have to list ${hostname}:${port}`);
}

/**
 * Every rule each ad-hoc target breaks. Runs on what the caller sent (so an http URL is refused naming its rule, not
 * as a schema error) and again on the parsed targets that will be used.
 */
export function adHocRefusals(items: readonly unknown[], settings: Settings): Refusal[] {
  const audiences = KINDS.flatMap((k) => [settings.cloud.audiences[k], ...settings.cloud.alsoAccepted[k]]);
  return items.flatMap((item, i): Refusal[] => {
    if (!item || typeof item !== 'object') return [];
    const rec = item as Record<string, unknown>;
    const kind = isKindName(rec.kind) ? rec.kind : undefined;
    if (!kind) return [];
    const refusals: Refusal[] = [];
    // The field that decides where the token goes (ARM's is optional: absent = the configured endpoint).
    const field = kindOf(kind).urlField;
    // A kind reached over its own protocol (SQL) says which https URL stands for its host and port.
    const url = kindOf(kind).policyUrl?.(rec) ?? rec[field];
    // No URL (ARM without `endpoint`) means the configured ARM endpoint: a service of the cloud.
    const reach: Reach | undefined = typeof url === 'string' ? reachOf(url, kind, `body[${i}].${field}`, settings) : { via: 'service' };
    if (reach && 'refusal' in reach) refusals.push(reach.refusal);
    const audience = rec.audience;
    if (typeof audience === 'string') {
      const parameter = `body[${i}].audience`;
      if (!audiences.some((a) => sameAudience(a, audience.trim()))) {
        refusals.push({
          rule: 'audience-not-allowed',
          parameter,
          message: `audience-not-allowed: ${audience.slice(0, 200)} is not an audience of ${settings.cloud.name}'s services; a token for it is not minted on a caller's say-so`,
        });
      } else if (sensitiveAudienceOf(settings.cloud, kind, audience.trim())) {
        refusals.push({
          rule: 'audience-not-allowed',
          parameter,
          message: `audience-not-allowed: ${audience.slice(0, 200)} is the audience of ${sensitiveAudienceOf(settings.cloud, kind, audience.trim())}, whose token carries the identity's permissions; it goes to that service only`,
        });
      } else if (reach && 'kinds' in reach && !reach.kinds.some((k) => audienceAccepted(settings.cloud, k, audience.trim()))) {
        // A host reached through DIAGNOSE_ALLOWED_HOSTS gets tokens only for the kinds its entry lists.
        refusals.push({
          rule: 'audience-not-allowed',
          parameter,
          message: `audience-not-allowed: ${audience.slice(0, 200)} is not an audience of ${reach.kinds.join(', ')}, the only kinds DIAGNOSE_ALLOWED_HOSTS lists for this host; its token does not go there`,
        });
      }
    }
    return refusals;
  });
}

/** The other kind whose permission-carrying token (TargetKind.tokenCarriesPermissions) `audience` would mint, if any. */
function sensitiveAudienceOf(cloud: Cloud, kind: TargetKindName, audience: string): TargetKindName | undefined {
  return KIND_NAMES.find((k) => k !== kind && kindOf(k).tokenCarriesPermissions && audienceAccepted(cloud, k, audience));
}

function refused(refusals: Refusal[]): HttpResponseInit {
  const first = refusals[0]!;
  return problem(
    403,
    'Ad-hoc target refused',
    `Rule ${first.rule} (${first.parameter}): ${AD_HOC_RULES[first.rule]}. The identity's token only goes to its own services, so ` +
      'nothing was sent. Configured targets (DIAGNOSE_TARGETS) are not restricted; DIAGNOSE_ALLOWED_HOSTS adds hosts for ad-hoc ones.',
    refusals.map((r) => ({ parameter: r.parameter, message: r.message })),
  );
}

const badBody = (detail: string, errors?: { parameter: string; message: string }[]) => problem(400, 'Bad body', detail, errors);

function formatPath(path: readonly PropertyKey[]): string {
  return 'body' + path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
}

/** Parse a body into ad-hoc targets, or the 400/403 problem that refuses it. */
export function parseAdHocTargets(body: string, settings: Settings): { ok: true; targets: Target[] } | { ok: false; response: HttpResponseInit } {
  const example = '[{"name":"secrets","kind":"keyVaultSecret","vaultUrl":"https://<vault>.vault.azure.net","secretName":"<name>"}]';
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, response: badBody(`The body is not JSON. Send a JSON array of targets like DIAGNOSE_TARGETS: ${example}`) };
  }
  if (!Array.isArray(json)) return { ok: false, response: badBody(`The body must be a JSON array of targets like DIAGNOSE_TARGETS: ${example}`) };
  if (json.length === 0 || json.length > MAX_AD_HOC_TARGETS) {
    return { ok: false, response: badBody(`Send from 1 to ${MAX_AD_HOC_TARGETS} targets; got ${json.length}.`, [{ parameter: 'body', message: `expected 1 to ${MAX_AD_HOC_TARGETS} targets` }]) };
  }
  const before = adHocRefusals(json, settings);
  if (before.length) return { ok: false, response: refused(before) };
  const parsed = AdHocTargetsBodySchema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      response: badBody(
        'The targets do not fit the DIAGNOSE_TARGETS schema (see docs/http-api.md#ad-hoc-targets).',
        parsed.error.issues.map((i) => ({ parameter: formatPath(i.path), message: i.message })),
      ),
    };
  }
  const after = adHocRefusals(parsed.data, settings);
  if (after.length) return { ok: false, response: refused(after) };
  return { ok: true, targets: parsed.data };
}

/**
 * The ad-hoc targets of a diagnose request: undefined without a body; a 413 above MAX_BODY_BYTES (checked on the
 * declared length before reading); a 415 unless the body is declared JSON — which also keeps a browser page from
 * posting one cross-site without a CORS preflight.
 */
export async function adHocTargetsOf(
  request: HttpRequest,
  settings: Settings,
): Promise<{ ok: true; targets?: Target[] } | { ok: false; response: HttpResponseInit }> {
  const tooLarge = () => ({ ok: false as const, response: problem(413, 'Body too large', `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`) });
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > MAX_BODY_BYTES) return tooLarge();
  const body = await request.text();
  if (Buffer.byteLength(body) > MAX_BODY_BYTES) return tooLarge();
  if (body.trim() === '') return { ok: true };
  const contentType = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (contentType !== 'application/json') {
    return {
      ok: false,
      response: problem(415, 'Unsupported media type', 'A diagnose body is a JSON array of targets: send it with content-type: application/json.'),
    };
  }
  return parseAdHocTargets(body, settings);
}
