import { HttpRequest } from '@azure/functions';
import fc from 'fast-check';
import type { Target } from '../../../src/config';
import { parseDiagnoseRequest } from '../../../src/http/diagnoseRequest';
import { ProblemSchema } from '../../../src/http/problem';
import { kindOf } from '../../../src/targets/registry';
import { settingsFor } from '../fixtures/settings';

/** The request parser over arbitrary input, many more runs than the HTTP-level properties can afford. */
const settings = settingsFor({
  DIAGNOSE_TARGETS: JSON.stringify([
    { name: 'kv', kind: 'keyVaultSecret', vaultUrl: 'https://kv1.vault.azure.net', secretName: 's' },
    { name: 'arm', kind: 'armResource', resourceId: '/subscriptions/s/resourceGroups/rg' },
  ]),
});

const text = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 30 }), fc.constantFrom('kv', 'arm', 'kv,arm', 'json', ',', ''));
const query = fc.array(fc.tuple(fc.oneof(fc.constantFrom('target', 'format'), text), text), { maxLength: 5 });
const body = fc.oneof(fc.constant(''), fc.string({ maxLength: 200 }), fc.json(), fc.constantFrom('[{"name":"x","kind":"keyVaultSecret","vaultUrl":"https://kv2.vault.azure.net","secretName":"s"}]', '[{"kind":"toString"}]'));

function serviceHost(t: Target): boolean {
  // Whatever the kind, the URL its token goes to (ARM: the target's endpoint, else the default one; SQL: its server).
  const url = t.kind === 'azureSql' ? `https://${t.server}` : kindOf(t).endpoint(t as never, { armEndpoint: 'https://management.azure.com' });
  return /^[a-z0-9-]+\.(vault\.azure\.net|(blob|queue|table)\.core\.windows\.net|documents\.azure\.com|database\.windows\.net)$|^management\.azure\.com$/.test(new URL(url).host);
}

describe('parseDiagnoseRequest', () => {
  it('never throws: any query, body and content type ends in targets to run or a 4xx problem', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST'), query, body, fc.option(fc.constantFrom('application/json', 'text/plain', 'APPLICATION/JSON; x=y')), async (method, q, b, type) => {
        const url = new URL('http://localhost/api/diagnose');
        for (const [k, v] of q) url.searchParams.append(k, v);
        const request = new HttpRequest({ method, url: url.toString(), headers: type ? { 'content-type': type } : {}, ...(method === 'POST' ? { body: { string: b } } : {}) });
        const r = await parseDiagnoseRequest(request, settings);
        // What runs is configured, or an ad-hoc target on one of the cloud's own service hosts.
        if (r.ok) return r.value.targets.every((t) => settings.targets.includes(t) || serviceHost(t));
        const problem = ProblemSchema.parse(JSON.parse(r.response.body as string));
        return problem.status === r.response.status && r.response.status! >= 400 && r.response.status! < 500;
      }),
      { numRuns: 1000 },
    );
  });
});
