// Sign-in through the development identity provider, roles in the UI, and server-side sign-out.
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

const signInAs = (page, path, name) => signIn(page, demo.url, path, name);

test('an admin signs in, lands on the page they asked for, sees name and role, signs out', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watchConsole(page);

  await signInAs(page, '/audit', 'Ada Admin');
  await page.waitForURL(demo.url + '/audit');
  await waitForHydration(page);
  assert.equal(await page.locator('.account-name').innerText(), 'Ada Admin');
  assert.equal(await page.locator('.role-badge').innerText(), 'Admin');

  // The sign-in itself is in the audit log, and the chain verifies from the page.
  await page.waitForSelector('td code:text("auth.signed_in")');
  await page.getByRole('button', { name: 'Verify chain' }).click();
  await page.waitForSelector('.status-ok');
  assert.match(await page.locator('.status-ok').innerText(), /^Chain intact: \d+ events?, agreeing with \d+ signed checkpoint/);
  if (process.env.PAR_TEST_SCREENSHOTS) {
    await page.screenshot({ path: process.env.PAR_TEST_SCREENSHOTS + '/audit.png', fullPage: true });
  }

  const signedInCookies = await context.cookies();
  assert.ok(signedInCookies.some((c) => c.name === 'par_session' && c.httpOnly && c.sameSite === 'Lax'));

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(demo.url + '/');
  await page.waitForSelector('a:text("Sign in")');

  // The old cookie is dead on the server: replaying it gets the sign-in redirect.
  const replay = await browser.newContext();
  await replay.addCookies(signedInCookies);
  const replayPage = await replay.newPage();
  const response = await replayPage.goto(demo.url + '/audit');
  assert.match(replayPage.url(), /\/dev-idp\/authorize\?/);
  assert.equal(response.status(), 200);
  await replay.close();

  assert.deepEqual(problems, []);
  await context.close();
});

test('a reviewer is told the audit log is for admins and auditors', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signInAs(page, '/audit', 'Rita Reviewer');
  await page.waitForURL(demo.url + '/audit');
  assert.equal(await page.locator('.role-badge').innerText(), 'Reviewer');
  await page.waitForSelector('text=This page is for admins and auditors');
  await context.close();
});

test('an unverified email is refused with a clear message', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signInAs(page, '/auth/login', 'Uma Unverified');
  await page.waitForSelector('.refusal-reason');
  assert.match(await page.locator('.refusal-reason').innerText(), /email address is not verified/);
  await context.close();
});
