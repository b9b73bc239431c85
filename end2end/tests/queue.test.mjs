// The review queue as a reviewer works it, reached from the navigation: the keyboard acts on
// the item that has the focus, a refused decision is said beside its item, the last decision
// can be undone after its item left the list, shortcuts can be turned off, each item comes with
// its context and recommendation, Back from a person or server returns to the item it was
// opened from, confirmations hold the focus, the sticky bulk bar never
// covers the focused item, and on a phone the first item is on the first screen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible, demoForFile, personAtHome } from '../lib/harness.mjs';

const env = demoForFile();

/** Opens My reviews from the top bar (through the menu on a phone) and waits for the list. */
async function openQueue(page) {
  const menu = page.getByRole('button', { name: 'Menu', exact: true });
  if (await menu.isVisible()) await menu.click();
  await page.locator('#primary-nav').getByRole('link', { name: 'My reviews', exact: true }).click();
  await page.waitForSelector('main .queue-item');
  await page.waitForFunction(() => !document.querySelector('main .loading'));
  assert.equal(await page.evaluate(() => window.__noReload), true, 'client-side navigation');
}

/** The item holding the focus and the item marked active: `[focused, active]`. */
const focusAndActive = (page) => page.evaluate(() => [
  document.activeElement?.closest('[data-item-id]')?.dataset.itemId ?? null,
  document.querySelector('.queue-item.active')?.dataset.itemId ?? null,
]);

const itemCount = (page) => page.locator('.queue-item').count();

/** Console problems besides the refusals these tests provoke on purpose (logged as 422s). */
const unexpected = (problems) => problems.filter((p) => !/status of 422/.test(p));

/** Applies Show = Undecided and waits for the list it brings. */
async function showUndecided(page) {
  await page.selectOption('select[name="status"]', 'undecided');
  const answered = page.waitForResponse((r) => r.url().includes('/api/reviews_queue'));
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/status=undecided/);
  await answered;
  await page.waitForFunction(() => !document.querySelector('.queue-item.decided'));
}

/** Waits until the element with `id` has the focus (focus moves on the next frame). */
const focusOn = (page, id) => page.waitForFunction((id) => document.activeElement?.id === id, id);

test('the keyboard acts on the focused item; refusals are said beside it; u undoes the last decision', async () => {
  const { page, problems, context } = await personAtHome(env, 'Rita Reviewer');
  await openQueue(page);
  await showUndecided(page);
  const before = await itemCount(page);
  assert.ok(before >= 4, `Rita has ${before} undecided items`);

  await page.keyboard.press('j');
  await page.waitForFunction(() => document.activeElement?.closest('[data-item-id]'));
  const [first] = await focusAndActive(page);
  // No justification: refused, said beside the item, the focus in its justification box.
  await page.keyboard.press('r');
  const error = page.locator(`.queue-item.refused[data-item-id="${first}"] .item-error`);
  await error.waitFor({ state: 'visible' });
  assert.match(await error.innerText(), /justification/);
  await focusOn(page, `comment-${first}`);
  await page.keyboard.type('Left the team in October');
  await page.keyboard.press('Escape');
  await page.keyboard.press('r');
  await page.waitForFunction((n) => document.querySelectorAll('.queue-item').length === n - 1, before);
  // The notice names the item and offers Undo; focus and active are the next item, one and the same.
  await page.locator('.queue-toast').getByRole('button', { name: /^Undo the decision on / }).waitFor();
  await page.waitForFunction(() => document.activeElement?.closest('[data-item-id]'));
  const [focused, active] = await focusAndActive(page);
  assert.equal(focused, active);
  assert.notEqual(focused, first);

  // u takes back the last decision although its item left the filtered list.
  await page.keyboard.press('u');
  await page.waitForSelector('.queue-notice >> text=undone');
  await page.waitForSelector(`.queue-item[data-item-id="${first}"]`);
  assert.equal(await itemCount(page), before);
  assert.deepEqual(unexpected(problems), []);
  await context.close();
});

