// Starts the real binary in demo mode on a free port and drives Debian's Chromium.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BIN = process.env.PAR_TEST_BIN ?? '../target/debug/postmark-access-review';
const SITE_ROOT = process.env.PAR_SITE_ROOT ?? '../target/site';

/** Spawns `postmark-access-review demo --port 0` and resolves once it prints its URL. */
export async function startDemo() {
  const dataDir = mkdtempSync(join(tmpdir(), 'par-e2e-'));
  const child = spawn(BIN, ['demo', '--port', '0', '--data-dir', dataDir], {
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

/** Collects console errors and CSP violations so a test can assert there were none. */
export function watchConsole(page) {
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(msg.text());
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
