import { AppConfigurationClient, type ConfigurationSetting } from '@azure/app-configuration';
import type { PipelinePolicy, PipelineResponse } from '@azure/core-rest-pipeline';
import { boundedHttpClient } from '../../wire/boundedClient';
import { correlationFrom, guarded, type CallOutcome, type Probe } from '../probe';
import { challengeDescription, isKeyFilter, type AppConfigurationTarget } from './index';

/** Metadata only ($select): the value — a setting, a Key Vault reference's URI, a feature flag — is never asked for. */
const FIELDS: (keyof ConfigurationSetting)[] = ['key', 'label', 'contentType', 'etag', 'lastModified', 'isReadOnly'];
// Content types App Configuration gives its own kinds of setting (@azure/app-configuration secretReference.ts,
// featureFlag.ts); reporting which kind a setting is says nothing of its value.
const KEY_VAULT_REFERENCE = 'application/vnd.microsoft.appconfig.keyvaultref+json';
const FEATURE_FLAG = 'application/vnd.microsoft.appconfig.ff+json';
const MAX_CONTENT_TYPE = 120;

/**
 * Read one key-value (GET /kv/{key}?label=…) or pull the first page of a listing (GET /kv?key=…&label=…). Both need the
 * data action Microsoft.AppConfiguration/configurationStores/keyValues/read (App Configuration Data Reader). The REST API
 * has no page size (pages hold up to 100 items): one page is pulled — a pager that is never iterated sends nothing.
 * The verdict gets shapes only: readable, content type, counts, whether an etag came.
 */
export const probeAppConfiguration: Probe<AppConfigurationTarget> = async (target, ctx) => {
  // The answer's status line and headers, as the transport saw them: the client's results keep neither reliably
  // (getConfigurationSetting replaces the caller's onResponse; a page's raw status is a string).
  let last: PipelineResponse | undefined;
  const witness: PipelinePolicy = {
    name: 'appConfigurationProbeWitness',
    async sendRequest(request, next) {
      last = await next(request);
      return last;
    },
  };
  const outcome = await guarded(target.endpoint, ctx, async (): Promise<CallOutcome> => {
    const client = new AppConfigurationClient(target.endpoint, ctx.credential, {
      // The token's audience as configured (the SDK would derive it from the host suffix, which a port hides).
      audience: ctx.audience.replace(/\/+$/, ''),
      // No retries: the first answer is the evidence (a retried 429 would hide it and spend the deadline).
      retryOptions: { maxRetries: 0 },
      httpClient: boundedHttpClient(ctx.maxResponseBytes),
      additionalPolicies: [{ policy: witness, position: 'perRetry' }],
    });
    try {
      if (target.key !== undefined && !isKeyFilter(target.key)) {
        const setting = await client.getConfigurationSetting(
          { key: target.key, ...(target.label !== undefined ? { label: target.label } : {}) },
          { fields: FIELDS, abortSignal: ctx.signal },
        );
        return {
          ok: true,
          httpStatus: last?.status ?? 200,
          result: {
            readable: true,
            ...describe(setting),
            etagPresent: !!setting.etag,
            readOnly: setting.isReadOnly,
            lastModified: setting.lastModified?.toISOString() ?? null,
          },
          correlation: correlationFrom(last?.headers),
        };
      }
      const pages = client
        .listConfigurationSettings({
          ...(target.key !== undefined ? { keyFilter: target.key } : {}),
          ...(target.label !== undefined ? { labelFilter: target.label } : {}),
          fields: FIELDS,
          abortSignal: ctx.signal,
        })
        .byPage();
      const page = await pages.next();
      const items = page.done ? [] : page.value.items;
      return {
        ok: true,
        httpStatus: last?.status ?? 200,
        result: {
          listable: true,
          settingsOnFirstPage: items.length,
          morePages: !page.done && page.value.continuationToken !== undefined,
          keyVaultReferencesOnFirstPage: items.filter((s) => kindOfSetting(s.contentType) === 'keyVaultReference').length,
          featureFlagsOnFirstPage: items.filter((s) => kindOfSetting(s.contentType) === 'featureFlag').length,
          etagPresent: !page.done && !!page.value.etag,
        },
        correlation: correlationFrom(last?.headers),
      };
    } catch (err) {
      throw withServiceWords(err);
    }
  });
  // App Configuration's retry hint is retry-after-ms (REST API "Throttling"), a header the shared reader does not know.
  const retryAfterMs = last?.headers.get('retry-after-ms');
  if (!outcome.ok && outcome.failure.httpStatus !== undefined && outcome.failure.retryAfter === undefined && retryAfterMs) {
    outcome.failure.retryAfter = `${retryAfterMs} ms`;
  }
  return outcome;
};

function kindOfSetting(contentType: string | undefined): 'keyVaultReference' | 'featureFlag' | 'setting' {
  const base = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return base === KEY_VAULT_REFERENCE ? 'keyVaultReference' : base === FEATURE_FLAG ? 'featureFlag' : 'setting';
}

function describe(setting: ConfigurationSetting): Record<string, string | boolean | null> {
  return {
    contentType: setting.contentType?.slice(0, MAX_CONTENT_TYPE) ?? null,
    settingKind: kindOfSetting(setting.contentType),
    labelled: !!setting.label,
  };
}

interface ServiceError {
  statusCode?: number;
  code?: string;
  message?: string;
  response?: { headers?: { get(name: string): string | undefined } };
  details?: { type?: unknown; title?: unknown; detail?: unknown };
}

function headerOf(err: unknown, name: string): string | undefined {
  const headers = (err as ServiceError | undefined)?.response?.headers;
  return typeof headers?.get === 'function' ? headers.get(name) ?? undefined : undefined;
}

/**
 * The SDK's error for a failed answer says only "Unexpected status code: 403" and carries no code. Put App
 * Configuration's own words on it: the problem+json `type` (https://azconfig.io/errors/<code>) becomes the error code —
 * its last segment, the key of the kind's `forbidden` table — and `title`/`detail` the message; a 401's words are in
 * its WWW-Authenticate error_description; a bare answer says it was bare.
 */
function withServiceWords(err: unknown): unknown {
  const e = err as ServiceError | undefined;
  if (!e || typeof e !== 'object' || typeof e.statusCode !== 'number') return err;
  const type = typeof e.details?.type === 'string' ? e.details.type : undefined;
  const code = type?.split('/').filter(Boolean).pop();
  if (code && !e.code) e.code = code;
  const words = [e.details?.title, e.details?.detail].filter((w): w is string => typeof w === 'string' && w.trim() !== '');
  const challenge = challengeDescription(headerOf(err, 'www-authenticate'));
  if (words.length) e.message = words.join(' ');
  else if (challenge) e.message = challenge;
  else if (/^Unexpected status code/.test(e.message ?? '')) e.message = `HTTP ${e.statusCode} without a body`;
  return err;
}
