// A whole campaign in the browser: an admin creates, previews and launches it; Rita decides
// with the keyboard and hands an item on; Manny approves his queue in bulk; the admin closes
// it, the default outcome is applied and the dashboard's numbers add up.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, signIn, startDemo, waitForHydration, watchConsole } from '../lib/harness.mjs';

let demo;
let browser;

before(async () => {
  demo = await startDemo();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

/** A page in its own browser context (its own session), signed in as `name` at `path`. */
async function personAt(name, path) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const problems = watchConsole(page);
  await signIn(page, demo.url, path, name);
  await waitForHydration(page);
  return { page, problems, context };
}

const number = async (page, selector) => Number(await page.locator(selector).innerText());

test('create, launch, review, hand on, bulk, close', async () => {
  // The admin drafts a campaign over servers 10001 and 10002, without account roles.
  const ada = await personAt('Ada Admin', '/campaigns/new');
  await ada.page.fill('input[name="input[name]"]', 'Payments servers review');
  await ada.page.uncheck('input[name="input[kind_account_role]"]');
  await ada.page.check('input[name="input[server_ids][]"][value="10001"]');
  await ada.page.check('input[name="input[server_ids][]"][value="10002"]');
  await ada.page.selectOption('select[name="input[default_outcome]"]', 'revoke');
  await ada.page.getByRole('button', { name: 'Save draft' }).click();
  await ada.page.waitForURL(/\/campaigns\/\d+$/);
  const campaignUrl = ada.page.url();
  const id = campaignUrl.split('/').pop();
  await waitForHydration(ada.page);
  const summary = await ada.page.locator('.preview-summary strong').innerText();
  const [, total, reviewers] = summary.match(/^(\d+) items for (\d+) reviewers/).map(Number);
  assert.ok(total >= 10, summary);
  assert.equal(reviewers, 3);
  // The confirmation takes the focus; Cancel gives it back to the button that opened it.
  const focusOn = (page, id) => page.waitForFunction((id) => document.activeElement?.id === id, id);
  await ada.page.getByRole('button', { name: 'Launch…' }).click();
  await focusOn(ada.page, 'launch-confirm');
  await ada.page.getByRole('button', { name: 'Cancel' }).click();
  await focusOn(ada.page, 'launch-open');
  await ada.page.keyboard.press('Enter');
  await focusOn(ada.page, 'launch-confirm');
  await ada.page.getByRole('button', { name: 'Launch campaign' }).click();
  await ada.page.waitForSelector('#progress-heading');
  assert.equal(await number(ada.page, '.count-undecided'), total);

  // Rita works with the keyboard: approve the first item, comment and revoke the next.
  const rita = await personAt('Rita Reviewer', `/reviews?campaign=${id}&status=undecided`);
  const ritaItems = await rita.page.locator('.queue-item').count();
  assert.ok(ritaItems >= 4, `Rita has ${ritaItems} items`);
  // Server items, and only they, show the Server badge; each undecided item says what Revoke does.
  assert.equal(
    await rita.page.locator('.badge-server:visible').count(),
    await rita.page.locator('.queue-item-server').count(),
  );
  assert.equal(await rita.page.locator('.revoke-means:visible').count(), ritaItems);
  await rita.page.keyboard.press('j');
  await rita.page.keyboard.press('a');
  await rita.page.waitForSelector('.queue-notice >> text=Approved');
  await rita.page.waitForFunction((n) => document.querySelectorAll('.queue-item').length === n, ritaItems - 1);
  await rita.page.keyboard.press('j');
  await rita.page.keyboard.press('c');
  await rita.page.keyboard.type('Left the payments team in October');
  await rita.page.keyboard.press('Escape');
  await rita.page.keyboard.press('r');
  await rita.page.waitForSelector('.queue-notice >> text=Revoke');
  await rita.page.waitForFunction((n) => document.querySelectorAll('.queue-item').length === n, ritaItems - 2);
  // She hands the next one to Manny.
  const first = rita.page.locator('.queue-item').first();
  await first.locator('summary', { hasText: 'Hand on' }).click();
  await first.locator('.reassign-to').fill('manny.manager@example.com');
  await first.locator('.reassign-reason').fill('Manny runs this server now');
  await first.getByRole('button', { name: 'Hand on', exact: true }).click();
  await rita.page.waitForFunction((n) => document.querySelectorAll('.queue-item').length === n, ritaItems - 3);
  const ritaLeft = ritaItems - 3;
  if (process.env.PAR_TEST_SCREENSHOTS) {
    await rita.page.goto(`${demo.url}/reviews?campaign=${id}`);
    await waitForHydration(rita.page);
    await rita.page.keyboard.press('j');
    await rita.page.screenshot({ path: `${process.env.PAR_TEST_SCREENSHOTS}/reviews.png`, fullPage: false });
  }

  // Manny approves his whole queue in this campaign at once.
  const manny = await personAt('Manny Manager', `/reviews?campaign=${id}&status=undecided`);
  const mannyItems = await manny.page.locator('.queue-item').count();
  assert.ok(mannyItems >= 2);
  await manny.page.check('.select-all');
  assert.equal(await manny.page.locator('.selected-count').innerText(), `${mannyItems} selected`);
  await manny.page.getByRole('button', { name: 'Approve selected…' }).click();
  assert.match(await manny.page.locator('.bulk-confirm').innerText(), new RegExp(`Approve ${mannyItems} items\\?`));
  // Some are Server Admin permissions: keeping those needs a justification.
  await manny.page.fill('.bulk-justification', 'Confirmed with the team leads');
  await manny.page.locator('.bulk-submit').click();
  await manny.page.waitForSelector(`.queue-notice >> text=Approved: ${mannyItems} items.`);
  await manny.page.waitForSelector('text=0 items match');

  // The dashboard adds up before and after close.
  await ada.page.goto(campaignUrl);
  await waitForHydration(ada.page);
  const hiro = total - ritaItems - mannyItems + 1; // Manny's count includes the handed-on item
  assert.equal(await number(ada.page, '.count-approved'), 1 + mannyItems);
  assert.equal(await number(ada.page, '.count-revoked'), 1);
  assert.equal(await number(ada.page, '.count-undecided'), ritaLeft + hiro);
  await ada.page.getByRole('button', { name: 'Close campaign…' }).click();
  await focusOn(ada.page, 'close-confirm');
  assert.match(await ada.page.locator('.confirm').innerText(), new RegExp(`${ritaLeft + hiro} undecided items`));
  await ada.page.getByRole('button', { name: 'Close campaign', exact: true }).click();
  await ada.page.waitForSelector('.count-to-revoke');
  assert.equal(await number(ada.page, '.count-undecided'), 0);
  assert.equal(await number(ada.page, '.count-approved'), 1 + mannyItems);
  assert.equal(await number(ada.page, '.count-revoked'), 1 + ritaLeft + hiro);
  assert.equal(await number(ada.page, '.count-to-revoke'), 1 + ritaLeft + hiro);
  assert.match(await ada.page.locator('h1').innerText(), /Closed/);
  if (process.env.PAR_TEST_SCREENSHOTS) {
    await ada.page.screenshot({ path: `${process.env.PAR_TEST_SCREENSHOTS}/campaign.png`, fullPage: false });
  }

  // Rita's queue no longer holds the closed campaign's items.
  await rita.page.goto(`${demo.url}/reviews?campaign=${id}`);
  await waitForHydration(rita.page);
  assert.equal(await rita.page.locator('.queue-item').count(), 0);

  for (const person of [ada, rita, manny]) {
    assert.deepEqual(person.problems, []);
    await person.context.close();
  }
});
