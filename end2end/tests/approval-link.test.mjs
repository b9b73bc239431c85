// The link in a reviewer's email: the demo launches a campaign at start and the outbox worker
// emails every reviewer through the simulated Postmark. Rita reads her email in the demo's
// Inbox, opens the link in a fresh browser (signed out), signs in and lands on her queue,
// where she decides an item. Manny, signed in, opening Rita's link is refused. Ada sees the
// emails, one of them failed, on the Notifications page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertAccessible,
  demoForFile,
  personAtHome,
  waitForHydration,
  watchConsole,
} from '../lib/harness.mjs';

const env = demoForFile();
const person = (name) => personAtHome(env, name);

/** Rita's review link, read from her inbox (the worker sends within a few seconds). */
async function ritasLink() {
  const rita = await person('Rita Reviewer');
  await rita.page.locator('.demo-banner').getByRole('link', { name: 'your inbox' }).click();
  await rita.page.waitForSelector('main h1:text("Inbox")');
  for (let tries = 0; tries < 30; tries += 1) {
    await rita.page.waitForFunction(() => !document.querySelector('main .loading'));
    if ((await rita.page.locator('.inbox-link').count()) > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
    await rita.page.reload();
    await waitForHydration(rita.page);
  }
  const link = await rita.page.locator('.inbox-link').first().getAttribute('href');
  assert.match(link, /\/r\/[A-Za-z0-9_-]{22,}$/);
  assert.match(await rita.page.locator('.inbox-email h2').first().innerText(), /review/i);
  await assertAccessible(rita.page, 'Rita: inbox');
  assert.deepEqual(rita.problems, []);
  await rita.context.close();
  return link;
}

test('a reviewer follows the emailed link, signs in and decides', async () => {
  const link = await ritasLink();

  // A fresh browser, signed out: the link arrives by email, so it is opened by address.
  const context = await env.browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const problems = watchConsole(page);
  await page.goto(link);
  await page.waitForSelector('text=Development identity provider');
  await page.getByRole('button', { name: /Rita Reviewer/ }).click();
  await page.waitForURL(/\/reviews\?campaign=\d+$/);
  await waitForHydration(page);
  const undecided = page.locator('.queue-item:not(.decided)').first();
  const itemId = await undecided.getAttribute('data-item-id');
  await undecided.getByRole('button', { name: /^Approve/ }).click();
  await page.waitForSelector(`.queue-item.decided[data-item-id="${itemId}"]`);
  assert.deepEqual(problems, []);
  await context.close();

  // Manny, signed in, opens Rita's link: refused, nothing of hers shown.
  const manny = await person('Manny Manager');
  const response = await manny.page.goto(link);
  assert.equal(response.status(), 403);
  assert.match(await manny.page.locator('h1').innerText(), /for someone else/);
  await assertAccessible(manny.page, 'Manny: refused link');
  await manny.context.close();

  // A link cut short is simply not valid.
  const anonymous = await env.browser.newPage();
  const truncated = await anonymous.goto(link.slice(0, -5));
  assert.equal(truncated.status(), 404);
  assert.match(await anonymous.locator('h1').innerText(), /not valid/);
  await anonymous.close();
});

test('an admin sees every email, and the one Postmark refused, on Notifications', async () => {
  const ada = await person('Ada Admin');
  await ada.page.locator('#primary-nav').getByRole('link', { name: 'Campaigns', exact: true }).click();
  await ada.page.waitForSelector('main h1:text("Campaigns")');
  await ada.page.locator('main').getByRole('link', { name: 'Notifications', exact: true }).click();
  await ada.page.waitForSelector('main h1:text("Notifications")');
  await ada.page.waitForFunction(() => !document.querySelector('main .loading'));
  for (let tries = 0; tries < 30; tries += 1) {
    if ((await ada.page.locator('.notifications-table .badge-bad:text("Unreachable")').count()) > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
    await ada.page.selectOption('select[name="status"]', '');
    await ada.page.getByRole('button', { name: 'Apply' }).click();
    await ada.page.waitForFunction(() => !document.querySelector('main .loading'));
  }
  const rows = ada.page.locator('.notifications-table tbody tr');
  assert.ok((await rows.count()) >= 3, 'one email per reviewer');
  const refused = ada.page.locator('.notifications-table tr', { has: ada.page.locator('.badge-bad:text("Unreachable")') });
  assert.match(await refused.first().innerText(), /hiro\.hughes@example\.com/);
  // Previews never show a link's token.
  const preview = ada.page.locator('.email-preview').first();
  await ada.page.locator('summary', { hasText: 'Preview' }).first().click();
  assert.doesNotMatch(await preview.innerText(), /\/r\/[A-Za-z0-9_-]{22,}/);
  // Filtering by status keeps only failed emails.
  await ada.page.selectOption('select[name="status"]', 'failed');
  await ada.page.getByRole('button', { name: 'Apply' }).click();
  await ada.page.waitForURL(/status=failed/);
  // The list keeps showing the previous rows while the filtered ones load: wait for them.
  await ada.page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('.notifications-table tbody tr')];
    return rows.length > 0 && rows.every((row) => row.querySelector('.badge-bad'));
  });
  assert.equal(
    await ada.page.locator('.notifications-table tbody tr').count(),
    await ada.page.locator('.notifications-table tbody .badge-bad').count(),
  );
  await assertAccessible(ada.page, 'Ada: notifications');
  assert.deepEqual(ada.problems, []);
  await ada.context.close();
});
