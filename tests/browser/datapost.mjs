// Data posts (issue 7) in headless Chromium (Debian's, never a downloaded browser): a member
// attaches a generated pf log to Add Post, waits for the background ingest on the draft page
// (it reloads itself, no script), keeps the linked view, previews it, publishes; another
// member opens the post, the viewer draws the graph, a bar is brushed and the other views
// follow; then they remix the post into a draft of their own. Fails on any console error
// (a CSP violation shows there). Screenshots go to ./screenshots (gitignored).
//
// usage: node datapost.mjs <base-url> <pf-log-path> <password>

import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const [base, logPath, password] = process.argv.slice(2);
if (!base || !logPath || !password) {
  console.error('usage: node datapost.mjs <base-url> <pf-log-path> <password>');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, 'screenshots');
mkdirSync(shots, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'secviz-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--no-first-run', '--disable-sync', '--disable-dev-shm-usage', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  viewport: { width: 1280, height: 1000 },
});
const consoleErrors = [];
const page = await context.newPage();
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
page.on('pageerror', (e) => consoleErrors.push(String(e)));

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}
const shot = (name) => page.screenshot({ path: join(shots, `datapost-${name}.png`), fullPage: true });

async function signup(name) {
  await page.goto(base + '/signup');
  await page.fill('#username', name);
  await page.fill('#email', `${name}@example.org`);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(base + '/'), page.click('main button[type=submit]')]);
}
async function logout() {
  await Promise.all([page.waitForURL(base + '/'), page.click('header button:has-text("Log out")')]);
}
// The draft page reloads itself every two seconds while the ingest runs.
async function waitIngest() {
  for (let i = 0; i < 300; i++) {
    const s = await page.getAttribute('#data-status', 'data-status').catch(() => null);
    if (s === 'ready' || s === 'failed') return s;
    await page.waitForTimeout(500);
  }
  throw new Error('the ingest did not end');
}
const selectedSum = () => page.evaluate(() => {
  const s = document.querySelector('.sv-status');
  return { selected: +s.dataset.selected, total: +s.dataset.total };
});

const result = {};
try {
  // Ana attaches a pf log to Add Post: the request returns at once with a draft.
  await signup('ana');
  await Promise.all([page.waitForURL(base + '/new'), page.click('header a:has-text("Add Post")')]);
  await page.fill('#title', 'Who asks the resolvers for what?');
  await page.fill('#body', 'An hour of DNS through **pf**. One client asks for a dynamic-DNS name far too often.');
  await page.selectOption('#data_format', 'pf');
  await page.fill('#data_year', '2026');
  await page.setInputFiles('#data_file', logPath);
  await Promise.all([page.waitForURL(/\/drafts\/\d+$/), page.click('button[value=publish]')]);
  result.draft = new URL(page.url()).pathname;
  await shot('1-draft-ingesting');
  result.ingest = await waitIngest();
  check(result.ingest === 'ready', `the ingest ended ${result.ingest}: ${await page.textContent('#data-status')}`);
  check((await page.textContent('main')).includes('Anonymization is on'), 'the page says what is anonymized');
  await shot('2-draft-ready');

  // Pick the view: linked views with the graph coloured by protocol; save for a preview.
  await page.selectOption('#kind', 'linked');
  await page.fill('#fields', 'dst_port, src_ip, dns_qname');
  await page.selectOption('#color', 'protocol');
  await page.selectOption('#size', 'degree');
  await page.fill('#seed', '5');
  await page.click('button[value=save]');
  await page.waitForSelector('img#preview');
  result.previewWidth = await page.evaluate(async () => {
    const img = document.getElementById('preview');
    if (!img.complete) await new Promise((r) => { img.onload = r; img.onerror = r; });
    return img.naturalWidth;
  });
  check(result.previewWidth > 0, 'the preview drew');
  await shot('3-preview');
  await Promise.all([page.waitForURL(/\/p\/\d+$/), page.click('button[value=publish]')]);
  result.post = new URL(page.url()).pathname;
  await logout();

  // Bob opens the post: the viewer draws the graph over the server pictures; he brushes.
  await signup('bob');
  await page.goto(base + result.post);
  await page.waitForFunction(() => document.querySelector('[data-secviz-viewer]')?.dataset.state === 'ready', null, { timeout: 60000 });
  await page.waitForSelector('.sv-graph[data-drawn="true"]', { timeout: 60000 });
  result.before = await selectedSum();
  check(result.before.selected === result.before.total && result.before.total > 0, 'nothing selected at first');
  const bars = page.locator('.sv-bars-panel[aria-label="src_ip"] g.bar:not(.other)');
  check((await bars.count()) > 0, 'src_ip bars');
  await bars.first().locator('rect.total').click();
  await page.waitForFunction(() => {
    const s = document.querySelector('.sv-status');
    return s && +s.dataset.selected < +s.dataset.total;
  });
  result.after = await selectedSum();
  check(result.after.selected > 0 && result.after.selected < result.after.total, 'the brush selects part of the records');
  await shot('4-post-brushed');

  // Remix with the data: a draft of Bob's own, its data ready, the view's choices kept.
  await Promise.all([page.waitForURL(/\/drafts\/\d+$/), page.click('form.remix button')]);
  result.remix = new URL(page.url()).pathname;
  check(await page.getAttribute('#data-status', 'data-status') === 'ready', 'the remix has the data');
  check(await page.inputValue('#seed') === '5', 'the remix keeps the seed');
  await shot('5-remix');

  check(consoleErrors.length === 0, `console errors: ${consoleErrors.join(' | ')}`);
  console.log(JSON.stringify(result));
  console.log('datapost browser path: ok');
} catch (e) {
  await shot('failure').catch(() => {});
  console.error(String(e.stack || e));
  console.error(`console errors: ${consoleErrors.join(' | ')}`);
  console.log(JSON.stringify(result));
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
