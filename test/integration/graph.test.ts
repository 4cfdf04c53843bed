import { startWorld, type World } from '../world';
import { serviceEnv, stageStandardWorld, USER_IDENTITY } from '../world/scenario';
import { checkOf, expectNoLeaks, startService, type RunningService } from './harness';

/**
 * The Graph trap end to end, through HTTP against the world: a permission granted after the token was minted does not
 * reach Graph while the token lives — the service keeps its token (MSAL's cache), as a host's platform does — and an
 * identity that may not read its own app role assignments gets "could not read" evidence with the 24 h window.
 */
let world: World;
const services: RunningService[] = [];
const oid = USER_IDENTITY.principalId;

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
}, 30_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await world?.stop();
});

async function start(): Promise<RunningService> {
  const target = { name: 'graph-users', kind: 'microsoftGraph', path: '/v1.0/users?$top=1', permission: 'User.Read.All', endpoint: world.graphEndpoint };
  const svc = await startService(serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify([target]), DIAGNOSE_TIMEOUT_MS: '8000' }));
  services.push(svc);
  return svc;
}

it('sees a grant only in a newly minted token, and says it could not read the app role assignments', async () => {
  const svc = await start();
  const first = checkOf((await svc.diagnose()).verdict, 'graph-users');
  expect(first.cause).toBe('role_missing');
  expect(first.claims?.roles).toBeUndefined();
  // No Application.Read.All: Graph refuses the look-up too, and the evidence says so instead of guessing.
  expect(first.evidence.roles).toMatchObject({ lookedUp: false, model: 'Microsoft Graph app role assignments', windowSeconds: 86_400, unavailable: { httpStatus: 403, errorCode: 'Authorization_RequestDenied' } });
  expect(first.propagation).toMatchObject({ expectedWindowSeconds: 86_400 });
  expect(first.fix[0]).toMatch(/^az rest --method POST --uri https:\/\/graph\.microsoft\.com\/v1\.0\/servicePrincipals\/[0-9a-f-]{36}\/appRoleAssignments --body /);

  // Granted now: the process still holds the token minted before the grant.
  world.grantAppRole(oid, 'User.Read.All');
  const again = checkOf((await svc.diagnose()).verdict, 'graph-users');
  expect(again.cause).toBe('role_missing');
  expect(again.claims?.issuedAt).toBe(first.claims?.issuedAt);
  expect(again.explanation).toContain('about 24 h');

  // A new process asks the platform for a new token: it carries the grant.
  const fresh = await start();
  const after = checkOf((await fresh.diagnose()).verdict, 'graph-users');
  expect(after.cause).toBe('authorized');
  expect(after.claims?.roles).toEqual(['User.Read.All']);
  expect(after.evidence.result).toMatchObject({ readable: true, shape: 'collection' });
  expectNoLeaks(world, services);
}, 90_000);
