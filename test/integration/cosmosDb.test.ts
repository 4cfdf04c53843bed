import { checkOf, expectNoLeaks, startService, type RunningService } from './harness';
import { serviceEnv, stageStandardWorld, startWorld, type World } from '../world';
import { cosmosDb } from '../world/kinds/cosmosDb';
import type { Verdict } from '../../src/verdict';

/**
 * The cosmosDb kind through the real service, beyond the one-case-per-cause conformance suite: one page of a query
 * (counts only), a read outside the granted container, and hostile answers — past the response cap, a reset (which
 * @azure/cosmos would retry ten times a second apart: the probe reports the first), a silent account (the deadline).
 */
let world: World;
let service: RunningService;
let verdict: Verdict;

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  cosmosDb.stage(world);
  const c = cosmosDb.cases(world);
  const account = (name: string) => world.state.cosmos.accounts.find((a) => a.name === name)!;
  account('ccos-down').fault = 'huge_body';
  account('ccos-throttled').fault = 'reset';
  account('ccos-expired').fault = 'silent';
  const targets = [
    { ...c.authorized!, name: 'cos-page', itemId: undefined, partitionKey: undefined },
    { ...c.authorized!, name: 'cos-other-db', database: 'billing', itemId: undefined, partitionKey: undefined },
    { ...c.target_error!, name: 'cos-huge' },
    { ...c.throttled!, name: 'cos-reset' },
    { ...c.token_expired!, name: 'cos-silent' },
  ];
  service = await startService(serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(targets), DIAGNOSE_TIMEOUT_MS: '6000', DIAGNOSE_MAX_RESPONSE_BYTES: String(1024 * 1024) }));
  verdict = (await service.diagnose()).verdict;
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await world?.stop();
});

describe('the cosmosDb kind through the service', () => {
  it('pulls one page of one item when no item is named, and reports counts, never the item', () => {
    const page = checkOf(verdict, 'cos-page');
    expect(page.cause).toBe('authorized');
    expect(page.evidence.result).toMatchObject({ containerReadable: true, partitionKeyPaths: '/tenant', queryable: true, itemsOnFirstPage: 1, moreResults: false });
    expectNoLeaks(world, [service]);
  });

  it('refuses a container outside the granted one with 5301, and shows the grant that does not reach it', () => {
    const other = checkOf(verdict, 'cos-other-db');
    expect(other.cause).toBe('role_missing');
    expect(other.evidence.innerErrorCode).toBe('5301');
    expect(other.evidence.roles?.assignments).toContainEqual(expect.objectContaining({ roleName: 'Cosmos DB Built-in Data Reader', coversOperation: false, plane: 'data' }));
    expect(other.fix[0]).toMatch(/^az cosmosdb sql role assignment create .* --scope \/dbs\/billing\/colls\/orders$/);
  });

  it('cuts an answer past the response cap, reports a reset once, and ends a silent account at the deadline', () => {
    expect(checkOf(verdict, 'cos-huge')).toMatchObject({ cause: 'target_error', evidence: { transport: { kind: 'malformed', code: 'RESPONSE_TOO_LARGE' } } });
    const reset = checkOf(verdict, 'cos-reset');
    expect(reset).toMatchObject({ cause: 'target_unreachable', evidence: { transport: { kind: 'reset', code: 'ECONNRESET' } } });
    // Ten SDK retries a second apart would take ten seconds; one attempt is well under the 6 s deadline.
    expect(reset.durationMs).toBeLessThan(5000);
    expect(checkOf(verdict, 'cos-silent').cause).toBe('deadline_exceeded');
  });
});
