// Offboarding in the demo: the identity provider's push at start deactivated two leavers.
// One was removed and proved; the gateway refuses the other, whose removal fails and is
// flagged past the deadline (5 s here). An admin then removes someone in an emergency from
// the user page, after reading what will happen. Reached by clicking, from the top bar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible, demoForFile, personAtHome, waitForHydration } from '../lib/harness.mjs';

process.env.PAR_OFFBOARDING_DEADLINE = '5s';
const env = demoForFile();

const LEAVER = 'elena.evans@example.com';
const STUCK = 'jonas.jensen@example.com';
const ORPHAN = 'zoe.zimmer@example.com';

async function openOffboarding(page) {
  await page.locator('#primary-nav').getByRole('link', { name: 'Offboarding', exact: true }).click();
  await page.waitForURL(/\/offboarding$/);
  await page.getByRole('heading', { level: 1, name: 'Offboarding' }).waitFor();
  await page.waitForFunction(() => !document.querySelector('main .loading'));
}

/** Clicks Refresh until `predicate` holds for the removals table's text (jobs run in the background). */
async function refreshUntil(page, predicate, what) {
  for (let i = 0; i < 60; i += 1) {
    const text = await page.locator('main').innerText();
    if (await predicate(text)) return text;
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.waitForTimeout(500);
  }
  throw new Error(`never saw ${what}:\n${await page.locator('main').innerText()}`);
}

test('offboarding: the leavers, the deadline flag and orphaned accounts', async () => {
  const { page, problems } = await personAtHome(env, 'Ada Admin');
  await openOffboarding(page);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'client-side navigation');

  const leaver = page.locator('table.offboarding-cases tr', { hasText: LEAVER });
  const stuck = page.locator('table.offboarding-cases tr', { hasText: STUCK });
  await refreshUntil(page, (t) => t.includes('Removed and verified'), 'the leaver verified');
  assert.match(await leaver.innerText(), /Left at the identity provider/);
  assert.match(await leaver.innerText(), /deactivated at Okta \(demo\)/);
  assert.equal(await leaver.locator('.deadline-flag').count(), 0, 'a verified removal is never flagged');

  await refreshUntil(page, (t) => /Past the 5 s deadline/.test(t), 'the deadline flag');
  assert.match(await stuck.innerText(), /Past the 5 s deadline/);
  assert.match(await page.locator('.offboarding-overdue').innerText(), /1 past the 5 s deadline/);

  const orphans = await page.locator('table.orphans').innerText();
  assert.match(orphans, new RegExp(ORPHAN.replace('.', '\\.')));
  assert.match(orphans, /Not known to any connected identity provider/);
  await assertAccessible(page, 'Offboarding');

  // From an orphan to its user page, which says where the login stands.
  await page.locator('table.orphans').getByRole('link', { name: 'Zoe Zimmer' }).click();
  await page.waitForURL(/\/inventory\/users\//);
  await page.locator('.identity-standing').waitFor();
  assert.match(await page.locator('.identity-standing').innerText(), /Orphaned: unknown at the provider/);
  assert.deepEqual(problems, []);
});

test('emergency removal: the plan first, a reason, then the removal runs', async () => {
  const { page, problems } = await personAtHome(env, 'Ada Admin');
  await page.locator('#primary-nav').getByRole('link', { name: 'Inventory', exact: true }).click();
  await page.waitForURL(/\/inventory$/);
  await page.getByRole('link', { name: 'Users', exact: true }).first().click();
  await page.waitForURL(/\/inventory\/users/);
  await page.getByRole('link', { name: 'Chloe Chen' }).first().click();
  await page.waitForURL(/\/inventory\/users\/chloe/);
  await waitForHydration(page);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'client-side navigation');

  await page.getByRole('button', { name: 'Remove all access now…' }).click();
  const plan = page.locator('.removal-plan');
  await plan.waitFor();
  assert.match(await plan.innerText(), /removes chloe\.chen@example\.com from the Postmark account/);
  assert.match(await plan.innerText(), /Server permissions that go with it \(2\)/);
  await assertAccessible(page, 'Emergency removal plan');

  // No reason: refused where the admin is looking, nothing started.
  await page.getByRole('button', { name: 'Remove all access now', exact: true }).click();
  await page.getByText('Say why all of this person').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('removal-reason')), true,
    'focus goes to the reason');

  await page.getByLabel('Why (kept in the audit log)').fill('Laptop stolen, ticket IT-4411');
  await page.getByRole('button', { name: 'Remove all access now', exact: true }).click();
  await page.locator('.removal-started').waitFor();
  await page.locator('.removal-started').getByRole('link', { name: 'Follow it on the Offboarding page' }).click();
  await page.waitForURL(/\/offboarding$/);
  const row = page.locator('table.offboarding-cases tr', { hasText: 'chloe.chen@example.com' });
  await row.waitFor();
  assert.match(await row.innerText(), /Emergency removal/);
  assert.match(await row.innerText(), /Laptop stolen, ticket IT-4411/);
  await refreshUntil(page, async () => /Removed and verified/.test(await row.innerText()),
    'the emergency removal verified');
  // The removal without a reason was answered 422, which the browser logs.
  assert.deepEqual(problems.filter((p) => !p.includes('status of 422')), []);
});
