import { getBearerTokenProvider } from '@azure/identity';
import { AzureOpenAI } from 'openai';
import { boundedFetch, type FetchedAnswer } from '../../wire/boundedFetch';
import type { CallOutcome, Probe } from '../probe';
import { openAiFailure, openAiCorrelation } from './failure';
import { DEFAULT_API_VERSION, type AzureOpenAITarget } from './index';

/** The client's own timeout: only a ceiling (the deadline's signal ends the call first), under Functions' 230 s cut. */
const CEILING_MS = 220_000;

/**
 * List the models (Models - List, GET {endpoint}/openai/models, first page only) with the official `openai` client in
 * Azure mode and a bearer-token provider over the probe's credential — the read a workload's client makes first, never
 * billed. Needs the data action Microsoft.CognitiveServices/accounts/OpenAI/models/read (Cognitive Services OpenAI User).
 * The data plane no longer serves a deployment's metadata (Deployments - Get ended with api-version 2023-03-15-preview;
 * deployments are control-plane objects now), so a configured `deployment` is named in fixes, never called.
 */
export const probeAzureOpenAI: Probe<AzureOpenAITarget> = async (target, ctx): Promise<CallOutcome> => {
  const started = Date.now();
  let answer: FetchedAnswer | undefined;
  const url = ctx.endpoint;
  try {
    const client = new AzureOpenAI({
      // baseURL, not endpoint: with `endpoint` the constructor also consults AZURE_OPENAI_ENDPOINT / OPENAI_BASE_URL.
      baseURL: `${url}/openai`,
      apiVersion: target.apiVersion ?? DEFAULT_API_VERSION,
      azureADTokenProvider: getBearerTokenProvider(ctx.credential, `${ctx.audience.replace(/\/+$/, '')}/.default`, { abortSignal: ctx.signal }),
      // Explicit, so the client reads none of AZURE_OPENAI_API_KEY, OPENAI_ORG_ID, OPENAI_PROJECT_ID, OPENAI_LOG from the
      // environment (a key there would even make the constructor throw: key and token provider are exclusive).
      apiKey: null as unknown as undefined,
      organization: null,
      project: null,
      webhookSecret: null,
      logLevel: 'off',
      // No retries: the first answer is the evidence, and the deadline bounds everything.
      maxRetries: 0,
      timeout: CEILING_MS,
      fetch: boundedFetch(ctx.maxResponseBytes, (a) => {
        answer = a;
      }),
    });
    // The page is awaited: one GET, its answer read (a list promise never awaited sends nothing and proves nothing).
    const page = await client.models.list({ signal: ctx.signal });
    return {
      ok: true,
      httpStatus: answer?.status ?? 200,
      result: { listable: true, modelsOnFirstPage: page.data.length, apiVersion: target.apiVersion ?? DEFAULT_API_VERSION },
      correlation: openAiCorrelation(answer?.headers),
    };
  } catch (err) {
    return { ok: false, failure: openAiFailure(err, answer, { url, deadlineSignal: ctx.signal, elapsedMs: Date.now() - started }) };
  }
};
