// Every demo person moves through the five main pages the way people do: from the home page,
// by clicking the navigation. Each page must load its data after a client-side navigation
// (not only when opened by URL), pass axe-core at desktop and phone width, and keep working
// after the first action (a decision, a sync).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible, demoForFile, personAtHome } from '../lib/harness.mjs';

const env = demoForFile();
const atHome = (name) => personAtHome(env, name);

/** Clicks a top-bar entry and waits until the page has finished loading its data. */
async function navigate(page, label) {
  await page.locator('#primary-nav').getByRole('link', { name: label, exact: true }).click();
  await page.waitForFunction(
    (title) => document.querySelector('main h1')?.textContent.includes(title)
      && !document.querySelector('main .loading'),
    label,
  );
  assert.equal(await page.evaluate(() => window.__noReload), true, `${label}: client-side navigation`);
  const text = await page.locator('main').innerText();
  assert.doesNotMatch(text, /could not be reached|deserializ|server function/i, `${label}: ${text}`);
  return text;
}

// What each page shows a person once its data arrived: the content, or why it is not theirs.
const EXPECTED = {
  'Ada Admin': {
    Inventory: '.servers-table tbody tr',
    Campaigns: '.campaigns-table, table',
    'My reviews': '.queue-item, .empty-state',
    Audit: 'table',
    // The connection facts, loaded after the client-side navigation.
    Settings: '[data-testid=postmark-status]',
  },
  'Aubrey Auditor': {
    Inventory: '.servers-table tbody tr',
    Campaigns: 'table',
    Audit: 'table',
    Settings: '.notice, form',
  },
  // Reviewers are shown only what they may open.
  'Rita Reviewer': {
    'My reviews': '.queue-item',
  },
  'Manny Manager': {
    'My reviews': '.queue-item',
  },
};

// Every entry that is not for everyone: shown exactly when the person's EXPECTED lists it.
const STAFF_ONLY = ['Inventory', 'Campaigns', 'My reviews', 'Audit', 'Settings'];

for (const [name, pages] of Object.entries(EXPECTED)) {
  test(`${name} reaches every main page from the navigation`, async () => {
    const person = await atHome(name);
    await assertAccessible(person.page, `${name}: home`);
    const nav = person.page.locator('#primary-nav');
    for (const label of STAFF_ONLY) {
      const shown = await nav.getByRole('link', { name: label, exact: true }).count();
      assert.equal(shown, label in pages ? 1 : 0, `${name}: ${label} in the navigation`);
    }
    for (const [label, selector] of Object.entries(pages)) {
      await navigate(person.page, label);
      assert.ok(
        (await person.page.locator(`main ${selector.split(', ').join(', main ')}`).count()) > 0,
        `${name} on ${label}: expected ${selector}`,
      );
      await assertAccessible(person.page, `${name}: ${label}`);
    }
    assert.deepEqual(person.problems, []);
    await person.context.close();
  });
}

test('a reviewer reaches the queue from the navigation and decides without losing it', async () => {
  const rita = await atHome('Rita Reviewer');
  await navigate(rita.page, 'My reviews');
  const items = await rita.page.locator('.queue-item').count();
  assert.ok(items >= 2, `Rita has ${items} items`);
  const undecided = rita.page.locator('.queue-item:not(.decided)').first();
  const itemId = await undecided.getAttribute('data-item-id');
  await undecided.getByRole('button', { name: /^Approve/ }).click();
  await rita.page.waitForSelector('.queue-notice >> text=Approved');
  // The list reloads in place: the same items, the decided one now marked as such.
  await rita.page.waitForSelector(`.queue-item.decided[data-item-id="${itemId}"]`);
  assert.equal(await rita.page.locator('.queue-item').count(), items);
  // A filter applied from the page, then back to the home page and into the queue again.
  await rita.page.selectOption('select[name="status"]', 'undecided');
  await rita.page.getByRole('button', { name: 'Apply' }).click();
  await rita.page.waitForURL(/status=undecided/);
  await rita.page.waitForFunction((n) => document.querySelectorAll('.queue-item').length === n - 1, items);
  await rita.page.locator('a.brand').click();
  await rita.page.waitForURL(env.demo.url + '/');
  await navigate(rita.page, 'My reviews');
  assert.equal(await rita.page.locator('.queue-item').count(), items);
  assert.equal(await rita.page.evaluate(() => window.__noReload), true);
  assert.deepEqual(rita.problems, []);
  await rita.context.close();
});

