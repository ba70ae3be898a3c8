// End-to-end check of the registry pages of the web console in the real Debian Chromium
// (playwright-core) against a running `custos serve` with a loaded registry.
//
// Environment:
//   CUSTOS_URL                 base URL, e.g. https://127.0.0.1:8443/
//   CUSTOS_INSPECTOR_USER / CUSTOS_INSPECTOR_PASSWORD  an inspector of the registered division
//                              with confidential clearance
//   CUSTOS_SYSTEM              the system to inspect (e.g. market)
//   CUSTOS_OPERATOR_USER / CUSTOS_OPERATOR_PASSWORD / CUSTOS_CAMERA  optional: a watch
//                              operator and a camera in their scope (D6 check)
//   CUSTOS_ARTIFACTS           directory for screenshots, report.pdf and results.json
//   CUSTOS_CHROMIUM            browser binary (default /usr/bin/chromium)
//
// Checks (requirement ids in brackets): from the login page, without an account, a complaint
// is submitted and a receipt with its checksum shown [J3] and the catalogue lists systems
// without confidential fields [I1]; the inspector logs in, sees the system with full basic
// information [A3], scans and sees findings [J1], runs a filing inspection with one failed item
// and finishes it — the rectification order is shown [J1] — and opens the report page, whose
// PDF link returns a PDF [J1]; a watch operator reports suspicious information from the camera
// page and the bookmark appears on its timeline [D6]. Exits 1 on the first failed check;
// writes screenshots and results.json.

import { env, harness } from './harness.mjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const BASE = env('CUSTOS_URL').replace(/\/?$/, '/');
const USER = env('CUSTOS_INSPECTOR_USER');
const PASSWORD = env('CUSTOS_INSPECTOR_PASSWORD');
const SYSTEM = env('CUSTOS_SYSTEM');
const ARTIFACTS = env('CUSTOS_ARTIFACTS');
const OPERATOR_USER = process.env.CUSTOS_OPERATOR_USER ?? '';
const OPERATOR_PASSWORD = process.env.CUSTOS_OPERATOR_PASSWORD ?? '';
const CAMERA = process.env.CUSTOS_CAMERA ?? '';
const CHROMIUM = env('CUSTOS_CHROMIUM', '/usr/bin/chromium');

const results = { base: BASE, checks: [] };
const h = harness(ARTIFACTS, results);
const { check } = h;

/** Waits for `selector` and records the check `what` as passed (or failed on timeout). */
async function waitFor(page, selector, what, timeout = 15000, state = 'visible') {
  await h.waitFor(page, selector, what, timeout, state);
  check(true, what);
}

const shot = (page, name) => h.shot(page, name, true);

