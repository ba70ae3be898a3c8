// End-to-end check of a citizen view-only session (H4) in the real Debian Chromium
// (playwright-core) against a running `custos serve`.
//
// Environment:
//   CUSTOS_URL        base URL, e.g. https://127.0.0.1:8443/
//   CUSTOS_CODE       the one-time code of a session a police officer made (range 0 is played)
//   CUSTOS_CAMERA     the session's camera; CUSTOS_FROM / CUSTOS_TO a range of it (RFC 3339)
//   CUSTOS_ARTIFACTS  directory for screenshots, frame.gray and results.json
//   CUSTOS_CHROMIUM   browser binary (default /usr/bin/chromium)
//   CUSTOS_POLICE_USER / CUSTOS_POLICE_PASSWORD  optional: a police officer who first opens a
//                     session on the console page 公民查看, sees its link and ends it
//
// Checks: the link opens the session without an account and the code leaves the address bar;
// range 0 plays (currentTime advances past 2 s); one decoded frame is written as 8-bit gray
// (frame.gray, its size in results.frame) for the test to compare with the original recording;
// with the session's cookie, `view.mp4`, an export and an export download are refused with 403
// `permission_denied`; there is no download control; opening the link again is refused; the
// applicant ends the session and the page says it cannot be reopened.

import { env, harness } from './harness.mjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const BASE = env('CUSTOS_URL').replace(/\/?$/, '/');
const CODE = env('CUSTOS_CODE');
const CAMERA = env('CUSTOS_CAMERA');
const FROM = env('CUSTOS_FROM');
const TO = env('CUSTOS_TO');
const ARTIFACTS = env('CUSTOS_ARTIFACTS');
const CHROMIUM = env('CUSTOS_CHROMIUM', '/usr/bin/chromium');
const POLICE_USER = process.env.CUSTOS_POLICE_USER ?? '';
const POLICE_PASSWORD = process.env.CUSTOS_POLICE_PASSWORD ?? '';

const results = { base: BASE, checks: [] };
const h = harness(ARTIFACTS, results);
const { check } = h;

async function waitFor(page, selector, what, timeout = 30000) {
  await h.waitFor(page, selector, what, timeout);
  check(true, what);
}

