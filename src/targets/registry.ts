import { z } from 'zod';
import { CLOUD_FACTS, CLOUD_NAMES, sameAudience, type CloudFacts, type CloudName } from '../catalog/clouds';
import type { BuiltInRole } from '../catalog/roles';
import type { BaseTarget, ForbiddenCode, Operation, TargetKind } from './kind';
import type { Evidence } from '../verdict';
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

/**
 * THE list of target kinds. Adding a kind is its folder under src/targets/ and one line here; the settings schema,
 * the verdict's kind enum, dispatch, nouns, health component types and the README's tables derive from this list.
 */
export const KINDS = [keyVaultSecret, storageBlob, armResource, appConfiguration, microsoftGraph, containerRegistry, cosmosDb, azureOpenAI, storageQueue, storageTable, serviceBus, eventHubs, azureSql] as const;

type Kinds = typeof KINDS;

/** A target of any registered kind. */
export type Target = z.infer<Kinds[number]['schema']>;

/** A target of any registered kind (zod discriminated union on `kind`). */
export const TargetSchema = z.discriminatedUnion(
  'kind',
  KINDS.map((k) => k.schema) as unknown as [z.core.$ZodTypeDiscriminable, ...z.core.$ZodTypeDiscriminable[]],
) as unknown as z.ZodType<Target>;
export type TargetKindName = Target['kind'];

/** The kind names, in registry order (the verdict's and OpenAPI's kind enum). */
export const KIND_NAMES = KINDS.map((k) => k.kind) as [TargetKindName, ...TargetKindName[]];

const BY_NAME = new Map<string, TargetKind>(KINDS.map((k): [string, TargetKind] => [k.kind, k as unknown as TargetKind]));

/** The kind module of a target (or a kind name). Its functions take that target. */
export function kindOf<T extends BaseTarget = Target>(target: T | TargetKindName): TargetKind<T> {
  return BY_NAME.get(typeof target === 'string' ? target : target.kind) as unknown as TargetKind<T>;
}

/** Whether a string names a registered kind. */
export function isKindName(kind: unknown): kind is TargetKindName {
  return typeof kind === 'string' && BY_NAME.has(kind);
}

/** Each kind's probe operation (plane, permission, least role), by kind name. */
export const OPERATIONS = Object.fromEntries(KINDS.map((k) => [k.kind, k.operation])) as Record<TargetKindName, Operation>;

/** The operation a target probes: its kind's, or what the target's own settings select (see TargetKind.operationFor). */
export function operationOf(target: BaseTarget, evidence?: Evidence): Operation {
  const kind = kindOf<BaseTarget>(target);
  return kind.operationFor?.(target, evidence) ?? kind.operation;
}

/** A cloud's facts joined with every kind's audiences and host suffixes in it. */
export interface Cloud extends CloudFacts {
  /** The audience a token is requested for, per kind. */
  audiences: Record<TargetKindName, string>;
  /** Other audiences the service also accepts. */
  alsoAccepted: Record<TargetKindName, readonly string[]>;
  /** The host suffix of each kind's service (ARM: its endpoint host). */
  dnsSuffixes: Record<TargetKindName, string>;
}

const perKind = <V>(f: (k: TargetKind) => V) => Object.fromEntries(KINDS.map((k) => [k.kind, f(k as unknown as TargetKind)])) as unknown as Record<TargetKindName, V>;

export const CLOUDS: Readonly<Record<CloudName, Cloud>> = Object.fromEntries(
  CLOUD_NAMES.map((c) => [
    c,
    {
      ...CLOUD_FACTS[c],
      audiences: perKind((k) => k.audiences[c][0]),
      alsoAccepted: perKind((k) => k.audiences[c].slice(1)),
      dnsSuffixes: perKind((k) => k.hosts.suffixes[c]),
    },
  ]),
) as unknown as Record<CloudName, Cloud>;

/** Whether the service of `kind` in `cloud` accepts a token minted for `audience`. */
export function audienceAccepted(cloud: Cloud, kind: TargetKindName, audience: string): boolean {
  return [cloud.audiences[kind], ...cloud.alsoAccepted[kind]].some((a) => sameAudience(a, audience));
}

/** The least role a target needs: its kind's per-target one (Graph: the configured permission), else the kind's. */
export function leastRoleOf(target: BaseTarget, evidence?: Evidence): BuiltInRole {
  return kindOf(target).leastRoleFor?.(target) ?? operationOf(target, evidence).leastRole;
}

/** A 403's row in the kind's error dialect, by the code the service answered (the inner code first). */
export function forbiddenCode(kind: TargetKindName, errorCode: string | undefined, innerErrorCode: string | undefined, message?: string): ForbiddenCode | undefined {
  const k = kindOf(kind);
  return rowIn(k.forbidden, k.forbiddenKey?.({ errorCode, innerErrorCode, message }), errorCode, innerErrorCode);
}

/** A 401's row in the kind's `unauthorized` dialect (a 401 that is not authentication), if the kind has one. */
export function unauthorizedCode(kind: TargetKindName, errorCode: string | undefined, innerErrorCode: string | undefined): ForbiddenCode | undefined {
  const table = kindOf(kind).unauthorized;
  return table ? rowIn(table, undefined, errorCode, innerErrorCode) : undefined;
}

/** The row of a dialect table: a kind's own key first, then the inner code, then the code. */
function rowIn(table: Readonly<Record<string, ForbiddenCode>>, key: string | undefined, errorCode: string | undefined, innerErrorCode: string | undefined): ForbiddenCode | undefined {
  for (const code of [key, innerErrorCode, errorCode]) if (code && Object.hasOwn(table, code)) return table[code];
  return undefined;
}

/** The audience a target's token is requested for when none is configured: its kind's own for the target, else the cloud's. */
export function defaultAudienceOf(target: BaseTarget & { kind: TargetKindName }, cloud: Cloud): string {
  return kindOf(target).audienceFor?.(target, cloud.name) ?? cloud.audiences[target.kind];
}

/** Whether the service of `target` accepts `audience`: its kind's audiences in the cloud, or the target's own one. */
export function targetAudienceAccepted(target: BaseTarget & { kind: TargetKindName }, cloud: Cloud, audience: string): boolean {
  const own = kindOf(target).audienceFor?.(target, cloud.name);
  return (own !== undefined && sameAudience(own, audience)) || audienceAccepted(cloud, target.kind, audience);
}
