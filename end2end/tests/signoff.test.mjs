// Sign-off in the browser. Aubrey (auditor) opens last quarter's review, which the demo signed
// off at start, from the Campaigns list: the "Verified" badge, the statement, and the evidence
// bundle one click away; the open quarter's decisions download as CSV. Ada accepts the demo's
// failed revocation with a reason on the Revocations page, then runs a small campaign to its
// end and signs it off with a statement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { assertAccessible, demoForFile, personAtHome, waitForHydration } from '../lib/harness.mjs';

const env = demoForFile();

async function navigate(page, label) {
  await page.locator('#primary-nav').getByRole('link', { name: label, exact: true }).click();
}

test('an auditor finds last quarter signed off, verified, with its evidence bundle', async () => {
  const { page, problems, context } = await personAtHome(env, 'Aubrey Auditor', { width: 1280, height: 1000 });
  await navigate(page, 'Campaigns');
  await page.waitForSelector('main h1:text("Campaigns")');
  const row = page.locator('tr', { hasText: /Q\d legacy servers review/ });
  assert.match(await row.innerText(), /Signed off/);
  await row.getByRole('link').first().click();
  await page.waitForSelector('#signoff-heading');
  await page.waitForSelector('.signoff-status');
  assert.equal(await page.locator('.signoff-verified').innerText(), 'Verified');
  assert.match(await page.locator('.signoff-status').innerText(), /Signed off \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \S+ by ada\.admin@example\.com\./);
  assert.match(await page.locator('.signoff-statement').innerText(), /quarantined and the next sync confirmed it/);
  assert.match(await page.locator('main h1').innerText(), /Signed off/);
  // Auditors read; they never get the form.
  assert.equal(await page.locator('.signoff-form').count(), 0);
  await assertAccessible(page, 'Aubrey: signed-off campaign');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download evidence bundle (zip)' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^campaign-\d+-evidence\.zip$/);
  const stream = await download.createReadStream();
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  const zip = Buffer.concat(chunks);
  assert.equal(zip.subarray(0, 2).toString(), 'PK');
  assert.ok(zip.includes(Buffer.from('VERIFY.txt')), 'the bundle holds VERIFY.txt');

  // The open quarter's decisions as CSV, as the browser downloads it (compressed on the way;
  // a body of several chunks was once cut off after its first).
  await navigate(page, 'Campaigns');
  await page.locator('tr', { hasText: '2026 Q4 access review' }).getByRole('link').first().click();
  await page.waitForSelector('main h1:text("2026 Q4 access review")');
  const [csv] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Decisions', exact: true }).click(),
  ]);
  assert.equal(await csv.failure(), null, 'the download completes');
  const lines = readFileSync(await csv.path(), 'utf8').split('\r\n');
  assert.match(lines[0], /^item_id,kind,user_email,/);
  assert.ok(lines.length > 2, `header and decisions (${lines.length - 1} lines)`);
  assert.equal(lines.at(-1), '', 'the last record ends with CRLF');
  assert.deepEqual(problems, []);
  await context.close();
});

test('an admin acknowledges a failed revocation, then signs off a finished campaign', async () => {
  const { page, problems, context } = await personAtHome(env, 'Ada Admin', { width: 1280, height: 1000 });

  // The demo's Password resets server refuses every change: its job fails after three tries.
  await navigate(page, 'Campaigns');
  await page.waitForSelector('main h1:text("Campaigns")');
  await page.locator('main').getByRole('link', { name: 'Revocations', exact: true }).click();
  await page.waitForSelector('main h1:text("Revocations")');
  let failed = page.locator('.revocations-table tr', { has: page.locator('.badge:text-is("Failed")') });
  for (let tries = 0; tries < 60 && (await failed.count()) === 0; tries += 1) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.waitForFunction(() => !document.querySelector('main .loading'));
  }
  assert.ok((await failed.count()) >= 1, await page.locator('main').innerText());
  const row = failed.first();
  await row.locator('summary', { hasText: 'Accept as it is…' }).click();
  await row.locator('input.acknowledge-reason').fill('Password resets moves to a new server in January; IT-1234');
  await row.getByRole('button', { name: 'Acknowledge the failure' }).click();
  await page.waitForSelector('.queue-live .notice-ok');
  await page.waitForSelector('.revocations-table .acknowledged');
  assert.match(await page.locator('.revocations-table .acknowledged').first().innerText(), /Acknowledged: Password resets moves/);
  await assertAccessible(page, 'Ada: acknowledged revocation');

  // A campaign with nothing to revoke is ready as soon as it closes.
  await navigate(page, 'Campaigns');
  await page.waitForSelector('main h1:text("Campaigns")');
  await page.getByRole('link', { name: 'New campaign' }).click();
  await page.waitForSelector('input[name="input[name]"]');
  await page.fill('input[name="input[name]"]', 'Status page review');
  await page.uncheck('input[name="input[kind_account_role]"]');
  await page.check('input[name="input[server_ids][]"][value="10014"]');
  await page.selectOption('select[name="input[default_outcome]"]', 'keep');
  await page.getByRole('button', { name: 'Save draft' }).click();
  await page.waitForURL(/\/campaigns\/\d+$/);
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Launch…' }).click();
  await page.getByRole('button', { name: 'Launch campaign' }).click();
  await page.waitForSelector('#progress-heading');
  await page.getByRole('button', { name: 'Close campaign…' }).click();
  await page.getByRole('button', { name: 'Close campaign', exact: true }).click();
  await page.waitForSelector('.signoff-form');
  await assertAccessible(page, 'Ada: sign-off form');

  // Without a statement: refused next to the box, nothing signed.
  await page.getByRole('button', { name: 'Sign off campaign' }).click();
  await page.waitForSelector('.signoff-form [role="alert"]');
  assert.match(await page.locator('.signoff-form [role="alert"]').innerText(), /Write the sign-off statement/);
  await page.fill('#signoff-statement', 'Every item was kept by its reviewer; nothing to carry out.');
  await page.getByRole('button', { name: 'Sign off campaign' }).click();
  await page.waitForSelector('.signoff-verified');
  assert.match(await page.locator('.signoff-statement').innerText(), /nothing to carry out/);
  await page.waitForFunction(() => /Signed off/.test(document.querySelector('main h1')?.textContent ?? ''));
  await assertAccessible(page, 'Ada: signed-off campaign');
  assert.deepEqual(problems.filter((p) => !p.includes('status of 422')), []);
  await context.close();
});
