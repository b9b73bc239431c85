// The campaign dashboard's item list in the browser. Ada reaches a campaign from the
// navigation, filters its items (the filters stay in the address, through Back, Forward and reload),
// then closes a campaign whose undecided items are flagged for an admin and settles several
// at once: the confirmation names the count and takes the focus, Cancel gives it back, a
// refusal stays in the confirmation, and one justification settles them all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible, demoForFile, personAtHome, waitForHydration } from '../lib/harness.mjs';

const env = demoForFile();

async function navigate(page, label) {
  await page.locator('#primary-nav').getByRole('link', { name: label, exact: true }).click();
}

const focusOn = (page, id) => page.waitForFunction((i) => document.activeElement?.id === i, id);

test('an admin filters a campaign\'s items and settles flagged items in bulk', async () => {
  const { page, problems, context } = await personAtHome(env, 'Ada Admin', { width: 1280, height: 1000 });

  // The demo's open campaign, from the Campaigns list.
  await navigate(page, 'Campaigns');
  await page.waitForSelector('main h1:text("Campaigns")');
  await page.locator('tr', { has: page.locator('.badge-ok', { hasText: 'Open' }) }).first().getByRole('link').first().click();
  await page.waitForSelector('#items-heading');
  await page.waitForSelector('.items-table tbody tr');
  const all = Number((await page.locator('.campaign-items .count').innerText()).match(/^(\d+) items match/)[1]);
  assert.ok(all > 0);

  // Filter by reviewer and decision: the address carries both.
  await page.selectOption('.campaign-items select[name="reviewer"]', 'rita.reviewer@example.com');
  await page.selectOption('.campaign-items select[name="decision"]', 'undecided');
  await page.locator('.campaign-items').getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/reviewer=rita\.reviewer%40example\.com|reviewer=rita\.reviewer@example\.com/);
  await page.waitForURL(/decision=undecided/);
  await page.waitForFunction((n) => {
    const text = document.querySelector('.campaign-items .count')?.textContent ?? '';
    const m = text.match(/^(\d+) items match/);
    return m && Number(m[1]) < n;
  }, all);
  const reviewers = await page.locator('.items-table tbody tr td:nth-child(3)').allInnerTexts();
  assert.ok(reviewers.length > 0);
  for (const r of reviewers) assert.match(r, /^rita\.reviewer@example\.com/);
  const filtered = await page.locator('.campaign-items .count').innerText();
  await assertAccessible(page, 'Ada: filtered dashboard');
  // The filters are in the address: Back returns to the unfiltered list, Forward to the
  // filtered one.
  const countIs = (text) => page.waitForFunction((t) => (document.querySelector('.campaign-items .count')?.textContent ?? '').startsWith(t), text);
  await page.goBack();
  await countIs(`${all} items match`);
  assert.equal(await page.locator('.campaign-items select[name="decision"]').inputValue(), '');
  await page.goForward();
  await countIs(filtered);
  assert.equal(await page.locator('.campaign-items select[name="decision"]').inputValue(), 'undecided');
  // A reload keeps them too.
  await page.reload();
  await waitForHydration(page);
  await countIs(filtered);
  assert.equal(await page.locator('.campaign-items select[name="decision"]').inputValue(), 'undecided');
  assert.equal(await page.locator('.campaign-items select[name="reviewer"]').inputValue(), 'rita.reviewer@example.com');

  // A campaign whose undecided items are flagged at close.
  await navigate(page, 'Campaigns');
  await page.waitForSelector('main h1:text("Campaigns")');
  await page.getByRole('link', { name: 'New campaign' }).click();
  await page.waitForSelector('input[name="input[name]"]');
  await page.fill('input[name="input[name]"]', 'Payments flags review');
  await page.uncheck('input[name="input[kind_account_role]"]');
  await page.check('input[name="input[server_ids][]"][value="10001"]');
  await page.check('input[name="input[server_ids][]"][value="10002"]');
  await page.selectOption('select[name="input[default_outcome]"]', 'flag');
  await page.getByRole('button', { name: 'Save draft' }).click();
  await page.waitForURL(/\/campaigns\/\d+$/);
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Launch…' }).click();
  await page.getByRole('button', { name: 'Launch campaign' }).click();
  await page.waitForSelector('#progress-heading');
  await page.getByRole('button', { name: 'Close campaign…' }).click();
  await page.getByRole('button', { name: 'Close campaign', exact: true }).click();
  await page.waitForSelector('.count-to-revoke');
  const flaggedBefore = Number(await page.locator('.count-flagged').innerText());
  assert.ok(flaggedBefore >= 3, `${flaggedBefore} flagged`);

  // The shortcut filters the list to the flagged items.
  await page.locator('.item-shortcuts').getByRole('link', { name: /Flagged for admin/ }).click();
  await page.waitForURL(/decision=flag/);
  await page.waitForSelector('.settle-bar');
  // Two items about other people (Ada's own access is another admin's call).
  const rows = page.locator('.items-table tbody tr', { has: page.locator('.select-flagged') })
    .filter({ hasNotText: 'ada.admin@example.com' });
  await rows.nth(0).locator('.select-flagged').check();
  await rows.nth(1).locator('.select-flagged').check();
  assert.equal(await page.locator('.settle-bar .selected-count').innerText(), '2 selected');

  // The confirmation names the count and takes the focus; Cancel gives it back.
  await page.getByRole('button', { name: 'Revoke selected…' }).click();
  await page.waitForSelector('.settle-confirm');
  assert.match(await page.locator('#settle-question').innerText(), /^Revoke 2 flagged items\?$/);
  await focusOn(page, 'settle-justification');
  await assertAccessible(page, 'Ada: bulk settle confirmation');
  await page.locator('.settle-cancel').click();
  assert.equal(await page.locator('.settle-confirm').count(), 0);
  await focusOn(page, 'settle-revoke');

  // Without a justification: refused inside the confirmation, which keeps the focus.
  await page.getByRole('button', { name: 'Revoke selected…' }).click();
  await page.waitForSelector('.settle-confirm');
  await page.locator('.settle-submit').click();
  await page.waitForFunction(() => /Say why/.test(document.querySelector('#settle-error')?.textContent ?? ''));
  assert.ok(await page.evaluate(() => document.querySelector('.settle-confirm').contains(document.activeElement)));
  assert.equal(Number(await page.locator('.count-flagged').innerText()), flaggedBefore);

  // With one: both settled.
  await page.fill('#settle-justification', 'Payments team left in October');
  await page.locator('.settle-submit').click();
  await page.waitForSelector('.items-notice >> text=Revoked 2 flagged items.');
  await page.waitForFunction((n) => Number(document.querySelector('.count-flagged')?.textContent) === n, flaggedBefore - 2);
  assert.equal(await page.locator('.settle-confirm').count(), 0);
  // Still filtered to the flagged items, which no longer include the two.
  await page.waitForFunction((n) => (document.querySelector('.campaign-items .count')?.textContent ?? '').startsWith(`${n} items match`), flaggedBefore - 2);
  await assertAccessible(page, 'Ada: closed campaign after bulk settle');

  // The revoke list shows them with their fulfilment.
  await page.locator('.item-shortcuts').getByRole('link', { name: /Decided revoke/ }).click();
  await page.waitForURL(/decision=revoke/);
  await page.waitForFunction(() => [...document.querySelectorAll('.items-table tbody tr')]
    .filter((r) => r.textContent.includes('Payments team left in October')).length === 2);
  const justified = page.locator('.items-table tbody tr', { hasText: 'Payments team left in October' });
  assert.equal(await justified.locator('td.fulfilment').count(), 2);
  assert.match(await page.locator('.campaign-items .count').innerText(), /^\d+ items match/);
  for (const row of await page.locator('.items-table tbody tr td:nth-child(4)').allInnerTexts()) {
    assert.match(row, /^To revoke/);
  }
  assert.deepEqual(problems.filter((p) => !p.includes('status of 422')), []);
  await context.close();
});
