// What every end-to-end script of the console shares: required environment variables, named
// checks recorded in results.json, screenshots, and one Chromium run with the flags this
// machine needs (headless, no background networking) and a fresh profile.

import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The value of `k` (or the default `d`); a missing required variable exits with 2. */
export const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined || v === '') {
    console.error(`e2e: environment variable ${k} is required`);
    process.exit(2);
  }
  return v;
};

export const log = (m) => console.log(`e2e: ${m}`);

export class CheckFailed extends Error {}

/** Checks, waits and screenshots recorded into `results` and the `artifacts` directory. */
export function harness(artifacts, results) {
  mkdirSync(artifacts, { recursive: true });
  results.checks = [];

  function check(cond, what) {
    results.checks.push({ check: what, ok: !!cond });
    if (!cond) throw new CheckFailed(what);
    log(`ok: ${what}`);
  }

  /** Waits for `selector`; a timeout fails the check `what` (instead of a bare timeout). */
  async function waitFor(page, selector, what, timeout = 15000, state = 'visible') {
    try {
      await page.waitForSelector(selector, { timeout, state });
    } catch {
      check(false, `${what} (nothing matched ${selector} within ${timeout} ms)`);
    }
  }

  async function shot(page, name, fullPage = false) {
    const path = join(artifacts, `${name}.png`);
    await page.screenshot({ path, fullPage });
    log(`screenshot ${path}`);
  }

  /**
   * Runs `run(page)` in Debian Chromium, logs failed HTTP responses and page errors, takes
   * `failureShot` on failure, writes results.json and exits (0 if every check passed).
   */
  async function runInChromium(executablePath, run, failureShot) {
    const profile = mkdtempSync(join(tmpdir(), 'custos-e2e-'));
    let ctx;
    let code = 0;
    try {
      ctx = await chromium.launchPersistentContext(profile, {
        executablePath,
        headless: true,
        ignoreHTTPSErrors: true,
        viewport: { width: 1366, height: 768 },
        locale: 'zh-CN',
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--autoplay-policy=no-user-gesture-required',
        ],
      });
      const page = ctx.pages()[0] ?? (await ctx.newPage());
      page.on('response', (r) => {
        if (r.status() >= 400) log(`HTTP ${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
      });
      page.on('pageerror', (e) => log(`page error: ${e.message}`));
      try {
        await run(page);
        log('all checks passed');
      } catch (e) {
        code = 1;
        const msg = e instanceof CheckFailed ? `check failed: ${e.message}` : `error: ${e.stack ?? e}`;
        console.error(`e2e: ${msg}`);
        results.failure = msg;
        await shot(page, failureShot).catch(() => undefined);
      }
    } catch (e) {
      code = 1;
      console.error(`e2e: could not start ${executablePath}: ${e.message ?? e}`);
      results.failure = String(e);
    } finally {
      writeFileSync(join(artifacts, 'results.json'), JSON.stringify(results, null, 2));
      if (ctx) await ctx.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    }
    process.exit(code);
  }

  return { check, waitFor, shot, runInChromium };
}
