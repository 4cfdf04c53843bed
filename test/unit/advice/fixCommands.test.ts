import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { CAUSE_CATALOG, type CauseContext } from '../../../src/advice/causes';
import type { Target } from '../../../src/config';
import { CAUSES, type Evidence, type HostKind } from '../../../src/verdict';
import { settingsFor } from '../fixtures/settings';

/**
 * Every fix line of every cause, for every kind, is pasted into bash — the shell it is written for — with hostile
 * values in every place a value can come from (target configuration, an ad-hoc target, the token's claims, the host's
 * settings, what the service answered). `az` is a function that records its arguments and answers like a look-up;
 * nothing an attacker wrote may run, and our own `$(az … show …)` look-ups must still run.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fixcmd-'));
const MARK = path.join(dir, 'pwned');
const LOG = path.join(dir, 'az.log');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What an attacker would put in an id or a name: each one tries to create MARK. */
const PAYLOADS = [
  `$(touch ${MARK})`,
  `\`touch ${MARK}\``,
  `'; touch ${MARK}; '`,
  `"; touch ${MARK}; "`,
  `\ntouch ${MARK}\n`,
  `x; touch ${MARK}`,
  `x && touch ${MARK} #`,
  `$(touch\${IFS}${MARK})`,
  `\r\ntouch ${MARK}`,
  `x' "$(touch ${MARK})" '`,
  `!!; touch ${MARK}`,
];
const hostile = fc.oneof(
  fc.constantFrom(...PAYLOADS),
  fc.tuple(fc.string({ maxLength: 6 }), fc.constantFrom(...PAYLOADS), fc.string({ maxLength: 6 })).map(([a, p, b]) => a + p + b),
);
/** URL host labels cannot carry spaces or slashes, but `$`, backticks, quotes and `;` pass `new URL`. */
const hostileLabel = fc.constantFrom('kv$(touch${IFS}x)', 'a`id`b', "a';id;'", 'a;id', 'a"b', 'a&&id');

function bashRuns(lines: string[], substitution = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1'): void {
  // One bash; each line is evaluated on its own in a subshell, as if pasted: a line that is a syntax error (a
  // <placeholder>) fails alone, and the next is still tried.
  const prelude = `az() { printf '%s\\0' "$@" >> ${JSON.stringify(LOG)}; printf '\\n' >> ${JSON.stringify(LOG)}; echo ${JSON.stringify(substitution)}; }; nslookup() { :; }`;
  spawnSync('bash', ['--noprofile', '--norc', '-c', `${prelude}; while IFS= read -r -d '' line; do ( eval "$line" ) </dev/null >/dev/null 2>&1; done`], {
    input: lines.map((l) => `${l}\0`).join(''),
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
  });
}

function targets(v: { name: string; id: string; label: string; blob: string; secret: string }): Target[] {
  return [
    { name: v.name, kind: 'keyVaultSecret', vaultUrl: `https://${v.label}.vault.azure.net`, secretName: v.secret, resourceId: v.id },
    { name: v.name, kind: 'keyVaultSecret', vaultUrl: `https://${v.label}.vault.azure.net`, secretName: v.secret },
    { name: v.name, kind: 'storageBlob', accountUrl: `https://${v.label}.blob.core.windows.net`, container: v.blob, blobName: v.blob, resourceId: v.id },
    { name: v.name, kind: 'storageBlob', accountUrl: `https://${v.label}.blob.core.windows.net`, container: v.blob },
    { name: v.name, kind: 'armResource', resourceId: v.id, endpoint: `https://${v.label}.management.azure.com` },
  ] as Target[];
}

function evidenceFrom(h: string): Evidence {
  return {
    errorCode: h,
    innerErrorCode: h,
    message: h,
    retryAfter: h,
    transport: { kind: 'dns', code: h, detail: h },
    identityEndpoint: { protocol: 'appService', endpoint: h, errorDescription: h, rawProbe: { interpretation: 'proxy_interception', explanation: h } },
    proxy: { url: h, bypassed: false, source: 'HTTPS_PROXY' },
    settings: { NO_PROXY: h },
    roles: {
      scope: h,
      lookedUp: true,
      assignments: [{ roleName: h, roleDefinitionId: h, scope: h, plane: 'data', coversOperation: true, principalId: h, createdOn: new Date(0).toISOString(), condition: h, scopeRelation: 'at' }],
      unavailable: { reason: h },
      lookup: 'az role assignment list',
    },
  };
}

