// Revocations in the browser: Ada drafts a campaign over two servers, launches and closes it
// (undecided items default to revoke), applies the revocations excluding one with a reason,
// and follows them on the Revocations page until the worker has carried them out against the
// simulated Postmark.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible, demoForFile, personAtHome, waitForHydration } from '../lib/harness.mjs';

const env = demoForFile();

test('apply after close, then the revocations run and are listed', async () => {
  const { page, problems, context } = await personAtHome(env, 'Ada Admin', { width: 1280, height: 1000 });

  await page.locator('#primary-nav').getByRole('link', { name: 'Campaigns', exact: true }).click();
  await page.waitForSelector('main h1:text("Campaigns")');
  await page.getByRole('link', { name: 'New campaign' }).click();
  await page.waitForSelector('input[name="input[name]"]');
  await page.fill('input[name="input[name]"]', 'Payments servers offboarding');
  await page.uncheck('input[name="input[kind_account_role]"]');
  await page.check('input[name="input[server_ids][]"][value="10001"]');
  await page.check('input[name="input[server_ids][]"][value="10002"]');
  await page.selectOption('select[name="input[default_outcome]"]', 'revoke');
  await page.selectOption('select[name="input[revocation_mode]"]', 'apply');
  await page.getByRole('button', { name: 'Save draft' }).click();
  await page.waitForURL(/\/campaigns\/\d+$/);
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Launch…' }).click();
  await page.getByRole('button', { name: 'Launch campaign' }).click();
  await page.waitForSelector('#progress-heading');
  await page.getByRole('button', { name: 'Close campaign…' }).click();
  await page.getByRole('button', { name: 'Close campaign', exact: true }).click();

  // Closed: the to-revoke list waits for an admin.
  await page.waitForSelector('#apply-heading');
  const rows = page.locator('.apply-row');
  const total = await rows.count();
  assert.ok(total >= 3, `${total} revocations to apply`);
  assert.equal(await page.locator('.count-waiting').innerText(), String(total));
  await assertAccessible(page, 'Ada: apply revocations');
  const kept = rows.first();
  const keptId = await kept.getAttribute('data-revocation-id');
  await kept.locator('input.exclude').check();
  // An exclusion without a reason is refused, and nothing is applied.
  await page.getByRole('button', { name: 'Apply…' }).click();
  await page.getByRole('button', { name: 'Apply revocations' }).click();
  await page.waitForSelector('.apply-revocations .notice-error, .apply-revocations [role="alert"]');
  assert.equal(await page.locator('.count-waiting').innerText(), String(total));
  await kept.locator('input.exclude-reason').fill('Still needed for the December payroll run');
  await page.getByRole('button', { name: 'Apply revocations' }).click();
  // Applied: the dashboard reloads without the list, and counts what is on its way.
  await page.waitForFunction(() => !document.querySelector('#apply-heading'));
  assert.equal(await page.locator('.count-waiting').innerText(), '0');
  assert.equal(await page.locator('.count-excluded').innerText(), '1');

  // The Revocations page fills as the worker carries them out.
  await page.getByRole('link', { name: 'Every revocation of this campaign' }).click();
  await page.waitForSelector('main h1:text("Revocations")');
  await page.waitForFunction(() => !document.querySelector('main .loading'));
  for (let tries = 0; tries < 40; tries += 1) {
    const waiting = await page.locator('.revocations-table .badge:text-matches("^(Pending|Running)$")').count();
    if (waiting === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.waitForFunction(() => !document.querySelector('main .loading'));
  }
  const table = page.locator('.revocations-table tbody tr');
  assert.equal(await table.count(), total);
  assert.ok(
    (await page.locator('.revocations-table .badge-ok').count()) >= 1,
    `some are done:\n${await page.locator('.revocations-table').innerText()}`,
  );
  const excluded = page.locator(`tr[data-revocation-id="${keptId}"]`);
  assert.match(await excluded.innerText(), /Excluded/);
  assert.match(await excluded.innerText(), /December payroll/);
  // Each row keeps its attempts.
  const done = page.locator('.revocations-table tr', { has: page.locator('.badge-ok') }).first();
  await done.locator('summary', { hasText: /\d+ attempts?$/ }).click();
  await done.locator('.attempts li').first().waitFor();
  await assertAccessible(page, 'Ada: revocations');
  // The one refused request is the exclusion without a reason, on purpose.
  assert.deepEqual(problems.filter((p) => !p.includes('status of 422')), []);
  await context.close();
});
