/**
 * The ARM authorization SDK, behind a module of our own so that src/engine/roles.ts can load it on the first 403
 * with `import('./authorizationClient')`: dynamic imports name only our modules — the bundle (scripts/bundle.ts)
 * keeps a package's named exports through a static import, not through a dynamic import of a CommonJS package.
 */
export { AuthorizationManagementClient } from '@azure/arm-authorization';
