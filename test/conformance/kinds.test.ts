import { CLOUD_NAMES } from '../../src/catalog/clouds';
import { categoryOf } from '../../src/advice/causes';
import { sh } from '../../src/advice/shell';
import { loadSettings } from '../../src/config';
import { adHocRefusals } from '../../src/http/adHocTargets';
import { KINDS, leastRoleOf, type TargetKindName } from '../../src/targets/registry';
import type { Verdict } from '../../src/verdict';
import { checkOf, expectNoLeaks, startService, type RunningService } from '../integration/harness';
import { startWorld, type World } from '../world';
import { KIND_WORLDS } from '../world/kinds';
import { serviceEnv, stageStandardWorld } from '../world/scenario';

/**
 * The suite every registered kind must pass (after Xabaril's shared ConformanceTests): each cause the kind declares
 * is staged in the simulated world and diagnosed — all in one diagnose, through HTTP — and comes back with that cause,
 * the call stage and the catalog's category; a fix that grants names the least role and the exact scope; the ad-hoc
 * host policy accepts the kind's own hosts in every cloud and refuses a foreign one; nothing secret leaves. A kind is
 * done when this passes; a kind that declares a cause its world cannot stage fails here.
 */
let world: World;
let service: RunningService;
let verdict: Verdict;

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  const targets = [];
  for (const k of KINDS) {
    const kw = KIND_WORLDS[k.kind as TargetKindName];
    kw.stage(world);
    targets.push(...Object.values(kw.cases(world)).filter((t) => t !== undefined));
  }
  await world.syncStorage();
  service = await startService(serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(targets), DIAGNOSE_TIMEOUT_MS: '8000' }));
  verdict = (await service.diagnose()).verdict;
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await world?.stop();
});

describe.each(KINDS.map((k) => [k.kind, k] as const))('the %s kind', (kindName, kind) => {
  const kw = KIND_WORLDS[kindName as TargetKindName];

  it('has a simulated world whose cases stage exactly the causes it declares', () => {
    expect(kw.kind).toBe(kindName);
    const staged = Object.keys(kw.cases(world)).sort();
    expect(staged).toEqual([...kind.causes].sort());
  });

  it.each([...kind.causes])('is diagnosed as %s, at the call stage, with the catalog\'s category', (cause) => {
    const target = kw.cases(world)[cause]!;
    const check = checkOf(verdict, target.name);
    expect({ target: target.name, kind: check.kind, cause: check.cause }).toEqual({ target: target.name, kind: kindName, cause });
    expect(check.stage).toBe('call');
    expect(check.category).toBe(categoryOf(cause, 'call'));
    expect(check.explanation.length).toBeGreaterThan(0);
  });

  it('names the least role and the exact scope in the role_missing fix', () => {
    const target = kw.cases(world).role_missing!;
    const fix = checkOf(verdict, target.name).fix.join('\n');
    if (kind.permissions) {
      // Its own permission model: the grant is its own command, naming the least role (by id or name).
      expect(fix).toMatch(kind.permissions.grantLine);
      // The target's own least role where the kind has one (Graph: the configured permission's app role id).
      const least = leastRoleOf(target as never);
      expect(fix.includes(least.id || least.name)).toBe(true);
      return;
    }
    const scope = `${target.resourceId}${kind.scopes.grant(target as never)}`;
    expect(fix).toContain(`--role ${sh(kind.operation.leastRole.name)} `);
    expect(fix).toMatch(new RegExp(`--scope ${scope.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(\\s|$)`));
  });

  it('never creates a role assignment as the fix for a cause no role cures', () => {
    // database_user_missing (SQL) is cured by a grant in the service's own model: the user and its role membership.
    for (const cause of kind.causes.filter((c) => !['role_missing', 'grant_ineffective', 'database_user_missing'].includes(c))) {
      const check = checkOf(verdict, kw.cases(world)[cause]!.name);
      const grants = (l: string) => l.startsWith('az role assignment create') || (kind.permissions?.grantLine.test(l) ?? false);
      expect({ cause, creates: check.fix.some(grants) }).toEqual({ cause, creates: false });
    }
  });

  it.each([...CLOUD_NAMES])('accepts its own host in %s and refuses a foreign one', (cloud) => {
    const settings = loadSettings({ AZURE_CLOUD: cloud });
    const suffix = kind.hosts.suffixes[cloud];
    const own = kind.hosts.shape === 'exactly' ? `https://${suffix}` : `https://conformance1.${suffix}`;
    expect(adHocRefusals([kw.adHoc(own)], settings)).toEqual([]);
    for (const foreign of ['https://attacker.example.com', `https://${suffix}.attacker.example.com`]) {
      expect(adHocRefusals([kw.adHoc(foreign)], settings).map((r) => r.rule)).toEqual(['host-not-allowed']);
    }
    // Another kind's host is foreign too: a token goes only to its own service.
    for (const other of KINDS.filter((o) => o.hosts.suffixes[cloud] !== suffix)) {
      const host = other.hosts.shape === 'exactly' ? `https://${other.hosts.suffixes[cloud]}` : `https://conformance1.${other.hosts.suffixes[cloud]}`;
      expect(adHocRefusals([kw.adHoc(host)], settings).map((r) => r.rule)).toEqual(['host-not-allowed']);
    }
  });
});

describe('every kind together', () => {
  it('leaks no token, identity header or secret value in the verdict or the logs', async () => {
    for (const format of ['text', 'html', 'junit']) expect((await service.get(`/api/diagnose?format=${format}`)).text.length).toBeGreaterThan(0);
    expectNoLeaks(world, [service]);
  });
});
