import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import {
  bearerTokenAuthenticationPolicy,
  createHttpHeaders,
  createPipelineFromOptions,
  createPipelineRequest,
  RestError,
  type HttpHeaders,
  type Pipeline,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import { boundedHttpClient } from '../../wire/boundedClient';
import type { Correlation } from '../../wire/callFailure';

/**
 * One GET to Microsoft Graph through Microsoft's own HTTP pipeline (@azure/core-rest-pipeline): the bearer-token
 * policy asks the credential for `<audience>/.default` and signs the request, the size-capped client carries it. The
 * Graph JS SDK (@microsoft/microsoft-graph-client) is not a dependency: for one GET it adds nothing this pipeline lacks.
 *
 * No retries (the first answer is the evidence), no redirects (a redirected request would carry the token to whatever
 * host Graph named), and Graph's own correlation header names (`client-request-id`, answered as `request-id`).
 */
export interface GraphAnswer {
  status: number;
  headers: HttpHeaders;
  body: string;
  correlation: Correlation;
}

function pipelineFor(credential: TokenCredential, audience: string): Pipeline {
  const pipeline = createPipelineFromOptions({
    retryOptions: { maxRetries: 0 },
    redirectOptions: { maxRetries: 0 },
    // Graph's header for the caller's id (https://learn.microsoft.com/graph/best-practices-concept, "Reliability and support").
    telemetryOptions: { clientRequestIdHeaderName: 'client-request-id' },
  });
  pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential, scopes: `${audience.replace(/\/+$/, '')}/.default` }));
  return pipeline;
}

/**
 * Graph's correlation for a support case: request-id, client-request-id and x-ms-ags-diagnostic (the serving data
 * center, scale unit and role instance — Graph has no correlation id of its own, so that goes into correlationId).
 */
export function graphCorrelation(headers: HttpHeaders | undefined, sentClientRequestId: string): Correlation {
  const ags = headers?.get('x-ms-ags-diagnostic');
  let served: string | undefined;
  if (ags) {
    try {
      const info = (JSON.parse(ags) as { ServerInfo?: Record<string, unknown> }).ServerInfo ?? {};
      served = ['DataCenter', 'Slice', 'Ring', 'ScaleUnit', 'RoleInstance'].map((k) => (typeof info[k] === 'string' ? info[k] : '')).join('/');
    } catch {
      served = undefined;
    }
    served = `x-ms-ags-diagnostic ${(served ?? ags).replace(/[^\x20-\x7e]/g, ' ').slice(0, 200)}`;
  }
  const c: Correlation = {
    requestId: headers?.get('request-id')?.slice(0, 100),
    clientRequestId: headers?.get('client-request-id')?.slice(0, 100) ?? sentClientRequestId,
    correlationId: served,
  };
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v)) as Correlation;
}

/** GET `url` with a token for `audience`. Resolves with any HTTP answer; throws only when none came (transport, cap, abort). */
export async function graphGet(url: string, opts: { credential: TokenCredential; audience: string; signal: AbortSignal; maxResponseBytes: number }): Promise<GraphAnswer> {
  const clientRequestId = randomUUID();
  const request = createPipelineRequest({
    url,
    method: 'GET',
    abortSignal: opts.signal,
    headers: createHttpHeaders({ accept: 'application/json', 'client-request-id': clientRequestId, 'return-client-request-id': 'true' }),
  });
  const response: PipelineResponse = await pipelineFor(opts.credential, opts.audience).sendRequest(boundedHttpClient(opts.maxResponseBytes), request);
  return { status: response.status, headers: response.headers, body: response.bodyAsText ?? '', correlation: graphCorrelation(response.headers, clientRequestId) };
}

/** A non-2xx answer as the RestError the SDK clients throw, so the shared reader (callFailureFromError) parses it. */
export function asRestError(answer: GraphAnswer, url: string): RestError {
  return new RestError(`Microsoft Graph answered ${answer.status}`, {
    statusCode: answer.status,
    request: createPipelineRequest({ url, method: 'GET' }),
    response: { status: answer.status, headers: answer.headers, bodyAsText: answer.body, request: createPipelineRequest({ url, method: 'GET' }) },
  });
}
