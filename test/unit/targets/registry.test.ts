import fs from 'node:fs';
import path from 'node:path';
import { CLOUD_NAMES } from '../../../src/catalog/clouds';
import { ROLES } from '../../../src/catalog/roles';
import { TargetListSchema } from '../../../src/config';
import { COMPONENT_TYPES } from '../../../src/output/health';
import { audienceAccepted, CLOUDS, forbiddenCode, isKindName, kindOf, KIND_NAMES, KINDS } from '../../../src/targets/registry';
import { KindSchema } from '../../../src/verdict';

describe('the registry of target kinds', () => {
  it('is the kind enum of the verdict, in its order', () => {
    expect(KindSchema.options).toEqual(KINDS.map((k) => k.kind));
    expect(KIND_NAMES).toEqual(KINDS.map((k) => k.kind));
  });

  it('dispatches a target to its own kind module and knows no other kind', () => {
    for (const k of KINDS) expect(kindOf(k.kind)).toBe(k);
    expect(isKindName('keyVaultSecret')).toBe(true);
    expect(isKindName('mongoDb')).toBe(false);
    expect(isKindName('toString')).toBe(false);
  });

  it('parses each kind by its own schema and refuses a kind it does not list', () => {
    const parsed = TargetListSchema.parse([{ name: 'a', kind: 'armResource', resourceId: '/subscriptions/s/resourceGroups/rg' }]);
    expect(parsed[0]!.kind).toBe('armResource');
    expect(TargetListSchema.safeParse([{ name: 'a', kind: 'mongoDb', accountUrl: 'https://x.mongo.cosmos.azure.com' }]).success).toBe(false);
  });

  it('joins every kind\'s audiences and host suffixes into each cloud', () => {
    for (const cloud of CLOUD_NAMES) {
      for (const k of KINDS) {
        expect(CLOUDS[cloud].audiences[k.kind]).toBe(k.audiences[cloud][0]);
        expect(CLOUDS[cloud].dnsSuffixes[k.kind]).toBe(k.hosts.suffixes[cloud]);
        for (const a of k.audiences[cloud]) expect(audienceAccepted(CLOUDS[cloud], k.kind, a)).toBe(true);
      }
    }
    expect(audienceAccepted(CLOUDS.AzurePublicCloud, 'storageBlob', 'https://vault.azure.net')).toBe(false);
  });

  it('gives each kind a least role from the one role table, and a health component type', () => {
    const roleIds = new Set<string>(Object.values(ROLES).map((r) => r.id));
    for (const k of KINDS) {
      expect(roleIds.has(k.operation.leastRole.id)).toBe(true);
      expect(COMPONENT_TYPES[k.kind]).toBe(k.componentType);
    }
  });

  it('reads a 403 by its kind\'s own dialect, the inner code first, and does not guess an unknown one', () => {
    expect(forbiddenCode('keyVaultSecret', 'Forbidden', 'ForbiddenByRbac')?.cause).toBe('role_missing');
    expect(forbiddenCode('storageBlob', 'AuthorizationPermissionMismatch', undefined)?.cause).toBe('role_missing');
    // Another kind's code means nothing here.
    expect(forbiddenCode('armResource', 'AuthorizationPermissionMismatch', undefined)).toBeUndefined();
    expect(forbiddenCode('keyVaultSecret', 'Forbidden', 'toString')).toBeUndefined();
  });

  it('is the only place outside the kind folders that knows a kind by name: no branching on a kind elsewhere in src', () => {
    const src = path.resolve(__dirname, '../../../src');
    const files = (fs.readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.startsWith(`targets${path.sep}`));
    const names = KINDS.map((k) => k.kind).join('|');
    const branching = new RegExp(`case '(${names})'|kind [!=]== '(${names})'|\\.(${names})\\b`);
    const hits = files.flatMap((f) =>
      fs.readFileSync(path.join(src, f), 'utf8').split('\n').map((line, i) => ({ at: `src/${f}:${i + 1}`, line })).filter(({ line }) => branching.test(line)),
    );
    expect(files.length).toBeGreaterThan(20);
    expect(hits).toEqual([]);
  });
});
