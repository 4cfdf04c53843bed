import { SeverityNumber } from '@opentelemetry/api-logs';
import {
  APPINSIGHTS_CUSTOM_EVENT_ATTRIBUTE,
  CHECK_EVENT_NAME,
  CHECK_STATUS_METRIC,
  METRIC_ATTRIBUTE_KEYS,
  emitVerdict,
  flushTelemetry,
} from '../../../src/watch/telemetry';
import { runWatch } from '../../../src/watch/watch';
import { VerdictSchema, type Check, type Verdict } from '../../../src/verdict';
import { settingsFor } from '../fixtures/settings';
import { memoryTelemetry, type MemoryTelemetry } from './memoryTelemetry';

const OID = 'c3f5a7e9-1b2d-4c6e-8a0f-2d4b6f8a0c15';
const TID = '72f988bf-0000-4c1a-9d3e-5b7a1e2c4d6f';
const APPID = '4a8e2c6f-0b3d-4e7a-9c15-6f2b8d0e4a37';
const MIRID = '/subscriptions/3f2a8c71-6b4d-4e29-a1c5-7d9e0b2f4a68/resourceGroups/rg-app/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-doctor';
const VAULT_ID = '/subscriptions/3f2a8c71-6b4d-4e29-a1c5-7d9e0b2f4a68/resourceGroups/rg-app/providers/Microsoft.KeyVault/vaults/kv-app';
// Shaped like a token, as an SDK message might quote one.
const JWT = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL3ZhdWx0LmF6dXJlLm5ldCJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

const claims = { aud: 'https://vault.azure.net', iss: `https://sts.windows.net/${TID}/`, tid: TID, oid: OID, sub: OID, appid: APPID, idtyp: 'app', ver: '1.0', xms_mirid: MIRID, iat: 1, nbf: 1, exp: 2 };

function check(target: string, over: Partial<Check>): Check {
  return {
    target,
    kind: 'keyVaultSecret',
    audience: 'https://vault.azure.net',
    status: 'pass',
    category: 'authorized',
    cause: 'authorized',
    title: 'Authorized',
    stage: 'call',
    httpStatus: 200,
    claims,
    evidence: { requestId: 'req-1', result: { readable: true } },
    explanation: `The call succeeded with the managed identity's token (principal ${OID}).`,
    fix: [],
    durationMs: 12,
    ...over,
  };
}

const roleMissing = (target: string): Check =>
  check(target, {
    status: 'fail',
    category: 'authorization',
    cause: 'role_missing',
    title: 'Role missing',
    httpStatus: 403,
    evidence: {
      errorCode: 'Forbidden',
      innerErrorCode: 'ForbiddenByRbac',
      requestId: 'req-2',
      message: `Caller: appid=${APPID};oid=${OID} Authorization: Bearer ${JWT}`,
      expectedPrincipalId: OID,
    },
    explanation: `Principal ${OID} authenticated, but holds no role granting getSecret at ${VAULT_ID}.`,
    fix: [`az role assignment create --assignee-object-id ${OID} --role "Key Vault Secrets User" --scope ${VAULT_ID}`],
  });

function verdict(checks: Check[]): Verdict {
  const worst = checks.some((c) => c.status === 'fail') ? 'fail' : checks.some((c) => c.status === 'warn') ? 'warn' : 'pass';
  return VerdictSchema.parse({
    status: worst,
    summary: 'fixture',
    durationMs: 20,
    checkedAt: '2026-11-22T05:00:00.000Z',
    identity: { hostKind: 'functions', clientId: APPID, principalId: OID, tenantId: TID, resourceId: MIRID },
    checks,
  });
}

let t: MemoryTelemetry;
beforeEach(() => (t = memoryTelemetry()));
afterEach(() => t.shutdown());

async function emit(v: Verdict) {
  emitVerdict(t.providers, v);
  await flushTelemetry(t.providers, 5_000);
  return t.drain();
}