/** The officer's side on the console: open a session for an applicant, see it, end it. */
async function police(page) {
  await page.goto(BASE, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('form.login input[name=username]', { timeout: 15000 });
  await page.fill('input[name=username]', POLICE_USER);
  await page.fill('input[name=password]', POLICE_PASSWORD);
  await page.click('form.login button[type=submit]');
  await waitFor(page, 'header.top', 'the police officer logs in');
  await page.goto(`${BASE}#/citizen`);
  await waitFor(page, '#citizen-create', 'H4: the officer opens the citizen session form (公民查看)');
  await page.fill('#citizen-create input[name=applicant_name]', '李四');
  await page.fill('#citizen-create input[name=applicant_id]', '110105200001010011');
  await page.selectOption('#citizen-create select[name=reason]', 'missing_child');
  await page.fill('#citizen-create input[name=camera-0]', CAMERA);
  // The range of the officer's released view request (H2), in the browser's local time.
  const local = (iso) =>
    page.evaluate((t) => {
      const d = new Date(t);
      return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
    }, iso);
  await page.fill('#citizen-create input[name=from-0]', await local(FROM));
  await page.fill('#citizen-create input[name=to-0]', await local(TO));
  await page.click('#citizen-create button[type=submit]');
  await waitFor(page, '#citizen-link', 'H4: the console shows the link for the applicant');
  check((await page.textContent('#citizen-link'))?.includes('#/view/'), 'H4: the link opens the viewing page');
  await waitFor(page, 'tr:has-text("李四") >> text=未打开', 'H4: the new session is listed, not opened');
  await h.shot(page, 'citizen-officer');
  await page.click('tr:has-text("李四") button');
  await waitFor(page, 'tr:has-text("李四") >> text=已结束', 'H4: the officer ends the session');
  // The applicant's part runs without the officer's session.
  await page.context().clearCookies();
}

async function run(page) {
  if (POLICE_USER) await police(page);
  await page.goto(`${BASE}#/view/${CODE}`, { waitUntil: 'domcontentloaded' });
  await waitFor(page, '#citizen-session', 'H4: the link opens the session without an account');
  check(!page.url().includes(CODE), 'H4: the code is no longer in the address bar');
  check((await page.textContent('#citizen-notice'))?.includes('禁止'), 'H4: the page says copying is forbidden');
  await page.click('.citizen-play >> nth=0');
  try {
    await page.waitForFunction(
      () => {
        const v = document.querySelector('#citizen-video');
        return v && v.currentTime > 2.5 && v.videoWidth > 0;
      },
      null,
      { timeout: 60000 },
    );
    check(true, 'H4: the watermarked footage plays (currentTime > 2.5 s)');
  } catch {
    check(false, 'H4: the watermarked footage plays (currentTime > 2.5 s)');
  }
  await page.evaluate(() => document.querySelector('#citizen-video').pause());
  const frame = await page.evaluate(() => {
    const v = document.querySelector('#citizen-video');
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const gray = new Uint8Array(c.width * c.height);
    for (let i = 0; i < gray.length; i++) {
      gray[i] = Math.round(0.299 * d[4 * i] + 0.587 * d[4 * i + 1] + 0.114 * d[4 * i + 2]);
    }
    let s = '';
    for (let i = 0; i < gray.length; i += 0x8000) s += String.fromCharCode(...gray.subarray(i, i + 0x8000));
    return { width: c.width, height: c.height, time: v.currentTime, b64: btoa(s) };
  });
  writeFileSync(join(ARTIFACTS, 'frame.gray'), Buffer.from(frame.b64, 'base64'));
  results.frame = { width: frame.width, height: frame.height, time: frame.time };
  await h.shot(page, 'citizen-playing');
  const controls = await page.evaluate(() => {
    const v = document.querySelector('#citizen-video');
    return { controls: v.controls, src: v.currentSrc };
  });
  check(!controls.controls && controls.src.startsWith('blob:'), 'H4: no download control, no file URL (a MediaSource blob)');

  // The session's credentials (its cookie) elsewhere: refused.
  const tries = await page.evaluate(
    async ({ camera, from, to }) => {
      const out = {};
      const q = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
      const r1 = await fetch(`/api/cameras/${camera}/view.mp4?${q}`, { credentials: 'same-origin' });
      out.view = [r1.status, (await r1.json()).kind];
      const r2 = await fetch('/api/exports', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ camera, from, to, purpose: 'keep a copy' }),
      });
      out.export = [r2.status, (await r2.json()).kind];
      const r3 = await fetch('/api/exports/0123456789abcdef/file', { credentials: 'same-origin' });
      out.download = [r3.status, (await r3.json()).kind];
      const r4 = await fetch(`/api/cameras/${camera}/playback.m3u8?${q}`, { credentials: 'same-origin' });
      out.hls = [r4.status, (await r4.json()).kind];
      return out;
    },
    { camera: CAMERA, from: FROM, to: TO },
  );
  results.refusals = tries;
  for (const k of ['view', 'export', 'download', 'hls']) {
    check(tries[k][0] === 403 && tries[k][1] === 'permission_denied', `H4: ${k} with the session's cookie → 403 permission_denied (${tries[k]})`);
  }

  // The link a second time (another tab of the same browser): refused.
  const again = await page.context().newPage();
  await again.goto(`${BASE}#/view/${CODE}`, { waitUntil: 'domcontentloaded' });
  await waitFor(again, '#citizen-refused', 'H4: the link opened a second time is refused');
  check((await again.textContent('#citizen-refused'))?.includes('opened already'), 'H4: the refusal says the link opens once');
  await h.shot(again, 'citizen-second-use');
  await again.close();

  await page.click('#citizen-end');
  await waitFor(page, '#citizen-ended', 'H4: the applicant ends the session');
  await page.reload({ waitUntil: 'domcontentloaded' });
  await waitFor(page, '#citizen-refused', 'H4: an ended session does not come back on reload');
  await h.shot(page, 'citizen-ended');
}

await h.runInChromium(CHROMIUM, run, 'citizen-failure');
