import { execFileSync } from 'node:child_process';
import { createHttpHeaders } from '@azure/core-rest-pipeline';
import { CAUSE_CATALOG, explainCause } from '../../../src/advice/causes';
import type { Target } from '../../../src/config';
import { classifyCallFailure } from '../../../src/engine/classify';
import { decodeClaims } from '../../../src/engine/claims';
import { propagationHint } from '../../../src/engine/propagation';
import { asRestError, graphCorrelation } from '../../../src/targets/microsoftGraph/http';
import { microsoftGraph, MicrosoftGraphTargetSchema } from '../../../src/targets/microsoftGraph';
import { shapeOf } from '../../../src/targets/microsoftGraph/probe';
import { leastRoleOf } from '../../../src/targets/registry';
import { callFailureFromError } from '../../../src/wire/callFailure';
import type { Claims, Evidence, RoleEvidence } from '../../../src/verdict';
import { OID, TENANT, settingsFor } from '../fixtures/settings';

const target = (extra: Partial<Extract<Target, { kind: 'microsoftGraph' }>> = {}): Extract<Target, { kind: 'microsoftGraph' }> => ({
  name: 'graph',
  kind: 'microsoftGraph',
  path: '/v1.0/users?$top=1',
  permission: 'User.Read.All',
  ...extra,
});
const now = Math.floor(Date.now() / 1000);
const claims = (roles?: string[], extra: Partial<Claims> = {}): Claims => ({
  aud: 'https://graph.microsoft.com',
  tid: TENANT,
  oid: OID,
  iss: `https://sts.windows.net/${TENANT}/`,
  iat: now - 600,
  issuedAt: new Date((now - 600) * 1000).toISOString(),
  exp: now + 3000,
  ...(roles ? { roles } : {}),
  ...extra,
});
const graphError = (status: number, code: string, message: string) =>
  asRestError(
    { status, headers: createHttpHeaders({ 'content-type': 'application/json', 'request-id': 'r-1' }), body: JSON.stringify({ error: { code, message, innerError: { date: '2026-12-01T10:00:00', 'request-id': 'r-1', 'client-request-id': 'c-1' } } }), correlation: {} },
    'https://graph.microsoft.com/v1.0/users',
  );

function classify(err: unknown, c: Claims | undefined, t: Target = target()) {
  const failure = callFailureFromError(err, { url: 'https://graph.microsoft.com', deadlineSignal: new AbortController().signal, elapsedMs: 5 });
  return classifyCallFailure({ target: t, failure, claims: c, settings: settingsFor(), nowSeconds: now });
}

describe('a microsoftGraph target', () => {
  it('takes a relative GET path of the v1.0 or beta API, and nothing that could leave Graph or split a line', () => {
    for (const path of ['/v1.0/users?$top=1', '/beta/groups?$filter=startswith(displayName,\'a\')&$top=1', '/v1.0/users/6a1c3e5f-7b9d-4f2a-8c4e-0a2c4e6f8b1d']) {
      expect(MicrosoftGraphTargetSchema.safeParse(target({ path })).success).toBe(true);
    }
    for (const path of [
      'https://evil.example.com/v1.0/users', '//evil.example.com/v1.0/users', '/v2.0/users', 'v1.0/users', '/v1.0/users\r\nX-Injected: 1',
      '/v1.0/../admin', '/v1.0/%2e%2e/admin', '/v1.0/users#frag', '/v1.0\\users',
    ]) {
      const parsed = MicrosoftGraphTargetSchema.safeParse(target({ path }));
      expect({ path, ok: parsed.success }).toEqual({ path, ok: false });
      if (!parsed.success) expect(parsed.error.issues[0]!.path).toEqual(['path']);
    }
    expect(MicrosoftGraphTargetSchema.safeParse(target({ permission: 'User.Read.All; rm -rf /' })).success).toBe(false);
    expect(MicrosoftGraphTargetSchema.safeParse(target({ endpoint: 'https://graph.microsoft.com/v1.0' })).success).toBe(false);
    expect(MicrosoftGraphTargetSchema.safeParse(target({ endpoint: 'https://graph.microsoft.us' })).success).toBe(true);
  });

  it('goes to its cloud\'s Graph unless it names an endpoint', () => {
    expect(microsoftGraph.endpoint(target(), { armEndpoint: 'x', cloud: { name: 'AzureChinaCloud' } })).toBe('https://microsoftgraph.chinacloudapi.cn');
    expect(microsoftGraph.endpoint(target(), settingsFor({ AZURE_CLOUD: 'AzureUSGovernment' }))).toBe('https://graph.microsoft.us');
    expect(microsoftGraph.endpoint(target({ endpoint: 'https://dod-graph.microsoft.us/' }), settingsFor())).toBe('https://dod-graph.microsoft.us');
  });

  it('needs the permission it names: the catalog\'s well-known app role, or one whose id the fix looks up', () => {
    expect(leastRoleOf(target({ permission: 'group.read.all' }))).toMatchObject({ name: 'Group.Read.All', id: '5b567255-7703-4780-807c-7be8301ae99b' });
    expect(leastRoleOf(target({ permission: 'Mail.Send' }))).toMatchObject({ name: 'Mail.Send', id: '' });
  });
});

