// Starts the real binary in demo mode on a free port and drives Debian's Chromium.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

const BIN = process.env.PAR_TEST_BIN ?? '../target/debug/postmark-access-review';
const SITE_ROOT = process.env.PAR_SITE_ROOT ?? '../target/site';

/**
 * Spawns `postmark-access-review demo --port 0` (plus `args`) and resolves once it prints its
 * URL.
 */
export async function startDemo(args = []) {
  const dataDir = mkdtempSync(join(tmpdir(), 'par-e2e-'));
  const child = spawn(BIN, ['demo', '--port', '0', '--data-dir', dataDir, ...args], {
    env: { ...process.env, PAR_SITE_ROOT: SITE_ROOT, PAR_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start:\n${output}`)), 30_000);
    const onData = (chunk) => {
      output += chunk;
      const match = output.match(/Open (http:\/\/127\.0\.0\.1:\d+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => { output += chunk; });
    child.on('exit', (code) => reject(new Error(`demo exited with ${code}:\n${output}`)));
  });
  return {
    url,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.on('exit', resolve)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Headless Chromium with the flags this machine needs (no background network). */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Collects console errors, CSP violations and Leptos' warnings about signals read outside a
 * reactive context (a render that misses updates), so a test can assert there were none.
 */
export function watchConsole(page) {
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(msg.text());
    if (msg.type() === 'warning' && /reactive tracking context/.test(msg.text())) {
      problems.push(msg.text());
    }
  });
  page.on('pageerror', (err) => problems.push(String(err)));
  return problems;
}

/** Waits until the client has taken over the server-rendered page. */
export async function waitForHydration(page) {
  await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 30_000 });
}

/** Opens `path` (a protected page or /auth/login), picks `name` on the provider's chooser. */
export async function signIn(page, baseUrl, path, name) {
  await page.goto(baseUrl + path);
  await page.waitForSelector('text=Development identity provider');
  await page.getByRole('button', { name: new RegExp(name) }).click();
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core on the page as it is now and returns the violations of impact serious or
 * critical, one line each. Evaluated through the debugging protocol, so the page's CSP stays on.
 */
export async function seriousA11yViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(AXE_SOURCE);
  }
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
    }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.targets.join(', ')}`);
}

/** Checks the page with axe-core at desktop width and at 390 px; resizes back afterwards. */
export async function assertAccessible(page, where) {
  const size = page.viewportSize();
  const found = [];
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    for (const v of await seriousA11yViolations(page)) found.push(`${where} at ${width}px: ${v}`);
  }
  if (size) await page.setViewportSize(size);
  if (found.length) throw new Error(`accessibility violations:\n${found.join('\n')}`);
}

/**
 * One demo (started with `args`) and one browser for the test file that calls this, stopped
 * after its tests.
 */
export function demoForFile(args = []) {
  const env = {};
  before(async () => {
    env.demo = await startDemo(args);
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.demo?.stop();
  });
  return env;
}

/**
 * A browser context of its own (its own session), signed in as `name` from the sign-in page,
 * on the home page and hydrated, with a marker on window that a full reload would erase.
 */
export async function personAtHome(env, name, viewport = { width: 1280, height: 900 }, options = {}) {
  // options: more of the browser context's settings, e.g. { timezoneId: 'America/New_York' }.
  const context = await env.browser.newContext({ viewport, ...options });
  const page = await context.newPage();
  const problems = watchConsole(page);
  await signIn(page, env.demo.url, '/auth/login', name);
  await page.waitForURL(env.demo.url + '/');
  await waitForHydration(page);
  await page.evaluate(() => { window.__noReload = true; });
  return { page, problems, context };
}
