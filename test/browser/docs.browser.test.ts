import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { startTestSystem, type TestSystem } from '../support/system';
import { ALL_ROUTES } from '../../src/http/route-table';

/** Debian's chromium, installed by .ci/run (never a browser downloaded by playwright). */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('the docs page in a real browser', function () {
  this.timeout(120_000);
  let system: TestSystem;
  let context: BrowserContext;
  let profile: string;
  const requested: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`      chromium is not installed at ${CHROMIUM}: this browser test cannot run on this machine (.ci/run installs it with apt-get)`);
      this.skip();
    }
    system = await startTestSystem({ worker: false });
    profile = mkdtempSync(path.join(os.tmpdir(), 'ga-chromium-docs-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    // Anything not from our own origin is refused (and noted), so a CDN or outside validator would show.
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      requested.push(url);
      if (url.startsWith(`${system.baseUrl}/`)) await route.continue();
      else await route.abort('blockedbyclient');
    });
  });
  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await system?.close();
  });

  it('renders every operation of the document from our own origin, with nothing blocked by its CSP', async () => {
    const page = await context.newPage();
    const messages: string[] = [];
    page.on('console', (m) => messages.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => messages.push(`pageerror: ${e.message}`));
    const res = await page.goto(`${system.baseUrl}/docs`);
    expect(res?.status()).to.equal(200);
    await page.locator('.opblock').first().waitFor({ state: 'visible', timeout: 30_000 });
    expect(await page.locator('.opblock').count()).to.equal(ALL_ROUTES.length);
    expect(await page.locator('.info .title').innerText()).to.contain('Gmail assistant API');

    // Open one operation: its parameters, body schema and error codes are shown.
    await page.locator('#operations-contacts-updateContact .opblock-summary').click();
    const opened = page.locator('#operations-contacts-updateContact');
    await opened.getByText('contact_exists').first().waitFor({ state: 'visible', timeout: 10_000 });
    expect(await opened.innerText()).to.contain('description_ai');

    expect(messages.filter((m) => /Content Security Policy|Refused|pageerror|error:/i.test(m)), messages.join('\n')).to.deep.equal([]);
    expect(requested.filter((u) => !u.startsWith(`${system.baseUrl}/`)), 'requests outside our origin').to.deep.equal([]);
    expect(requested).to.include(`${system.baseUrl}/openapi.json`);
    await page.close();
  });
});
