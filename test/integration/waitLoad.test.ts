import { startWorld, type World } from '../world';
import { RG_APP, TENANT_ID, USER_IDENTITY, serviceEnv, stageStandardWorld, standardTargets } from '../world/scenario';
import { VerdictSchema, type Verdict } from '../../src/verdict';
import { ProblemSchema } from '../../src/http/problem';
import { startService, type RunningService } from './harness';

/**
 * Wait mode under a crowd: many pipelines waiting (?waitSeconds=) on a grant that never becomes effective. Waiters on
 * the same targets share one re-probe loop, so the simulated Key Vault and ARM see about one waiter's worth of
 * requests, not one per waiter; waiters beyond DIAGNOSE_MAX_WAITERS are refused at once with 429 + Retry-After.
 * Sized for a shared 2-core machine: 60 waiters of 10 s (long enough for all of them to arrive while the first wait).
 */
const WAIT_SECONDS = 10;
const MAX_WAITERS = 40;
const CROWD = 60;
const VAULT = 'kvnever';
const VAULT_ID = `${RG_APP}/providers/Microsoft.KeyVault/vaults/${VAULT}`;
let world: World;
let svc: RunningService;

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  world.state.vaults.push({ name: VAULT, resourceId: VAULT_ID, tenantId: TENANT_ID, authorization: 'rbac', secrets: { 'app-secret': 'never-shown' } });
  world.state.arm.resources.push(VAULT_ID);
  // Granted a minute ago, effective only after an hour: propagation_pending, a cause waiting could cure, for the whole test.
  world.grant(USER_IDENTITY.principalId, 'keyVaultSecretsUser', VAULT_ID, { createdOn: new Date(Date.now() - 60_000), propagationDelaySeconds: 3600 });
  const targets = [
    ...standardTargets(world).filter((t) => t.name === 'kv-ok'),
    { name: VAULT, kind: 'keyVaultSecret', vaultUrl: world.vaultUrl(VAULT), secretName: 'app-secret', resourceId: VAULT_ID },
  ];
  svc = await startService(serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(targets), DIAGNOSE_MAX_WAITERS: String(MAX_WAITERS) }));
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  await world?.stop();
});

/** Requests that reached the services a re-probe calls: the vault and ARM (role look-ups). */
function outbound(): number {
  return (world.counters.keyVault[VAULT] ?? 0) + world.counters.arm;
}

interface Answer {
  status: number;
  type: string;
  retryAfter: string | null;
  elapsedMs: number;
  text: string;
}

async function wait(): Promise<Answer> {
  const started = Date.now();
  const res = await fetch(`${svc.url}/api/diagnose?target=${VAULT}&waitSeconds=${WAIT_SECONDS}`);
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', retryAfter: res.headers.get('retry-after'), elapsedMs: Date.now() - started, text };
}

function verdictOf(a: Answer): Verdict {
  expect(a.type).toMatch(/^application\/json/);
  return VerdictSchema.parse(JSON.parse(a.text));
}

describe(`${CROWD} concurrent waiters on a grant that never becomes effective`, () => {
  let alone: { outbound: number; verdict: Verdict };
  let crowd: Answer[];
  let crowdOutbound: number;

  beforeAll(async () => {
    await svc.diagnose(`?target=${VAULT}`);
    world.resetCounters();
    alone = { verdict: verdictOf(await wait()), outbound: 0 };
    alone.outbound = outbound();
    world.resetCounters();
    crowd = await Promise.all(Array.from({ length: CROWD }, () => wait()));
    crowdOutbound = outbound();
  }, 120_000);

  it('lets one waiter re-probe several rounds before its time is up', () => {
    expect(alone.verdict.wait).toMatchObject({ appliedSeconds: WAIT_SECONDS, stoppedBecause: 'time_up' });
    expect(alone.verdict.wait!.rounds).toBeGreaterThanOrEqual(2);
    expect(alone.verdict.checks[0]).toMatchObject({ cause: 'propagation_pending', attempts: alone.verdict.wait!.rounds });
    expect(alone.outbound).toBeGreaterThan(0);
  });

  it(`refuses waiters beyond DIAGNOSE_MAX_WAITERS (${MAX_WAITERS}) at once with a 429 problem and Retry-After`, () => {
    const refused = crowd.filter((a) => a.status === 429);
    expect(refused).toHaveLength(CROWD - MAX_WAITERS);
    for (const a of refused) {
      expect(a.type).toBe('application/problem+json');
      expect(ProblemSchema.parse(JSON.parse(a.text))).toMatchObject({ status: 429, title: 'Too busy' });
      expect(Number(a.retryAfter)).toBeGreaterThan(0);
      expect(a.elapsedMs).toBeLessThan(WAIT_SECONDS * 1000);
    }
  });

  it('answers every admitted waiter with the same truth, within its wait plus slack', () => {
    const held = crowd.filter((a) => a.status !== 429);
    expect(held).toHaveLength(MAX_WAITERS);
    for (const a of held) {
      expect(a.status).toBe(503);
      const v = verdictOf(a);
      expect(v.checks.map((c) => c.cause)).toEqual(['propagation_pending']);
      expect(v.wait).toMatchObject({ appliedSeconds: WAIT_SECONDS, stoppedBecause: 'time_up' });
      expect(v.durationMs).toBeLessThanOrEqual(WAIT_SECONDS * 1000 + 2000);
      expect(a.elapsedMs).toBeLessThan(WAIT_SECONDS * 1000 + 8000);
    }
  });

  it(`shares one re-probe loop: ${MAX_WAITERS} waiters cost about what one does upstream, not ${MAX_WAITERS}×`, () => {
    // Without sharing this would be ~MAX_WAITERS × alone.outbound; rounds may differ by one with timing.
    expect(crowdOutbound).toBeLessThanOrEqual(2 * alone.outbound);
  });
});

describe('the largest waitSeconds the query accepts', () => {
  it('is applied as 200 s, below the Functions front end\'s 230 s cut-off, and said so', async () => {
    const { status, verdict } = await svc.diagnose('?target=kv-ok&waitSeconds=999999');
    expect(status).toBe(200);
    expect(verdict.wait).toMatchObject({ requestedSeconds: 999999, appliedSeconds: 200, stoppedBecause: 'all_passed', rounds: 1 });
  });
});
