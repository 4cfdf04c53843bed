import { RG_APP, TENANT_ID, USER_IDENTITY, serviceEnv, stageStandardWorld, startWorld, type World } from './index';
import { runChild as runSharedChild } from './childProcess';

/**
 * The simulated Azure OpenAI against the real `openai` client as a workload uses it — Azure mode, a bearer-token
 * provider over ManagedIdentityCredential, the client's own default fetch (not ours) — in a child process with the
 * service's environment (DNS preload, the world's CA): the models list, the 401 PermissionDenied of a missing data
 * action (on the list and on a deployment), the deployment that does not exist, the bare 401 of a wrong audience, and
 * the firewall's 403 with its policy-id header all arrive as the SDK's own errors with their status, code and headers.
 */
const id = (name: string) => `${RG_APP}/providers/Microsoft.CognitiveServices/accounts/${name}`;
let world: World;

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  for (const [name, extra] of [['woai-ok', {}], ['woai-norole', {}], ['woai-firewall', { network: 'firewall' as const }]] as const) {
    world.state.openAiAccounts!.push({ name, resourceId: id(name), tenantId: TENANT_ID, deployments: ['chat'], ...extra });
  }
  world.grant(USER_IDENTITY.principalId, 'cognitiveServicesOpenAIUser', id('woai-ok'), { createdOn: new Date(Date.now() - 86_400_000) });
  world.grant(USER_IDENTITY.principalId, 'cognitiveServicesOpenAIUser', id('woai-firewall'), { createdOn: new Date(Date.now() - 86_400_000) });
}, 60_000);

afterAll(async () => {
  await world?.stop();
});

const SCRIPT = `
const { AzureOpenAI } = require('openai');
const { ManagedIdentityCredential, getBearerTokenProvider } = require('@azure/identity');
const input = JSON.parse(process.env.PROBE_INPUT);
const cred = new ManagedIdentityCredential({ clientId: process.env.AZURE_CLIENT_ID });
const client = (endpoint, scope = 'https://cognitiveservices.azure.com/.default') =>
  new AzureOpenAI({ endpoint, apiVersion: '2024-10-21', azureADTokenProvider: getBearerTokenProvider(cred, scope), maxRetries: 0 });
const attempt = async (fn) => {
  try { return { ok: true, value: await fn() }; }
  catch (e) { return { ok: false, name: e.constructor && e.constructor.name, status: e.status, code: e.code, message: String(e.message).slice(0, 400),
    policyId: e.headers && e.headers.get('policy-id'), apim: e.headers && e.headers.get('apim-request-id') }; }
};
const chat = (c, model) => c.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 });
(async () => {
  const out = {};
  out.list = await attempt(async () => (await client(input.ok).models.list()).data.map((m) => m.id));
  out.listNoRole = await attempt(() => client(input.norole).models.list());
  out.chatNoRole = await attempt(() => chat(client(input.norole), 'chat'));
  out.chatMissing = await attempt(() => chat(client(input.ok), 'no-such-deployment'));
  out.wrongAudience = await attempt(() => client(input.ok, 'https://vault.azure.net/.default').models.list());
  out.firewall = await attempt(() => client(input.firewall).models.list());
  process.stdout.write(JSON.stringify(out));
})();
`;

/** Runs SCRIPT in a fresh Node process with `env` and parses the JSON it prints. */
const runChild = (env: Record<string, string>) => runSharedChild(SCRIPT, env, 30_000);

it('answers the real openai client (Azure mode, its own fetch) as Azure OpenAI does', async () => {
  const input = { ok: world.openAiUrl('woai-ok'), norole: world.openAiUrl('woai-norole'), firewall: world.openAiUrl('woai-firewall') };
  const env = serviceEnv(world, { PROBE_INPUT: JSON.stringify(input) }) as Record<string, string>;
  const out = await runChild(env);
  expect(out.list).toEqual({ ok: true, value: ['gpt-4o-2024-08-06', 'text-embedding-3-small'] });
  expect(out.listNoRole).toMatchObject({ ok: false, name: 'AuthenticationError', status: 401, code: 'PermissionDenied' });
  expect(out.listNoRole.message).toContain(`The principal \`${USER_IDENTITY.principalId}\` lacks the required data action \`Microsoft.CognitiveServices/accounts/OpenAI/models/read\``);
  expect(out.chatNoRole).toMatchObject({ ok: false, status: 401, code: 'PermissionDenied' });
  expect(out.chatNoRole.message).toContain('to perform `POST /openai/deployments/chat/chat/completions` operation');
  expect(out.chatMissing).toMatchObject({ ok: false, name: 'NotFoundError', status: 404, code: 'DeploymentNotFound' });
  // The bare 401 has no `error` member: the SDK keeps no code and no words of it (our probe reads the body itself).
  expect(out.wrongAudience).toMatchObject({ ok: false, name: 'AuthenticationError', status: 401 });
  expect(out.wrongAudience.code).toBeUndefined();
  expect(out.firewall).toMatchObject({ ok: false, name: 'PermissionDeniedError', status: 403, code: '403', policyId: 'ThrowExceptionDueToTrafficDenied' });
  expect(out.firewall.apim).toMatch(/^[0-9a-f-]{36}$/);
}, 60_000);
