// Manual fulfilment in the browser, on a demo without a users gateway (users come from CSV
// imports, so every user change is a task for a person). Ada closes a campaign over one
// server's permissions and applies its revocations; the worker turns them into one task that
// Petra, a Postmark account admin, finds in her inbox. She removes one permission "in
// Postmark" (here: the next users export no longer lists it) and marks it done, and marks a
// second one done without changing anything. Ada imports the next export: the first line is
// proved effective, the second is reported not effective.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { assertAccessible, demoForFile, personAtHome, waitForHydration } from '../lib/harness.mjs';

const env = demoForFile(['--without-users-gateway']);
const SAMPLE_USERS = readFileSync(new URL('../../docs/sample-users.csv', import.meta.url), 'utf8');
const CAMPAIGN = 'Billing server permissions';

/** Waits for the page's data, pressing the page's Refresh button (or reloading) meanwhile. */
async function until(page, check, what) {
  for (let tries = 0; tries < 60; tries += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const refresh = page.getByRole('button', { name: 'Refresh' });
    if (await refresh.count()) await refresh.click();
  }
  throw new Error(`gave up waiting for ${what}`);
}

test('a manual task is marked by a fulfilment person and the next import proves it', async () => {
  const { page: ada, problems: adaProblems, context: adaContext } = await personAtHome(env, 'Ada Admin', { width: 1280, height: 1000 });

  // Ada: a campaign over server 10001's permissions, launched, closed, applied.
  await ada.locator('#primary-nav').getByRole('link', { name: 'Campaigns', exact: true }).click();
  await ada.waitForSelector('main h1:text("Campaigns")');
  await ada.getByRole('link', { name: 'New campaign' }).click();
  await ada.waitForSelector('input[name="input[name]"]');
  await ada.fill('input[name="input[name]"]', CAMPAIGN);
  await ada.uncheck('input[name="input[kind_account_role]"]');
  await ada.uncheck('input[name="input[kind_server]"]');
  await ada.check('input[name="input[server_ids][]"][value="10001"]');
  await ada.selectOption('select[name="input[default_outcome]"]', 'revoke');
  await ada.getByRole('button', { name: 'Save draft' }).click();
  await ada.waitForURL(/\/campaigns\/\d+$/);
  await waitForHydration(ada);
  await ada.getByRole('button', { name: 'Launch…' }).click();
  await ada.getByRole('button', { name: 'Launch campaign' }).click();
  await ada.waitForSelector('#progress-heading');
  await ada.getByRole('button', { name: 'Close campaign…' }).click();
  await ada.getByRole('button', { name: 'Close campaign', exact: true }).click();
  await ada.waitForSelector('#apply-heading');
  const total = await ada.locator('.apply-row').count();
  assert.ok(total >= 2, `${total} revocations to apply`);
  await ada.getByRole('button', { name: 'Apply…' }).click();
  await ada.getByRole('button', { name: 'Apply revocations' }).click();
  await ada.waitForFunction(() => !document.querySelector('#apply-heading'));

  // Without a gateway, every one of them waits for a person.
  await ada.getByRole('link', { name: 'Every revocation of this campaign' }).click();
  await ada.waitForSelector('main h1:text("Revocations")');
  const manual = ada.locator('.revocations-table .badge:text-is("Manual")');
  await until(ada, async () => (await manual.count()) === total, 'every revocation to be manual');
  await ada.locator('.revocations-table a:text-matches("^Task #")').first().waitFor();

  // Petra finds the task in her inbox and follows its link.
  const { page: petra, problems: petraProblems, context: petraContext } = await personAtHome(env, 'Petra Postmark');
  assert.equal(
    await petra.locator('#primary-nav').getByRole('link', { name: 'Tasks', exact: true }).count(),
    1,
    'Petra has Tasks in her navigation',
  );
  await petra.getByRole('link', { name: 'your inbox' }).click();
  await petra.waitForSelector('main h1:text("Inbox")');
  const email = petra.locator('.inbox-email', { hasText: CAMPAIGN });
  await until(petra, async () => {
    if (await email.count()) return true;
    await petra.reload();
    await waitForHydration(petra);
    return false;
  }, 'the task email');
  assert.match(await email.locator('h2').innerText(), new RegExp(`By hand in Postmark: ${total} revocations from ${CAMPAIGN}`));
  await email.getByRole('link', { name: 'Open the task' }).click();
  await petra.waitForSelector('main h1:text-matches("^Task #")');
  await waitForHydration(petra);
  const lines = petra.locator('.task-line');
  assert.equal(await lines.count(), total);
  await assertAccessible(petra, 'Petra: task');

  // "Could not do" needs a note: the refusal shows on that line and nothing is saved.
  const third = lines.nth(2);
  await third.getByRole('button', { name: 'Could not do' }).click();
  await third.locator('[role="alert"]').waitFor();
  assert.match(await third.innerText(), /Say why it could not be done/);

  // The first line's permission is removed in Postmark; the second is left as it is.
  const first = lines.nth(0);
  const second = lines.nth(1);
  const removed = (await first.locator('.instruction').innerText()).match(/^Remove (\S+)'s/)[1];
  const kept = (await second.locator('.instruction').innerText()).match(/^Remove (\S+)'s/)[1];
  await first.locator('textarea').fill('Removed in the Postmark UI');
  await first.getByRole('button', { name: 'Done', exact: true }).click();
  await petra.waitForFunction(
    () => document.querySelector('.task-line')?.textContent.includes('Not verified yet'),
  );
  await lines.nth(1).getByRole('button', { name: 'Done', exact: true }).click();
  await petra.waitForFunction(
    () => document.querySelectorAll('.task-line')[1]?.textContent.includes('Not verified yet'),
  );
  assert.match(await lines.nth(0).innerText(), /Marked by petra\.postmark@example\.com/);
  assert.match(await petra.locator('.task-open').innerText(), new RegExp(`${total - 2} of ${total} lines still to do`));

  // Ada imports the next users export: the first permission is gone, the second is not.
  const nextExport = SAMPLE_USERS
    .split('\n')
    .filter((row) => !(row.startsWith(`${removed},`) && row.includes(',10001,')))
    .join('\n');
  assert.notEqual(nextExport, SAMPLE_USERS);
  await ada.locator('#primary-nav').getByRole('link', { name: 'Inventory', exact: true }).click();
  await ada.waitForSelector('main h1:text("Inventory")');
  await ada.getByRole('link', { name: 'Users', exact: true }).first().click();
  await ada.waitForSelector('input[type=file]');
  await waitForHydration(ada);
  await ada.setInputFiles('input[type=file]', {
    name: 'users-after.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(nextExport, 'utf8'),
  });
  await ada.getByRole('button', { name: 'Import', exact: true }).click();
  await ada.waitForSelector('.notice-ok');

  await ada.locator('#primary-nav').getByRole('link', { name: 'Tasks', exact: true }).click();
  await ada.waitForSelector('main h1:text("Tasks")');
  const row = ada.locator('.tasks-table tr', { hasText: CAMPAIGN });
  assert.match(await row.innerText(), /1 not effective/);
  await assertAccessible(ada, 'Ada: tasks');
  await row.getByRole('link').click();
  await ada.waitForSelector('main h1:text-matches("^Task #")');
  const adaLines = ada.locator('.task-line');
  const effective = adaLines.filter({ hasText: `Remove ${removed}'s` });
  const notEffective = adaLines.filter({ hasText: `Remove ${kept}'s` });
  assert.match(await effective.locator('.line-state').innerText(), /Effective/);
  assert.match(await notEffective.locator('.line-state').innerText(), /Not effective/);

  // The one refused request is the "could not do" without a note, on purpose.
  assert.deepEqual(petraProblems.filter((p) => !p.includes('status of 422')), []);
  assert.deepEqual(adaProblems, []);
  await petraContext.close();
  await adaContext.close();
});
