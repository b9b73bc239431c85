// Group mappings in the demo: the identity provider's "postmark-payments-admins" group is
// mapped to Server Admin on two servers, so its joiner was invited and granted at start. An
// admin reaches the page from Settings, adds a server to the mapping, reads who gains before
// saving, saves, and watches the jobs run. Reached by clicking, from the top bar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible, demoForFile, personAtHome } from '../lib/harness.mjs';

const env = demoForFile();
const JOINER = 'nadia.novak@example.com';

/** Clicks Refresh until `predicate` holds for the page's text (jobs run in the background). */
async function refreshUntil(page, predicate, what) {
  for (let i = 0; i < 60; i += 1) {
    const text = await page.locator('main').innerText();
    if (predicate(text)) return text;
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.waitForTimeout(500);
  }
  throw new Error(`never saw ${what}:\n${await page.locator('main').innerText()}`);
}

test('group mappings: the joiner provisioned, then a change previewed and saved', async () => {
  const { page, problems } = await personAtHome(env, 'Ada Admin');
  await page.locator('#primary-nav').getByRole('link', { name: 'Settings', exact: true }).click();
  await page.waitForURL(/\/settings$/);
  await page.getByRole('link', { name: 'Group mappings' }).click();
  await page.waitForURL(/\/settings\/mappings$/);
  await page.getByRole('heading', { level: 1, name: 'Group mappings' }).waitFor();
  await page.waitForFunction(() => !document.querySelector('main .loading'));
  assert.equal(await page.evaluate(() => window.__noReload), true, 'client-side navigation');

  const row = page.locator('table.mappings tr', { hasText: 'postmark-payments-admins' });
  assert.match(await row.innerText(), /Server Admin on /);
  // The joiner's invitation and grants ran at start and the sync proved them.
  const jobs = page.locator('table.mapping-jobs');
  await refreshUntil(
    page,
    (t) => (t.match(/Done, effective/g) || []).length >= 3,
    'the joiner invited and granted',
  );
  assert.match(await jobs.locator('tr', { hasText: 'Invite to the account' }).innerText(), new RegExp(JOINER));
  await assertAccessible(page, 'Group mappings');

  // Add a third server: the preview names who gains, nothing is saved until Save.
  await row.getByRole('button', { name: /Edit the mapping/ }).click();
  const boxes = page.locator('fieldset.server-choices input[type=checkbox]');
  assert.equal(await page.locator('fieldset.server-choices input:checked').count(), 2);
  const unchecked = page.locator('fieldset.server-choices input:not(:checked)');
  const third = unchecked.nth(0);
  const fourthValue = await unchecked.nth(1).getAttribute('value');
  await third.check();
  await page.getByRole('button', { name: 'Preview' }).click();
  const effect = page.locator('.mapping-effect', { hasText: 'If you save this mapping' });
  await effect.waitFor();
  const gains = await effect.locator('ul.effect-gains').innerText();
  assert.match(gains, new RegExp(`${JOINER.replace('.', '\\.')}\\): Server Admin on `));
  const gained = (gains.match(/Server Admin on/g) || []).length;
  assert.ok(gained >= 1, gains);
  const before = ((await page.locator('main').innerText()).match(/Done, effective/g) || []).length;
  await assertAccessible(page, 'Group mapping preview');

  // Changing the form after the preview withdraws Save until it is previewed again.
  const fourth = boxes.and(page.locator(`[value="${fourthValue}"]`));
  await fourth.check();
  await page.locator('.stale').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Save mapping' }).count(), 0);
  await fourth.uncheck();
  await page.getByRole('button', { name: 'Save mapping' }).waitFor();

  await page.getByRole('button', { name: 'Save mapping' }).click();
  await page.locator('.mapping-effect', { hasText: 'Jobs started' }).waitFor();
  assert.equal(
    await page.evaluate(() => !!document.activeElement?.closest('.focused-result')),
    true,
    'the focus is on what the save did',
  );
  assert.equal(await page.locator('#mapping-form-heading').innerText(), 'New mapping');
  await refreshUntil(
    page,
    (t) => (t.match(/Done, effective/g) || []).length >= before + gained,
    'the new grants done and proved',
  );
  assert.deepEqual(problems, []);
});

test('group mappings: an auditor reads them from Settings, without changing anything', async () => {
  const { page, problems } = await personAtHome(env, 'Aubrey Auditor');
  await page.locator('#primary-nav').getByRole('link', { name: 'Settings', exact: true }).click();
  await page.waitForURL(/\/settings$/);
  await page.getByRole('link', { name: 'Group mappings' }).click();
  await page.waitForURL(/\/settings\/mappings$/);
  await page.locator('table.mappings').waitFor();
  assert.match(await page.locator('table.mappings').innerText(), /postmark-payments-admins/);
  assert.equal(await page.getByRole('button', { name: /Edit the mapping/ }).count(), 0);
  assert.equal(await page.locator('form.mapping-form').count(), 0);
  await assertAccessible(page, 'Group mappings (auditor)');
  assert.deepEqual(problems, []);
});
