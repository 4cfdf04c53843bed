import fc from 'fast-check';
import { AzureOpenAI } from 'openai';
import { ConfigError, loadSettings, type Target } from '../../../src/config';
import { classifyCallFailure } from '../../../src/engine/classify';
import { adHocRefusals, parseAdHocTargets } from '../../../src/http/adHocTargets';
import { openAiFailure } from '../../../src/targets/azureOpenAI/failure';
import type { CallFailure } from '../../../src/wire/callFailure';
import type { FetchedAnswer } from '../../../src/wire/boundedFetch';
import type { Claims } from '../../../src/verdict';
import { OID, TENANT, settingsFor } from '../fixtures/settings';

/**
 * The `openai` client's errors (the real client in Azure mode, answers played by a canned fetch: no network) become the
 * CallFailure and the cause they must; the schema and the ad-hoc host policy hold the endpoint to a custom subdomain.
 * The probe itself, the capped transport and the transport failures run against the simulated world over HTTPS
 * (test/conformance, test/integration/azureOpenAI.test.ts): the transport refuses plain http for a bearer token.
 */
const now = Math.floor(Date.now() / 1000);
const claims: Claims = { aud: 'https://cognitiveservices.azure.com', tid: TENANT, oid: OID, iss: `https://sts.windows.net/${TENANT}/`, exp: now + 3600 };
const target: Target = { name: 'oai', kind: 'azureOpenAI', endpoint: 'https://oai1.openai.azure.com' };

/** What the SDK throws for `status`/`body`/`headers`, read as the probe reads it. */
async function failureFor(status: number, body: unknown, headers: Record<string, string> = {}): Promise<CallFailure> {
  const text = JSON.stringify(body);
  const answer: FetchedAnswer = { status, headers: new Headers({ 'content-type': 'application/json', 'apim-request-id': 'apim-1', ...headers }), body: text };
  const client = new AzureOpenAI({
    baseURL: 'https://oai1.openai.azure.com/openai',
    apiVersion: '2024-10-21',
    azureADTokenProvider: async () => 'token',
    maxRetries: 0,
    logLevel: 'off',
    fetch: async () => new Response(text, { status, headers: answer.headers }),
  });
  try {
    await client.models.list();
  } catch (err) {
    return openAiFailure(err, answer, { url: 'https://oai1.openai.azure.com', deadlineSignal: new AbortController().signal, elapsedMs: 3 });
  }
  throw new Error('expected the client to throw');
}

const causeOf = (failure: CallFailure, withClaims: Claims = claims) => classifyCallFailure({ target, failure, claims: withClaims, settings: settingsFor(), nowSeconds: now });

