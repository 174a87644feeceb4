// The portal journey through the real pages in headless Chromium (Debian's, never a
// downloaded browser): an admin adds a tag; a visitor signs up with the keyboard, adds a
// gallery post with an image (preview first), finds it on the front page, in the gallery, on
// its tag page, in search and in the Atom feed, comments, edits, deletes. Screenshots go to
// ./screenshots (gitignored). Fails on any console error (a CSP violation shows there).
//
// usage: node journey.mjs <base-url> <png-path> <admin-name> <admin-password>

import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const [base, pngPath, adminName, adminPassword] = process.argv.slice(2);
if (!base || !pngPath) {
  console.error('usage: node journey.mjs <base-url> <png-path> <admin-name> <admin-password>');
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
         '--no-first-run', '--disable-sync', '--disable-dev-shm-usage'],
  viewport: { width: 1280, height: 900 },
});
const consoleErrors = [];
const page = await context.newPage();
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
page.on('pageerror', (e) => consoleErrors.push(String(e)));

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}
async function shot(name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}
async function go(path) {
  const r = await page.goto(base + path);
  return r.status();
}

const title = 'Blocked sources on the edge firewall';
try {
  // The admin curates a tag.
  await go('/login');
  await page.fill('#username', adminName);
  await page.fill('#password', adminPassword);
  await Promise.all([page.waitForURL(base + '/'), page.click('main button[type=submit]')]);
  await go('/admin');
  await page.fill('input[name=slug]', 'firewall');
  await page.fill('input[name=description]', 'pf, iptables and other firewall logs');
  await Promise.all([page.waitForURL(base + '/admin'), page.click('text=Add or update tag')]);
  check(await page.isVisible('a.tag:has-text("firewall")'), 'tag listed on the admin page');
  await shot('01-admin');
  await Promise.all([page.waitForURL(base + '/'), page.click('header button:has-text("Log out")')]);

  // A visitor sees the sign-up box, then signs up using only the keyboard.
  check((await page.textContent('.signup-box')).includes('Sign up and start posting about analytics and visualization of security data'), 'sign-up box');
  await shot('02-front-anonymous');
  await go('/signup');
  await page.focus('#username');
  await page.keyboard.type('ana');
  await page.keyboard.press('Tab');
  await page.keyboard.type('ana@example.org');
  await page.keyboard.press('Tab');
  await page.keyboard.type('violet staple orbit lantern');
  await Promise.all([page.waitForURL(base + '/'), page.keyboard.press('Enter')]);
  check(await page.isVisible('header a.me:has-text("ana")'), 'logged in after sign-up');

  // Add a gallery post with an image: preview, then publish.
  await Promise.all([page.waitForURL(base + '/new'), page.click('header a:has-text("Add Post")')]);
  await page.check('input[name=kind][value=gallery]');
  await page.fill('#title', title);
  await page.fill('#body', 'Top blocked sources from a week of **pf** logs.\n\n```\nblock in on em0 from 203.0.113.9\n```\n\n| source | blocks |\n|---|---|\n| 203.0.113.9 | 1200 |');
  await page.fill('#tool', 'secviz graph');
  await page.fill('#data_source', 'pf logs, one week');
  await page.check('input[name=tags][value=firewall]');
  await page.setInputFiles('#file1', pngPath);
  await page.fill('#newalt1', 'Link graph of blocked source addresses');
  await page.click('button[value=preview]');
  await page.waitForSelector('section.preview table');
  check(await page.isVisible('.attached img'), 'uploaded image kept in the preview');
  await shot('03-preview');
  await Promise.all([page.waitForURL(/\/p\/\d+$/), page.click('button[value=publish]')]);
  const postUrl = page.url();
  const postPath = new URL(postUrl).pathname;
  check((await page.textContent('h1')).includes(title), 'post page title');
  check(await page.isVisible('figure img[alt="Link graph of blocked source addresses"]'), 'image with alt text');
  const natural = await page.$eval('figure img', (img) => img.naturalWidth);
  check(natural > 0, 'image loads under the CSP');
  await shot('04-post');

  // Found on the front page, in the gallery, on the tag page, in search and in the feed.
  await go('/');
  check(await page.isVisible(`a[href="${postPath}"]:has-text("${title}")`), 'on the front page');
  await shot('05-front-member');
  await page.click('header a:has-text("Gallery")');
  check(await page.isVisible(`.grid a[href="${postPath}"]`), 'in the gallery');
  await shot('06-gallery');
  await go('/t/firewall');
  check(await page.isVisible(`a[href="${postPath}"]`), 'on the tag page');
  await page.fill('#site-q', 'blocked sources');
  await Promise.all([page.waitForURL(/\/search\?q=/), page.keyboard.press('Enter')]);
  check(await page.isVisible(`.hits a[href="${postPath}"]`), 'in search');
  await shot('07-search');
  const feed = await (await page.request.get(base + '/feed.atom')).text();
  check(feed.includes(title) && feed.includes(postUrl), 'in the Atom feed');

  // Comment, edit the comment, delete it.
  await go(postPath);
  await page.fill('#comment-body', 'Which rules gave the **colours**?');
  await Promise.all([page.waitForURL(/#c\d+$/), page.click('button:has-text("Comment")')]);
  check(await page.isVisible('.comment strong:has-text("colours")'), 'comment shown');
  await page.click('.comment a:has-text("Edit")');
  await page.fill('#comment-body', 'Which rules gave the colours? (edited)');
  await Promise.all([page.waitForURL(/#c\d+$/), page.click('button:has-text("Save")')]);
  check((await page.textContent('.comments')).includes('(edited)'), 'comment edited');
  await shot('08-comments');
  await page.click('.comment button:has-text("Delete")');
  await page.waitForSelector('.comment .gone');

  // Looks: dark mode and a phone, then back to light on a desktop.
  await page.emulateMedia({ colorScheme: 'dark' });
  await go('/');
  await shot('09-front-dark');
  await page.setViewportSize({ width: 390, height: 844 });
  await go('/gallery');
  await shot('10-gallery-phone');
  await go(postPath);
  await shot('11-post-phone');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 900 });

  // Edit the post, then delete it.
  await go(postPath);
  await Promise.all([page.waitForURL(/\/edit$/), page.click('a.button:has-text("Edit")')]);
  await page.fill('#title', title + ' (revised)');
  await Promise.all([page.waitForURL(/\/p\/\d+$/), page.click('button[value=publish]')]);
  check((await page.textContent('h1')).includes('(revised)'), 'post edited');
  await Promise.all([page.waitForURL(/\/u\/ana$/), page.click('button:has-text("Delete post")')]);
  const before = consoleErrors.length;
  check((await go(postPath)) === 404, 'deleted post is gone');
  consoleErrors.splice(before); // the 404 just asked for is logged as a console error


  check(consoleErrors.length === 0, `no console errors, got: ${consoleErrors.join(' | ')}`);
  console.log(`browser journey: ok (screenshots in ${shots})`);
} catch (e) {
  await shot('failure').catch(() => {});
  console.error(`browser journey failed at ${page.url()}: ${e.message}`);
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