async function run(page) {
  // J3: the complaint form is reachable from the login page without an account.
  await page.goto(BASE, { waitUntil: 'domcontentloaded' });
  await waitFor(page, '#complaint-link', 'login page links to the complaint form');
  await page.click('#complaint-link');
  await waitFor(page, '#complaint-form', 'complaint form opens without login');
  await page.fill('#complaint-form input[name=against]', '区公安分局');
  await page.fill('#complaint-form textarea[name=body]', '市场摄像机拍摄三号巷住户窗户');
  await page.click('#complaint-form button[type=submit]');
  await waitFor(page, '#complaint-done', 'complaint receipt shown');
  const receipt = await page.textContent('#complaint-done');
  check(/[0-9a-f]{64}/.test(receipt ?? ''), 'J3: the receipt carries the SHA-256 of the complaint');
  await shot(page, 'r0-complaint');

  // I1: the public catalogue, also without an account, lists no confidential field.
  await page.goto(BASE + '#/catalogue', { waitUntil: 'domcontentloaded' });
  await waitFor(page, 'table.catalogue tbody tr', 'I1: the public catalogue lists systems without login');
  const cat = await page.textContent('table.catalogue');
  check(!/\d{20}|rtsp:|118\.78/.test(cat ?? ''), 'I1: no address code, stream URL or position in the catalogue');

  // Log in as the inspector.
  await page.goto(BASE + '#/', { waitUntil: 'domcontentloaded' });
  await waitFor(page, 'form.login input[name=username]', 'login form');
  await page.fill('input[name=username]', USER);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('form.login button[type=submit]');
  await waitFor(page, 'header.top', 'inspector logged in');

  // A3: the registry shows the system; the inspector sees full basic information.
  await page.goto(BASE + '#/registry', { waitUntil: 'domcontentloaded' });
  await waitFor(page, `tr[data-system="${SYSTEM}"] a`, 'registry lists the system');
  await page.click(`tr[data-system="${SYSTEM}"] a`);
  await waitFor(page, '#access-note.ok', 'A3: full basic information for the cleared inspector');
  const codes = await page.$$eval('table.devices tr[data-code]', (rs) => rs.map((r) => r.getAttribute('data-code')));
  check(codes.length > 0 && codes.every((c) => c && !c.includes('*')), 'A3: device codes unmasked for the inspector');
  await shot(page, 'r1-registry');

  // J1: scan, findings by article.
  await page.goto(BASE + '#/findings', { waitUntil: 'domcontentloaded' });
  await waitFor(page, '#scan-now', 'findings page');
  await page.click('#scan-now');
  await waitFor(page, 'table.findings tr[data-finding]', 'J1: findings listed after the scan');
  await shot(page, 'r2-findings');

  // J1: inspection with one failed item → rectification order.
  await page.goto(BASE + '#/inspection', { waitUntil: 'domcontentloaded' });
  await waitFor(page, `#inspection-start select[name=system] option[value="${SYSTEM}"]`, 'inspection page offers the system', 15000, 'attached');
  await waitFor(page, '#inspection-start select[name=kind] option[value=filing]', 'inspection types listed', 15000, 'attached');
  await page.selectOption('#inspection-start select[name=system]', SYSTEM);
  await page.selectOption('#inspection-start select[name=kind]', 'filing');
  await page.click('#inspection-start button[type=submit]');
  await waitFor(page, '#inspection-form tr[data-item]', 'J1: the checklist is shown');
  const first = await page.$('#inspection-form tr[data-item] input[value=fail]');
  await first.check();
  await page.click('#finish-inspection');
  await waitFor(page, '#inspection-result', 'J1: inspection finished');
  const result = await page.textContent('#inspection-result');
  check(/#\d+/.test(result ?? ''), 'J1: the rectification order is shown with its number');
  await shot(page, 'r3-inspection');

  // The report: the PDF link returns a PDF.
  await page.click('#to-report');
  await waitFor(page, '#report-pdf', 'report page');
  const href = await page.getAttribute('#report-pdf', 'href');
  const res = await page.request.get(new URL(href, BASE).toString());
  const body = await res.body();
  check(res.status() === 200 && body.subarray(0, 4).toString() === '%PDF', 'J1: the report downloads as a PDF');
  writeFileSync(join(ARTIFACTS, 'report.pdf'), body);
  await shot(page, 'r4-report');

  if (!OPERATOR_USER || !CAMERA) return;
  // D6: a watch operator reports suspicious information from the camera page.
  await page.click('header.top button:has-text("退出"), header.top button:has-text("Log out")');
  await waitFor(page, 'form.login input[name=username]', 'inspector logged out');
  await page.fill('input[name=username]', OPERATOR_USER);
  await page.fill('input[name=password]', OPERATOR_PASSWORD);
  await page.click('form.login button[type=submit]');
  await waitFor(page, 'header.top', 'watch operator logged in');
  await page.goto(BASE + `#/camera/${encodeURIComponent(CAMERA)}`, { waitUntil: 'domcontentloaded' });
  await waitFor(page, '#report-suspicious', 'D6: the camera page has a report-suspicious button');
  await page.click('#report-suspicious');
  await waitFor(page, '#suspicious-form input[name=note]', 'D6: the report form opens');
  await page.fill('#suspicious-form input[name=note]', '有人翻越大门');
  await page.click('#suspicious-form button[type=submit]');
  await waitFor(page, '#suspicious-done', 'D6: the report is confirmed (bookmark and hold)');
  await waitFor(page, 'svg path.bookmark', 'D6: the bookmark appears on the timeline', 20000, 'attached');
  await shot(page, 'r5-suspicious');
}

await h.runInChromium(CHROMIUM, run, 'r9-failure');