function everyFixLine(h: string, label: string, hostKind: HostKind): string[] {
  const settings = settingsFor({
    WEBSITE_SITE_NAME: `site${h}`,
    WEBSITE_RESOURCE_GROUP: `rg${h}`,
    ...(hostKind === 'containerApps' ? { CONTAINER_APP_NAME: `ca${h}` } : {}),
    // A named identity takes the `[?clientId=='…']` look-up paths.
    ...(hostKind === 'vm' ? { AZURE_CLIENT_ID: '4a8e2c6f-0b3d-4e7a-9c15-6f2b8d0e4a37', EXPECTED_PRINCIPAL_ID: 'c3f5a7e9-1b2d-4c6e-8a0f-2d4b6f8a0c15' } : {}),
  });
  const lines: string[] = [];
  for (const target of targets({ name: `t${h}`, id: `/subscriptions/s/resourceGroups/rg/providers/x/y/${h}`, label, blob: `b${h}`, secret: `s${h}` })) {
    for (const cause of CAUSES) {
      const ctx: CauseContext = {
        target,
        settings,
        claims: { oid: `oid${h}`, tid: h, aud: h, xms_mirid: h },
        hostKind,
        evidence: evidenceFrom(h),
        expectedAudience: h,
        stage: 'call',
        propagation: { expectedWindowSeconds: 600, retryAfterSeconds: 30, advice: h },
      };
      lines.push(...CAUSE_CATALOG[cause].fix(ctx));
    }
  }
  return lines;
}

describe('fix commands are safe to paste into bash', () => {
  it('would notice an injection (the harness itself is live)', () => {
    bashRuns([`echo ${PAYLOADS[0]}`]);
    expect(fs.existsSync(MARK)).toBe(true);
    fs.rmSync(MARK);
  });

  it('runs no command an id, a name or a service answer smuggles in, for every cause and kind', () => {
    fc.assert(
      fc.property(hostile, hostileLabel, fc.constantFrom<HostKind>('functions', 'containerApps', 'vm'), (h, label, hostKind) => {
        const lines = [...new Set(everyFixLine(h, label, hostKind))];
        expect(lines.length).toBeGreaterThan(20);
        // No fix line may carry a raw line break: a comment or a value would end and the next line run.
        for (const line of lines) expect(line).not.toMatch(/[\r\n]/);
        bashRuns(lines);
        expect(fs.existsSync(MARK)).toBe(false);
      }),
      { numRuns: 8 },
    );
  }, 180_000);

  it('keeps our own $(az … show …) look-ups working, and passes a value with specials as one literal argument', () => {
    const settings = settingsFor();
    const kv: Target = { name: 'kv', kind: 'keyVaultSecret', vaultUrl: 'https://kv1.vault.azure.net', secretName: 's' };
    const blob: Target = { name: 'b', kind: 'storageBlob', accountUrl: 'https://st1.blob.core.windows.net', container: 'data', blobName: "it's $HOME.txt" };
    const ctx = (target: Target): CauseContext => ({ target, settings, hostKind: 'functions', evidence: {}, expectedAudience: 'x', stage: 'call' });
    fs.rmSync(LOG, { force: true });
    const kvFix = CAUSE_CATALOG.role_missing.fix(ctx(kv));
    bashRuns(kvFix);
    const calls = fs.readFileSync(LOG, 'utf8').split('\n').filter(Boolean).map((l) => l.split('\0').filter(Boolean));
    // The look-ups ran (principal and vault id), and their answers reached the create call as values, not text.
    expect(calls).toContainEqual(['functionapp', 'identity', 'show', '-g', 'rg-app', '-n', 'func-app', '--query', 'principalId', '-o', 'tsv']);
    expect(calls).toContainEqual(['keyvault', 'show', '--name', 'kv1', '--query', 'id', '-o', 'tsv']);
    const create = calls.find((c) => c[0] === 'role' && c[2] === 'create')!;
    expect(create[create.indexOf('--scope') + 1]).toBe('/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1');
    expect(create[create.indexOf('--role') + 1]).toBe('Key Vault Secrets User');

    fs.rmSync(LOG, { force: true });
    bashRuns(CAUSE_CATALOG.role_missing.fix(ctx(blob)), '/subscriptions/0/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1');
    const blobCreate = fs.readFileSync(LOG, 'utf8').split('\n').map((l) => l.split('\0')).find((c) => c[0] === 'role' && c[2] === 'create')!;
    expect(blobCreate[blobCreate.indexOf('--scope') + 1]).toBe('/subscriptions/0/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1/blobServices/default/containers/data');
  });

  it('shows an id that is not well formed as a placeholder instead of pasting it', () => {
    const settings = settingsFor();
    const arm: Target = { name: 'a', kind: 'armResource', resourceId: '/subscriptions/s/resourceGroups/rg$(id)' };
    const fix = CAUSE_CATALOG.resource_not_found.fix({ target: arm, settings, hostKind: 'functions', evidence: {}, expectedAudience: 'x', stage: 'call' });
    expect(fix[0]).toBe('az resource show --ids <resource-id>');
    const oid = CAUSE_CATALOG.role_missing.fix({ target: arm, settings, claims: { oid: 'not-a-guid;id' }, hostKind: 'functions', evidence: {}, expectedAudience: 'x', stage: 'call' });
    expect(oid[0]).toContain('--assignee-object-id <principal-object-id>');
  });
});
