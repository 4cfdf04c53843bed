import type { GetTokenOptions, TokenCredential } from '@azure/identity';
import type { HttpClient, PipelineRequest } from '@azure/core-rest-pipeline';
import { ContainerRegistryClient } from '@azure/container-registry';
// A leaf with no imports: the probe hands it the registry's own tokens, which the engine never sees.
import { rememberSecret } from '../../http/redact';
import { boundedHttpClient } from '../../wire/boundedClient';
import { correlationFrom, type CallFailure } from '../../wire/callFailure';
import { guarded, type CallOutcome, type Probe, type ProbeContext } from '../probe';
import type { ContainerRegistryTarget } from './index';

/**
 * Read one repository's properties (GET /acr/v1/{name}) or one page of the catalog (GET /acr/v1/_catalog, page size
 * 5) with ContainerRegistryClient. Every call goes through ACR's token exchange: the first request is answered 401 with
 * `WWW-Authenticate: Bearer realm=…,service=…,scope=…`; the SDK trades the Microsoft Entra token for a registry refresh
 * token (POST /oauth2/exchange), that for an access token of the challenged scope (POST /oauth2/token), and repeats
 * the call with it. The verdict says which of those requests failed (`step`). Both registry tokens are secrets: they
 * are remembered for redaction the moment they arrive, and never leave this module.
 */
export const probeContainerRegistry: Probe<ContainerRegistryTarget> = async (target, ctx) => {
  const steps: Step[] = [];
  const outcome = await guarded(ctx.endpoint, ctx, () => call(target, ctx, steps));
  if (outcome.ok) return outcome;
  return { ok: false, failure: inRegistryTerms(outcome.failure, steps) };
};

type StepName = 'entra_token' | 'exchange' | 'token' | 'call';
interface Step {
  step: StepName;
  status?: number;
  /** The answer's body, kept only for error answers (it is never a token then): ACR's `errors[0]`. */
  errorBody?: string;
}

async function call(target: ContainerRegistryTarget, ctx: ProbeContext, steps: Step[]): Promise<CallOutcome> {
  const client = new ContainerRegistryClient(ctx.endpoint, watchedCredential(ctx.credential, steps), {
    // The audience the token is requested for (the SDK asks for `${audience}/.default`): the target's, else its cloud's.
    audience: ctx.audience.replace(/\/+$/, ''),
    // No retries: the first answer is the evidence. The token exchange uses the same options (one pipeline each).
    retryOptions: { maxRetries: 0 },
    httpClient: watchedClient(boundedHttpClient(ctx.maxResponseBytes), ctx.signal, steps),
  });
  let headers: unknown;
  const onResponse = (raw: { headers: unknown }) => {
    headers = raw.headers;
  };
  if (target.repository) {
    // Needs the challenge scope repository:<name>:metadata_read.
    const props = await client.getRepository(target.repository).getProperties({ abortSignal: ctx.signal, onResponse });
    return {
      ok: true,
      httpStatus: 200,
      result: { readable: true, manifestCount: props.manifestCount, tagCount: props.tagCount, canRead: props.canRead ?? null },
      correlation: correlationFrom(headers),
    };
  }
  // Needs registry:catalog:*. The page is pulled on purpose: a pager that is never iterated sends nothing.
  const page = await client.listRepositoryNames({ abortSignal: ctx.signal, onResponse }).byPage({ maxPageSize: 5 }).next();
  return {
    ok: true,
    httpStatus: 200,
    result: { listable: true, repositoriesOnFirstPage: page.done ? 0 : page.value.length, morePages: !page.done && !!page.value.continuationToken },
    correlation: correlationFrom(headers),
  };
}

/** The credential the SDK is given, noting when it is asked: a refusal there is the `entra_token` step. */
function watchedCredential(inner: TokenCredential, steps: Step[]): TokenCredential {
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions) {
      steps.push({ step: 'entra_token' });
      return inner.getToken(scopes, options);
    },
  };
}

function stepOf(url: string): StepName {
  const path = new URL(url).pathname;
  return path === '/oauth2/exchange' ? 'exchange' : path === '/oauth2/token' ? 'token' : 'call';
}

/**
 * The HTTP client under both of the SDK's pipelines (the API and the token exchange): it records which request
 * answered what, remembers the registry tokens as secrets, and ties every request to the deadline — the SDK does not
 * pass the call's abort signal on to its token requests.
 */
function watchedClient(inner: HttpClient, signal: AbortSignal, steps: Step[]): HttpClient {
  return {
    async sendRequest(request: PipelineRequest) {
      const step = stepOf(request.url);
      const own = request.abortSignal;
      request.abortSignal = own instanceof AbortSignal ? AbortSignal.any([own, signal]) : signal;
      const record: Step = { step };
      steps.push(record);
      const response = await inner.sendRequest(request);
      record.status = response.status;
      const body = response.bodyAsText ?? undefined;
      if (response.status >= 200 && response.status < 300) {
        if (step !== 'call') rememberTokens(body);
      } else {
        record.errorBody = body?.slice(0, 4096);
      }
      return response;
    },
  };
}

/** `{"refresh_token": …}` from /oauth2/exchange, `{"access_token": …}` from /oauth2/token. */
function rememberTokens(body: string | undefined): void {
  try {
    const json = JSON.parse(body ?? '') as Record<string, unknown>;
    for (const key of ['refresh_token', 'access_token']) if (typeof json[key] === 'string') rememberSecret(json[key]);
  } catch {
    // Not JSON: the SDK will fail on it, and there is no token to remember.
  }
}

/**
 * The failure in ACR's own terms: the step that failed, and the code and message of its Docker-style error body
 * (`{"errors":[{"code","message","detail"}]}`), which the shared reader does not know.
 */
function inRegistryTerms(failure: CallFailure, steps: Step[]): CallFailure {
  const last = steps.at(-1);
  if (!last) return failure;
  const first = acrError(last.errorBody);
  return {
    ...failure,
    step: last.step,
    ...(first?.code && !failure.transport ? { errorCode: first.code } : {}),
    ...(first?.message && !failure.transport ? { message: first.message.slice(0, 1200) } : {}),
  };
}

function acrError(body: string | undefined): { code?: string; message?: string } | undefined {
  if (!body) return undefined;
  try {
    const json = JSON.parse(body) as { errors?: { code?: unknown; message?: unknown }[] };
    const e = Array.isArray(json.errors) ? json.errors[0] : undefined;
    if (!e) return undefined;
    return { ...(typeof e.code === 'string' ? { code: e.code } : {}), ...(typeof e.message === 'string' ? { message: e.message } : {}) };
  } catch {
    return undefined;
  }
}
