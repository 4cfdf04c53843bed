import { startWorld, type World } from '../world';
import { RG_ACR } from '../world/kinds/containerRegistry';
import { RG_APP, serviceEnv, stageStandardWorld, TENANT_ID, OTHER_TENANT_ID, USER_IDENTITY } from '../world/scenario';
import type { Registry } from '../world/model';
import { FORMATS } from '../../src/output';
import { sh } from '../../src/advice/shell';
import type { Verdict } from '../../src/verdict';
import { checkOf, startService, type RunningService } from './harness';

/**
 * What a Container Registry verdict says beyond its cause: which request of ACR's token exchange failed, the role
 * the configured operation needs in each permission mode, and nothing of the registry's own tokens — not even the
 * signature of one a hostile registry quotes back.
 */
let world: World;
let service: RunningService;
let verdict: Verdict;
const id = (name: string, rg = RG_APP) => `${rg}/providers/Microsoft.ContainerRegistry/registries/${name}`;

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  world.state.arm.resourceGroups.push(RG_ACR);
  const add = (name: string, rg: string, extra: Partial<Registry> = {}) => {
    world.state.registries.push({ name, resourceId: id(name, rg), tenantId: TENANT_ID, repositories: { 'app/api': { tagCount: 1, manifestCount: 1 } }, ...extra });
    world.state.arm.resources.push(id(name, rg));
  };
  add('iacrtenant', RG_APP, { tenantId: OTHER_TENANT_ID });
  add('iacrnorole', RG_ACR, { echoTokens: true });
  add('iacrabac', RG_APP, { roleAssignmentMode: 'abac' });
  add('iacrok', RG_APP);
  add('iacryoung', RG_APP, { roleAssignmentMode: 'abac' });
  // Granted a minute ago, on a registry whose mode will never honour it: waiting alone would not help.
  world.grant(USER_IDENTITY.principalId, 'acrPull', id('iacryoung'), { createdOn: new Date(Date.now() - 60_000), propagationDelaySeconds: 3600 });
  world.grant(USER_IDENTITY.principalId, 'acrPull', id('iacrok'), { createdOn: new Date(Date.now() - 86_400_000) });
  const t = (name: string, registry: string, rg = RG_APP, extra: Record<string, unknown> = {}) =>
    ({ name, kind: 'containerRegistry', endpoint: world.registryUrl(registry), resourceId: id(registry, rg), ...extra });
  const targets = [
    t('acr-exchange-refused', 'iacrtenant'),
    t('acr-catalog-denied', 'iacrnorole', RG_ACR),
    t('acr-abac-repository', 'iacrabac', RG_APP, { repository: 'app/api' }),
    t('acr-repository-ok', 'iacrok', RG_APP, { repository: 'app/api' }),
    t('acr-young-acrpull', 'iacryoung', RG_APP, { repository: 'app/api' }),
  ];
  service = await startService(serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(targets), DIAGNOSE_TIMEOUT_MS: '8000' }));
  verdict = (await service.diagnose()).verdict;
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await world?.stop();
});

describe('a Container Registry verdict', () => {
  it('says the Entra token was refused at POST /oauth2/exchange', () => {
    const check = checkOf(verdict, 'acr-exchange-refused');
    expect({ cause: check.cause, step: check.evidence.step, status: check.httpStatus, code: check.evidence.errorCode }).toEqual({
      cause: 'token_rejected',
      step: 'exchange',
      status: 401,
      code: 'UNAUTHORIZED',
    });
    expect(check.explanation).toContain('POST /oauth2/exchange');
  });

  it('reads a 401 from the registry call after a successful exchange as a missing role, naming the catalog role for ABAC mode', () => {
    const check = checkOf(verdict, 'acr-catalog-denied');
    expect({ cause: check.cause, step: check.evidence.step }).toEqual({ cause: 'role_missing', step: 'call' });
    expect(check.evidence.wwwAuthenticate).toContain('scope="registry:catalog:*",error="insufficient_scope"');
    expect(check.fix[0]).toContain("--role AcrPull --scope");
    expect(check.fix.join('\n')).toContain(`--role ${sh('Container Registry Repository Catalog Lister')} --scope`);
    expect(check.fix.join('\n')).toContain('--query roleAssignmentMode');
  });

  it('calls Reader on the resource group ineffective on an ABAC-mode registry, and names Repository Reader for a repository read', () => {
    const check = checkOf(verdict, 'acr-abac-repository');
    expect(check.cause).toBe('grant_ineffective');
    expect(check.evidence.roles?.assignments.find((a) => a.roleName === 'Reader')).toMatchObject({ coversOperation: true, scopeRelation: 'above' });
    expect(check.explanation).toContain('RBAC Registry + ABAC Repository Permissions');
    expect(check.fix.join('\n')).toContain(`--role ${sh('Container Registry Repository Reader')} --scope`);
  });

  it('warns that a young AcrPull never takes effect on a registry in ABAC mode, and names the role that would', () => {
    const check = checkOf(verdict, 'acr-young-acrpull');
    expect(check.cause).toBe('propagation_pending');
    expect(check.explanation).toContain('AcrPull never takes effect');
    expect(check.explanation).toContain('Container Registry Repository Reader is the role to grant');
  });

  it('reports counts of what it read, not names', () => {
    const check = checkOf(verdict, 'acr-repository-ok');
    expect(check.cause).toBe('authorized');
    expect(check.evidence.result).toEqual({ readable: true, manifestCount: 1, tagCount: 1, canRead: true });
  });

  it('never says a registry token, not even the signature a hostile registry quotes back', async () => {
    const denied = checkOf(verdict, 'acr-catalog-denied');
    // The echo happened and was cut out by content: a signature alone has no JWT shape.
    expect(denied.evidence.message).toContain('(token signature [REDACTED])');
    const said: string[] = [];
    for (const format of FORMATS) said.push((await service.get(`/api/diagnose?format=${format}`)).text);
    said.push(service.logs());
    const text = said.join('\n');
    const registryTokens = world.mintedTokens.filter((tok) => JSON.parse(Buffer.from(tok.split('.')[1]!, 'base64url').toString()).iss === 'Azure Container Registry');
    expect(registryTokens.length).toBeGreaterThan(0);
    const leaked = registryTokens.flatMap((tok) => [tok, tok.split('.')[2]!]).filter((needle) => text.includes(needle));
    expect(leaked).toEqual([]);
  });
});
