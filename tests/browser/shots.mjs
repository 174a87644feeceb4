// Many screenshots in one headless Chromium (Debian's): a JSON list of
// {url, out, scheme: "light"|"dark", width} on standard input, one page each.
//
// usage: node shots.mjs < shots.json

import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const shots = JSON.parse(readFileSync(0, 'utf8'));
const profile = mkdtempSync(join(tmpdir(), 'secviz-shots-'));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage', '--allow-file-access-from-files'],
});
try {
  for (const s of shots) {
    const context = await browser.newContext({
      viewport: { width: s.width, height: s.width < 600 ? 844 : 900 },
      colorScheme: s.scheme === 'dark' ? 'dark' : 'light',
    });
    const page = await context.newPage();
    await page.goto(s.url, { waitUntil: 'load' });
    // JPEG for pictures of many colours (a tenth of the PNG), PNG otherwise.
    const jpeg = s.out.endsWith('.jpg');
    await page.screenshot(jpeg ? { path: s.out, type: 'jpeg', quality: 80 } : { path: s.out });
    await context.close();
    console.log(`wrote ${s.out}`);
  }
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
