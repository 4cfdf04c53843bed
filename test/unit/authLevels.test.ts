import { HttpRequest } from '@azure/functions';
import { parseDiagnoseRequest } from '../../src/http/diagnoseRequest';
import { createRoutes, type Route } from '../../src/routes';
import { settingsFor } from './fixtures/settings';

/**
 * Who may call what on Azure. /api/diagnose spends the identity's token on every call and shows principal ids and
 * evidence, so the Functions host must demand the function key for it; the key is then the host's business.
 */
describe('auth levels on Azure', () => {
  it('requires the function key for /api/diagnose', () => {
    const diagnose = createRoutes().find((r) => r.name === 'diagnose');
    expect(diagnose).toMatchObject({ route: 'diagnose', authLevel: 'function' });
  });

  it('declares an auth level on every route, and registers each with the Functions host at exactly that level', () => {
    let registered: [string, { route?: string; authLevel?: string }][] = [];
    jest.isolateModules(() => {
      const functions = require('@azure/functions') as typeof import('@azure/functions');
      const spy = jest.spyOn(functions.app, 'http').mockImplementation(() => undefined);
      require('../../src/index');
      registered = spy.mock.calls as unknown as typeof registered;
    });
    const routes: Route[] = createRoutes();
    for (const r of routes) expect(['anonymous', 'function', 'admin']).toContain(r.authLevel);
    expect(registered.map(([name, o]) => [name, o.route, o.authLevel])).toEqual(routes.map((r) => [r.name, r.route, r.authLevel]));
  });

  it('accepts the key passed as ?code= (the host checks it and passes the query on) without echoing it', async () => {
    const key = 'k3y-0f-the-function-abc123';
    const r = await parseDiagnoseRequest(new HttpRequest({ method: 'GET', url: `http://localhost/api/diagnose?code=${key}&target=kv` }), settingsFor({
      DIAGNOSE_TARGETS: JSON.stringify([{ name: 'kv', kind: 'keyVaultSecret', vaultUrl: 'https://kv1.vault.azure.net', secretName: 's' }]),
    }));
    expect(r.ok && r.value.targets.map((t) => t.name)).toEqual(['kv']);
    expect(JSON.stringify(r)).not.toContain(key);
  });
});