describe('reading a Graph 403 from the token\'s roles claim first', () => {
  const denied = graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');

  it('reports role_missing when the permission is not in the roles claim', () => {
    expect(classify(denied, claims(['Application.Read.All']))).toBe('role_missing');
    expect(classify(denied, claims())).toBe('role_missing');
  });

  it('reports grant_ineffective, not role_missing, when the token carries the permission and Graph still refuses', () => {
    expect(classify(denied, claims(['user.read.all']))).toBe('grant_ineffective');
    // Exchange's refusal of a mailbox the app may not read although it holds Mail.Read.
    expect(classify(graphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.'), claims(['Mail.Read']), target({ path: '/v1.0/users/u/messages', permission: 'Mail.Read' }))).toBe('grant_ineffective');
  });

  it('keeps a licence refusal apart from any permission, and does not guess an unknown code', () => {
    expect(classify(graphError(403, 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', "Neither tenant is B2C or tenant doesn't have premium license"), claims(['AuditLog.Read.All']))).toBe('forbidden_other');
    expect(classify(graphError(403, 'Something_New', 'x'), claims([]))).toBe('forbidden_other');
  });

  it('reads Graph\'s 401s: a token for another audience, and an expired one', () => {
    expect(classify(graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.'), claims([], { aud: 'https://management.azure.com/' }))).toBe('wrong_audience');
    expect(classify(graphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.'), claims([]))).toBe('token_expired');
  });

  it('decodes the roles claim from the token, names only', () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    expect(decodeClaims(`${b64({})}.${b64({ aud: 'https://graph.microsoft.com', roles: ['User.Read.All', 7, 'Group.Read.All'] })}.sig`)?.roles).toEqual(['User.Read.All', 'Group.Read.All']);
  });
});

describe('what a Graph check says and suggests', () => {
  const settings = settingsFor();
  const ctx = (t: Target, c: Claims | undefined, evidence: Evidence = {}) => ({ target: t, settings, claims: c, hostKind: 'functions' as const, evidence, expectedAudience: 'https://graph.microsoft.com', stage: 'call' as const });

  /** Runs a fix line in bash with `az` replaced by a stub: prints the arguments az would get, one per line. */
  function azArgs(line: string): string[] {
    const stub = 'az() { if [ "$1" = ad ]; then echo 11111111-2222-4333-8444-555555555555; else printf "%s\\n" "$@"; fi; }';
    return execFileSync('bash', ['-c', `${stub}\n${line}`], { encoding: 'utf8' }).trim().split('\n');
  }

  it('grants the app role with az rest, its JSON body intact after bash quoting, never an Azure role', () => {
    const fix = CAUSE_CATALOG.role_missing.fix(ctx(target(), claims(['Application.Read.All'])));
    expect(fix.some((l) => l.startsWith('az role assignment'))).toBe(false);
    const grant = fix.find((l) => microsoftGraph.permissions!.grantLine.test(l))!;
    const args = azArgs(grant);
    expect(args.slice(0, 4)).toEqual(['rest', '--method', 'POST', '--uri']);
    expect(args[4]).toBe(`https://graph.microsoft.com/v1.0/servicePrincipals/${OID}/appRoleAssignments`);
    expect(JSON.parse(args[6]!)).toEqual({ principalId: OID, resourceId: '11111111-2222-4333-8444-555555555555', appRoleId: 'df021288-bdef-4463-88db-98f22de89214' });
  });

  it('looks up the app role id of a permission the catalog does not list, in the cloud\'s Graph', () => {
    const us = settingsFor({ AZURE_CLOUD: 'AzureUSGovernment' });
    const fix = CAUSE_CATALOG.role_missing.fix({ ...ctx(target({ permission: 'Mail.Send' }), claims([])), settings: us });
    const grant = fix.find((l) => microsoftGraph.permissions!.grantLine.test(l))!;
    expect(grant).toContain("--query \"appRoles[?value=='Mail.Send'].id\"");
    expect(grant).toContain('https://graph.microsoft.us/v1.0/servicePrincipals/');
    expect(() => execFileSync('bash', ['-n', '-c', grant])).not.toThrow();
  });

  it('turns a principal id that is not a GUID into a placeholder bash refuses to run', () => {
    const fix = CAUSE_CATALOG.role_missing.fix(ctx(target(), claims([], { oid: 'x$(touch /tmp/pwned)' })));
    const grant = fix.find((l) => microsoftGraph.permissions!.grantLine.test(l))!;
    expect(grant).toContain('<principal-object-id>');
    expect(() => execFileSync('bash', ['-c', `az() { :; }\n${grant}`], { stdio: 'pipe' })).toThrow();
  });

  it('says the token lacks the permission, that Azure roles never grant it, and that a new grant waits for a new token', () => {
    const unavailable: RoleEvidence = { scope: 'Microsoft Graph', lookedUp: false, assignments: [], unavailable: { reason: 'Graph refused to list this identity\'s own app role assignments.' }, lookup: 'az rest --method GET …', model: 'Microsoft Graph app role assignments', windowSeconds: 86_400 };
    const c = claims(['Application.Read.All']);
    const text = explainCause('role_missing', ctx(target(), c, { errorCode: 'Authorization_RequestDenied', roles: unavailable }));
    expect(text).toContain('carries Application.Read.All in its roles claim — not User.Read.All');
    expect(text).toContain('not Azure roles');
    expect(text).toContain('about 24 h');
    const hint = propagationHint('role_missing', unavailable, c, Date.now())!;
    expect(hint.expectedWindowSeconds).toBe(86_400);
    expect(hint.advice).toContain('only in a newly minted token');
  });

  it('tells a permission in effect that does not cover the path from a missing one', () => {
    const text = explainCause('grant_ineffective', ctx(target({ path: '/v1.0/groups?$top=1', permission: 'Application.Read.All' }), claims(['Application.Read.All']), { errorCode: 'Authorization_RequestDenied' }));
    expect(text).toContain('carries Application.Read.All: the app role assignment exists and is in effect');
    expect(text).toContain('does not allow this request');
    const fix = CAUSE_CATALOG.grant_ineffective.fix(ctx(target({ permission: 'Application.Read.All' }), claims(['Application.Read.All'])));
    expect(fix.join('\n')).not.toMatch(/az role assignment|denyAssignments/);
  });
});

describe('a Graph answer in the verdict', () => {
  it('is reduced to its shape: counts, never values', () => {
    const body = JSON.stringify({ '@odata.context': 'x', '@odata.nextLink': 'https://graph.microsoft.com/v1.0/users?$skiptoken=y', value: [{ id: 'u1', mail: 'secret.person@contoso.com' }] });
    const shape = shapeOf(body);
    expect(shape).toEqual({ readable: true, shape: 'collection', items: 1, morePages: true });
    expect(JSON.stringify(shape)).not.toContain('contoso');
    expect(shapeOf(JSON.stringify({ id: 'u1', displayName: 'Secret Person' }))).toEqual({ readable: true, shape: 'object', properties: 2 });
  });

  it('keeps Graph\'s correlation: request-id, client-request-id and where it was served', () => {
    const headers = createHttpHeaders({ 'request-id': 'r-1', 'client-request-id': 'c-1', 'x-ms-ags-diagnostic': '{"ServerInfo":{"DataCenter":"West Europe","Slice":"E","Ring":"5","ScaleUnit":"000","RoleInstance":"AM1PEPF0001A38D"}}' });
    expect(graphCorrelation(headers, 'sent')).toEqual({ requestId: 'r-1', clientRequestId: 'c-1', correlationId: 'x-ms-ags-diagnostic West Europe/E/5/000/AM1PEPF0001A38D' });
    expect(graphCorrelation(createHttpHeaders({}), 'sent')).toEqual({ clientRequestId: 'sent' });
  });
});
