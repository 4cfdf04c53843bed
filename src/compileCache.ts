import nodeModule from 'node:module';

/**
 * Imported first by the entry points: on Node 22+ (the runtime Azure Functions uses) the module compile cache keeps
 * V8's compiled code of our dependencies on disk, so a restarted worker loads them faster. On Node 20 the API does not
 * exist and this does nothing.
 */
const withCache = nodeModule as typeof nodeModule & { enableCompileCache?: () => unknown };
try {
  withCache.enableCompileCache?.();
} catch {
  // A read-only or full temp directory only costs the speed-up.
}
