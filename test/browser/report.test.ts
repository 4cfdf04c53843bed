import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { RG_APP, SYSTEM_IDENTITY, TENANT_ID, USER_IDENTITY, startWorld, type World } from '../world';
import { HOSTILE_MESSAGE, serviceEnv, stageHostileVault, stageStandardWorld, standardTargets } from '../world/scenario';
import { REPO_ROOT } from '../world/paths';
import type { Verdict } from '../../src/verdict';
import { startService, type RunningService } from '../integration/harness';
import { requireChromium } from '../support/chromium';

/**
 * The HTML report in a real headless Chromium (found by test/support/chromium.ts: CHROMIUM_PATH, PATH, the usual
 * install locations; driven by playwright-core), served by the
 * real service over the staged world: what a person sees after a failed deploy. A full-page screenshot is left in
 * artifacts/browser/ (git-ignored) for a human to look at.
 */

// Evaluated in the page, not in Node: declared here only so the TypeScript (no DOM lib) type-checks.
declare function getComputedStyle(element: unknown): { borderTopColor: string; backgroundColor: string };

// Fails the suite with one line saying how to install Chromium when there is none.
const CHROMIUM = requireChromium();
const ARTIFACTS = path.join(REPO_ROOT, 'artifacts', 'browser');
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

let world: World;
let svc: RunningService;
let noIdentity: RunningService;
let verdict: Verdict;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
const consoleErrors: string[] = [];
const dialogs: string[] = [];

async function open(url: string): Promise<Page> {
  const p = await context.newPage();
  p.on('pageerror', (e) => pageErrors.push(String(e)));
  p.on('console', (m) => {
    // The report is served with the verdict's own status (503 when something fails); Chromium logs that document
    // status as a console error. Anything else — a script error, a CSP violation — counts.
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 503/.test(m.text())) consoleErrors.push(m.text());
  });
  p.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const response = await p.goto(url, { waitUntil: 'load' });
  expect(response?.headers()['content-type']).toBe('text/html; charset=utf-8');
  return p;
}

beforeAll(async () => {
  world = await startWorld();
  await stageStandardWorld(world);
  const targets = [...standardTargets(world), stageHostileVault(world), stageFreshGrant(world)];
  const onePerKind = JSON.stringify(standardTargets(world).filter((t: { name: string }) => ['kv-ok', 'blob-ok', 'arm-ok'].includes(t.name)));
  [svc, noIdentity, browser] = await Promise.all([
    startService(serviceEnv(world, { DIAGNOSE_TARGETS: JSON.stringify(targets) })),
    startService(serviceEnv(world, { DIAGNOSE_TARGETS: onePerKind, IDENTITY_ENDPOINT: undefined, IDENTITY_HEADER: undefined })),
    chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    }),
  ]);
  verdict = (await svc.diagnose()).verdict;
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, extraHTTPHeaders: { accept: BROWSER_ACCEPT } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: svc.url });
  // Opened without ?format=: the browser's own Accept header is what selects HTML.
  page = await open(`${svc.url}/api/diagnose`);
}, 60_000);

/** A vault whose Key Vault Secrets User grant is 90 s old: still inside its 10-minute window. */
function stageFreshGrant(w: World) {
  const name = 'kv-fresh';
  const resourceId = `${RG_APP}/providers/Microsoft.KeyVault/vaults/${name}`;
  w.state.vaults.push({ name, resourceId, tenantId: TENANT_ID, authorization: 'rbac', secrets: { 'app-secret': 'fresh' } });
  w.state.arm.resources.push(resourceId);
  const createdOn = new Date(Date.now() - 90_000);
  for (const p of [SYSTEM_IDENTITY.principalId, USER_IDENTITY.principalId]) w.grant(p, 'keyVaultSecretsUser', resourceId, { createdOn, propagationDelaySeconds: 600 });
  return { name, kind: 'keyVaultSecret', vaultUrl: w.vaultUrl(name), secretName: 'app-secret', resourceId };
}

afterAll(async () => {
  await browser?.close();
  await Promise.all([svc?.stop(), noIdentity?.stop()]);
  await world?.stop();
});

const card = (p: Page, target: string) => p.locator(`section.check[data-target="${target}"]`);

