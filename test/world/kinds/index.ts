import { KINDS, type TargetKindName } from '../../../src/targets/registry';
import type { World } from '../index';
import type { DiagnoseTarget } from '../scenario';
import { armResource } from './armResource';
import { keyVaultSecret } from './keyVaultSecret';
import { storageBlob } from './storageBlob';
import { appConfiguration } from './appConfiguration';
import { microsoftGraph } from './microsoftGraph';
import { containerRegistry } from './containerRegistry';
import { cosmosDb } from './cosmosDb';
import { azureOpenAI } from './azureOpenAI';
import { storageQueue } from './storageQueue';
import { storageTable } from './storageTable';
import { serviceBus } from './serviceBus';
import { eventHubs } from './eventHubs';
import { azureSql } from './azureSql';
import type { KindWorld } from './types';

/**
 * Every registered kind's scenarios, registered once. Typed by the registry's kind names: a kind added to
 * src/targets/registry.ts without its world here does not compile.
 */
export const KIND_WORLDS: { readonly [K in TargetKindName]: KindWorld } = { keyVaultSecret, storageBlob, armResource, appConfiguration, microsoftGraph, containerRegistry, cosmosDb, azureOpenAI, storageQueue, storageTable, serviceBus, eventHubs, azureSql };

/** Stage every kind's cases (after stageStandardWorld) and return their targets, one per declared cause. */
export async function stageKindCases(world: World): Promise<DiagnoseTarget[]> {
  for (const k of Object.values(KIND_WORLDS)) k.stage(world);
  await world.syncStorage();
  return Object.values(KIND_WORLDS).flatMap((k) => Object.values(k.cases(world)).filter((t): t is DiagnoseTarget => t !== undefined));
}

export type { KindWorld } from './types';

const stagedPerKind = new WeakMap<World, DiagnoseTarget[]>();

/**
 * Each registered kind's healthy target, in the registry's order, its world staged once per world (after
 * stageStandardWorld): the bench's P1 per kind and P4 with every kind, and the tests of many audiences at once.
 */
export async function authorizedPerKind(world: World): Promise<DiagnoseTarget[]> {
  let targets = stagedPerKind.get(world);
  if (!targets) {
    targets = [];
    for (const k of KINDS) {
      const kw = KIND_WORLDS[k.kind as TargetKindName];
      kw.stage(world);
      const t = kw.cases(world).authorized;
      if (!t) throw new Error(`the ${k.kind} world stages no authorized case`);
      targets.push(t);
    }
    await world.syncStorage();
    stagedPerKind.set(world, targets);
  }
  return targets;
}
