// End-to-end check of the web console in the real Debian Chromium, driven by playwright-core,
// against a running `custos serve` (HTTPS with its self-signed certificate).
//
// Environment:
//   CUSTOS_URL              base URL, e.g. https://127.0.0.1:8443/
//   CUSTOS_ADMIN_USER / CUSTOS_ADMIN_PASSWORD  optional: an administrator; when given, the
//                           script first creates the accounts below through the Users page
//   CUSTOS_USER / CUSTOS_PASSWORD            a watch operator whose scope covers the cameras
//   CUSTOS_NOSCOPE_USER / CUSTOS_NOSCOPE_PASSWORD  a watch operator whose scope covers none
//   CUSTOS_NOSCOPE_SCOPE    the scope given to that operator (default local/main/default/none)
//   CUSTOS_AUDITOR_USER / CUSTOS_AUDITOR_PASSWORD  optional: an auditor (audit viewer check)
//   CUSTOS_POLICE_USER / CUSTOS_POLICE_PASSWORD    optional: a police officer (the footage
//                           request procedure H1–H5 and the export; the exported MP4 is saved
//                           as export.mp4, the released bundle's path as bundle.txt and the
//                           registration form as form.pdf in the artifacts dir)
//   CUSTOS_APPROVER_USER / CUSTOS_APPROVER_PASSWORD  with the police officer: the agency head
//                           who approves (H2); the watch operator (CUSTOS_USER) releases
//   CUSTOS_TOTP_USER / CUSTOS_TOTP_PASSWORD / CUSTOS_TOTP_URI  optional: an account with TOTP
//                           (its otpauth:// URI); the login must ask for the one-time code
//   CUSTOS_GAP_CAMERA       a camera that was stopped for a while (its timeline must show a gap)
//   CUSTOS_ARTIFACTS        directory for screenshots and results.json
//   CUSTOS_CHROMIUM         browser binary (default /usr/bin/chromium)
//   CUSTOS_FIRST_FRAME_MAX_MS  limit for click-to-first-frame (default 1000)
//
// Checks (requirement ids in brackets): the administrator adds accounts on the Users page and
// sees no camera (separation of duties) and a "no permission" message on the audit log [E1];
// login [E1]; a live tile plays — video.currentTime
// advances and a decoded frame is not blank [E2]; click-to-first-frame under the limit [E2];
// the timeline shows a gap for the stopped camera [E7]; playback of a past range plays [E7];
// a watch operator without scope sees no tile [D5/E1]. Exits 1 with a message on the first
// failed check; writes screenshots and results.json to CUSTOS_ARTIFACTS.

import { totpCode } from './totp.mjs';
import { env, harness, log } from './harness.mjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const BASE = env('CUSTOS_URL').replace(/\/?$/, '/');
const USER = env('CUSTOS_USER');
const PASSWORD = env('CUSTOS_PASSWORD');
const NOSCOPE_USER = env('CUSTOS_NOSCOPE_USER');
const NOSCOPE_PASSWORD = env('CUSTOS_NOSCOPE_PASSWORD');
const NOSCOPE_SCOPE = env('CUSTOS_NOSCOPE_SCOPE', 'local/main/default/none');
const ADMIN_USER = process.env.CUSTOS_ADMIN_USER ?? '';
const APPROVER_USER = process.env.CUSTOS_APPROVER_USER ?? '';
const APPROVER_PASSWORD = process.env.CUSTOS_APPROVER_PASSWORD ?? '';
const ADMIN_PASSWORD = process.env.CUSTOS_ADMIN_PASSWORD ?? '';
const AUDITOR_USER = process.env.CUSTOS_AUDITOR_USER ?? '';
const AUDITOR_PASSWORD = process.env.CUSTOS_AUDITOR_PASSWORD ?? '';
const POLICE_USER = process.env.CUSTOS_POLICE_USER ?? '';
const POLICE_PASSWORD = process.env.CUSTOS_POLICE_PASSWORD ?? '';
const TOTP_USER = process.env.CUSTOS_TOTP_USER ?? '';
const TOTP_PASSWORD = process.env.CUSTOS_TOTP_PASSWORD ?? '';
const TOTP_URI = process.env.CUSTOS_TOTP_URI ?? '';
const GAP_CAMERA = env('CUSTOS_GAP_CAMERA');
const ARTIFACTS = env('CUSTOS_ARTIFACTS');
const CHROMIUM = env('CUSTOS_CHROMIUM', '/usr/bin/chromium');
const FIRST_FRAME_MAX_MS = Number(env('CUSTOS_FIRST_FRAME_MAX_MS', '1000'));

