import { startWorld } from './index';
import { OTHER_IDENTITY, EXPECTED_CAUSES, serviceEnv, stageStandardWorld, standardTargets } from './scenario';
import { startService, type RunningService } from './serviceProcess';

/**
 * `npm start`: the simulated Azure with staged dependencies (one healthy and one per cause) and the real service wired
 * to it — no Azure account needed. Identity-level causes are host-wide, so each gets its own small service process.
 */
async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 7071);
  console.log('starting the simulated Azure (identity endpoint, Key Vault, ARM, Storage front + Azurite)…');
  const world = await startWorld();
  await stageStandardWorld(world);
  const targets = standardTargets(world);
  const onePerKind = JSON.stringify(targets.filter((t: { name: string }) => ['kv-ok', 'blob-ok', 'arm-ok'].includes(t.name)));
  const closed = await world.closedPort();

  const services: { label: string; svc: RunningService; shows: string }[] = [];
  const main = await startService(serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(targets) }), { port });
  services.push({ label: 'main', svc: main, shows: Object.entries(EXPECTED_CAUSES).map(([t, c]) => `${t}→${c}`).join(', ') });
  const variants: [string, Record<string, string | undefined>, string][] = [
    ['no identity enabled', { DIAGNOSE_TARGETS: onePerKind, IDENTITY_ENDPOINT: undefined, IDENTITY_HEADER: undefined }, 'no_managed_identity'],
    ['identity not attached', { DIAGNOSE_TARGETS: onePerKind, AZURE_CLIENT_ID: OTHER_IDENTITY.clientId }, 'identity_not_found'],
    ['endpoint refusing', { DIAGNOSE_TARGETS: onePerKind, IDENTITY_ENDPOINT: `http://127.0.0.1:${closed}/msi/token` }, 'identity_endpoint_unreachable'],
  ];
  for (const [label, overrides, shows] of variants) {
    services.push({ label, svc: await startService(serviceEnv(world, overrides)), shows });
  }

  console.log('\nIdentity Doctor sandbox is up. The service runs exactly as on Azure, against a simulated Azure on loopback.\n');
  for (const { label, svc, shows } of services) {
    console.log(`  ${label.padEnd(22)} ${svc.url}/api/diagnose`);
    console.log(`  ${''.padEnd(22)} shows: ${shows}\n`);
  }
  console.log('Try:');
  console.log(`  curl -s ${main.url}/api/diagnose | less`);
  console.log(`  curl -s "${main.url}/api/diagnose?target=kv-ok,blob-ok,arm-ok"`);
  console.log(`  curl -s --fail "${main.url}/api/diagnose?target=kv-norole" || echo "pipeline would stop here"`);
  console.log('\nCtrl-C stops everything.');

  const stop = async () => {
    await Promise.all(services.map((s) => s.svc.stop()));
    await world.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
