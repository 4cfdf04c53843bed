import type { Settings } from '../config';
import { type HostKind } from '../verdict';
import { onAppServicePlatform } from './identity';
import { detectSource } from '../identity/sources';
import { appService } from '../identity/sources/appService';

/** The host kind: the source's, from the platform's variables, or — on the IMDS path — from whether anything answered. */
export function resolveHostKind(settings: Settings, findings: { endpointAnswered?: boolean }[]): HostKind {
  const source = detectSource(settings);
  // App Service-family hosts name themselves even when no identity is enabled (then the SDK falls through to IMDS).
  if (source.id === 'imds' && onAppServicePlatform(settings)) return appService.hostKind(settings, false);
  if (source.id === 'imds' && findings.length === 0 && !settings.platform.kubernetes) return 'unknown';
  return source.hostKind(settings, findings.some((f) => f.endpointAnswered));
}
