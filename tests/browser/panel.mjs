// The corm panel in a real browser: Debian's headless Chromium driven by
// playwright-core (no browser download).  Starts `corm serve` on a free
// loopback port itself and stops it by pid.
//
//   node tests/browser/panel.mjs CORM SHOTS_DIR
//
// Loads the request list, opens the naive book list's request, finds the
// N+1 finding and its fix in the DOM, clicks EXPLAIN and sees a plan,
// checks that a title that is HTML never runs, and saves screenshots.
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [corm, shots] = process.argv.slice(2);
if (!corm || !shots) {
  console.error('usage: node panel.mjs CORM SHOTS_DIR');
  process.exit(2);
}
fs.mkdirSync(shots, { recursive: true });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'corm-browser-'));
const portFile = path.join(work, 'port');
let passed = 0, failed = 0;
function check(what, ok, detail) {
  if (ok) { passed++; console.log('ok   ' + what); }
  else { failed++; console.log('FAIL ' + what + (detail ? ': ' + detail : '')); }
}

const server = spawn(corm, ['serve', '--db', 'sqlite:' + path.join(work, 'shop.db'), '--port', '0',
  '--port-file', portFile, '--scale', '30', '--threads', '2'], { stdio: ['ignore', 'ignore', 'inherit'] });
let browser;
try {
  const t0 = Date.now();
  while (!fs.existsSync(portFile) || !fs.readFileSync(portFile, 'utf8').trim()) {
    if (server.exitCode !== null || Date.now() - t0 > 60000) throw new Error('corm serve did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  const base = 'http://127.0.0.1:' + fs.readFileSync(portFile, 'utf8').trim();
  // a fresh --user-data-dir (playwright passes it for a persistent context)
  browser = await chromium.launchPersistentContext(path.join(work, 'profile'), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1200, height: 800 },
  });
  const page = browser.pages()[0] || await browser.newPage();
  page.setDefaultTimeout(20000);
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });

  // the app page, naive, with its toolbar
  await page.goto(base + '/books');
  const bar = await page.locator('#corm-toolbar').innerText();
  check('toolbar on the naive page', /32 queries/.test(bar) && /finding/.test(bar), bar);
  await page.screenshot({ path: path.join(shots, 'inspect-app-toolbar.png') });
  await page.goto(base + '/books?fixed=1');
  check('toolbar on the fixed page', /1 queries/.test(await page.locator('#corm-toolbar').innerText()));
  // a title that is HTML, searched for: shown as text, never run
  await page.goto(base + '/books?q=' + encodeURIComponent("<script>document.title='XSS'"));
  await page.goto(base + '/authors');

  // the request list
  await page.goto(base + '/__corm/');
  const rows = await page.locator('#requests tbody tr').count();
  check('request list shows the requests', rows === 4, String(rows));
  await page.locator('a.sort[data-sort="queries"]').click();
  await page.waitForURL(/sort=queries/);
  const first = await page.locator('#requests tbody tr').first().locator('td.queries').innerText();
  check('sorted by query count', first === '32', first);
  await page.screenshot({ path: path.join(shots, 'inspect-requests.png'), fullPage: true });

  // the naive request: the finding, its fix, both sites
  await page.locator('#requests tbody tr.n1 a').first().click();
  await page.waitForSelector('.finding[data-kind="n_plus_one"]');
  const fix = await page.locator('.finding[data-kind="n_plus_one"] .fix').innerText();
  check('N+1 fix in the DOM', fix.startsWith('corm_select_related(qs, "author") at cli/cmd_serve.c:'), fix);
  check('access and build sites', (await page.locator('.finding .site').count()) > 0 &&
    (await page.locator('.finding .built').count()) > 0);
  check('similar statements grouped', (await page.locator('#groups tr.group.similar').count()) >= 1);
  await page.screenshot({ path: path.join(shots, 'inspect-request.png'), fullPage: false });

  // EXPLAIN in place
  const row = page.locator('#queries tr.query').nth(1);
  await row.locator('form.explain button').click();
  const plan = row.locator('.plan');
  await plan.waitFor({ state: 'visible' });
  const planText = await plan.innerText();
  check('EXPLAIN shows a plan', /SEARCH|SCAN/.test(planText), planText);
  await row.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(shots, 'inspect-explain.png') });

  // the XSS request's page: the title is text
  await page.goto(base + '/__corm/?sort=time');
  await page.locator('#requests tbody tr a').nth(1).click();
  await page.waitForSelector('#queries');
  const xss = await page.evaluate(() => [document.title, window.__xss === undefined,
    document.body.innerText.includes("<script>document.title='XSS'")]);
  check('a title that is HTML never runs', xss[0] !== 'XSS' && xss[1] && dialogs.length === 0, JSON.stringify(xss));
  check('and is shown as text', xss[2], JSON.stringify(xss));

  // per-route statistics
  await page.goto(base + '/__corm/routes');
  check('per-route statistics', (await page.locator('#routes td.route').count()) === 2);
  await page.screenshot({ path: path.join(shots, 'inspect-routes.png') });
} catch (e) {
  check('browser run', false, e.stack || String(e));
} finally {
  if (browser) await browser.close();
  if (server.exitCode === null) {
    process.kill(server.pid, 'SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  fs.rmSync(work, { recursive: true, force: true });
}
console.log('screenshots in ' + shots);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