describe('the watch telemetry', () => {
  it('records one status gauge point per target: 0 pass, 1 warn, 2 fail, with the five alerting attributes', async () => {
    const missing = check('kv-missing', { status: 'warn', category: 'target', cause: 'resource_not_found', title: 'Resource not found', httpStatus: 404 });
    const { metrics } = await emit(verdict([check('kv-ok', {}), missing, roleMissing('kv-norole')]));
    expect(metrics.map((m) => m.name)).toEqual([CHECK_STATUS_METRIC, CHECK_STATUS_METRIC, CHECK_STATUS_METRIC]);
    const byTarget = Object.fromEntries(metrics.map((m) => [m.attributes.target, m]));
    expect(byTarget['kv-ok']).toMatchObject({ scope: 'identity-doctor', value: 0, attributes: { kind: 'keyVaultSecret', cause: 'authorized', category: 'authorized', status: 'pass' } });
    expect(byTarget['kv-missing']).toMatchObject({ value: 1, attributes: { cause: 'resource_not_found', category: 'target', status: 'warn' } });
    expect(byTarget['kv-norole']).toMatchObject({ value: 2, attributes: { cause: 'role_missing', category: 'authorization', status: 'fail' } });
    for (const m of metrics) expect(Object.keys(m.attributes).sort()).toEqual([...METRIC_ATTRIBUTE_KEYS].sort());
  });

  it('emits one IdentityDoctorCheck event per target, routed to customEvents, with what on-call needs', async () => {
    const { logs } = await emit(verdict([check('kv-ok', {}), roleMissing('kv-norole')]));
    expect(logs).toHaveLength(2);
    const fail = logs.find((l) => l.attributes.target === 'kv-norole')!;
    expect(fail).toMatchObject({
      scope: 'identity-doctor',
      eventName: CHECK_EVENT_NAME,
      severityNumber: SeverityNumber.ERROR,
      body: 'kv-norole: Role missing (role_missing)',
    });
    expect(fail.attributes).toMatchObject({
      [APPINSIGHTS_CUSTOM_EVENT_ATTRIBUTE]: 'IdentityDoctorCheck',
      target: 'kv-norole',
      kind: 'keyVaultSecret',
      cause: 'role_missing',
      category: 'authorization',
      status: 'fail',
      stage: 'call',
      httpStatus: 403,
      errorCode: 'Forbidden',
      innerErrorCode: 'ForbiddenByRbac',
      requestId: 'req-2',
      verdictStatus: 'fail',
      summary: 'kv-norole: Role missing (role_missing)',
    });
    expect(fail.attributes.fix).toBe(`az role assignment create --assignee-object-id <principal-id> --role "Key Vault Secrets User" --scope ${VAULT_ID}`);
    expect(fail.attributes.explanation).toBe(`Principal <principal-id> authenticated, but holds no role granting getSecret at ${VAULT_ID}.`);
    expect(logs.find((l) => l.attributes.target === 'kv-ok')).toMatchObject({ severityNumber: SeverityNumber.INFO, attributes: { status: 'pass' } });
  });

  it('carries no claims, no id taken from the claims, no token and no raw service message', async () => {
    const drained = await emit(verdict([check('kv-ok', {}), roleMissing('kv-norole')]));
    const everything = JSON.stringify(drained);
    for (const needle of [OID, TID, APPID, MIRID, JWT, 'eyJ', 'Bearer', 'Caller:', '"claims"', '"aud"', '"oid"', '"iss"']) {
      expect(everything).not.toContain(needle);
    }
  });

  it('lets a pass → fail transition be read from consecutive runs, without stale series', async () => {
    const first = await emit(verdict([check('kv-app', {})]));
    const second = await emit(verdict([roleMissing('kv-app')]));
    // Delta temporality (as the Azure Monitor exporter asks): the second export holds only what the second run saw.
    expect(first.metrics.map((m) => [m.attributes.target, m.attributes.status, m.value])).toEqual([['kv-app', 'pass', 0]]);
    expect(second.metrics.map((m) => [m.attributes.target, m.attributes.status, m.value])).toEqual([['kv-app', 'fail', 2]]);
    // What infra/alerts/status-changed.kql computes: per target, a status unlike the previous one.
    const events = [...first.logs, ...second.logs].map((l) => l.attributes);
    const changes = events.flatMap((e, i) =>
      i > 0 && events[i - 1]!.target === e.target && events[i - 1]!.status !== e.status ? [`${e.target}: ${events[i - 1]!.status} → ${e.status} (${e.cause})`] : [],
    );
    expect(changes).toEqual(['kv-app: pass → fail (role_missing)']);
  });

  it('gives up on a flush that never finishes instead of holding the invocation', async () => {
    const stuck = { forceFlush: () => new Promise<void>(() => undefined), getMeter: t.providers.meterProvider.getMeter.bind(t.providers.meterProvider) };
    await expect(flushTelemetry({ meterProvider: stuck, loggerProvider: t.providers.loggerProvider }, 50)).rejects.toThrow('telemetry flush did not finish within 50 ms');
  });
});

describe('runWatch', () => {
  const log = () => {
    const lines: string[] = [];
    return { lines, log: (...a: unknown[]) => lines.push(a.join(' ')), warn: (...a: unknown[]) => lines.push(`WARN ${a.join(' ')}`) };
  };

  it('emits nothing when no telemetry is configured, and still logs the run', async () => {
    const l = log();
    const run = await runWatch(settingsFor(), async () => undefined, l);
    expect(run.emitted).toBe(false);
    expect(run.verdict.checks).toEqual([]);
    expect(l.lines).toEqual([expect.stringMatching(/^watch \w+ in \d+ ms: no targets \(set DIAGNOSE_TARGETS\)$/)]);
  });

  it('reports an unavailable exporter as a warning and does not throw', async () => {
    const l = log();
    const run = await runWatch(settingsFor(), async () => Promise.reject(new Error('distro failed to load')), l);
    expect(run.emitted).toBe(false);
    expect(l.lines.at(-1)).toBe('WARN watch telemetry unavailable: Error: distro failed to load');
  });
});
