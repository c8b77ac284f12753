import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { uniqueEmail } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';

/** Debian's chromium, installed by .ci/run (never a browser downloaded by playwright). */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const QUEUES = ['gmail-watch', 'mailbox-sync', 'maintenance', 'reply'];

function isLoopback(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === 'data:' || protocol === 'blob:' || protocol === 'about:') return true;
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

describe('Bull Board in a real browser', function () {
  this.timeout(120_000);
  let system: TestSystem;
  let context: BrowserContext;
  let profile: string;
  const admin = uniqueEmail('board.operator');
  const requested: string[] = [];
  const refused: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`      chromium is not installed at ${CHROMIUM}: this browser test cannot run on this machine (.ci/run installs it with apt-get)`);
      this.skip();
    }
    system = await startTestSystem({ worker: false, overrides: { ADMIN_EMAILS: admin, RATE_LIMIT_SIGN_IN_PER_MINUTE: '1000' } });
    profile = mkdtempSync(path.join(os.tmpdir(), 'ga-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    // Every request of every page goes through here: anything outside loopback is refused and noted.
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      requested.push(url);
      if (isLoopback(url)) await route.continue();
      else {
        refused.push(url);
        await route.abort('blockedbyclient');
      }
    });
  });
  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await system?.close();
  });

  async function signInAs(email: string): Promise<void> {
    await context.clearCookies();
    const page = await context.newPage();
    const res = await page.goto(`${system.baseUrl}/auth/google?login_hint=${encodeURIComponent(email)}`);
    expect(res?.status(), 'sign-in lands on the frontend').to.equal(200);
    expect(new URL(page.url()).pathname).to.equal('/');
    await page.close();
  }

  it('signs an operator in through the sandbox and renders every queue', async () => {
    await signInAs(admin);
    const page = await context.newPage();
    const res = await page.goto(`${system.baseUrl}/admin/queues`);
    expect(res?.status()).to.equal(200);
    for (const name of QUEUES) await page.getByText(name, { exact: true }).first().waitFor({ state: 'visible', timeout: 20_000 });
    // The overview fills in once the board's own API answered (through the same admin guard).
    await page.getByText('Loading', { exact: false }).first().waitFor({ state: 'hidden', timeout: 20_000 });
    const shown = await page.locator('body').innerText();
    for (const name of QUEUES) expect(shown.split(name).length - 1, `${name} in the list and on its card`).to.be.at.least(2);
    expect(shown.match(/\b\d+ Jobs?\b/g), 'a card with its job count per queue').to.have.length(QUEUES.length);
    if (process.env.BOARD_SCREENSHOT) await page.screenshot({ path: process.env.BOARD_SCREENSHOT, fullPage: true });
    await page.close();
  });

  it('refuses a signed-in user who is not an operator (403), and a visitor without a session (401)', async () => {
    await signInAs(uniqueEmail('board.plain'));
    const page = await context.newPage();
    const forbidden = await page.goto(`${system.baseUrl}/admin/queues`);
    expect(forbidden?.status()).to.equal(403);
    const body = await page.locator('body').innerText();
    expect(body).to.contain('forbidden');
    for (const name of QUEUES) expect(body).to.not.contain(name);

    await context.clearCookies();
    const anonymous = await page.goto(`${system.baseUrl}/admin/queues`);
    expect(anonymous?.status()).to.equal(401);
    await page.close();
  });

  it('fetched nothing from outside loopback', () => {
    expect(requested.length).to.be.greaterThan(3);
    expect(refused).to.deep.equal([]);
    expect(requested.some((u) => u.includes('/admin/queues/static/')), 'the board UI came from our origin').to.equal(true);
  });
});
