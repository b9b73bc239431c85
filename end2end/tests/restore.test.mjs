// After a quarantine, in the browser: the demo's closed "Payments servers review" quarantines
// server 10003 (Marketing newsletters) at start-up. Ada opens it from Inventory, reads that the
// API tokens still work, restores it and sees its own name again; the user page and Rita's
// "My reviews" show what became of the revocations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible, demoForFile, personAtHome } from '../lib/harness.mjs';

const env = demoForFile();

async function navigate(page, label) {
  await page.locator('#primary-nav').getByRole('link', { name: label, exact: true }).click();
}

test('an admin restores the quarantined server from its page', async () => {
  const { page, problems, context } = await personAtHome(env, 'Ada Admin', { width: 1280, height: 1000 });

  // The worker quarantines the server shortly after start-up: come back until it has.
  let quarantined = false;
  for (let tries = 0; tries < 40 && !quarantined; tries += 1) {
    await navigate(page, 'Inventory');
    await page.waitForSelector('main h1:text("Inventory")');
    await page.locator('main a[href="/inventory/servers/10003"]').click();
    await page.waitForSelector('#server-heading');
    await page.waitForFunction(() => !document.querySelector('main .loading'));
    quarantined = (await page.locator('.quarantine').count()) > 0;
    if (!quarantined) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  assert.ok(quarantined, 'server 10003 was quarantined');
  const panel = page.locator('.quarantine');
  assert.match(await panel.locator('h3').innerText(), /^Quarantined by Payments servers review on \d{4}-\d{2}-\d{2}$/);
  assert.match(await panel.locator('.tokens-note').innerText(), /Postmark's API cannot disable a server's API tokens/);
  assert.match(await panel.locator('.quarantine-changes').innerText(), /SMTP API/);
  assert.match(await page.locator('.fulfilment-table').innerText(), /Done/);
  await panel.locator('summary', { hasText: 'Delete server in Postmark…' }).click();
  await assertAccessible(page, 'Ada: quarantined server');

  await page.getByRole('button', { name: 'Restore…' }).click();
  await page.getByRole('button', { name: 'Restore server' }).click();
  await page.waitForSelector('.restored');
  assert.match(await page.locator('.restored').innerText(), /named “Marketing newsletters” again/);
  assert.equal(await page.locator('#server-heading').innerText(), 'Marketing newsletters');
  // The panel is gone; the revocation says who restored it.
  await page.waitForFunction(() => !document.querySelector('.quarantine'));
  assert.match(await page.locator('.fulfilment-table').innerText(), /Restored on \d{4}-\d{2}-\d{2} by ada\.admin@example\.com/);
  await assertAccessible(page, 'Ada: restored server');

  // A user whose permission the campaign removed: the revocation and its status.
  await page.getByRole('link', { name: 'Users', exact: true }).click();
  await page.waitForSelector('.users-table');
  await page.fill('input[name="search"]', 'noah');
  await page.getByRole('button', { name: 'Apply', exact: true }).click();
  await page.locator('.users-table a', { hasText: 'Noah Nakamura' }).first().click();
  await page.waitForSelector('#user-heading');
  const revocations = page.locator('.fulfilment-table');
  await revocations.waitFor();
  assert.match(await revocations.innerText(), /noah\.nakamura@example\.com: .* on server 1000[34]/);
  assert.match(await revocations.locator('.fulfilment-status').first().innerText(), /^(Pending|Running|Done|Failed|Manual)$/);
  await assertAccessible(page, 'Ada: user with a revocation');
  assert.deepEqual(problems, []);
  await context.close();
});

test("a reviewer's closed items say what became of them", async () => {
  const { page, problems, context } = await personAtHome(env, 'Rita Reviewer');
  await navigate(page, 'My reviews');
  const mine = page.locator('.my-revocations');
  await mine.waitFor();
  assert.match(await mine.innerText(), /Payments servers review/);
  assert.match(await mine.locator('.fulfilment-status').first().innerText(), /^(Pending|Running|Done|Failed|Manual|Excluded|Cancelled)$/);
  await assertAccessible(page, 'Rita: my reviews with closed items');
  assert.deepEqual(problems, []);
  await context.close();
});
