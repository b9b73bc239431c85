// Handing items on in the browser, only to someone who can review. Rita hands an item on to
// a suggested reviewer, is asked before handing one to an address nobody here knows, confirms,
// then takes it back from "Handed on by you". Ada is refused an auditor as a server's owner,
// confirms an unknown one, and sees the saved owner without a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible, demoForFile, personAtHome } from '../lib/harness.mjs';

const env = demoForFile();

async function navigate(page, label) {
  await page.locator('#primary-nav').getByRole('link', { name: label, exact: true }).click();
}

const ids = (page) => page.locator('.queue-item:not(.decided)').evaluateAll((items) => items.map((i) => i.dataset.itemId));

test('a reviewer hands items on with suggestions, confirms an unknown address and takes one back', async () => {
  const { page, problems, context } = await personAtHome(env, 'Rita Reviewer', { width: 1280, height: 1000 });
  await navigate(page, 'My reviews');
  await page.waitForSelector('main h1:text("My reviews")');
  await page.waitForSelector('.queue-item:not(.decided)');
  const before = await ids(page);
  assert.ok(before.length >= 3, `${before.length} items`);

  // One list of suggestions for every field: known reviewers, no auditor.
  await page.waitForSelector('datalist#handover-suggestions option', { state: 'attached' });
  assert.equal(await page.locator('datalist').count(), 1);
  const suggested = await page.locator('datalist#handover-suggestions option').evaluateAll((o) => o.map((x) => x.value));
  assert.ok(suggested.includes('manny.manager@example.com'), suggested.join(', '));
  assert.ok(!suggested.includes('aubrey.auditor@example.com'));

  // To a suggested reviewer.
  const first = page.locator(`.queue-item[data-item-id="${before[0]}"]`);
  await first.locator('summary', { hasText: 'Hand on' }).click();
  assert.equal(await first.locator('.reassign-to').getAttribute('list'), 'handover-suggestions');
  await first.locator('.reassign-to').fill(suggested.find((s) => s === 'manny.manager@example.com'));
  await first.locator('.reassign-reason').fill('Manny runs this server now');
  await first.getByRole('button', { name: 'Hand on', exact: true }).click();
  await page.waitForSelector('.queue-notice >> text=handed to manny.manager@example.com');
  await page.waitForFunction((id) => !document.querySelector(`.queue-item[data-item-id="${id}"]`), before[0]);
  // The queue and "Handed on by you" reload; act on the next row once both have.
  await page.waitForSelector('.handed-on-items li');
  await page.waitForLoadState('networkidle');

  // To an auditor: refused by name.
  const second = page.locator(`.queue-item[data-item-id="${before[1]}"]`);
  // The rows are redrawn in place after a change, so this row's hand-on may be open already.
  if (!(await second.locator('details.reassign').evaluate((d) => d.open))) {
    await second.locator('summary', { hasText: 'Hand on' }).click();
  }
  await second.locator('.reassign-to').waitFor();
  await second.locator('.reassign-to').fill('aubrey.auditor@example.com');
  await second.locator('.reassign-reason').fill('Audit wants it');
  await second.getByRole('button', { name: 'Hand on', exact: true }).click();
  await second.locator('.status-error', { hasText: 'is an auditor' }).waitFor();

  // To someone nobody here knows: asked first, handed on once confirmed.
  await second.locator('.reassign-to').fill('new.colleague@example.com');
  await second.getByRole('button', { name: 'Hand on', exact: true }).click();
  const question = second.locator('.handover-question');
  await question.waitFor();
  assert.match(await question.innerText(), /new\.colleague@example\.com has never signed in and is not in any mapping: hand on anyway\?/);
  assert.equal(await second.locator('.status-error:visible').count(), 0);
  await assertAccessible(page, 'Rita: unknown address question');
  await second.getByRole('button', { name: 'Hand on anyway' }).click();
  await page.waitForSelector('.queue-notice >> text=handed to new.colleague@example.com');
  await page.waitForFunction((id) => !document.querySelector(`.queue-item[data-item-id="${id}"]`), before[1]);

  // Both wait under "Handed on by you"; one comes back.
  const handed = page.locator('.handed-on-items li');
  await page.waitForFunction(() => document.querySelectorAll('.handed-on-items li').length === 2);
  assert.match(await handed.filter({ hasText: 'new.colleague@example.com' }).innerText(), /now with new\.colleague@example\.com/);
  await assertAccessible(page, 'Rita: handed on by you');
  await handed.filter({ hasText: 'new.colleague@example.com' }).getByRole('button', { name: /^Take back/ }).click();
  await page.waitForSelector('.queue-notice >> text=is back in your queue');
  await page.waitForSelector(`.queue-item[data-item-id="${before[1]}"]`);
  await page.waitForFunction(() => document.querySelectorAll('.handed-on-items li').length === 1);
  assert.deepEqual(problems.filter((p) => !p.includes('status of 422')), []);
  await context.close();
});

test('a server owner is checked like a reviewer and shown once saved', async () => {
  const { page, problems, context } = await personAtHome(env, 'Ada Admin', { width: 1280, height: 1000 });
  await navigate(page, 'Inventory');
  await page.waitForSelector('main h1:text("Inventory")');
  await page.locator('main table').getByRole('link').first().click();
  await page.waitForSelector('.owner-form');
  assert.equal(await page.locator('.owner-form input[name=email]').getAttribute('list'), 'owner-suggestions');
  await page.waitForSelector('datalist#owner-suggestions option', { state: 'attached' });

  await page.fill('.owner-form input[name=email]', 'aubrey.auditor@example.com');
  await page.getByRole('button', { name: 'Set owner', exact: true }).click();
  await page.waitForSelector('text=auditors only read, so they cannot own a server');

  await page.fill('.owner-form input[name=email]', 'new.owner@example.com');
  await page.getByRole('button', { name: 'Set owner', exact: true }).click();
  await page.waitForSelector('.owner-question');
  assert.match(await page.locator('.owner-question').innerText(), /new\.owner@example\.com has never signed in and is not in any mapping: make them the owner anyway\?/);
  await assertAccessible(page, 'Ada: unknown owner question');
  await page.getByRole('button', { name: 'Set owner anyway' }).click();
  await page.waitForSelector('text=Owner saved.');
  assert.equal(await page.locator('dd.owner').innerText(), 'new.owner@example.com');
  assert.equal(await page.locator('.owner-question').count(), 0);
  // Shown without a reload: the marker set at sign-in is still there.
  assert.equal(await page.evaluate(() => window.__noReload), true);
  assert.deepEqual(problems.filter((p) => !p.includes('status of 422')), []);
  await context.close();
});
