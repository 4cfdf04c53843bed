import fs from 'node:fs';
import path from 'node:path';
import { SETTING_NAMES } from '../../src/config';
import { ROUTES } from '../../src/routes';
import { Evaluator, objectAt, readBicep, show, type Expr } from '../support/bicep';

/**
 * The Container Apps option (infra/app/containerapp.bicep, enabled from main.bicep by containerAppImage), held
 * without a Bicep compiler to what the image and the server expect: the port the Dockerfile exposes, probes on
 * anonymous routes, the key as a secret, the diagnosed identity attached and never used for the image pull.
 */

const ROOT = path.resolve(__dirname, '../..');
const main = readBicep(path.join(ROOT, 'infra/main.bicep'));
const ca = readBicep(path.join(ROOT, 'infra/app/containerapp.bicep'));
const evaluate = (name: string) => new Evaluator(ca, { params: {}, environment: {} }).variable(name);
const app = ca.resources.find((r) => r.ref.startsWith('Microsoft.App/containerApps@'))!;
const caModule = main.modules.find((m) => m.ref === 'app/containerapp.bicep')!;
const passed = Object.fromEntries(objectAt(caModule.body, 'params').props.map((p) => [p.key, show(p.value)]));
const prop = (obj: Expr & { t: 'obj' }, key: string) => obj.props.find((p) => p.key === key)?.value;
const container = () => {
  const containers = prop(objectAt(app.body, 'properties', 'template'), 'containers') as Expr & { t: 'arr' };
  expect(containers.items).toHaveLength(1);
  return containers.items[0] as Expr & { t: 'obj' };
};
const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');

describe('the Container Apps option (infra/app/containerapp.bicep)', () => {
  it('is deployed only when an image is named, so the Functions deployment is unchanged by default', () => {
    expect(show(caModule.condition!)).toBe('!empty(containerAppImage)');
    expect(show(main.params.get('containerAppImage')!.default!)).toBe("''");
  });

  it('gets every parameter it requires from main.bicep, and only parameters it declares', () => {
    expect(Object.keys(passed).filter((p) => !ca.params.has(p))).toEqual([]);
    expect([...ca.params.values()].filter((p) => !p.default && !(p.name in passed)).map((p) => p.name)).toEqual([]);
  });

  it('runs as the diagnosed identity with the service\'s settings, and pulls the image with the host identity', () => {
    expect(passed).toMatchObject({ diagnosedIdentityId: 'diagnosedIdentity.id', hostIdentityId: 'hostIdentity.id', appSettings: 'diagnoseSettings' });
    expect(show(objectAt(app.body, 'identity'))).toBe("{ type: 'UserAssigned', userAssignedIdentities: { ${…}: {  }, ${…}: {  } } }");
    expect(show(prop(objectAt(app.body, 'properties', 'configuration'), 'registries')!)).toContain('identity: hostIdentityId');
    expect(show(prop(objectAt(app.body, 'properties', 'configuration'), 'registries')!)).not.toContain('diagnosedIdentityId');
    expect(show(prop(container(), 'env')!)).toBe('concat(map(items(appSettings), s => { name: s.key, value: string(s.value) }), keySettings)');
  });

  it('serves on the port the image exposes, HTTPS only at the ingress', () => {
    const exposed = Number(/^EXPOSE\s+(\d+)/m.exec(dockerfile)?.[1]);
    expect(evaluate('port')).toBe(exposed);
    const ingress = objectAt(app.body, 'properties', 'configuration', 'ingress');
    expect(show(prop(ingress, 'targetPort')!)).toBe('port');
    expect(show(prop(ingress, 'allowInsecure')!)).toBe('false');
  });

  it('probes anonymous routes on that port: liveness /api/health/live, readiness too (ingress must keep reaching /api/diagnose)', () => {
    const probes = evaluate('probes') as { type: string; httpGet: { path: string; port: number } }[];
    expect(probes.map((p) => [p.type, p.httpGet.path])).toEqual([
      ['Liveness', '/api/health/live'],
      ['Readiness', '/api/health/live'],
    ]);
    const anonymous = ROUTES.filter((r) => r.authLevel === 'anonymous').map((r) => `/api/${r.route}`);
    for (const p of probes) {
      expect(anonymous).toContain(p.httpGet.path);
      expect(p.httpGet.port).toBe(evaluate('port'));
    }
    expect(show(prop(container(), 'probes')!)).toBe('probes');
  });

  it('gives the server its key as a Container Apps secret from a secure parameter, never as a plain value', () => {
    const keySettings = evaluate('keySettings') as { name: string; secretRef?: string; value?: string }[];
    expect(keySettings).toEqual([{ name: 'DIAGNOSE_API_KEY', secretRef: 'diagnose-api-key' }]);
    for (const s of keySettings) expect(SETTING_NAMES).toContain(s.name);
    const secrets = show(prop(objectAt(app.body, 'properties', 'configuration'), 'secrets')!);
    expect(secrets).toBe("[{ name: 'diagnose-api-key', value: apiKey }]");
    expect(ca.params.get('apiKey')!.decorators.map((d) => d.name)).toContain('secure');
    expect(main.params.get('containerAppApiKey')!.decorators.map((d) => d.name)).toContain('secure');
    expect(passed.apiKey).toBe('containerAppApiKey');
  });

  it('tells azd where the Container App answers', () => {
    expect(show(main.outputs.get('DIAGNOSE_CONTAINER_APP_URL')!.value)).toBe(
      "empty(containerAppImage) ? '' : 'https://${containerApp!.outputs.fqdn}/api/diagnose'",
    );
  });
});
