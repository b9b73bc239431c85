// An admin edits the webhook host allowlist and sets a server owner in the browser.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, signIn, startDemo, waitForHydration, watchConsole } from '../lib/harness.mjs';

let demo;
let browser;

before(async () => {
  demo = await startDemo();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

test('allowlist and server owner', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const problems = watchConsole(page);
  await signIn(page, demo.url, '/inventory?flag=webhook-host', 'Ada Admin');
  await page.waitForURL(/\/inventory\?flag=webhook-host/);
  await waitForHydration(page);
  assert.match(await page.locator('.count').nth(1).innerText(), /^3 servers match/);

  await page.goto(demo.url + '/settings');
  await waitForHydration(page);
  await page.fill('textarea[name=hosts]', 'hooks.example.com\nbilling.example.com\nwebhook.site');
  await page.getByRole('button', { name: 'Save allowlist' }).click();
  await page.waitForSelector('text=Saved: 3 hosts.');

  await page.goto(demo.url + '/inventory?flag=webhook-host');
  await waitForHydration(page);
  assert.match(await page.locator('.count').nth(1).innerText(), /^2 servers match/);

  await page.goto(demo.url + '/inventory/servers/10012');
  await waitForHydration(page);
  await page.fill('input[name=email]', 'manny.manager@example.com');
  await page.getByRole('button', { name: 'Set owner' }).click();
  await page.waitForSelector('text=Owner saved.');
  // Shown at once, and still there after a reload.
  assert.equal(await page.locator('dd.owner').innerText(), 'manny.manager@example.com');
  await page.reload();
  assert.equal(await page.locator('dd.owner').innerText(), 'manny.manager@example.com');
  assert.deepEqual(problems, []);
  await page.close();
});