describe('the openai client\'s errors, as Azure OpenAI answers them', () => {
  it('reads a 401 PermissionDenied as role_missing, keeping the status, code, message and apim-request-id', async () => {
    const message = `The principal \`${OID}\` lacks the required data action \`Microsoft.CognitiveServices/accounts/OpenAI/models/read\` to perform \`GET /openai/models\` operation.`;
    const failure = await failureFor(401, { error: { code: 'PermissionDenied', message } });
    expect(failure).toMatchObject({ httpStatus: 401, errorCode: 'PermissionDenied', message, requestId: 'apim-1' });
    expect(causeOf(failure)).toBe('role_missing');
  });

  it('keeps the words of the bare 401 the client drops (no `error` member), and reads it by the claims', async () => {
    const message = 'Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.';
    const failure = await failureFor(401, { statusCode: 401, message });
    expect(failure).toMatchObject({ httpStatus: 401, message });
    expect(causeOf(failure)).toBe('token_rejected');
    expect(causeOf(failure, { ...claims, aud: 'https://vault.azure.net' })).toBe('wrong_audience');
    expect(causeOf(failure, { ...claims, exp: now - 60 })).toBe('token_expired');
  });

  it('reads the firewall 403 by its policy-id header (its body code is only "403"), another 403 as forbidden_other', async () => {
    const firewall = await failureFor(403, { error: { code: '403', message: 'Access denied due to Virtual Network/Firewall rules.' } }, { 'policy-id': 'ThrowExceptionDueToTrafficDenied' });
    expect(firewall).toMatchObject({ httpStatus: 403, errorCode: '403', innerErrorCode: 'ThrowExceptionDueToTrafficDenied' });
    expect(causeOf(firewall)).toBe('network_blocked');
    const vnet = await failureFor(403, { error: { code: '403', message: 'A Virtual Network is configured for this resource. Please use the correct endpoint for making requests.' } });
    expect(causeOf(vnet)).toBe('forbidden_other');
  });

  it('reads 404 DeploymentNotFound, 429 with its retry-after (or retry-after-ms), and 5xx', async () => {
    expect(causeOf(await failureFor(404, { error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist.' } }))).toBe('resource_not_found');
    const throttled = await failureFor(429, { error: { code: '429', message: 'Please retry after 7 seconds.' } }, { 'retry-after': '7' });
    expect(throttled.retryAfter).toBe('7');
    expect(causeOf(throttled)).toBe('throttled');
    expect((await failureFor(429, { error: { code: '429', message: 'slow down' } }, { 'retry-after-ms': '1500' })).retryAfter).toBe('1500 ms');
    expect(causeOf(await failureFor(503, { error: { code: 'ServiceUnavailable', message: 'try later' } }))).toBe('target_error');
  });

  it('names a connection failure by the transport\'s own error, and an abort at the deadline as the deadline', async () => {
    const opts = { url: 'https://oai1.openai.azure.com', elapsedMs: 3 };
    const socket = Object.assign(new Error('getaddrinfo ENOTFOUND oai1.openai.azure.com'), { code: 'ENOTFOUND' });
    const connection = Object.assign(new Error('Connection error.'), { status: undefined, cause: socket });
    expect(openAiFailure(connection, undefined, { ...opts, deadlineSignal: new AbortController().signal }).transport?.kind).toBe('dns');
    const deadline = new AbortController();
    deadline.abort();
    const aborted = openAiFailure(new Error('Request was aborted.'), undefined, { ...opts, deadlineSignal: deadline.signal });
    expect(aborted.transport?.kind).toBe('aborted');
    expect(causeOf(aborted)).toBe('deadline_exceeded');
  });
});

describe('azureOpenAI targets', () => {
  const configure = (endpoint: string) => () => loadSettings({ DIAGNOSE_TARGETS: JSON.stringify([{ name: 'oai', kind: 'azureOpenAI', endpoint }]) });

  it('refuses a regional endpoint (keys only) at start-up, naming the field and the custom subdomain it needs', () => {
    expect(configure('https://eastus.api.cognitive.microsoft.com')).toThrow(ConfigError);
    expect(configure('https://eastus.api.cognitive.microsoft.com')).toThrow(/endpoint.*custom subdomain/s);
    expect(configure('https://oai1.openai.azure.com/openai')).toThrow(/without a path/);
    expect(configure('https://oai1.openai.azure.com/?x=1')).toThrow(/without a path or query/);
    expect(configure('https://oai1.openai.azure.com/')().targets).toHaveLength(1);
  });

  it('sends ad-hoc tokens to custom subdomains under either of the service\'s domains only', () => {
    const settings = loadSettings({});
    const rules = (endpoint: string) => adHocRefusals([{ name: 'oai', kind: 'azureOpenAI', endpoint }], settings).map((r) => r.rule);
    expect(rules('https://oai1.openai.azure.com')).toEqual([]);
    expect(rules('https://oai1.cognitiveservices.azure.com')).toEqual([]);
    expect(rules('https://eastus.api.cognitive.microsoft.com')).toEqual(['host-not-allowed']);
    expect(rules('https://a.b.openai.azure.com')).toEqual(['host-not-allowed']);
    expect(adHocRefusals([{ name: 'oai', kind: 'azureOpenAI', endpoint: 'https://oai1.cognitiveservices.azure.us' }], loadSettings({ AZURE_CLOUD: 'AzureUSGovernment' }))).toEqual([]);
  });

  it('never accepts an ad-hoc endpoint outside one label under either domain, https on 443, whatever the caller sends', () => {
    const settings = loadSettings({});
    const url = fc.oneof(
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc
        .tuple(
          fc.constantFrom('https://', 'http://', 'https://u:p@'),
          fc.oneof({ arbitrary: fc.stringMatching(/^[a-z0-9-]{1,24}$/), weight: 4 }, fc.domain(), fc.constant('eastus.api.cognitive')),
          fc.constantFrom('', '.openai.azure.com', '.cognitiveservices.azure.com', '.openai.azure.com.evil.example', '.microsoft.com', '.vault.azure.net'),
          fc.constantFrom('', ':443', ':8443', '/', '/?sig=x', '.'),
        )
        .map((p) => p.join('')),
    );
    let accepted = 0;
    fc.assert(
      fc.property(url, (u) => {
        const r = parseAdHocTargets(JSON.stringify([{ name: 'oai', kind: 'azureOpenAI', endpoint: u }]), settings);
        if (!r.ok) return [400, 403].includes(r.response.status!);
        accepted++;
        const parsed = new URL(u);
        return (
          parsed.protocol === 'https:' && !parsed.username && !parsed.search && parsed.port === '' &&
          /^[a-z0-9-]+\.(openai|cognitiveservices)\.azure\.com$/.test(parsed.hostname)
        );
      }),
      { numRuns: 1000 },
    );
    expect(accepted).toBeGreaterThan(10);
  });
});
