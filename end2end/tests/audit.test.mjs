// The Audit page's search as people use it: reached from the navigation, filtered by action,
// paged to older events, and walked back with the browser's back button, with the address
// carrying the filter all along; compact at desktop width, no sideways page scroll on a phone,
// and no serious accessibility problems at either. In another time zone (New York): times shown
// in local time with the UTC time on hover, details as key: value lines, filter addresses
// without an empty key.
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

  // Every column fits at desktop width (no sideways scroll inside the table), and an event is
  // as tall as its details' lines, no more.
  const [scrollWidth, clientWidth] = await page.locator('.table-wrap[aria-labelledby="events-heading"]')
    .evaluate((w) => [w.scrollWidth, w.clientWidth]);
  assert.ok(scrollWidth <= clientWidth, `the table is ${scrollWidth}px wide in ${clientWidth}px`);
  const tallest = await page.evaluate(() => Math.max(...[...document.querySelectorAll('.audit-table tbody tr')]
    .map((tr) => tr.offsetHeight / Math.max(1, tr.querySelectorAll('.event-details dt').length))));
  assert.ok(tallest < 60, `an event takes ${tallest}px per details line`);

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

/** `2026-11-30T10:51:33Z` as New York's wall clock, `2026-11-30 05:51:33`. */
function newYorkWallClock(datetime) {
  return new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'America/New_York', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).format(new Date(datetime));
}

test('in New York: local times with the UTC time on hover, details as key: value lines, clean filter addresses', async () => {
  const { page, problems, context } = await personAtHome(env, 'Ada Admin', undefined, { timezoneId: 'America/New_York' });
  await openAudit(page);

  // The server rendered UTC; once hydrated the browser shows New York's time.
  const time = page.locator('.audit-table tbody tr time').first();
  await page.waitForFunction(() => {
    const t = document.querySelector('.audit-table tbody tr time');
    return t && !t.textContent.endsWith(' UTC');
  });
  const datetime = await time.getAttribute('datetime');
  assert.match(datetime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, 'to the second, no fraction');
  assert.equal(await time.getAttribute('title'), `${datetime.slice(0, 10)} ${datetime.slice(11, 19)} UTC`);
  const shown = await time.innerText();
  assert.match(shown, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} E[SD]T$/, shown);
  assert.equal(shown.slice(0, 19), newYorkWallClock(datetime));
  assert.notEqual(shown.slice(0, 19), `${datetime.slice(0, 10)} ${datetime.slice(11, 19)}`, 'shifted from UTC');
  assert.equal(await page.locator('main time[datetime*="."]').count(), 0, 'no microseconds anywhere');

  // Details: key: value lines, term and value side by side, no raw JSON.
  const lists = page.locator('.audit-table .event-details');
  assert.ok((await lists.count()) > 0, 'some events have details');
  const keys = await lists.locator('dt').allInnerTexts();
  assert.ok(keys.length > 0 && keys.every((k) => /^[A-Za-z_][\w.[\]-]*$/.test(k)), keys.join(', '));
  const line = lists.first().locator('div').first();
  const [term, value] = [await line.locator('dt').boundingBox(), await line.locator('dd').boundingBox()];
  assert.ok(Math.abs(term.y - value.y) < 2 && value.x > term.x, 'key and value on one line');
  const detailsText = await page.locator('.audit-table td.details-cell').allInnerTexts();
  assert.ok(detailsText.every((t) => !t.trimStart().startsWith('{')), 'no JSON in the details column');

  // A filter from the form: its address names only the form's fields, no empty key.
  await page.locator('#audit-action').fill('auth.');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/\/audit\?.*action=auth\./);
  await settled(page);
  const url = page.url();
  assert.ok(!url.includes('&='), url);
  assert.ok(new URL(url).searchParams.has('') === false, `an empty key in ${url}`);

  // Accessible at desktop and phone widths, and no sideways page scroll on the phone.
  await assertAccessible(page, 'Audit in New York');
  await page.setViewportSize({ width: 390, height: 844 });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page scrolls sideways: ${width}px wide at 390px`);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'client-side navigation throughout');
  assert.deepEqual(problems, []);
  await context.close();
});
