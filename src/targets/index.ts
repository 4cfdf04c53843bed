import type { Target } from '../config';
import { probeArmResource } from './armResource';
import { probeKeyVaultSecret } from './keyVaultSecret';
import { probeStorageBlob } from './storageBlob';
import type { CallOutcome, ProbeContext } from './probe';

/** The one place a target kind is dispatched to its probe. */
export function probe(target: Target, ctx: ProbeContext): Promise<CallOutcome> {
  switch (target.kind) {
    case 'keyVaultSecret':
      return probeKeyVaultSecret(target, ctx);
    case 'storageBlob':
      return probeStorageBlob(target, ctx);
    case 'armResource':
      return probeArmResource(target, ctx);
  }
}

export type { CallOutcome, CallFailure, ProbeContext, Correlation } from './probe';