const results = { base: BASE, checks: [], timings: {} };
const { check, waitFor, shot, runInChromium } = harness(ARTIFACTS, results);

/** Luminance statistics of the video's current frame, drawn onto a canvas. */
async function frameStats(page, selector) {
  return page.$eval(selector, (v) => {
    const w = v.videoWidth;
    const h = v.videoHeight;
    if (!w || !h) return { w, h, mean: 0, sd: 0 };
    const c = document.createElement('canvas');
    c.width = Math.min(w, 320);
    c.height = Math.round((c.width * h) / w);
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0, c.width, c.height);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let s = 0;
    let s2 = 0;
    const n = d.length / 4;
    for (let i = 0; i < d.length; i += 4) {
      const y = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
      s += y;
      s2 += y * y;
    }
    const mean = s / n;
    return { w, h, mean, sd: Math.sqrt(Math.max(0, s2 / n - mean * mean)) };
  });
}

async function currentTime(page, selector) {
  return page.$eval(selector, (v) => v.currentTime);
}

/** Fails unless the video's currentTime advances by at least `min` seconds within `ms`. */
async function assertAdvances(page, selector, what, min = 0.5, ms = 3000) {
  const a = await currentTime(page, selector);
  await page.waitForTimeout(ms);
  const b = await currentTime(page, selector);
  check(b - a >= min, `${what}: video.currentTime advances (${a.toFixed(2)} → ${b.toFixed(2)} s in ${ms} ms)`);
}

async function assertNotBlank(page, selector, what) {
  const st = await frameStats(page, selector);
  check(st.w > 0 && st.sd > 8, `${what}: decoded frame ${st.w}×${st.h} is not blank (luma mean ${st.mean.toFixed(1)}, sd ${st.sd.toFixed(1)})`);
}

