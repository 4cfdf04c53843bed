import fs from 'node:fs';
import { ARC_TOKENS_DIR, canStageArcDirectory, stageHosts } from './hostScenarios';
import { startWorld, type World } from './index';
import { KINDS } from '../../src/targets/registry';
import { stageKindCases } from './kinds';
import { OTHER_IDENTITY, serviceEnv, stageStandardWorld, standardTargets } from './scenario';
import { startService, type RunningService } from './serviceProcess';

/**
 * `npm start`: the simulated Azure with staged dependencies (one healthy and one per cause) and the real service wired
 * to it — no Azure account needed. Identity-level causes are host-wide, so each gets its own small service process,
 * and so does each host kind (AKS, Container Apps, VM/scale set, Arc, Service Fabric, Cloud Shell, Azure ML).
 */
type Running = { label: string; svc: RunningService; shows: string };

async function startServices(world: World, port: number, services: Running[]): Promise<{ main: RunningService; arcDirectory: boolean }> {
  const targets = standardTargets(world);
  const onePerKind = JSON.stringify(targets.filter((t: { name: string }) => ['kv-ok', 'blob-ok', 'arm-ok'].includes(t.name)));
  const closed = await world.closedPort();
  // The main service diagnoses, beside the standard targets, one target per cause each registered kind declares.
  const cases = await stageKindCases(world);
  const main = await startService(serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify([...targets, ...cases]), DIAGNOSE_TIMEOUT_MS: '8000' }), { port });
  const declared = KINDS.map((k) => `${k.kind}: ${k.causes.join(', ')}`).join(`\n${' '.repeat(70)}`);
  services.push({ label: 'main (every cause each kind declares)', svc: main, shows: declared });
  const variants: [string, Record<string, string | undefined>, string][] = [
    ['no identity enabled', { DIAGNOSE_TARGETS: onePerKind, IDENTITY_ENDPOINT: undefined, IDENTITY_HEADER: undefined }, 'no_managed_identity'],
    ['identity not attached', { DIAGNOSE_TARGETS: onePerKind, AZURE_CLIENT_ID: OTHER_IDENTITY.clientId }, 'identity_not_found'],
    ['endpoint refusing', { DIAGNOSE_TARGETS: onePerKind, IDENTITY_ENDPOINT: `http://127.0.0.1:${closed}/msi/token` }, 'identity_endpoint_unreachable'],
  ];
  for (const [label, overrides, shows] of variants) {
    services.push({ label, svc: await startService(serviceEnv(world, overrides)), shows });
  }
  // One small service per host kind and host-level cause. A federated credential seconds old heals within seconds,
  // so the sandbox leaves that one to the integration tests.
  const arcDirectory = canStageArcDirectory();
  const hosts = stageHosts(world, { arcDirectory }).filter((h) => h.name !== 'aks-fresh-federation');
  console.log(`starting ${hosts.length} host services (AKS, Container Apps, VM/scale set, Arc, Service Fabric, Cloud Shell, Azure ML)…`);
  // A few at a time: a busy machine starts eighteen Node processes at once slower than the start-up timeout.
  for (let i = 0; i < hosts.length; i += 3) {
    const batch = await Promise.all(hosts.slice(i, i + 3).map(async (h) => ({ h, svc: await startService(serviceEnv(world, h.env)) })));
    for (const { h, svc } of batch) services.push({ label: `${h.label} [${h.hostKind}]`, svc, shows: h.cause });
  }
  return { main, arcDirectory };
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 7071);
  console.log('starting the simulated Azure (identity endpoint, Entra, Key Vault, ARM, Storage front + Azurite)…');
  const world = await startWorld();
  await stageStandardWorld(world);
  const services: Running[] = [];
  const stop = async () => {
    await Promise.all(services.map((s) => s.svc.stop()));
    const arcKey = world.state.hosts['arc']?.arcKeyFile;
    if (arcKey) fs.rmSync(arcKey, { force: true });
    await world.stop();
  };
  let started: Awaited<ReturnType<typeof startServices>>;
  try {
    started = await startServices(world, port, services);
  } catch (err) {
    // A start-up failure must not orphan the services already running.
    await stop();
    throw err;
  }
  const { main, arcDirectory } = started;

  console.log('\nIdentity Doctor sandbox is up. The service runs exactly as on Azure, against a simulated Azure on loopback.\n');
  for (const { label, svc, shows } of services) {
    console.log(`  ${label.padEnd(60)} ${svc.url}/api/diagnose`);
    console.log(`  ${''.padEnd(60)} shows: ${shows}\n`);
  }
  if (!arcDirectory) console.log(`(no healthy Arc server: MSAL reads the challenge file only from ${ARC_TOKENS_DIR}, which is not writable here)\n`);
  console.log('Try:');
  console.log(`  curl -s ${main.url}/api/diagnose | less`);
  console.log(`  curl -s "${main.url}/api/diagnose?target=kv-ok,blob-ok,arm-ok"`);
  console.log(`  curl -s --fail "${main.url}/api/diagnose?target=kv-norole" || echo "pipeline would stop here"`);
  console.log('\nCtrl-C stops everything.');

  const exit = async () => {
    await stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void exit());
  process.on('SIGTERM', () => void exit());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
