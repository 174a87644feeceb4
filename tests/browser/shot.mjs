// A screenshot of one page of a running portal in headless Chromium (Debian's): the README's
// picture of a data post. Waits for the viewer to draw when the page has one.
//
// usage: node shot.mjs <url> <out.png> [light|dark] [width] [height]

import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, out, scheme, widthArg, heightArg] = process.argv.slice(2);
const width = Number(widthArg || 1280);
const height = Number(heightArg || (width < 600 ? 844 : 1000));
if (!url || !out || !(width >= 200 && width <= 4000)) {
  console.error('usage: node shot.mjs <url> <out.png> [light|dark] [width] [height]');
  process.exit(2);
}
const profile = mkdtempSync(join(tmpdir(), 'secviz-shot-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  viewport: { width, height },
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
