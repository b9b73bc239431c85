// An admin imports a users CSV with errors, sees every error, fixes it, imports it, and sees
// the users and the diff.
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

const header = 'email,name,role,status,invited_at,server_id,permission\n';
const badFile = header
  + 'ada.admin@example.com,Ada Admin,Account Owner,active,,,\n'
  + 'newcomer@,Newcomer,Server Access,active,,10001,Server Admin\n'
  + 'pat.jones@example.com,Pat Jones,Server Access,on-leave,,10002,Server Viewer\n'
  + 'kim.lee@example.com,Kim Lee,Server Access,active,,99999,Server Viewer\n';
const goodFile = header
  + 'ada.admin@example.com,Ada Admin,Account Owner,active,,,\n'
  + 'newcomer@example.com,Newcomer,Server Access,active,,10001,Server Admin\n'
  + 'pat.jones@example.com,Pat Jones,Server Access,active,,10002,Server Viewer\n'
  + 'kim.lee@example.com,Kim Lee,Server Access,pending,2026-11-01,10003,Server Viewer\n';

async function chooseFile(page, name, text) {
  await page.setInputFiles('input[type=file]', {
    name,
    mimeType: 'text/csv',
    buffer: Buffer.from(text, 'utf8'),
  });
}

test('import with errors, fix, import, see users and the diff', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const problems = watchConsole(page);
  await signIn(page, demo.url, '/inventory/users', 'Ada Admin');
  await page.waitForURL(demo.url + '/inventory/users');
  await waitForHydration(page);
  const before = await page.locator('.count').first().innerText();
  // 41, or 40 once the demo's leaver is removed (offboarding, a second or two after start).
  assert.match(before, /^4[01] users match/);

  await chooseFile(page, 'users.csv', badFile);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await page.waitForSelector('.import-errors');
  const errors = await page.locator('.import-errors li').allInnerTexts();
  assert.deepEqual(errors, [
    'Line 3, email: `newcomer@` is not an email address',
    'Line 4, status: `on-leave` is not active or pending',
    'Line 5, server_id: server 99999 is not in the inventory (sync servers first)',
  ]);
  assert.match(await page.locator('.import-errors').innerText(), /Nothing was imported: the file has 3 problems/);
  await page.reload();
  await waitForHydration(page);
  assert.equal(await page.locator('.count').first().innerText(), before, 'nothing changed');

  await chooseFile(page, 'users-fixed.csv', goodFile);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await page.waitForSelector('.notice-ok');
  assert.match(await page.locator('.notice-ok').innerText(), /Imported 4 users: \d+ added, \d+ removed/);
  await page.waitForSelector('td:has-text("newcomer@example.com")');
  assert.match(await page.locator('.count').first().innerText(), /^4 users match/);
  if (process.env.PAR_TEST_SCREENSHOTS) {
    await page.screenshot({ path: process.env.PAR_TEST_SCREENSHOTS + '/users.png', fullPage: true });
  }

  await page.getByRole('link', { name: 'See what changed' }).click();
  await page.waitForSelector('#changes-heading');
  const changes = await page.locator('.changes > li').allInnerTexts();
  assert.ok(changes.some((c) => c.includes('added') && c.includes('newcomer@example.com')), changes.join('\n'));
  assert.ok(changes.some((c) => c.includes('removed') && c.includes('rita.reviewer@example.com')), changes.join('\n'));
  assert.deepEqual(problems, []);
  await page.close();
});
