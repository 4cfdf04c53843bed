import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sameAudience } from '../../src/catalog/clouds';
import { CLOUDS, kindOf, OPERATIONS, type Cloud } from '../../src/targets/registry';
import { applyFault, type Fault } from './faults';
import type { WorldState } from './model';
import { callerOf, findDataActionGrant } from './rbac';
import { hostName, parseUrl, sendJson, startService, type Service } from './service';
import { checkToken } from './tokens';

/**
 * Azure OpenAI's data plane for every resource: one HTTPS server; the resource is the first label of the Host header
 * (`<custom-subdomain>.openai.azure.com`, or `.cognitiveservices.azure.com` for an AI services account; China / US Gov
 * suffixes alike). What it reproduces, each answer from a public source:
 * - Network rules before anything else (the gateway's policy): 403 `{"error":{"code":"403","message":"Access denied due
 *   to Virtual Network/Firewall rules."}}` with header `policy-id: ThrowExceptionDueToTrafficDenied`
 *   (Azure-Samples/azure-sql-db-chatbot#3); a resource with a virtual network reached by the wrong endpoint: 403
 *   `{"error":{"code":"403","message":"A Virtual Network is configured for this resource. Please use the correct
 *   endpoint for making requests. Check https://aka.ms/cogsvc-vnet for more details."}}` (continuedev/continue#12547).
 * - A token that is missing, unparseable, for another audience, from another tenant or expired: 401
 *   `{"statusCode":401,"message":"Unauthorized. Access token is missing, invalid, audience is incorrect
 *   (https://cognitiveservices.azure.com), or have expired."}` — one answer for all of them
 *   (Azure-Samples/azure-search-openai-demo#458).
 * - A valid token without the data action: **401** `{"error":{"code":"PermissionDenied","message":"The principal
 *   `<oid>` lacks the required data action `<action>` to perform `<METHOD> <path>` operation."}}`.
 * - `GET /openai/models` (Models - List) and `GET /openai/models/{id}` (Models - Get): the api-version is required
 *   (missing → 404 `{"error":{"code":"404","message":"Resource not found"}}`, not a date → 400 `BadRequest` "API version
 *   not supported"); a resource of another kind serves no /openai path (404 "Resource not found").
 * - `POST /openai/deployments/{id}/chat/completions`: authorized by `…/deployments/chat/completions/action`; a
 *   deployment the resource lacks → 404 `DeploymentNotFound` ("The API deployment for this resource does not exist. If
 *   you created the deployment within the last 5 minutes, please wait a moment and try again.", chatboxai/chatbox#646).
 *   It never runs a model: an existing deployment answers 400 (nothing here is ever billed, nor simulated as such).
 * Every answer carries `apim-request-id`, `x-ms-region`, `strict-transport-security`, `x-content-type-options`.
 */

export interface OpenAiAccount {
  /** The custom subdomain: first label of `<name>.openai.azure.com`. */
  name: string;
  resourceId: string;
  tenantId: string;
  /** `OpenAI` and `AIServices` serve the /openai API; any other kind (e.g. `TextAnalytics`) answers 404 there. */
  kind?: string;
  /** `firewall`: a rule leaves the caller out (or public access is off); `vnetEndpoint`: reached by the wrong endpoint. */
  network?: 'open' | 'firewall' | 'vnetEndpoint';
  /** Deployment names the resource has (for the deployments routes). */
  deployments?: string[];
  fault?: Fault;
  /** Region named in `x-ms-region`. Default `East US`. */
  region?: string;
  /** Requests this resource received (the world counts; tests read it to see that nothing was retried). */
  requests?: number;
}

export interface OpenAiDeps {
  state: WorldState;
  tls: { cert: string; key: string };
  nowMs(): number;
}

const MODELS_READ = OPERATIONS.azureOpenAI.permission;
const CHAT = 'Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action';

/** The shape Models - List returns (https://learn.microsoft.com/rest/api/azureopenai/models/list, example response). */
const MODELS = [
  {
    status: 'succeeded',
    capabilities: { fine_tune: false, inference: true, completion: false, chat_completion: true, embeddings: false },
    lifecycle_status: 'generally-available',
    deprecation: { inference: 1767225600 },
    id: 'gpt-4o-2024-08-06',
    created_at: 1722902400,
    object: 'model',
  },
  {
    status: 'succeeded',
    capabilities: { fine_tune: false, inference: true, completion: false, chat_completion: false, embeddings: true },
    lifecycle_status: 'generally-available',
    deprecation: { inference: 1775001600 },
    id: 'text-embedding-3-small',
    created_at: 1706745600,
    object: 'model',
  },
];

