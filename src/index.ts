import './compileCache';
import { getSettings } from './config';
import { installLastResortGuard } from './engine/guard';
import { functionsFor, registerFunctions } from './hostFunctions';
import { ROUTES } from './routes';
import { preloadProbes } from './targets';
import { telemetrySourceFor } from './watch/watch';

/**
 * The standalone app's entry point (package.json `main`, which the Functions host loads): every route of the route
 * table, unprefixed under /api, plus the watch timer when DIAGNOSE_WATCH_SCHEDULE is set. An app that embeds Identity
 * Doctor imports the package instead (`exports` → src/register.ts) and never runs this file.
 */

// Parse the app settings at start-up: a bad value stops the host with the setting's name, not the first request.
const settings = getSettings();
// No answer from a dependency may end the host's worker process (see SECURITY.md).
installLastResortGuard();
// The SDKs of the configured kinds load now, not during the first diagnose (a failure surfaces at that probe).
preloadProbes(settings.targets).catch(() => undefined);

registerFunctions(
  functionsFor({ routes: ROUTES, routePrefix: '', settings: getSettings, telemetry: telemetrySourceFor(settings) }),
);
