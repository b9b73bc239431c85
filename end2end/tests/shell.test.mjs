// The application shell renders on the server, hydrates in the browser and works at phone width.
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

test('signed-out home page hydrates and offers sign-in, without section navigation', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems = watchConsole(page);
  await page.goto(demo.url + '/');
  await waitForHydration(page);
  assert.match(await page.locator('h1').innerText(), /Quarterly access reviews/);
  assert.equal(await page.locator('#primary-nav').count(), 0);
  assert.match(await page.locator('.demo-banner').innerText(), /Demo mode/);
  if (process.env.PAR_TEST_SCREENSHOTS) {
    await page.screenshot({ path: process.env.PAR_TEST_SCREENSHOTS + '/home.png', fullPage: true });
  }
  assert.deepEqual(problems, [], 'no console errors or CSP violations');
  await page.close();
});

test('home page hydrates: the menu opens and navigation happens without a reload', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const problems = watchConsole(page);

  await signIn(page, demo.url, '/auth/login', 'Manny Manager');
  await page.waitForURL(demo.url + '/');
  await waitForHydration(page);
  // A marker on window survives only if the page is not reloaded.
  await page.evaluate(() => { window.__noReload = true; });

  const nav = page.locator('#primary-nav');
  assert.equal(await nav.isVisible(), false, 'navigation starts folded at phone width');
  await page.getByRole('button', { name: 'Menu' }).click();
  await page.waitForSelector('#primary-nav.open');
  assert.equal(await nav.isVisible(), true);
  assert.equal(
    await page.getByRole('button', { name: 'Close menu' }).getAttribute('aria-expanded'),
    'true',
  );

  // A reviewer's navigation holds only what they may open.
  assert.equal(await nav.getByRole('link', { name: 'Campaigns' }).count(), 0);
  await nav.getByRole('link', { name: 'My reviews' }).click();
  await page.waitForSelector('h1:text("My reviews")');
  assert.equal(new URL(page.url()).pathname, '/reviews');
  assert.equal(await page.evaluate(() => window.__noReload), true, 'client-side navigation');
  assert.equal(await nav.isVisible(), false, 'following a link folds the menu again');

  assert.deepEqual(problems, [], 'no console errors or CSP violations');
  await context.close();
});

test('desktop layout shows the navigation and marks the current page', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems = watchConsole(page);
  await signIn(page, demo.url, '/inventory', 'Ada Admin');
  await page.waitForURL(demo.url + '/inventory');
  await waitForHydration(page);
  assert.equal(await page.locator('#primary-nav').isVisible(), true);
  assert.equal(await page.getByRole('button', { name: 'Menu' }).isVisible(), false);
  assert.equal(
    await page.getByRole('link', { name: 'Inventory' }).getAttribute('aria-current'),
    'page',
  );
  assert.equal(await page.title(), 'Inventory · Postmark Access Review');
  assert.deepEqual(problems, []);
  await page.close();
});

test('unknown addresses get the 404 page with status 404', async () => {
  const page = await browser.newPage();
  const response = await page.goto(demo.url + '/no/such/page');
  assert.equal(response.status(), 404);
  assert.equal(await page.locator('h1').innerText(), 'Page not found');
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Go to the start page' }).click();
  await page.waitForSelector('h1:text("Quarterly access reviews")');
  await page.close();
});