test('an admin reaches the inventory from the navigation and syncs without emptying it', async () => {
  const ada = await atHome('Ada Admin');
  await navigate(ada.page, 'Inventory');
  const rows = await ada.page.locator('.servers-table tbody tr').count();
  assert.ok(rows > 0);
  await ada.page.getByRole('button', { name: 'Sync now' }).click();
  await ada.page.waitForSelector('.sync-result .status-ok');
  await ada.page.waitForFunction(() => !document.querySelector('main .loading'));
  assert.equal(await ada.page.locator('.servers-table tbody tr').count(), rows);
  // A filter applied, then the Servers tab: the list and the form both show every server.
  await ada.page.selectOption('select[name="flag"]', 'no-sends');
  await ada.page.getByRole('button', { name: 'Apply' }).click();
  await ada.page.waitForURL(/flag=no-sends/);
  await ada.page.waitForFunction(() => !document.querySelector('main .loading'));
  await ada.page.getByRole('navigation', { name: 'Inventory' }).getByRole('link', { name: 'Servers', exact: true }).click();
  await ada.page.waitForURL(env.demo.url + '/inventory');
  await ada.page.waitForFunction((n) => document.querySelectorAll('.servers-table tbody tr').length === n, rows);
  assert.equal(await ada.page.locator('select[name="flag"]').inputValue(), '');
  // Into the users tab and a server's page by their links, then back through the navigation.
  await ada.page.getByRole('link', { name: 'Users', exact: true }).click();
  await ada.page.waitForSelector('main table tbody tr');
  await navigate(ada.page, 'Inventory');
  await ada.page.locator('.servers-table tbody tr a').first().click();
  await ada.page.waitForURL(/\/inventory\/servers\/\d+$/);
  await ada.page.waitForFunction(() => !document.querySelector('main .loading'));
  assert.doesNotMatch(await ada.page.locator('main').innerText(), /could not be reached/);
  assert.equal(await ada.page.evaluate(() => window.__noReload), true);
  assert.deepEqual(ada.problems, []);
  await ada.context.close();
});

test('a reviewer starts from the home page: what waits, and the Start button into the queue', async () => {
  const rita = await atHome('Rita Reviewer');
  const waiting = rita.page.locator('.waiting-campaign').first();
  await waiting.waitFor();
  assert.match(await waiting.innerText(), /\d+ of \d+ undecided, due \d{4}-\d{2}-\d{2}/);
  await waiting.getByRole('link', { name: /^Start reviewing / }).click();
  await rita.page.waitForURL(/\/reviews\?campaign=\d+/);
  await rita.page.waitForSelector('main .queue-item');
  assert.equal(await rita.page.evaluate(() => window.__noReload), true);
  // The skip link, after hydration: the first focusable element; Enter puts focus in main.
  await rita.page.locator('a.brand').click();
  await rita.page.waitForURL(env.demo.url + '/');
  assert.equal(
    await rita.page.evaluate(() => document.querySelector('a[href], button, input, select, textarea')?.className),
    'skip-link',
  );
  await rita.page.locator('a.skip-link').focus();
  await rita.page.keyboard.press('Enter');
  assert.equal(await rita.page.evaluate(() => document.activeElement?.id), 'main');
  assert.deepEqual(rita.problems, []);
  await rita.context.close();
});

test('an auditor, who only reads, gets no review queue on the home page', async () => {
  const aubrey = await atHome('Aubrey Auditor');
  await aubrey.page.waitForSelector('.tiles');
  assert.equal(await aubrey.page.locator('.waiting').count(), 0);
  assert.equal(await aubrey.page.getByRole('link', { name: /My reviews/ }).count(), 0);
  await aubrey.context.close();
});
