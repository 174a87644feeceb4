// A screenshot of one page of a running portal in headless Chromium (Debian's): the README's
// picture of a data post. Waits for the viewer to draw when the page has one.
//
// usage: node shot.mjs <url> <out.png> [dark]

import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, out, scheme] = process.argv.slice(2);
if (!url || !out) {
  console.error('usage: node shot.mjs <url> <out.png> [dark]');
  process.exit(2);
}
const profile = mkdtempSync(join(tmpdir(), 'secviz-shot-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  viewport: { width: 1280, height: 1000 },
  colorScheme: scheme === 'dark' ? 'dark' : 'light',
});
const page = await context.newPage();
await page.goto(url, { waitUntil: 'networkidle' });
if (await page.locator('[data-secviz-viewer] canvas').count()) {
  await page.waitForTimeout(3000);
}
await page.screenshot({ path: out });
await context.close();
rmSync(profile, { recursive: true, force: true });
console.log(`wrote ${out}`);