async function login(page, user, password) {
  await page.goto(BASE, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('form.login input[name=username]', { timeout: 15000 });
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', password);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('header.top', { timeout: 15000 });
  // E1: an account an administrator created must change its password at first login (the
  // console shows only the password form). Change it, then back, so that the test keeps
  // logging in with the password it was given.
  if (await page.isVisible('#must-change-password')) {
    const own = `${password}-own`;
    for (const [from, to, url] of [[password, own, null], [own, password, `${BASE}#/password`]]) {
      if (url) await page.goto(url);
      await page.waitForSelector('input[name=old-password]', { timeout: 10000 });
      await page.fill('input[name=old-password]', from);
      await page.fill('input[name=new-password]', to);
      await page.fill('input[name=repeat-password]', to);
      await page.click('form.stack button[type=submit]');
      if (url) await page.waitForSelector('section .banner.ok', { timeout: 10000 });
      else await page.waitForSelector('#must-change-password', { state: 'detached', timeout: 10000 });
    }
    check(true, `E1 ${user} changed the password an administrator chose at first login`);
    await page.goto(BASE, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('header.top', { timeout: 15000 });
  }
}

/** Starts the shift if this watch operator is off duty (D5). */
async function startShift(page) {
  const btn = await page.$('#duty-toggle');
  if (!btn) return;
  const off = await page.$('#duty-needed');
  if (off) {
    await btn.click();
    await page.waitForSelector('#duty-needed', { state: 'detached', timeout: 10000 });
  }
}

async function logout(page) {
  await page.click('header.top button:has-text("退出"), header.top button:has-text("Log out")');
  await page.waitForSelector('form.login', { timeout: 10000 });
}

/** Adds an account through the Users page (administrator). */
async function addUser(page, name, password, role, scopes) {
  if (!(await page.$eval('#add-user', (d) => d.open))) await page.click('#add-user summary');
  await page.fill('input[name=new-name]', name);
  await page.fill('input[name=new-password]', password);
  await page.selectOption('select[name=new-role]', role);
  await page.fill('input[name=new-scopes]', scopes);
  await page.click('#add-user button[type=submit]');
  await page.waitForSelector(`tr[data-user="${name}"]`, { timeout: 10000 });
  check(true, `E1 administrator added ${name} (${role} @ ${scopes}) on the Users page`);
}

async function adminPart(page) {
  await login(page, ADMIN_USER, ADMIN_PASSWORD);
  check((await page.getAttribute('html', 'lang')) === 'zh-CN', 'UI language defaults to zh-CN');
  await page.waitForSelector('#no-cameras', { timeout: 15000 });
  check((await page.locator('.tile').count()) === 0, 'administrator sees no camera tile (no footage rights)');
  await page.goto(`${BASE}#/users`);
  await page.waitForSelector('table.grid tr[data-user]', { timeout: 15000 });
  await addUser(page, USER, PASSWORD, 'watch_operator', 'local');
  await addUser(page, NOSCOPE_USER, NOSCOPE_PASSWORD, 'watch_operator', NOSCOPE_SCOPE);
  if (AUDITOR_USER) await addUser(page, AUDITOR_USER, AUDITOR_PASSWORD, 'auditor', 'local');
  if (POLICE_USER) await addUser(page, POLICE_USER, POLICE_PASSWORD, 'police_officer', 'local');
  if (APPROVER_USER) await addUser(page, APPROVER_USER, APPROVER_PASSWORD, 'police_approver', 'local');
  await shot(page, '00-users');
  await page.goto(`${BASE}#/audit`);
  await page.waitForSelector('.banner.denied', { timeout: 15000 });
  const denied = await page.textContent('.banner.denied');
  check(/GET \/api\/audit/.test(denied), `403 names what was refused: "${denied.trim().slice(0, 120)}"`);
  await logout(page);
}

async function auditorPart(page) {
  await login(page, AUDITOR_USER, AUDITOR_PASSWORD);
  await page.goto(`${BASE}#/audit`);
  await page.waitForSelector('table.audit tbody tr', { timeout: 15000 });
  await page.fill('form.filters input[name=actor]', USER);
  await page.click('form.filters button[type=submit]');
  await page.waitForFunction(
    (u) => {
      const rows = [...document.querySelectorAll('table.audit tbody tr td:nth-child(3)')];
      return rows.length > 0 && rows.every((td) => td.textContent === u);
    },
    USER,
    { timeout: 15000 },
  );
  const n = await page.locator('table.audit tbody tr').count();
  check(n > 0, `audit viewer filtered by actor ${USER} shows ${n} entries (the live views and playback)`);
  await shot(page, '07-audit');
  await logout(page);
}

/** Opens the export form of the current camera page and requests the default range. */
async function requestExport(page, purpose, to) {
  await page.click('#export summary');
  if (to) await page.fill('#export input[type=datetime-local] >> nth=1', to);
  await page.fill('#export input[name=purpose]', purpose);
  await page.click('#export button[type=submit]');
}

async function exportFromCameraPage(page, to) {
  await page.goto(`${BASE}#/camera/${encodeURIComponent(GAP_CAMERA)}`);
  await page.waitForSelector('svg.timeline rect.span', { timeout: 15000 });
  await page.click('#fit-recordings');
  await page.waitForTimeout(400);
  await requestExport(page, 'case 2026-042: e2e export check', to);
}

/** The request's card on the requests page, once it shows `state`. */
async function requestCard(page, id, state, what) {
  await page.goto(`${BASE}#/requests`);
  const sel = `article.request[data-request="${id}"][data-state="${state}"]`;
  await waitFor(page, sel, what, 15000);
  return sel;
}

/**
 * H1–H5 on the console: a police officer without a released request is refused the export
 * (H2); drafts a copy request with two officers and the unit letter, and submits it; the
 * agency head approves it in the inbox; the watch operator sees both officers and the
 * document and releases it (evidence bundle); then the officer's export is a playable MP4, and
 * the registration form prints as PDF.
 */
async function policePart(page) {
  await login(page, POLICE_USER, POLICE_PASSWORD);
  await exportFromCameraPage(page);
  await waitFor(page, '#export .banner.denied', 'H2 export by police without a released request is refused', 15000);
  const refused = await page.textContent('#export .banner.denied');
  check(refused.includes('H2'), `H2 the refusal names the rule: "${refused.trim().slice(0, 160)}"`);
  if (!APPROVER_USER) return logout(page);

  await page.goto(`${BASE}#/requests`);
  await waitFor(page, '#new-request', 'H1 police officer sees the request form');
  await page.fill('#new-request input[name=organ]', '某市公安局某分局');
  await page.selectOption('#new-request select[name=organ_type]', 'police');
  await page.fill('#new-request input[name=purpose]', '案件侦查 e2e');
  await page.fill('#new-request input[name=basis]', '调取证据通知书 2026-042');
  await page.selectOption('#new-request select[name=kind]', 'copy');
  await page.fill('#new-request input[name=camera]', GAP_CAMERA);
  // H2: a copy request is for footage already recorded: the last half hour up to 2 s ago (in
  // the browser's local time, to the second).
  const [reqFrom, reqTo] = await page.evaluate(() => {
    const f = (ms) => new Date(ms - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
    const n = Date.now();
    return [f(n - 1_800_000), f(n - 2_000)];
  });
  await page.fill('#new-request input[name=from]', reqFrom);
  await page.fill('#new-request input[name=to]', reqTo);
  await page.fill('#new-request input[name=officer1]', '张伟');
  await page.fill('#new-request input[name=work1]', '110101');
  await page.fill('#new-request input[name=officer2]', '李娜');
  await page.fill('#new-request input[name=work2]', '110102');
  await page.setInputFiles('#new-request input[name=document]', {
    name: '介绍信.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('某市公安局某分局 介绍信 e2e'),
  });
  await page.click('#new-request button[type=submit]');
  await waitFor(page, 'article.request[data-state="submitted"]', 'H3 request drafted with two officers and the unit letter, submitted', 15000);
  const id = await page.getAttribute('article.request[data-state="submitted"]', 'data-request');
  await shot(page, '10-request-submitted');
  await logout(page);

  await login(page, APPROVER_USER, APPROVER_PASSWORD);
  let card = await requestCard(page, id, 'submitted', `H2 request ${id} is in the approver's inbox`);
  await page.fill(`${card} form.approve input[name=work_id]`, '110001');
  await page.click(`${card} form.approve button[type=submit]`);
  await requestCard(page, id, 'approved', `H2 ${APPROVER_USER} approved request ${id}`);
  await logout(page);

  await login(page, USER, PASSWORD);
  card = await requestCard(page, id, 'approved', `H3 request ${id} waits for the unit's operator`);
  const officers = await page.locator(`${card} .officers .officer`).count();
  const documents = await page.locator(`${card} .documents a.document`).count();
  check(officers === 2 && documents === 1, `H3 release screen shows both officers (${officers}) and the document (${documents})`);
  await shot(page, '11-release-screen');
  await page.click(`${card} form.release button[type=submit]`);
  card = await requestCard(page, id, 'released', `H3 ${USER} released request ${id}`);
  const bundle = await page.getAttribute(`${card} code.bundle`, 'data-path');
  check(!!bundle, `H5 release produced an evidence bundle ${bundle}`);
  writeFileSync(join(ARTIFACTS, 'bundle.txt'), bundle);
  await logout(page);

  await login(page, POLICE_USER, POLICE_PASSWORD);
  // The export ends where the request's range ends (it starts with the recording, inside it).
  await exportFromCameraPage(page, reqTo);
  await waitFor(page, '#export .banner.ok a', "H2 police officer's export under the released request is ready", 30000);
  const href = await page.getAttribute('#export .banner.ok a', 'href');
  const res = await page.request.get(new URL(href, BASE).toString());
  const body = await res.body();
  const type = res.headers()['content-type'] ?? '';
  check(
    res.status() === 200 && body.length > 20000 && body.subarray(4, 8).toString() === 'ftyp',
    `E1 police officer's export ${href}: HTTP ${res.status()}, ${type}, ${body.length} bytes of MP4`,
  );
  writeFileSync(join(ARTIFACTS, 'export.mp4'), body);
  await shot(page, '08-export');
  const form = await page.request.get(new URL(`api/requests/${id}/form.pdf`, BASE).toString());
  const pdf = await form.body();
  check(form.status() === 200 && pdf.subarray(0, 5).toString() === '%PDF-', `H3 registration form of request ${id} prints as PDF (${pdf.length} bytes)`);
  writeFileSync(join(ARTIFACTS, 'form.pdf'), pdf);
  await logout(page);
}

/** E1: an account with TOTP is asked for the one-time code, and gets in with it. */
async function totpPart(page) {
  await page.goto(BASE, { waitUntil: 'domcontentloaded' });
  await waitFor(page, 'form.login input[name=username]', 'login page');
  await page.fill('input[name=username]', TOTP_USER);
  await page.fill('input[name=password]', TOTP_PASSWORD);
  await page.click('form.login button[type=submit]');
  await waitFor(page, 'form.login input[name=totp]', `E1 login of ${TOTP_USER} asks for the one-time code`, 10000);
  await shot(page, '09-login-totp');
  await page.fill('input[name=totp]', totpCode(TOTP_URI));
  await page.click('form.login button[type=submit]');
  await waitFor(page, 'header.top', `E1 ${TOTP_USER} logged in with password and one-time code`, 10000);
  check(true, `E1 ${TOTP_USER} logged in with password and one-time code`);
  await logout(page);
}

async function run(page) {
  if (ADMIN_USER) await adminPart(page);

  // E1: log in (the UI starts in zh-CN).
  await login(page, USER, PASSWORD);
  check((await page.getAttribute('html', 'lang')) === 'zh-CN', 'UI language is zh-CN');
  check(await page.isVisible('header.top'), `E1: ${USER} logged in`);
  await startShift(page);

  // E2: a live tile plays.
  await page.waitForSelector('.tile .live', { timeout: 15000 });
  const tiles = await page.$$eval('.tile .live', (els) => els.map((e) => [e.dataset.camera, e.dataset.stream]));
  check(tiles.length >= 2, `wall shows a tile per camera (${JSON.stringify(tiles)})`);
  check(tiles.every(([, s]) => s === 'sub'), 'tiles use the sub stream');
  const tile = '.tile .live[data-state=playing] video';
  await waitFor(page, tile, 'E2 a live tile starts playing', 20000);
  await assertAdvances(page, tile, 'E2 live tile');
  await assertNotBlank(page, tile, 'E2 live tile');
  // E2: the player stays at the live edge (no growing backlog): buffered ahead of the play head.
  await page.waitForTimeout(1000);
  const ahead = await page.$$eval('.tile .live video', (vs) =>
    vs.map((v) => (v.buffered.length ? v.buffered.end(v.buffered.length - 1) - v.currentTime : -1)),
  );
  results.timings.tile_buffered_ahead_s = ahead;
  check(ahead.every((a) => a >= 0 && a < 1.5), `E2 live tiles play at the live edge (buffered ahead: ${ahead.map((a) => a.toFixed(2)).join(', ')} s)`);
  const tileFirst = await page.$$eval('.tile .live[data-first-frame-ms]', (els) => els.map((e) => Number(e.dataset.firstFrameMs)));
  results.timings.tile_first_frame_ms = tileFirst;
  await shot(page, '01-wall');

  // Layout keys: 3 → 9 tiles, 2 → back to 4.
  await page.keyboard.press('3');
  await waitFor(page, '.wall.grid-9', 'key 3 switches the wall to 9 tiles', 5000);
  await page.keyboard.press('2');
  await waitFor(page, '.wall.grid-4 .tile .live[data-state=playing]', 'key 2 switches back to 4 playing tiles', 10000);

  // E2: click to first frame (full screen, main stream).
  const first = (await page.$$eval('.tile', (els) => els.map((e) => e.getAttribute('aria-label'))))[0];
  const t0 = Date.now();
  await page.dblclick('.tile >> nth=0');
  await waitFor(page, '.full .live[data-stream=main][data-state=playing]', 'E2 full screen plays the main stream');
  const clickToFrame = Date.now() - t0;
  const ff = Number(await page.getAttribute('.full .live', 'data-first-frame-ms'));
  results.timings.click_to_first_frame_ms = clickToFrame;
  results.timings.player_first_frame_ms = ff;
  await assertNotBlank(page, '.full video', `E2 full screen ${first}`);
  await shot(page, '02-fullscreen-main');
  check(clickToFrame < FIRST_FRAME_MAX_MS, `E2 click to first frame ${clickToFrame} ms < ${FIRST_FRAME_MAX_MS} ms (player: ${ff} ms)`);
  await page.click('.full .exit-full');

  // E7: the timeline of the stopped camera shows a gap.
  await page.goto(`${BASE}#/camera/${encodeURIComponent(GAP_CAMERA)}`);
  await waitFor(page, `svg.timeline[data-camera="${GAP_CAMERA}"] rect.span`, `E7 timeline of ${GAP_CAMERA} shows recorded spans`);
  await page.click('#fit-recordings');
  await waitFor(page, 'svg.timeline rect.gap', `E7 timeline of ${GAP_CAMERA} shows a gap`);
  const gaps = await page.$$eval('svg.timeline rect.gap', (els) => els.map((e) => [Number(e.dataset.start), Number(e.dataset.end)]));
  check(gaps.length >= 1, `E7 timeline of ${GAP_CAMERA} shows a gap (${gaps.map(([a, b]) => `${((b - a) / 1000).toFixed(1)} s`).join(', ')})`);
  await page.waitForTimeout(500);
  await shot(page, '03-timeline-gap');

  // E7: playback of a past range plays: click 2 s into the first recorded span.
  const spans = await page.$$eval('svg.timeline rect.span', (els) =>
    els.map((e) => ({ a: Number(e.dataset.start), b: Number(e.dataset.end), x: Number(e.getAttribute('x')), w: Number(e.getAttribute('width')) })),
  );
  const span = spans.find((s) => s.b - s.a > 6000);
  check(!!span, `a recorded span longer than 6 s to play (${spans.length} spans)`);
  const box = await page.locator('svg.timeline').boundingBox();
  const at = span.a + 2000;
  const x = span.x + ((at - span.a) / (span.b - span.a)) * span.w;
  await page.mouse.click(box.x + x, box.y + 20);
  await waitFor(page, 'video#playback', 'E7 a click on the timeline opens playback', 10000);
  await page.waitForFunction(() => {
    const v = document.querySelector('video#playback');
    return v && v.readyState >= 2 && v.currentTime > 0.2;
  }, null, { timeout: 15000 });
  await assertAdvances(page, 'video#playback', 'E7 playback of a past range');
  await assertNotBlank(page, 'video#playback', 'E7 playback');
  await page.selectOption('.controls select', '2');
  check((await page.$eval('video#playback', (v) => v.playbackRate)) === 2, 'playback speed 2×');
  await shot(page, '04-playback');

  // Frame step: pause, then one frame forward (1/fps ≈ 0.067 s at 15 fps).
  await page.click('#play-pause');
  await page.waitForFunction(() => document.querySelector('video#playback').paused, null, { timeout: 5000 });
  const before = await currentTime(page, 'video#playback');
  await page.click('#frame-forward');
  await page.waitForTimeout(300);
  const after = await currentTime(page, 'video#playback');
  check(after - before > 0.03 && after - before < 0.15, `frame step forward moves ${((after - before) * 1000).toFixed(0)} ms`);

  // E1: a watch operator may not export; the refusal names the request.
  await requestExport(page, 'e2e: operator export must be refused');
  await waitFor(page, '#export .banner.denied', 'E1 export by a watch operator is refused', 10000);
  const refused = await page.textContent('#export .banner.denied');
  check(
    refused.includes('POST /api/exports') && !/csrf/i.test(refused),
    `E1 export by a watch operator refused with a clear message: "${refused.trim().slice(0, 140)}"`,
  );

  // Language switch is applied and remembered.
  await page.selectOption('header.top select', 'en');
  await page.waitForSelector('header.top nav a:has-text("Live")');
  check((await page.getAttribute('html', 'lang')) === 'en', 'language switch to English');
  await page.reload();
  await page.waitForSelector('header.top nav a:has-text("Live")', { timeout: 10000 });
  check(true, 'language choice remembered across reload');
  await page.goto(`${BASE}#/health`);
  await page.waitForSelector('table.health tbody tr', { timeout: 15000 });
  await shot(page, '05-health');
  await page.selectOption('header.top select', 'zh-CN');
  await logout(page);

  // D5/E1: a watch operator without scope sees no tile.
  await login(page, NOSCOPE_USER, NOSCOPE_PASSWORD);
  await startShift(page);
  await waitFor(page, '#no-cameras', `D5 ${NOSCOPE_USER} (no scope) is told there is no camera to view`);
  const n = await page.locator('.tile').count();
  check(n === 0, `D5 ${NOSCOPE_USER} (no scope) sees no tile (${n} tiles)`);
  await shot(page, '06-no-scope');

  // Change one's own password from the header link; then log in with the new one.
  const newPassword = `${NOSCOPE_PASSWORD}-changed`;
  await page.click('header.top a.who');
  await page.fill('input[name=old-password]', NOSCOPE_PASSWORD);
  await page.fill('input[name=new-password]', newPassword);
  await page.fill('input[name=repeat-password]', newPassword);
  await page.click('form.stack button[type=submit]');
  await page.waitForSelector('section .banner.ok', { timeout: 10000 });
  await logout(page);
  await login(page, NOSCOPE_USER, newPassword);
  check(await page.isVisible('header.top'), `${NOSCOPE_USER} changed the password in the console and logged in with the new one`);
  await logout(page);

  if (POLICE_USER) await policePart(page);
  if (AUDITOR_USER) await auditorPart(page);
  if (TOTP_USER) await totpPart(page);
}

await runInChromium(CHROMIUM, run, '99-failure');
