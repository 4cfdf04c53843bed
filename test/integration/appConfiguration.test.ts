import { checkOf, expectNoLeaks, startService, type RunningService } from './harness';
import { RG_APP, serviceEnv, stageStandardWorld, startWorld, TENANT_ID, USER_IDENTITY, type World } from '../world';
import { appConfiguration } from '../world/kinds/appConfiguration';

/**
 * The appConfiguration kind through the real service, beyond the one-case-per-cause conformance suite: the listing
 * probe and what it reports (counts, never keys or values), a key filter, the network security perimeter's refusal,
 * and an answer past the response cap.
 */
const CAP = 1024 * 1024;
const storeId = (name: string) => `${RG_APP}/providers/Microsoft.AppConfiguration/configurationStores/${name}`;

let world: World;
let service: RunningService;
let quick: RunningService | undefined;

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  appConfiguration.stage(world);
  const extra = { 'cac-perimeter': { network: 'perimeter' as const }, 'cac-hostile': { fault: 'huge_body' as const }, 'cac-silent': { fault: 'silent' as const } };
  for (const [name, more] of Object.entries(extra)) {
    world.state.configStores.push({ name, resourceId: storeId(name), tenantId: TENANT_ID, keyValues: [], ...more });
    world.grant(USER_IDENTITY.principalId, 'appConfigurationDataReader', storeId(name), { createdOn: new Date(Date.now() - 86_400_000) });
  }
  const ok = world.appConfigUrl('cac-ok');
  const targets = [
    { name: 'cfg-page', kind: 'appConfiguration', endpoint: ok, resourceId: storeId('cac-ok') },
    { name: 'cfg-filter', kind: 'appConfiguration', endpoint: ok, key: 'App:*', label: 'prod', resourceId: storeId('cac-ok') },
    { name: 'cfg-kvref', kind: 'appConfiguration', endpoint: ok, key: 'App:DbPassword', label: 'prod', resourceId: storeId('cac-ok') },
    { name: 'cfg-perimeter', kind: 'appConfiguration', endpoint: world.appConfigUrl('cac-perimeter'), resourceId: storeId('cac-perimeter') },
    { name: 'cfg-hostile', kind: 'appConfiguration', endpoint: world.appConfigUrl('cac-hostile'), key: 'App:Greeting' },
  ];
  service = await startService(serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(targets), DIAGNOSE_TIMEOUT_MS: '30000', DIAGNOSE_MAX_RESPONSE_BYTES: String(CAP) }));
}, 90_000);

afterAll(async () => {
  await quick?.stop();
  await service?.stop();
  await world?.stop();
});

describe('App Configuration through the service', () => {
  it('lists the first page of a whole store and reports counts only: no key name, no value', async () => {
    const { verdict } = await service.diagnose('?target=cfg-page,cfg-filter');
    const page = checkOf(verdict, 'cfg-page');
    expect(page.cause).toBe('authorized');
    expect(page.evidence.result).toEqual({
      listable: true,
      settingsOnFirstPage: 4,
      morePages: false,
      keyVaultReferencesOnFirstPage: 1,
      featureFlagsOnFirstPage: 1,
      etagPresent: true,
    });
    expect(checkOf(verdict, 'cfg-filter').evidence.result).toMatchObject({ listable: true, settingsOnFirstPage: 2, keyVaultReferencesOnFirstPage: 1 });
    expect(JSON.stringify(verdict)).not.toMatch(/App:Greeting|App:DbPassword|featureflag\/Beta/);
  });

  it('says a Key Vault reference was readable without opening it', async () => {
    const { verdict } = await service.diagnose('?target=cfg-kvref');
    const check = checkOf(verdict, 'cfg-kvref');
    expect(check.cause).toBe('authorized');
    expect(check.evidence.result).toMatchObject({ readable: true, settingKind: 'keyVaultReference', etagPresent: true });
    expect(JSON.stringify(verdict)).not.toContain('kv-ok.vault.azure.net/secrets');
  });

  it('reads a network security perimeter\'s refusal as network_blocked, with an access rule as the fix, not a private endpoint', async () => {
    const { verdict } = await service.diagnose('?target=cfg-perimeter');
    const check = checkOf(verdict, 'cfg-perimeter');
    expect(check.cause).toBe('network_blocked');
    expect(check.evidence.errorCode).toBe('nsp-rejected');
    expect(check.fix.join('\n')).toMatch(/az network perimeter profile access-rule create/);
    expect(check.fix.join('\n')).not.toMatch(/private-endpoint create|az role assignment create/);
  });

  it('cuts an answer past the response cap: target_error naming the cap, and the process stays up', async () => {
    const { verdict } = await service.diagnose('?target=cfg-hostile');
    const check = checkOf(verdict, 'cfg-hostile');
    expect(check.cause).toBe('target_error');
    expect(check.explanation).toMatch(/response cap of 1 MiB/);
    expect(service.alive!()).toBe(true);
  }, 60_000);

  it('gives up on a store that never answers at the deadline: deadline_exceeded at the call stage', async () => {
    const deadlineMs = 3000;
    quick = await startService(
      serviceEnv(world, {
        DIAGNOSE_TARGETS: JSON.stringify([{ name: 'cfg-silent', kind: 'appConfiguration', endpoint: world.appConfigUrl('cac-silent'), key: 'App:Greeting' }]),
        DIAGNOSE_TIMEOUT_MS: String(deadlineMs),
      }),
    );
    const started = Date.now();
    const { verdict } = await quick.diagnose();
    const check = checkOf(verdict, 'cfg-silent');
    expect({ cause: check.cause, stage: check.stage }).toEqual({ cause: 'deadline_exceeded', stage: 'call' });
    // Loose: the deadline plus a busy machine's slack, far below any SDK default timeout.
    expect(Date.now() - started).toBeLessThan(deadlineMs + 15_000);
  }, 60_000);

  it('leaks no value, token or identity header in any format', async () => {
    for (const format of ['text', 'html', 'junit']) expect((await service.get(`/api/diagnose?format=${format}`)).text.length).toBeGreaterThan(0);
    expectNoLeaks(world, [service]);
  }, 60_000);
});