describe('the HTML report in Chromium', () => {
  it('shows the overall status and a card for every staged dependency with its cause', async () => {
    expect(await page.locator('header.banner .badge').textContent()).toBe('FAIL');
    expect(await page.locator('header.banner .summary').textContent()).toBe(verdict.summary);
    const causes = new Set<string>();
    for (const check of verdict.checks) {
      const c = card(page, check.target);
      expect(await c.isVisible()).toBe(true);
      expect(await c.getAttribute('data-cause')).toBe(check.cause);
      expect(await c.locator('h2 .badge').textContent()).toBe(check.status.toUpperCase());
      expect(await c.locator('.cause strong').textContent()).toBe(check.title);
      causes.add(check.cause);
    }
    expect([...causes].sort()).toEqual(['authorized', 'propagation_pending', 'resource_not_found', 'role_missing', 'target_error', 'wrong_audience']);
  });

  it('marks the step where each chain broke, visibly and only there', async () => {
    const failed = card(page, 'kv-norole').locator('li.step[data-here="true"]');
    expect(await failed.count()).toBe(1);
    expect(await failed.getAttribute('data-step')).toBe('call');
    expect(await failed.locator('.here').isVisible()).toBe(true);
    expect(await failed.locator('.here').textContent()).toBe('failed here');
    expect(await failed.locator('.detail').textContent()).toBe('HTTP 403 · Forbidden/ForbiddenByRbac');
    const ok = card(page, 'kv-norole').locator('li.step[data-step="acquire"]');
    const look = (l: typeof ok) => l.evaluate((el) => [getComputedStyle(el).borderTopColor, getComputedStyle(el).backgroundColor]);
    const [failedBorder, failedBackground] = await look(failed);
    const [okBorder, okBackground] = await look(ok);
    expect(failedBorder).not.toBe(okBorder);
    expect(failedBackground).not.toBe(okBackground);

    expect(await card(page, 'kv-ok').locator('li.step[data-here]').count()).toBe(0);
    expect(await card(page, 'kv-missing').locator('li.step[data-here] .here').textContent()).toBe('warning here');
    expect(await card(page, 'kv-wrong-audience').locator('tr.suspect[data-claim="aud"]').isVisible()).toBe(true);
  });

  it('marks token acquisition, and skips the rest, when the host has no identity', async () => {
    const p = await open(`${noIdentity.url}/api/diagnose`);
    for (const target of ['kv-ok', 'blob-ok', 'arm-ok']) {
      const c = card(p, target);
      expect(await c.getAttribute('data-cause')).toBe('no_managed_identity');
      expect(await c.locator('li.step[data-here="true"]').getAttribute('data-step')).toBe('acquire');
      expect(await c.locator('li.step[data-state="skipped"]').evaluateAll((els) => els.map((e) => (e as { dataset: { step: string } }).dataset.step))).toEqual(['claims', 'call']);
    }
    await p.close();
  });

  it('shows the claims and the service\'s error code for a refused call', async () => {
    const c = card(page, 'kv-norole');
    expect(await c.locator('table.claims tr[data-claim="oid"] td').nth(1).textContent()).toBe(verdict.identity.principalId);
    expect(await c.locator('code.service-code').textContent()).toBe('Forbidden/ForbiddenByRbac');
    // Nothing was granted (the role look-up says so): there is nothing to wait for.
    expect(await c.locator('.hint[data-hint="propagation"]').count()).toBe(0);
  });

  it('shows the propagation hint for a grant made a minute and a half ago', async () => {
    const c = card(page, 'kv-fresh');
    expect(await c.getAttribute('data-cause')).toBe('propagation_pending');
    expect(await c.locator('.hint[data-hint="propagation"]').isVisible()).toBe(true);
  });

  it('copies a fix command to the clipboard with its copy button', async () => {
    const check = verdict.checks.find((c) => c.target === 'kv-norole')!;
    const button = card(page, 'kv-norole').locator('.fix button.copy').first();
    await button.click();
    await page.waitForFunction((b) => (b as { textContent: string }).textContent === 'Copied', await button.elementHandle());
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(check.fix[0]);
  });

  it('shows what a hostile service said as text and runs none of it', async () => {
    const message = card(page, 'kv-hostile').locator('pre.message');
    expect(await message.textContent()).toContain(HOSTILE_MESSAGE);
    expect(await page.locator('img').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('ran without a script error or a blocked resource', () => {
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('leaves a full-page screenshot in artifacts/browser/', async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, 'report.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(fs.statSync(file).size).toBeGreaterThan(10_000);
  });
});
