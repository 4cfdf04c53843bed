import type { Settings } from '../../config';
import { appService } from './appService';
import { arc } from './arc';
import { cloudShell } from './cloudShell';
import { imds } from './imds';
import { machineLearning } from './machineLearning';
import { serviceFabric } from './serviceFabric';
import type { IdentitySource, SourceId } from './types';
import { workloadIdentity } from './workloadIdentity';

export * from './types';

/**
 * The identity sources in the SDK's own order: @azure/identity's token exchange (AKS workload identity) first, then
 * MSAL's `ManagedIdentityClient.selectManagedIdentitySource` — Service Fabric → App Service → Machine Learning →
 * Cloud Shell → Azure Arc → IMDS. The first whose variables are present is the one the SDK will use.
 */
export const SOURCES: readonly IdentitySource[] = [workloadIdentity, serviceFabric, appService, machineLearning, cloudShell, arc, imds];

/** The source the SDK will use on this host. */
export function detectSource(settings: Settings): IdentitySource {
  return SOURCES.find((s) => s.detect(settings)) ?? imds;
}

export function sourceById(id: SourceId): IdentitySource {
  return SOURCES.find((s) => s.id === id) ?? imds;
}
