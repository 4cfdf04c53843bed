import { ConfigError, loadSettings } from '../../../src/config';
import { ROLES } from '../../../src/catalog/roles';
import { containerRegistry, registryOperation, type ContainerRegistryTarget } from '../../../src/targets/containerRegistry';
import type { CallFailure } from '../../../src/wire/callFailure';

function problemsOf(targets: unknown[]): { setting: string; expected: string }[] {
  try {
    loadSettings({ DIAGNOSE_TARGETS: JSON.stringify(targets) });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

const registry = { name: 'images', kind: 'containerRegistry', endpoint: 'https://acrapp.azurecr.io' };
const target = (extra: Partial<ContainerRegistryTarget> = {}): ContainerRegistryTarget => ({ ...registry, kind: 'containerRegistry', ...extra });

describe('the containerRegistry kind', () => {
  it('accepts a registry with or without a repository, and names the bad field otherwise', () => {
    expect(problemsOf([registry, { ...registry, name: 'repo', repository: 'team/app-api' }])).toEqual([]);
    expect(problemsOf([{ ...registry, endpoint: 'http://acrapp.azurecr.io' }])).toEqual([
      { setting: 'DIAGNOSE_TARGETS[0].endpoint', expected: expect.stringContaining('https://<registry>.azurecr.io') },
    ]);
    expect(problemsOf([{ ...registry, repository: 'Team/App' }])).toEqual([
      { setting: 'DIAGNOSE_TARGETS[0].repository', expected: expect.stringContaining('expected a repository name') },
    ]);
    expect(problemsOf([{ name: 'images', kind: 'containerRegistry' }])[0]).toMatchObject({ setting: 'DIAGNOSE_TARGETS[0].endpoint' });
  });

  it('asks for the scope, data action and ABAC-mode role of the operation the fields configure', () => {
    expect(registryOperation(target({ repository: 'app/api' }))).toMatchObject({
      scope: 'repository:app/api:metadata_read',
      dataAction: 'Microsoft.ContainerRegistry/registries/repositories/metadata/read',
      abacRole: ROLES.containerRegistryRepositoryReader,
    });
    expect(registryOperation(target())).toMatchObject({
      scope: 'registry:catalog:*',
      dataAction: 'Microsoft.ContainerRegistry/registries/catalog/read',
      abacRole: ROLES.containerRegistryRepositoryCatalogLister,
    });
  });

  it('counts a role as covering if it grants the operation in either permission mode, and only the right one of the two ABAC roles', () => {
    const grants = containerRegistry.grants!;
    for (const role of [ROLES.acrPull, ROLES.reader, ROLES.contributor]) expect(grants(role, target())).toBe(true);
    expect(grants(ROLES.containerRegistryRepositoryCatalogLister, target())).toBe(true);
    expect(grants(ROLES.containerRegistryRepositoryReader, target())).toBe(false);
    expect(grants(ROLES.containerRegistryRepositoryReader, target({ repository: 'app/api' }))).toBe(true);
    expect(grants(ROLES.containerRegistryRepositoryCatalogLister, target({ repository: 'app/api' }))).toBe(false);
    expect(grants(ROLES.keyVaultSecretsUser, target())).toBe(false);
  });

  it('reads a refusal after the exchange as a missing role, and leaves one at the exchange to the token checks', () => {
    const classify = (f: CallFailure) => containerRegistry.classify!(f);
    expect(classify({ step: 'call', httpStatus: 401, errorCode: 'UNAUTHORIZED' })).toBe('role_missing');
    expect(classify({ step: 'token', httpStatus: 401, errorCode: 'UNAUTHORIZED' })).toBe('role_missing');
    expect(classify({ step: 'token', httpStatus: 403, errorCode: 'DENIED' })).toBeUndefined();
    expect(classify({ step: 'exchange', httpStatus: 401, errorCode: 'UNAUTHORIZED' })).toBeUndefined();
    expect(classify({ step: 'call', httpStatus: 404, errorCode: 'NAME_UNKNOWN' })).toBeUndefined();
    expect(classify({ step: 'call', httpStatus: 403, errorCode: 'DENIED' })).toBeUndefined();
  });
});
