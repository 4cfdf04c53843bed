import { CLOUD_NAMES } from '../../../src/catalog/clouds';
import { TargetListSchema, type Target } from '../../../src/config';
import { classifyCallFailure } from '../../../src/engine/classify';
import { audienceOf } from '../../../src/engine/runTarget';
import { CLOUDS, forbiddenCode, kindOf, targetAudienceAccepted } from '../../../src/targets/registry';
import type { CallFailure } from '../../../src/wire/callFailure';
import { OID, TENANT, settingsFor } from '../fixtures/settings';

const target = { name: 'orders', kind: 'cosmosDb', accountEndpoint: 'https://cosmos-app.documents.azure.com', database: 'app', container: 'orders' } as const;
const issuesOf = (t: Record<string, unknown>) => {
  const r = TargetListSchema.safeParse([t]);
  return r.success ? [] : [...new Set(r.error.issues.map((i) => i.path.slice(1).join('.')))];
};

describe('the cosmosDb kind', () => {
  describe('its settings', () => {
    it('accepts a container, and a point read with its partition key (a value, or the values of a hierarchical key)', () => {
      expect(issuesOf(target)).toEqual([]);
      expect(issuesOf({ ...target, itemId: 'order-1', partitionKey: 'contoso' })).toEqual([]);
      expect(issuesOf({ ...target, itemId: 'order-1', partitionKey: ['contoso', 2024] })).toEqual([]);
    });

    it('names the bad field: an itemId without its partitionKey, an endpoint with a path, an id with a slash', () => {
      expect(issuesOf({ ...target, itemId: 'order-1' })).toEqual(['partitionKey']);
      expect(issuesOf({ ...target, accountEndpoint: 'https://cosmos-app.documents.azure.com/dbs/app' })).toEqual(['accountEndpoint']);
      expect(issuesOf({ ...target, accountEndpoint: 'http://cosmos-app.documents.azure.com' })).toEqual(['accountEndpoint']);
      expect(issuesOf({ ...target, database: 'a/b' })).toEqual(['database']);
      expect(issuesOf({ ...target, container: '' })).toEqual(['container']);
    });
  });

  describe('its audience', () => {
    it('is the account\'s own endpoint, as @azure/cosmos asks for it: no trailing slash, no default port, in every cloud', () => {
      for (const cloud of CLOUD_NAMES) {
        const suffix = CLOUDS[cloud].dnsSuffixes.cosmosDb;
        const t = { ...target, accountEndpoint: `https://cosmos-app.${suffix}:443/` } as Target;
        expect(audienceOf(t, settingsFor({ AZURE_CLOUD: cloud }))).toBe(`https://cosmos-app.${suffix}`);
        expect(targetAudienceAccepted(t, CLOUDS[cloud], `https://cosmos-app.${suffix}`)).toBe(true);
        expect(targetAudienceAccepted(t, CLOUDS[cloud], `https://other.${suffix}`)).toBe(false);
      }
      expect(targetAudienceAccepted(target as Target, CLOUDS.AzurePublicCloud, 'https://cosmos.azure.com')).toBe(true);
    });

    it('yields to a configured audience override (what the verdict then checks)', () => {
      expect(audienceOf({ ...target, audience: 'https://cosmos.azure.com' } as Target, settingsFor())).toBe('https://cosmos.azure.com');
    });
  });

  describe('its error dialect', () => {
    const settings = settingsFor();
    const now = Math.floor(Date.now() / 1000);
    const claims = { aud: 'https://cosmos-app.documents.azure.com', tid: TENANT, oid: OID, iss: `https://sts.windows.net/${TENANT}/`, exp: now + 3600 };
    const classify = (failure: CallFailure) => classifyCallFailure({ target: target as Target, failure, claims, settings, nowSeconds: now });

    it('reads a 403 by its sub-status: 5301 is a missing SQL role, 5300 a control-plane operation; an unknown one is not guessed', () => {
      expect(forbiddenCode('cosmosDb', 'Forbidden', '5301')?.cause).toBe('role_missing');
      expect(forbiddenCode('cosmosDb', 'Forbidden', '5300')?.cause).toBe('forbidden_other');
      expect(forbiddenCode('cosmosDb', 'Forbidden', '1234')).toBeUndefined();
      expect(classify({ httpStatus: 403, errorCode: 'Forbidden', innerErrorCode: '1234', message: 'x' })).toBe('forbidden_other');
    });

    it('tells the firewall by its words when the sub-status is 0, and only then', () => {
      const firewall = 'Request originated from IP 10.1.2.3 through public internet. This is blocked by your Cosmos DB account firewall settings. More info: https://aka.ms/cosmosdb-tsg-forbidden';
      expect(classify({ httpStatus: 403, errorCode: 'Forbidden', message: firewall })).toBe('network_blocked');
      expect(classify({ httpStatus: 403, errorCode: 'Forbidden', message: 'Request is blocked. Please check your authorization token and Cosmos DB account firewall settings.' })).toBe('network_blocked');
      expect(forbiddenCode('cosmosDb', 'Forbidden', '5301', firewall)?.cause).toBe('role_missing');
    });

    it('reads Cosmos\'s 401s: the audience (5008), the tenant (5007), an expired token', () => {
      const blocked = (text: string, sub?: string): CallFailure => ({ httpStatus: 401, errorCode: 'Unauthorized', ...(sub ? { innerErrorCode: sub } : {}), message: `Request blocked by Auth cosmos-app : ${text}` });
      expect(classify(blocked('Provided AAD token is intended for [https://cosmos-app.documents.azure.com/]. This database account accepts tokens intended for [https://cosmos-app.documents.azure.com, https://cosmos.azure.com].', '5008'))).toBe('wrong_audience');
      expect(classify(blocked(`Provided AAD token was issued by the authority [${TENANT}] which is not trusted by this database account.`, '5007'))).toBe('wrong_tenant');
      expect(classify(blocked('Provided AAD token has been expired since [7/17/2022 5:09:09 PM (UTC)]. Current server time is [7/18/2022 12:04:25 AM (UTC)]. Please refresh the AAD token.'))).toBe('token_expired');
    });
  });

  describe('its fixes', () => {
    it('grants with az cosmosdb sql role assignment create on the container, never az role assignment create', () => {
      const withId = { ...target, resourceId: '/subscriptions/s1/resourceGroups/rg-data/providers/Microsoft.DocumentDB/databaseAccounts/cosmos-app' };
      const ctx = { target: withId, settings: settingsFor(), claims: { oid: OID }, hostKind: 'functions', evidence: {}, expectedAudience: '', stage: 'call' } as never;
      const fix = kindOf(withId as Target).fixes.role_missing!(ctx, undefined);
      expect(fix[0]).toBe(`az cosmosdb sql role assignment create --account-name cosmos-app --resource-group rg-data --role-definition-id 00000000-0000-0000-0000-000000000001 --principal-id ${OID} --scope /dbs/app/colls/orders`);
      expect(fix.some((l) => l.startsWith('az role assignment create'))).toBe(false);
    });
  });
});