test('with Show = All a decision moves on to the next undecided item; shortcuts can be turned off', async () => {
  const { page, problems, context } = await personAtHome(env, 'Rita Reviewer');
  await openQueue(page);
  const undecided = await page.locator('.queue-item:not(.decided)').evaluateAll(
    (items) => items.map((i) => i.dataset.itemId),
  );
  assert.ok(undecided.length >= 3);
  const [id, next] = undecided;
  await page.locator(`#item-${id}`).focus();
  await page.keyboard.press('c');
  await page.keyboard.type('Not needed for this server');
  await page.keyboard.press('Escape');
  await page.keyboard.press('r');
  await page.waitForSelector(`.queue-item.decided[data-item-id="${id}"]`);
  await page.waitForFunction((n) => document.activeElement?.closest('[data-item-id]')?.dataset.itemId === n, next);
  assert.deepEqual(await focusAndActive(page), [next, next]);

  // Turned off, a key does nothing; the choice is kept in this browser.
  await page.getByLabel('Keyboard shortcuts').uncheck();
  await page.locator(`#item-${next}`).focus();
  const notice = await page.locator('.queue-notice').innerText();
  await page.keyboard.press('a');
  await page.waitForTimeout(500);
  assert.equal(await page.locator('.queue-notice').innerText(), notice);
  assert.equal(await page.locator(`.queue-item.decided[data-item-id="${next}"]`).count(), 0);
  await page.locator('a.brand').click();
  await page.waitForURL(env.demo.url + '/');
  await openQueue(page);
  await page.waitForFunction(() => document.querySelector('.shortcuts-toggle')?.checked === false);
  await page.getByLabel('Keyboard shortcuts').check();
  assert.deepEqual(unexpected(problems), []);
  await context.close();
});

test('each item has its context; the person and the server open read-only; recommendations are accepted', async () => {
  const { page, problems, context } = await personAtHome(env, 'Rita Reviewer');
  await openQueue(page);
  // Grouped by person, who they are and what else they hold is said once, under the heading.
  const about = page.locator('.queue-group .group-context .person-context').first();
  assert.match(await about.innerText(), / · .*(server|no server permissions)/);
  assert.equal(await page.locator('.queue-item .person-context').count(), 0);
  await about.locator('a').click();
  await page.waitForURL(/\/reviews\/person\?email=/);
  await page.waitForSelector('main h2 >> text=Server permissions');
  await assertAccessible(page, 'person view');
  await page.getByRole('link', { name: 'Back to My reviews' }).click();
  await page.waitForSelector('main .queue-item');
  await page.locator('.server-context a').first().click();
  await page.waitForURL(/\/reviews\/server\?id=\d+/);
  await page.waitForSelector('main .lookup-activity');
  await assertAccessible(page, 'server view');
  await page.getByRole('link', { name: 'Back to My reviews' }).click();
  await page.waitForSelector('main .queue-item');
  assert.equal(await page.evaluate(() => window.__noReload), true);

  // Grouped by server, the server is said once under its heading and each row names the person.
  await page.selectOption('select[name="group"]', 'server');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/group=server/);
  await page.waitForSelector('.queue-group .group-context .server-context');
  assert.equal(await page.locator('.queue-item .server-context').count(), 0);
  assert.ok(await page.locator('.queue-item .person-context').count() > 0);
  await page.selectOption('select[name="group"]', 'person');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForSelector('.queue-group .group-context .person-context');

  // Accept the recommendation of one selected item; the confirmation holds the focus.
  const recommended = page.locator('.queue-item:not(.decided):has(.recommendation:not([hidden]))').first();
  const recId = await recommended.getAttribute('data-item-id');
  await recommended.locator('.select-item').check();
  await page.getByRole('button', { name: 'Accept recommendations (1)…' }).click();
  await focusOn(page, 'bulk-submit');
  await page.keyboard.press('Escape');
  await focusOn(page, 'bulk-accept');
  await page.getByRole('button', { name: 'Accept recommendations (1)…' }).click();
  await page.locator('#bulk-submit').click();
  await page.waitForSelector('.queue-notice >> text=Decided as recommended: 1 item.');
  const decided = page.locator(`.queue-item.decided[data-item-id="${recId}"]`);
  await decided.waitFor();
  assert.match(await decided.innerText(), /Accepted the recommendation\. Recommended: revoke/);

  // A refused bulk decision keeps the dialog and the focus; Cancel gives it back.
  await page.locator('.queue-item:not(.decided) .select-item').first().check();
  await page.getByRole('button', { name: 'Revoke selected…' }).click();
  await focusOn(page, 'bulk-justification');
  await page.locator('#bulk-submit').click();
  await page.locator('.bulk-error').waitFor();
  await focusOn(page, 'bulk-justification');
  await assertAccessible(page, 'queue with a refused bulk decision');
  await page.locator('.bulk-cancel').click();
  await focusOn(page, 'bulk-revoke');
  assert.deepEqual(unexpected(problems), []);
  await context.close();
});

