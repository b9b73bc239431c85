// An admin creates a SCIM token for an identity provider, sees it exactly once with the base
// URL to paste into the provider, and revokes it after confirming; reached by clicking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible, demoForFile, personAtHome, waitForHydration } from '../lib/harness.mjs';

const env = demoForFile();

/** From anywhere: Settings in the top bar, then the SCIM link on the settings page. */
async function openTokensPage(page) {
  await page.locator('#primary-nav').getByRole('link', { name: 'Settings', exact: true }).click();
  await page.waitForURL(/\/settings$/);
  await page.getByRole('link', { name: 'Manage SCIM tokens' }).click();
  await page.waitForURL(/\/settings\/scim$/);
  await page.getByRole('heading', { level: 1, name: 'SCIM provisioning' }).waitFor();
  await page.waitForFunction(() => !document.querySelector('main .loading'));
}

test('SCIM tokens: create, shown once, revoke', async () => {
  const { page, problems, context } = await personAtHome(env, 'Ada Admin');
  await openTokensPage(page);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'client-side navigation');
  await page.getByText('No tokens yet.').waitFor();
  await assertAccessible(page, 'SCIM tokens, none yet');

  await page.getByLabel('Identity provider').fill('Entra ID');
  await page.getByRole('button', { name: 'Create token' }).click();
  const tokenCell = page.locator('.new-token code.scim-token');
  await tokenCell.waitFor();
  const token = await tokenCell.innerText();
  assert.match(token, /^par_scim_[A-Za-z0-9_-]{43}$/);
  assert.equal(await page.locator('.new-token code.scim-base-url').innerText(), `${env.demo.url}/scim/v2`);
  assert.match(await page.locator('.new-token').innerText(), /shown only once/);

  const rows = page.locator('table.scim-tokens tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 1);
  const row = await rows.first().innerText();
  assert.match(row, /Entra ID/);
  assert.match(row, /Active/);
  assert.ok(!row.includes(token), 'the list shows a prefix only');
  await assertAccessible(page, 'SCIM tokens, one just created');

  // The token works against the SCIM endpoint.
  const users = await fetch(`${env.demo.url}/scim/v2/Users`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(users.status, 200);
  assert.match(users.headers.get('content-type'), /application\/scim\+json/);

  // Leaving and coming back: the token is not shown again.
  await page.getByRole('link', { name: 'Settings', exact: true }).first().click();
  await page.waitForURL(/\/settings$/);
  await page.getByRole('link', { name: 'Manage SCIM tokens' }).click();
  await page.waitForURL(/\/settings\/scim$/);
  await rows.first().waitFor();
  assert.equal(await page.locator('.new-token').count(), 0);
  assert.ok(!(await page.locator('main').innerText()).includes(token));
  const lastUsed = await rows.first().locator('td').nth(3).innerText();
  assert.notEqual(lastUsed, 'Never', 'the SCIM call shows as last use');

  // Revoke, after a confirmation that can be cancelled.
  await page.getByRole('button', { name: /^Revoke the token Entra ID/ }).click();
  await page.getByRole('group', { name: 'Confirm revocation' }).waitFor();
  await page.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await page.getByRole('group', { name: 'Confirm revocation' }).count(), 0);
  await page.getByRole('button', { name: /^Revoke the token Entra ID/ }).click();
  await page.getByRole('button', { name: 'Revoke token', exact: true }).click();
  await page.getByText(/^Token par_scim_.{6}… of Entra ID revoked\.$/).waitFor();
  await page.locator('td.token-status', { hasText: /^Revoked/ }).waitFor();
  assert.match(await rows.first().innerText(), /Revoked .* by ada\.admin@example\.com/);
  await assertAccessible(page, 'SCIM tokens, one revoked');

  const refused = await fetch(`${env.demo.url}/scim/v2/Users`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(refused.status, 401);

  // The page survives a reload (server-rendered, then hydrated).
  await page.reload();
  await waitForHydration(page);
  await page.locator('td.token-status', { hasText: /^Revoked/ }).waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});