/** The cloud whose suffixes (either of the kind's domains) the host is under. */
function cloudOf(host: string): Cloud {
  const hosts = kindOf('azureOpenAI').hosts;
  return (
    Object.values(CLOUDS).find((c) => [hosts.suffixes[c.name], ...(hosts.alsoSuffixes?.[c.name] ?? [])].some((s) => host.endsWith(`.${s}`))) ??
    CLOUDS.AzurePublicCloud
  );
}

const epochSeconds = (ms: number) => Math.floor(ms / 1000);

export function startOpenAi(deps: OpenAiDeps): Promise<Service> {
  const handler = (req: IncomingMessage, res: ServerResponse, tools: { track(t: NodeJS.Timeout): void }): void => {
    req.resume();
    const host = hostName(req);
    const name = host.split('.')[0] ?? '';
    const account = (deps.state.openAiAccounts ?? []).find((a) => a.name.toLowerCase() === name);
    if (account) account.requests = (account.requests ?? 0) + 1;
    const baseHeaders: Record<string, string> = {
      'apim-request-id': randomUUID(),
      'x-ms-region': account?.region ?? 'East US',
      'strict-transport-security': 'max-age=31536000; includeSubDomains; preload',
      'x-content-type-options': 'nosniff',
    };
    if (account && applyFault(account.fault, { req, res, contentType: 'application/json', track: tools.track })) return;
    const reply = (status: number, body: unknown, extra: Record<string, string> = {}): void => sendJson(res, status, body, { ...baseHeaders, ...extra });
    const error = (status: number, code: string, message: string, extra?: Record<string, string>): void => reply(status, { error: { code, message } }, extra);
    const notFound = () => error(404, '404', 'Resource not found');

    // Azure fails at DNS for a subdomain nobody owns; stage that with an `nxdomain-*` name. This is the world's answer.
    if (!account) return notFound();

    if (account.network === 'firewall') {
      return error(403, '403', 'Access denied due to Virtual Network/Firewall rules.', { 'policy-id': 'ThrowExceptionDueToTrafficDenied' });
    }
    if (account.network === 'vnetEndpoint') {
      return error(403, '403', 'A Virtual Network is configured for this resource. Please use the correct endpoint for making requests. Check https://aka.ms/cogsvc-vnet for more details.');
    }

    const cloud = cloudOf(host);
    const audiences = [cloud.audiences.azureOpenAI, ...cloud.alsoAccepted.azureOpenAI];
    const check = checkToken(req, (aud) => audiences.some((a) => sameAudience(a, aud)), account.tenantId, epochSeconds(deps.nowMs()));
    if (!check.ok) {
      // One answer for every token problem: the service does not say which check failed.
      return reply(401, {
        statusCode: 401,
        message: `Unauthorized. Access token is missing, invalid, audience is incorrect (${cloud.audiences.azureOpenAI}), or have expired.`,
      });
    }
    const claims = check.claims;

    const url = parseUrl(req);
    const segments = url.pathname.split('/').filter(Boolean);
    const servesOpenAi = (account.kind ?? 'OpenAI') === 'OpenAI' || account.kind === 'AIServices';
    if (segments[0] !== 'openai' || !servesOpenAi) return notFound();
    const apiVersion = url.searchParams.get('api-version');
    if (!apiVersion) return notFound();
    if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(apiVersion)) return error(400, 'BadRequest', 'API version not supported');

    const allowed = (action: string) =>
      findDataActionGrant(deps.state.assignments, callerOf(String(claims.oid ?? ''), deps.state.groups, claims.iat, deps.state.arm.managementGroups), account.resourceId, action, deps.nowMs()) !== undefined;
    const permissionDenied = (action: string) =>
      error(401, 'PermissionDenied', `The principal \`${String(claims.oid ?? '')}\` lacks the required data action \`${action}\` to perform \`${req.method} ${url.pathname}\` operation.`);

    // GET /openai/models[/{id}]
    if (req.method === 'GET' && segments[1] === 'models' && segments.length <= 3) {
      if (!allowed(MODELS_READ)) return permissionDenied(MODELS_READ);
      if (segments[2] === undefined) return reply(200, { data: MODELS, object: 'list' });
      const model = MODELS.find((m) => m.id === segments[2]);
      return model ? reply(200, model) : notFound();
    }
    // POST /openai/deployments/{id}/chat/completions
    if (req.method === 'POST' && segments[1] === 'deployments' && segments.length === 5 && segments[3] === 'chat' && segments[4] === 'completions') {
      if (!allowed(CHAT)) return permissionDenied(CHAT);
      if (!(account.deployments ?? []).includes(segments[2]!)) {
        return error(404, 'DeploymentNotFound', 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.');
      }
      return error(400, 'BadRequest', 'The simulated world runs no models: nothing here is ever billed.');
    }
    return notFound();
  };

  return startService({ tls: deps.tls, latencyMs: () => deps.state.latencyMs, handler });
}
