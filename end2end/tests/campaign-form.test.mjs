// The campaign form picks its scope from the inventory: an admin reaches it through the
// navigation, searches the server list, checks a server and an account role, saves, and finds
// them checked on the draft. The reviewer fields suggest known reviewers, never auditors. No
// serious or critical axe-core finding at desktop width or at 390 px.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible, demoForFile, personAtHome, waitForHydration } from '../lib/harness.mjs';

const env = demoForFile();

const SERVERS = 'input[name="input[server_ids][]"]';
const ROLES = 'input[name="input[roles][]"]';

test('servers and roles are picked from the inventory and saved on the draft', async () => {
  const { page, problems } = await personAtHome(env, 'Ada Admin');
  await page.locator('#primary-nav').getByRole('link', { name: 'Campaigns', exact: true }).click();
  await page.waitForSelector('main h1:text("Campaigns")');
  await page.getByRole('link', { name: 'New campaign' }).click();
  await page.waitForSelector(SERVERS);
  await waitForHydration(page);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'reached without a reload');

  // Every server of the inventory, none checked: the form says that means all of them.
  const servers = page.locator(SERVERS);
  const total = await servers.count();
  assert.ok(total >= 8, `${total} servers`);
  assert.equal(await page.locator(`${SERVERS}:checked`).count(), 0);
  await page.getByText('none checked: every server in the inventory at launch').waitFor();
  // Roles: Postmark's, and the inventory's.
  for (const role of ['Account Owner', 'Account Admin', 'Server Access']) {
    assert.equal(await page.locator(`${ROLES}[value="${role}"]`).count(), 1, role);
  }
  // Reviewer suggestions: known reviewers, no auditor.
  const suggested = await page.locator('#known-reviewers option').evaluateAll((options) => options.map((o) => o.value));
  assert.ok(suggested.includes('rita.reviewer@example.com'), suggested.join(', '));
  assert.ok(!suggested.some((email) => email.startsWith('aubrey')), suggested.join(', '));
  assert.equal(await page.locator('input[name="input[fallback_reviewer]"]').getAttribute('list'), 'known-reviewers');
  await assertAccessible(page, 'new campaign form');

  // Search filters the list; Enter in the search box does not submit the form.
  const search = page.getByRole('searchbox', { name: 'Search servers' });
  await search.fill('secur');
  await page.getByText(`1 of ${total} shown`).waitFor();
  await search.press('Enter');
  assert.match(page.url(), /\/campaigns\/new$/);
  const visible = page.locator(`${SERVERS}:visible`);
  assert.equal(await visible.count(), 1);
  const chosen = await visible.getAttribute('value');
  await visible.check();
  await search.fill('');
  assert.equal(await page.locator(`${SERVERS}:visible`).count(), total);
  await page.locator(`${ROLES}[value="Account Admin"]`).check();
  await assertAccessible(page, 'new campaign form, filled');

  await page.fill('input[name="input[name]"]', 'Security alerts review');
  await page.getByRole('button', { name: 'Save draft' }).click();
  await page.waitForURL(/\/campaigns\/\d+$/);
  await page.waitForSelector('#settings-heading');
  // The draft's settings show the choices checked, and only them (once its form has loaded:
  // the heading comes before the draft's data does).
  await page.waitForSelector(`${SERVERS}:checked`);
  assert.deepEqual(
    await page.locator(`${SERVERS}:checked`).evaluateAll((boxes) => boxes.map((b) => b.value)),
    [chosen],
  );
  assert.deepEqual(
    await page.locator(`${ROLES}:checked`).evaluateAll((boxes) => boxes.map((b) => b.value)),
    ['Account Admin'],
  );
  assert.deepEqual(problems, []);
});

test('at 390 px the server list scrolls inside the form and the page does not', async () => {
  const { page, problems } = await personAtHome(env, 'Ada Admin', { width: 390, height: 844 });
  // The narrow layout may fold the navigation behind its menu button.
  if (await page.locator('.menu-toggle').isVisible()) await page.locator('.menu-toggle').click();
  await page.locator('#primary-nav').getByRole('link', { name: 'Campaigns', exact: true }).click();
  await page.getByRole('link', { name: 'New campaign' }).click();
  await page.waitForSelector(SERVERS);
  const list = page.locator('#pick-server_ids');
  const box = await list.boundingBox();
  assert.ok(box && box.height <= 16 * 16 + 2, `list ${box?.height}px high`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page ${overflow}px wider than the screen`);
  assert.deepEqual(problems, []);
});
