import { existsSync } from 'node:fs';
import { z } from 'zod';
import { CLOUD_NAMES } from './catalog/clouds';
import { CLOUDS, KIND_NAMES, TargetSchema, type Cloud, type TargetKindName } from './targets/registry';
import { httpsUrl } from './targets/fields';

/**
 * The only reader of process.env. App settings are parsed once, with zod, into typed Settings; a bad value fails
 * start-up with the setting's name and what was expected. The platform's own variables (IDENTITY_ENDPOINT,
 * WEBSITE_SITE_NAME, …) are read here too, so the engine sees the host as data.
 */

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const guid = (what: string) => z.string().trim().regex(GUID, `expected a GUID (${what})`);

export { TargetSchema, type Target } from './targets/registry';
import type { Target } from './targets/registry';

export const TargetListSchema = z
  .array(TargetSchema)
  .superRefine((targets, ctx) => {
    const seen = new Set<string>();
    targets.forEach((t, i) => {
      if (seen.has(t.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate target name "${t.name}"` });
      seen.add(t.name);
    });
  });

const jsonString = <T extends z.ZodType>(schema: T, example: string) =>
  z.string().transform((raw, ctx) => {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: `expected JSON, like ${example}` });
      return z.NEVER;
    }
  }).pipe(schema);

const boolFlag = z
  .enum(['true', 'false', '1', '0', 'TRUE', 'FALSE', 'True', 'False'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v.toLowerCase() === 'true');

const HOST_KINDS: readonly TargetKindName[] = KIND_NAMES;
const ALLOWED_HOST_EXPECTED = `expected entries like host, host:port or kind:host[:port] (kind one of ${HOST_KINDS.join(', ')}), separated by commas`;

/** One DIAGNOSE_ALLOWED_HOSTS entry: a host (and port) the entry's kind — or, unqualified, the host's own kind — may reach. */
export interface AllowedHost {
  /** Set when the entry named its kind; unset for the plain form. */
  kind?: TargetKindName;
  /** Lower case. */
  hostname: string;
  /** Set only when the entry named one ("443" otherwise implied). */
  port?: string;
}

function parseAllowedHost(entry: string): AllowedHost | undefined {
  const m = /^(?:([A-Za-z]+):)?([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(entry);
  if (!m) return undefined;
  const kind = m[1] === undefined ? undefined : HOST_KINDS.find((k) => k.toLowerCase() === m[1]!.toLowerCase());
  if (m[1] !== undefined && !kind) return undefined;
  return { ...(kind ? { kind } : {}), hostname: m[2]!.toLowerCase(), ...(m[3] ? { port: m[3] } : {}) };
}

const intIn = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `expected a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `expected at least ${min}`).max(max, `expected at most ${max}`));

/**
 * Every app setting the service reads, with its default. Keys are the setting names exactly as operators type them;
 * README's settings table and infra/ are checked against this object.
 */
export const AppSettingsSchema = z.object({
  DIAGNOSE_TARGETS: jsonString(TargetListSchema, '[{"name":"secrets","kind":"keyVaultSecret","vaultUrl":"https://<vault>.vault.azure.net","secretName":"<name>"}]').default([]),
  AZURE_CLIENT_ID: guid('the client id of a user-assigned identity attached to this host').optional(),
  EXPECTED_PRINCIPAL_ID: guid('the object id the token should carry').optional(),
  EXPECTED_TENANT_ID: guid('the tenant id the token should carry').optional(),
  AZURE_CLOUD: z.enum(CLOUD_NAMES, { message: `expected one of ${CLOUD_NAMES.join(', ')}` }).default('AzurePublicCloud'),
  DIAGNOSE_TIMEOUT_MS: intIn(500, 120_000).default(15_000),
  /**
   * The largest answer any outbound call may read (targets, role look-ups, the identity endpoint), counted while it
   * streams and after decompression; a larger one is cut and reported, never held in memory (see SECURITY.md).
   */
  DIAGNOSE_MAX_RESPONSE_BYTES: intIn(64 * 1024, 256 * 1024 * 1024).default(4 * 1024 * 1024),
  /** ARM endpoint for role look-ups and ARM targets without their own `endpoint` (Azure Stack Hub, custom clouds). */
  DIAGNOSE_ARM_ENDPOINT: httpsUrl('https://management.azure.com').optional(),
  /** User-assigned identity by its ARM resource id (instead of AZURE_CLIENT_ID; never both). */
  AZURE_CLIENT_RESOURCE_ID: z
    .string()
    .trim()
    .regex(
      /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+$/i,
      'expected the resource id of a user-assigned identity (/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>)',
    )
    .optional(),
  /** Off Azure: narrate what a developer credential chain would do (az login, azd, …). */
  DIAGNOSE_LOCAL_CHAIN: boolFlag.default(false),
  /**
   * Extra hosts that ad-hoc targets in a POST body may name, comma-separated, each for the target kinds it lists:
   * `keyVaultSecret:kv.example.internal[:port]`. An entry without a kind (`host[:port]`) counts only for the kind whose
   * own service domain the host is in (`kv1.vault.azure.net:8443` → keyVaultSecret), never for another kind's token.
   */
  DIAGNOSE_ALLOWED_HOSTS: z
    .string()
    .transform((v) => v.split(',').map((h) => h.trim()).filter(Boolean))
    .pipe(z.array(z.string().transform(parseAllowedHost).pipe(z.custom<AllowedHost>((v) => v !== undefined, ALLOWED_HOST_EXPECTED))))
    .default([]),
  /** /api/health caches one diagnose for this long; concurrent probes share the one in flight. */
  HEALTH_CACHE_SECONDS: intIn(0, 3600).default(30),
  /** /api/health is anonymous: it shows cause codes only unless this is true. */
  HEALTH_DETAILS: boolFlag.default(false),
  /**
   * Off Functions (container image, `npm run serve`): the key /api/diagnose requires, as `x-functions-key` or `?code=`.
   * On Functions the platform's function keys apply instead. Without one the server listens on loopback only.
   */
  DIAGNOSE_API_KEY: z.string().trim().min(16, 'expected a key of at least 16 characters (e.g. openssl rand -base64 32)').optional(),
  /** The same key read from a file at start-up (a mounted Kubernetes or Docker secret); never both. */
  DIAGNOSE_API_KEY_FILE: z.string().trim().min(1, 'expected the path of a file holding the key').optional(),
  // NCRONTAB schedule of the watch timer ("0 */5 * * * *" = every five minutes); unset = no watch.
  DIAGNOSE_WATCH_SCHEDULE: z
    .string()
    .trim()
    .regex(/^(\S+\s+){5}\S+$/, 'expected a six-field NCRONTAB schedule, like "0 */5 * * * *"')
    .optional(),
  /** Where the watch sends telemetry (Azure Monitor OpenTelemetry distro); unset = no telemetry. */
  APPLICATIONINSIGHTS_CONNECTION_STRING: z.string().trim().min(1).optional(),
  /**
   * Entra sign-in for that telemetry when the component refuses local auth (`disableLocalAuth`, infra/): the same
   * setting the Functions host reads. `Authorization=AAD` uses the system-assigned identity, `;ClientId=` a user one.
   */
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: z
    .string()
    .trim()
    .regex(/^Authorization=AAD(;ClientId=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?$/i, 'expected Authorization=AAD or Authorization=AAD;ClientId=<client id>')
    .optional(),
  PORT: intIn(0, 65_535).default(7071),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  /** Keyed diagnoses run at once per process; more wait briefly in a queue, then are shed with 429 (SECURITY.md). */
  DIAGNOSE_MAX_CONCURRENT: intIn(1, 1000).default(32),
  /** Diagnoses that may wait for a turn; one more is shed at once with 429. */
  DIAGNOSE_MAX_QUEUED: intIn(0, 10_000).default(256),
  /** Wait-mode requests (?waitSeconds=) held at once per process; one more is refused with 429. */
  DIAGNOSE_MAX_WAITERS: intIn(1, 10_000).default(32),
  /** Local server only: time to receive a request's headers before the socket is closed (slow-loris guard). */
  SERVER_HEADERS_TIMEOUT_MS: intIn(1000, 120_000).default(10_000),
  /** Local server only: time to receive a whole request, headers and body. */
  SERVER_REQUEST_TIMEOUT_MS: intIn(1000, 300_000).default(20_000),
  /** Local server only: how long an idle keep-alive connection stays open between requests. */
  SERVER_KEEP_ALIVE_TIMEOUT_MS: intIn(1000, 120_000).default(5_000),
});
export type AppSettings = z.infer<typeof AppSettingsSchema>;

/** Names of every setting this service reads (for docs and infra consistency checks). */
export const SETTING_NAMES = Object.keys(AppSettingsSchema.shape) as (keyof typeof AppSettingsSchema.shape)[];

/** What the host tells about itself through the platform's variables (never configured by the user). */
export interface Platform {
  /** App Service / Functions / Container Apps token endpoint; absent means no identity is enabled there. */
  identityEndpoint?: string;
  /** Whether IDENTITY_HEADER is set; the value itself never leaves identity.ts. */
  identityHeaderSet: boolean;
  /** The older App Service protocol's variables, reported when present. */
  msiEndpoint?: string;
  siteName?: string;
  resourceGroup?: string;
  functionsRuntime?: string;
  containerAppName?: string;
  /** WEBSITE_DISABLE_MSI: the token service turned off on purpose. */
  msiDisabled: boolean;
  /** IMDS override honoured by @azure/identity (pod identity / tests): http://host:port. */
  imdsAuthorityHost?: string;
  /** Service Fabric: IDENTITY_SERVER_THUMBPRINT is set (with IDENTITY_ENDPOINT + IDENTITY_HEADER it selects Service Fabric). */
  identityServerThumbprintSet: boolean;
  /** Azure Arc: IMDS_ENDPOINT (with IDENTITY_ENDPOINT it selects Arc). */
  imdsEndpoint?: string;
  /** Azure Arc agent installed (/opt/azcmagent/bin/himds): MSAL then selects Arc at its default endpoint. */
  arcAgentInstalled: boolean;
  /** Azure Machine Learning: MSI_SECRET is set (with MSI_ENDPOINT); the value stays in identityHeader-style accessors. */
  msiSecretSet: boolean;
  /** Azure ML's DEFAULT_IDENTITY_CLIENT_ID (MSAL sends it for the system-assigned identity). */
  defaultIdentityClientId?: string;
  /** AKS workload identity (injected by the webhook): the projected service-account token's path. */
  federatedTokenFile?: string;
  /** AKS workload identity: AZURE_TENANT_ID (the identity's tenant). */
  tenantId?: string;
  /** AKS workload identity: AZURE_AUTHORITY_HOST (the cloud's Entra endpoint), no trailing slash. */
  authorityHost?: string;
  /** Set in every Kubernetes pod (KUBERNETES_SERVICE_HOST): tells an AKS pod whose workload identity is not wired. */
  kubernetes: boolean;
  /** Proxy variables as the SDK's pipeline reads them (either case); they may capture the identity endpoint. */
  proxy: { httpProxy?: string; httpsProxy?: string; allProxy?: string; noProxy?: string };
  /**
   * The App Service identity header, for the raw probe only. A function, so the value is never serialised with the
   * settings; it must not reach a response, a log line or an error text.
   */
  identityHeader: () => string | undefined;
  /** MSI_SECRET (Azure ML), for the raw probe only; same rules as identityHeader. */
  msiSecret: () => string | undefined;
}

/**
 * Everything the service reads from its environment, parsed once by `loadSettings` (the only reader of process.env):
 * the identity to use and expect, the cloud (with every registered kind's audiences and hosts), the configured
 * targets, limits and the platform's own variables. Secret values (the identity header, API keys) sit behind
 * functions so the object can be logged or serialised without them.
 */
export interface Settings {
  targets: Target[];
  clientId?: string;
  clientResourceId?: string;
  localChain: boolean;
  allowedHosts: AllowedHost[];
  health: { cacheSeconds: number; details: boolean };
  /** `appInsightsEntra`: sign in to Application Insights with this managed identity (clientId absent: system-assigned). */
  watch: { schedule?: string; appInsightsConnectionString?: string; appInsightsEntra?: { clientId?: string } };
  expectedPrincipalId?: string;
  expectedTenantId?: string;
  /** Off Functions: the server's own key for /api/diagnose (DIAGNOSE_API_KEY or _FILE); absent: none is asked. */
  apiKey?: ApiKeySource;
  cloud: Cloud;
  /** The ARM endpoint to use: DIAGNOSE_ARM_ENDPOINT, else the cloud's. No trailing slash. */
  armEndpoint: string;
  timeoutMs: number;
  /** DIAGNOSE_MAX_RESPONSE_BYTES: the cap on every answer an outbound call reads. */
  maxResponseBytes: number;
  /** The local server (npm run serve): where it listens and how long it lets a client take (slow-loris guard). */
  server: { port: number; host: string; headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number };
  /** Overload shedding: keyed diagnoses at once, queued, and wait-mode requests held (see SECURITY.md). */
  load: { maxConcurrent: number; maxQueued: number; maxWaiters: number };
  platform: Platform;
}

/**
 * Where the server's own key comes from. The value is behind a function, like the identity header, so it is never
 * serialised with the settings.
 */
export type ApiKeySource =
  | { setting: 'DIAGNOSE_API_KEY'; value: () => string }
  | { setting: 'DIAGNOSE_API_KEY_FILE'; file: string };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: { setting: string; expected: string }[]) {
    super(
      'Invalid app settings:\n' + problems.map((p) => `  ${p.setting}: ${p.expected}`).join('\n'),
    );
  }
}

type Env = Record<string, string | undefined>;

function formatPath(path: readonly PropertyKey[]): string {
  const [head, ...rest] = path;
  return String(head) + rest.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
}

/** Parse app settings and platform variables. Throws ConfigError naming each bad setting. */
export function loadSettings(env: Env = process.env): Settings {
  // Empty strings count as unset: portal and Bicep often write "" for "not configured".
  const raw: Record<string, string> = {};
  for (const name of SETTING_NAMES) {
    const v = env[name];
    if (v !== undefined && v.trim() !== '') raw[name] = v;
  }
  const parsed = AppSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({ setting: formatPath(i.path), expected: i.message })),
    );
  }
  const s = parsed.data;
  if (s.AZURE_CLIENT_ID && s.AZURE_CLIENT_RESOURCE_ID) {
    throw new ConfigError([
      { setting: 'AZURE_CLIENT_RESOURCE_ID', expected: 'unset when AZURE_CLIENT_ID is set: name the user-assigned identity one way only' },
    ]);
  }
  if (s.DIAGNOSE_API_KEY && s.DIAGNOSE_API_KEY_FILE) {
    throw new ConfigError([{ setting: 'DIAGNOSE_API_KEY_FILE', expected: 'unset when DIAGNOSE_API_KEY is set: give the key one way only' }]);
  }
  const apiKey = s.DIAGNOSE_API_KEY;
  const nonEmpty = (name: string) => {
    const v = env[name];
    return v !== undefined && v.trim() !== '' ? v.trim() : undefined;
  };
  return {
    targets: s.DIAGNOSE_TARGETS,
    clientId: s.AZURE_CLIENT_ID,
    clientResourceId: s.AZURE_CLIENT_RESOURCE_ID,
    localChain: s.DIAGNOSE_LOCAL_CHAIN,
    allowedHosts: s.DIAGNOSE_ALLOWED_HOSTS,
    health: { cacheSeconds: s.HEALTH_CACHE_SECONDS, details: s.HEALTH_DETAILS },
    watch: {
      schedule: s.DIAGNOSE_WATCH_SCHEDULE,
      appInsightsConnectionString: s.APPLICATIONINSIGHTS_CONNECTION_STRING,
      appInsightsEntra: s.APPLICATIONINSIGHTS_AUTHENTICATION_STRING
        ? { clientId: /;ClientId=([^;]+)/i.exec(s.APPLICATIONINSIGHTS_AUTHENTICATION_STRING)?.[1]?.toLowerCase() }
        : undefined,
    },
    expectedPrincipalId: s.EXPECTED_PRINCIPAL_ID?.toLowerCase(),
    expectedTenantId: s.EXPECTED_TENANT_ID?.toLowerCase(),
    ...(apiKey ? { apiKey: { setting: 'DIAGNOSE_API_KEY' as const, value: () => apiKey } } : {}),
    ...(s.DIAGNOSE_API_KEY_FILE ? { apiKey: { setting: 'DIAGNOSE_API_KEY_FILE' as const, file: s.DIAGNOSE_API_KEY_FILE } } : {}),
    cloud: CLOUDS[s.AZURE_CLOUD],
    armEndpoint: (s.DIAGNOSE_ARM_ENDPOINT ?? CLOUDS[s.AZURE_CLOUD].armEndpoint).replace(/\/+$/, ''),
    timeoutMs: s.DIAGNOSE_TIMEOUT_MS,
    maxResponseBytes: s.DIAGNOSE_MAX_RESPONSE_BYTES,
    server: {
      port: s.PORT,
      host: s.HOST,
      headersTimeoutMs: s.SERVER_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: Math.max(s.SERVER_REQUEST_TIMEOUT_MS, s.SERVER_HEADERS_TIMEOUT_MS),
      keepAliveTimeoutMs: s.SERVER_KEEP_ALIVE_TIMEOUT_MS,
    },
    load: { maxConcurrent: s.DIAGNOSE_MAX_CONCURRENT, maxQueued: s.DIAGNOSE_MAX_QUEUED, maxWaiters: s.DIAGNOSE_MAX_WAITERS },
    platform: {
      identityEndpoint: nonEmpty('IDENTITY_ENDPOINT'),
      identityHeaderSet: nonEmpty('IDENTITY_HEADER') !== undefined,
      msiEndpoint: nonEmpty('MSI_ENDPOINT'),
      siteName: nonEmpty('WEBSITE_SITE_NAME'),
      resourceGroup: nonEmpty('WEBSITE_RESOURCE_GROUP'),
      functionsRuntime: nonEmpty('FUNCTIONS_WORKER_RUNTIME') ?? nonEmpty('FUNCTIONS_EXTENSION_VERSION'),
      containerAppName: nonEmpty('CONTAINER_APP_NAME'),
      msiDisabled: /^(1|true)$/i.test(nonEmpty('WEBSITE_DISABLE_MSI') ?? ''),
      imdsAuthorityHost: nonEmpty('AZURE_POD_IDENTITY_AUTHORITY_HOST'),
      identityServerThumbprintSet: nonEmpty('IDENTITY_SERVER_THUMBPRINT') !== undefined,
      imdsEndpoint: nonEmpty('IMDS_ENDPOINT'),
      arcAgentInstalled: process.platform === 'linux' && existsSync('/opt/azcmagent/bin/himds'),
      msiSecretSet: nonEmpty('MSI_SECRET') !== undefined,
      defaultIdentityClientId: nonEmpty('DEFAULT_IDENTITY_CLIENT_ID'),
      federatedTokenFile: nonEmpty('AZURE_FEDERATED_TOKEN_FILE'),
      tenantId: nonEmpty('AZURE_TENANT_ID'),
      authorityHost: nonEmpty('AZURE_AUTHORITY_HOST')?.replace(/\/+$/, ''),
      kubernetes: nonEmpty('KUBERNETES_SERVICE_HOST') !== undefined,
      proxy: {
        httpProxy: nonEmpty('HTTP_PROXY') ?? nonEmpty('http_proxy'),
        httpsProxy: nonEmpty('HTTPS_PROXY') ?? nonEmpty('https_proxy'),
        allProxy: nonEmpty('ALL_PROXY') ?? nonEmpty('all_proxy'),
        noProxy: nonEmpty('NO_PROXY') ?? nonEmpty('no_proxy'),
      },
      identityHeader: () => nonEmpty('IDENTITY_HEADER'),
      msiSecret: () => nonEmpty('MSI_SECRET'),
    },
  };
}

let cached: Settings | undefined;

/** Settings for this process, parsed on first use (at start-up: index.ts and server.ts call it eagerly). */
export function getSettings(): Settings {
  cached ??= loadSettings();
  return cached;
}