test('Back from a person or server opened from the queue returns to its place; the navigation starts at the top', async () => {
  const { page, problems, context } = await personAtHome(env, 'Rita Reviewer');
  await openQueue(page);
  const row = page.locator('.queue-item:has(.server-context a)').nth(15);
  const id = await row.getAttribute('data-item-id');
  await row.scrollIntoViewIfNeeded();
  await row.focus();
  const where = () => page.evaluate(() => Math.round(window.scrollY));
  let left = await where();
  assert.ok(left > 1000, `the item is far down the page (${left})`);

  /** Waits for the queue to be drawn again with `item` focused, then checks the position. */
  async function backAt(item, how) {
    await page.waitForURL(/\/reviews$/);
    await page.waitForFunction((id) => document.activeElement?.dataset?.itemId === id, item);
    assert.deepEqual(await focusAndActive(page), [item, item], how);
    const now = await where();
    assert.ok(Math.abs(now - left) <= 2, `${how}: scrolled to ${now}, left at ${left}`);
  }
  const openServer = async () => {
    await row.locator('.server-context a').click();
    await page.waitForURL(/\/reviews\/server\?id=\d+/);
    await page.waitForSelector('main .lookup-activity');
  };

  // The browser's Back button.
  await openServer();
  await page.goBack();
  await backAt(id, 'Back');

  // Scrolled on, then Forward and Back: where the reviewer was last, not where they came back.
  await page.mouse.wheel(0, 1500);
  await page.waitForFunction((before) => window.scrollY > before + 1000, left);
  await page.waitForTimeout(500);
  left = await where();
  await page.goForward();
  await page.waitForSelector('main .lookup-activity');
  await page.goBack();
  await backAt(id, 'Back after scrolling on and Forward');

  // The page's own link back goes back in history too.
  await row.scrollIntoViewIfNeeded();
  left = await where();
  await openServer();
  const entries = await page.evaluate(() => history.length);
  await page.getByRole('link', { name: 'Back to My reviews' }).click();
  await backAt(id, 'Back to My reviews');
  assert.equal(await page.evaluate(() => history.length), entries, 'no new history entry');

  // A person's link under a group heading: back at the group's first item.
  const group = page.locator('.queue-group:has(.group-context .person-context a)').nth(6);
  const first = await group.locator('.queue-item').first().getAttribute('data-item-id');
  await group.locator('.group-context a').scrollIntoViewIfNeeded();
  left = await where();
  await group.locator('.group-context a').click();
  await page.waitForURL(/\/reviews\/person\?email=/);
  await page.waitForSelector('main h2 >> text=Server permissions');
  await page.goBack();
  await backAt(first, 'Back from a group heading');

  // My reviews from the navigation is a new visit: the top, and the keyboard starts there.
  await openServer();
  await openQueue(page);
  assert.equal(await where(), 0);
  await openQueue(page);
  assert.equal(await where(), 0);
  assert.deepEqual(await focusAndActive(page), [null, null], 'no item after My reviews on the queue');
  await page.keyboard.press('j');
  const top = await page.locator('.queue-item').first().getAttribute('data-item-id');
  await page.waitForFunction((id) => document.activeElement?.dataset?.itemId === id, top);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'client-side navigation');
  assert.deepEqual(unexpected(problems), []);
  await context.close();
});

test('the sticky bulk bar never covers the focused item; on a phone the first item is on the first screen', async () => {
  const desk = await personAtHome(env, 'Rita Reviewer');
  await openQueue(desk.page);
  for (let i = 0; i < 12; i += 1) {
    await desk.page.keyboard.press('j');
    const [itemTop, barBottom] = await desk.page.evaluate(() => [
      document.activeElement.getBoundingClientRect().top,
      document.querySelector('.bulk-bar').getBoundingClientRect().bottom,
    ]);
    assert.ok(itemTop >= barBottom - 1, `item ${i}: top ${itemTop} under the bar ending at ${barBottom}`);
  }
  await desk.context.close();

  const phone = await personAtHome(env, 'Rita Reviewer', { width: 390, height: 844 });
  await openQueue(phone.page);
  const box = await phone.page.locator('.queue-item').first().boundingBox();
  assert.ok(box.y + 40 <= 844, `first item starts at ${box.y} px`);
  await assertAccessible(phone.page, 'queue on a phone');
  if (process.env.PAR_TEST_SCREENSHOTS) {
    await phone.page.screenshot({ path: `${process.env.PAR_TEST_SCREENSHOTS}/queue-phone.png` });
  }
  assert.deepEqual(phone.problems, []);
  await phone.context.close();
});
