// The Audit page's search as people use it: reached from the navigation, filtered by action,
// paged to older events, and walked back with the browser's back button, with the address
// carrying the filter all along; compact at desktop width, no sideways page scroll on a phone,
// and no serious accessibility problems at either.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible, demoForFile, personAtHome } from '../lib/harness.mjs';

const env = demoForFile();

/** Waits until the event table shows rows and nothing is loading. */
async function settled(page) {
  await page.waitForFunction(
    () => !document.querySelector('main .loading') && document.querySelector('main .audit-table tbody tr'),
  );
}

const firstSeq = (page) => page.locator('.audit-table tbody tr').first().getAttribute('data-seq');
const actions = (page) => page.locator('.audit-table tbody tr td:nth-child(4)').allInnerTexts();
const countText = (page) => page.locator('main .count[role="status"]').innerText();

async function openAudit(page) {
  await page.locator('#primary-nav').getByRole('link', { name: 'Audit', exact: true }).click();
  await page.waitForFunction(() => document.querySelector('main h1')?.textContent.includes('Audit'));
  await settled(page);
}

test('an admin filters the audit log by action, pages to older events and goes back', async () => {
  const { page, problems, context } = await personAtHome(env, 'Ada Admin');
  await openAudit(page);
  assert.match(await countText(page), /^\d+ events in the log, newest first\.$/);

  // The whole page stays compact: one line per event.
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  assert.ok(height < 6000, `the audit page is ${height}px tall at 1280px`);

  // More than a page of one action: 52 signed checkpoints (the demo records two at start:
  // its signed-off campaign's and its own).
  const record = page.getByRole('button', { name: 'Record checkpoint' });
  for (let i = 0; i < 50; i += 1) await record.click();
  await record.waitFor();

  await page.locator('#audit-action').fill('audit.checkpoint');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/\/audit\?.*action=audit\.checkpoint/);
  await page.waitForFunction(() => /matching/.test(document.querySelector('main .count').textContent));
  await settled(page);
  assert.match(await countText(page), /^52 events matching, of \d+ events in the log\.$/);
  const firstPage = await actions(page);
  assert.equal(firstPage.length, 50);
  assert.ok(firstPage.every((a) => a === 'audit.checkpoint'), firstPage.join(', '));
  assert.equal(await page.locator('#audit-action').inputValue(), 'audit.checkpoint');
  // The CSV download starts from the same filter.
  assert.equal(await page.locator('.export-form input[name="action"]').inputValue(), 'audit.checkpoint');
  await assertAccessible(page, 'Audit, filtered');

  // Older events of the same filter, by the pager's link: the last two.
  const firstPageTop = await firstSeq(page);
  const firstPageBottom = await page.locator('.audit-table tbody tr').last().getAttribute('data-seq');
  await page.getByRole('navigation', { name: 'Audit log pages' }).getByRole('link', { name: 'Older' }).click();
  await page.waitForURL(/before=\d+/);
  await page.waitForFunction(() => document.querySelectorAll('.audit-table tbody tr').length === 2);
  assert.ok(Number(await firstSeq(page)) < Number(firstPageBottom), 'the older page starts below the first');
  assert.deepEqual(await actions(page), ['audit.checkpoint', 'audit.checkpoint']);
  assert.ok(await page.getByRole('link', { name: 'Newer' }).isVisible());
  assert.ok(await page.getByRole('link', { name: 'Newest' }).isVisible());
  assert.equal(await page.getByRole('link', { name: 'Older' }).count(), 0);

  // Back: the filter's first page; back again: the whole log, the filter emptied.
  await page.goBack();
  await page.waitForURL((url) => url.search.includes('action=audit.checkpoint') && !url.search.includes('before='));
  await page.waitForFunction(() => document.querySelectorAll('.audit-table tbody tr').length === 50);
  assert.equal(await firstSeq(page), firstPageTop);
  assert.equal(await page.locator('#audit-action').inputValue(), 'audit.checkpoint');
  await page.goBack();
  await page.waitForURL((url) => url.pathname === '/audit' && url.search === '');
  await page.waitForFunction(() => /in the log, newest first/.test(document.querySelector('main .count').textContent));
  assert.equal(await page.locator('#audit-action').inputValue(), '');
  assert.equal(await firstSeq(page), firstPageTop, 'the newest event is the last checkpoint');

  assert.equal(await page.evaluate(() => window.__noReload), true, 'client-side navigation throughout');
  assert.deepEqual(problems, []);
  await context.close();
});

test('an auditor on a phone: refused dates are explained by the form, the table stays, no sideways scroll', async () => {
  const { page, problems, context } = await personAtHome(env, 'Aubrey Auditor', { width: 390, height: 844 });
  await page.getByRole('button', { name: 'Menu', exact: true }).click();
  await openAudit(page);
  const before = await firstSeq(page);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page scrolls sideways: ${width}px wide at 390px`);

  await page.locator('#audit-from').fill('2026-12-02');
  await page.locator('#audit-to').fill('2026-12-01');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/from=2026-12-02/);
  const alert = page.locator('main .notice-error[role="alert"]');
  await alert.waitFor();
  assert.equal(await alert.innerText(), 'From must be on or before To.');
  assert.equal(await firstSeq(page), before, 'the last good result stays');
  await assertAccessible(page, 'Audit, refused dates');

  // The actor filter: a substring, any case.
  await page.locator('#audit-from').fill('');
  await page.locator('#audit-to').fill('');
  await page.locator('#audit-actor').fill('AUBREY');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/actor=AUBREY/);
  await page.waitForFunction(() => !document.querySelector('main .notice-error'));
  await settled(page);
  const actors = await page.locator('.audit-table tbody tr td:nth-child(3)').allInnerTexts();
  assert.ok(actors.length > 0 && actors.every((a) => a.includes('aubrey')), actors.join(', '));
  assert.equal(await page.evaluate(() => window.__noReload), true);
  // The refused dates were answered 422, which the browser logs.
  assert.deepEqual(problems.filter((p) => !p.includes('status of 422')), []);
  await context.close();
});
