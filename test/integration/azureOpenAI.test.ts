import { startWorld, type World } from '../world';
import type { Fault } from '../world/faults';
import type { OpenAiAccount } from '../world/openai';
import { RG_APP, TENANT_ID, USER_IDENTITY, serviceEnv, stageStandardWorld } from '../world/scenario';
import { checkOf, expectNoLeaks, startService, type RunningService } from './harness';

/**
 * The azureOpenAI probe through the service against the simulated Azure OpenAI (HTTPS, real host names): the `openai`
 * client's transport is the capped one every kind uses, so a hostile or broken answer classifies exactly as it does for
 * Key Vault or Storage; nothing is retried; and the client reads none of its own environment variables.
 */
const CAP = 1024 * 1024;
const accountId = (name: string) => `${RG_APP}/providers/Microsoft.CognitiveServices/accounts/${name}`;
const NAME = 'ioai-faulty';

let world: World;
let service: RunningService;

function account(): OpenAiAccount {
  return world.state.openAiAccounts!.find((a) => a.name === NAME)!;
}

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  world.state.openAiAccounts!.push({ name: NAME, resourceId: accountId(NAME), tenantId: TENANT_ID });
  world.state.arm.resources.push(accountId(NAME));
  world.grant(USER_IDENTITY.principalId, 'cognitiveServicesOpenAIUser', accountId(NAME), { createdOn: new Date(Date.now() - 86_400_000) });
  service = await startService(
    serviceEnv(world, {
      DIAGNOSE_TARGETS: JSON.stringify([{ name: 'oai', kind: 'azureOpenAI', endpoint: world.openAiUrl(NAME), resourceId: accountId(NAME) }]),
      DIAGNOSE_MAX_RESPONSE_BYTES: String(CAP),
      DIAGNOSE_TIMEOUT_MS: '4000',
      // The openai client's own variables: a key here would make its constructor throw, a base URL would redirect it,
      // OPENAI_LOG=debug would log request headers. The probe sets all of them explicitly.
      AZURE_OPENAI_API_KEY: 'not-a-real-key',
      OPENAI_API_KEY: 'not-a-real-key',
      OPENAI_BASE_URL: 'https://attacker.example.com/v1',
      AZURE_OPENAI_ENDPOINT: 'https://attacker.example.com',
      OPENAI_API_VERSION: '1999-01-01',
      OPENAI_LOG: 'debug',
    }),
  );
}, 90_000);

afterAll(async () => {
  await service?.stop();
  await world?.stop();
});

afterEach(() => {
  account().fault = undefined;
});

it('lists the models with one request, ignoring the openai client\'s environment variables, and leaks nothing', async () => {
  account().requests = 0;
  const check = checkOf((await service.diagnose()).verdict, 'oai');
  expect(check.cause).toBe('authorized');
  expect(check.evidence.result).toMatchObject({ listable: true, apiVersion: '2024-10-21' });
  expect(check.evidence.requestId).toMatch(/^[0-9a-f-]{36}$/);
  expect(account().requests).toBe(1);
  expectNoLeaks(world, [service]);
});

it('does not retry a 429 and reports its retry-after', async () => {
  account().fault = { status: 429, headers: { 'retry-after': '3', 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: '429', message: 'Please retry after 3 seconds.' } }) };
  account().requests = 0;
  const check = checkOf((await service.diagnose()).verdict, 'oai');
  expect({ cause: check.cause, retryAfter: check.evidence.retryAfter }).toEqual({ cause: 'throttled', retryAfter: '3' });
  expect(account().requests).toBe(1);
});

it.each([
  ['huge_body', 'target_error', /response cap of 1 MiB/],
  ['gzip_bomb', 'target_error', /response cap of 1 MiB/],
  ['malformed', 'target_error', /502|parsed/],
  ['reset', 'target_unreachable', /reset|could not be reached/],
  ['silent', 'deadline_exceeded', /4000 ms deadline/],
] as const)('classifies a %s answer as %s, as for every other kind', async (fault, cause, explanation) => {
  account().fault = fault as Fault;
  const started = Date.now();
  const check = checkOf((await service.diagnose()).verdict, 'oai');
  expect({ fault, cause: check.cause }).toEqual({ fault, cause });
  expect(check.explanation).toMatch(explanation);
  // Loose: the deadline is 4 s; the machine is shared.
  expect(Date.now() - started).toBeLessThan(20_000);
  expect(service.alive!()).toBe(true);
}, 60_000);

it('names a certificate the host does not trust as a TLS failure, target_unreachable, as for every other kind', async () => {
  // The same world without its CA: the TLS handshake to the resource fails before any token is sent.
  const untrusting = await startService(
    serviceEnv(world, {
      DIAGNOSE_TARGETS: JSON.stringify([{ name: 'oai', kind: 'azureOpenAI', endpoint: world.openAiUrl(NAME) }]),
      NODE_EXTRA_CA_CERTS: undefined,
    }),
  );
  try {
    const check = checkOf((await untrusting.diagnose()).verdict, 'oai');
    expect({ cause: check.cause, transport: check.evidence.transport?.kind }).toEqual({ cause: 'target_unreachable', transport: 'tls' });
  } finally {
    await untrusting.stop();
  }
}, 60_000);
