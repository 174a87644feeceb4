// A dashboard's big screen in headless Chromium (Debian's, never a downloaded browser), at
// 1920×1080 through a read-only share link, without a login. Started by the Rust tests.
//
// usage: node screen.mjs <url> live <ip> [<ip> ...]
//   Checks the big-screen rules (every text ≥ 24 px, contrast ≥ 7:1, the full-screen button),
//   prints "ready", then waits until every <ip> shows on the screen and prints
//   "seen <ip> <epoch ms>" for each (the Rust side compares with when it sent each line).
//   Fails if the page reloads, replaces its panels' elements (flicker) or logs an error.
// usage: node screen.mjs <url> soak <seconds> <samples.csv>
//   Keeps the screen open, sampling the page's JS heap (after a collection) every 5 s into
//   <samples.csv> (seconds,heap_bytes,nodes,refreshes,board,stale: the dashboard shown, and 1
//   when its numbers are from an earlier refresh), and prints "soak: ok" with the figures.
//   With ?rotate= in <url> it fails unless the screen showed more than one dashboard.

import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, mode, ...rest] = process.argv.slice(2);
if (!url || !['live', 'soak'].includes(mode)) {
  console.error('usage: node screen.mjs <url> live <ip>... | soak <seconds> <samples.csv>');
  process.exit(2);
}
const profile = mkdtempSync(join(tmpdir(), 'secviz-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--no-first-run', '--disable-sync', '--disable-dev-shm-usage', '--enable-precise-memory-info',
         '--js-flags=--expose-gc'],
  viewport: { width: 1920, height: 1080 },
});
const errors = [];
const page = await context.newPage();
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
page.on('pageerror', (e) => errors.push(String(e)));
let loads = 0;
page.on('load', () => { loads += 1; });

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

try {
  const r = await page.goto(url, { waitUntil: 'load' });
  check(r.status() === 200, `the screen answers 200, not ${r.status()}`);
  // Mark the panels' elements: a refresh must keep them (it replaces their content only).
  await page.evaluate(() => {
    window.__secvizMark = 'kept';
    document.querySelectorAll('[data-panel]').forEach((p, i) => { p.__secvizPanel = i; });
    window.__secvizRefreshes = 0;
    const orig = window.fetch;
    window.fetch = (...a) => { window.__secvizRefreshes += 1; return orig(...a); };
  });

  if (mode === 'live') {
    const rules = await page.evaluate(() => {
      // The contrast of two sRGB colours (WCAG 2).
      const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
      const lum = ([r, g, b]) => {
        const c = [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
      };
      const background = (el) => {
        for (let e = el; e; e = e.parentElement) {
          const c = rgb(getComputedStyle(e).backgroundColor);
          if (c.length >= 3 && (c.length < 4 || c[3] > 0)) return c;
        }
        return [255, 255, 255];
      };
      const bad = [];
      let texts = 0;
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement;
        if (!n.textContent.trim() || !el || el.closest('[hidden]')) continue;
        const st = getComputedStyle(el);
        if (st.display === 'none' || st.visibility === 'hidden' || !el.getClientRects().length) continue;
        if (el.closest('svg')) continue; // tooltips of the bars (<title>) are not drawn
        texts += 1;
        const size = parseFloat(st.fontSize);
        const [a, b] = [lum(rgb(st.color)), lum(background(el))];
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (size < 24 || ratio < 7) {
          bad.push(`${el.tagName.toLowerCase()}.${el.className} "${n.textContent.trim().slice(0, 40)}": ${size}px, ${ratio.toFixed(2)}:1`);
        }
      }
      return { bad, texts, fullscreen: !!document.querySelector('[data-fullscreen]') };
    });
    check(rules.texts > 10, `the screen shows text (${rules.texts} pieces)`);
    check(rules.bad.length === 0, `every text at least 24 px with contrast at least 7:1:\n${rules.bad.join('\n')}`);
    check(rules.fullscreen, 'a full-screen button');
    console.log('ready');

    const ips = rest;
    const seen = new Map();
    const deadline = Date.now() + 60_000;
    while (seen.size < ips.length && Date.now() < deadline) {
      const text = await page.evaluate(() => document.body.innerText);
      for (const ip of ips) {
        if (!seen.has(ip) && text.includes(ip)) {
          seen.set(ip, Date.now());
          console.log(`seen ${ip} ${seen.get(ip)}`);
        }
      }
      await page.waitForTimeout(100);
    }
    check(seen.size === ips.length, `every address shows (seen: ${[...seen.keys()].join(', ')})`);
  } else {
    const seconds = Number(rest[0] || 60);
    const out = rest[1];
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const rows = ['seconds,heap_bytes,nodes,refreshes,board,stale'];
    const started = Date.now();
    const boards = new Set();
    let switches = 0;
    let last = null;
    for (;;) {
      await page.evaluate(() => { if (window.gc) window.gc(); });
      const m = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((x) => [x.name, x.value]));
      // The dashboard shown (rotation), and whether its numbers are from an earlier refresh.
      const [refreshes, board, stale] = await page.evaluate(() => {
        const shown = [...document.querySelectorAll('[data-board]')].find((b) => !b.hidden);
        const title = shown && shown.querySelector('h1') ? shown.querySelector('h1').textContent : '';
        return [window.__secvizRefreshes, title, shown && shown.classList.contains('stale') ? 1 : 0];
      });
      boards.add(board);
      if (last !== null && board !== last) switches += 1;
      last = board;
      const t = Math.round((Date.now() - started) / 1000);
      rows.push(`${t},${m.JSHeapUsedSize},${m.Nodes},${refreshes},${board.replace(/[,\n"]/g, ' ')},${stale}`);
      if (t >= seconds) break;
      // Every minute, so that a long soak's samples survive its interruption.
      if (out && rows.length % 12 === 0) writeFileSync(out, rows.join('\n') + '\n');
      await page.waitForTimeout(5000);
    }
    if (out) writeFileSync(out, rows.join('\n') + '\n');
    const heap = rows.slice(1).map((r) => Number(r.split(',')[1]));
    const nodes = rows.slice(1).map((r) => Number(r.split(',')[2]));
    const refreshes = Number(rows[rows.length - 1].split(',')[3]);
    check(refreshes >= 3, `the screen refreshed (${refreshes} requests)`);
    if (new URL(url).searchParams.get('rotate')) {
      check(boards.size >= 2 && switches >= 1, `the screen rotated (boards seen: ${[...boards].join(', ')}; ${switches} switches)`);
    }
    const stale = rows.slice(1).filter((r) => r.endsWith(',1')).length;
    console.log(`soak: ok heap_first=${heap[0]} heap_max=${Math.max(...heap)} heap_last=${heap[heap.length - 1]} nodes_first=${nodes[0]} nodes_max=${Math.max(...nodes)} refreshes=${refreshes} boards=${boards.size} switches=${switches} stale_samples=${stale}`);
  }

  const kept = await page.evaluate(() => window.__secvizMark === 'kept'
    && [...document.querySelectorAll('[data-panel]')].every((p, i) => p.__secvizPanel === i));
  check(kept, 'no reload and no panel element replaced (no flicker)');
  check(loads === 1, `the page loaded once (${loads})`);
  check(errors.length === 0, `no console errors: ${errors.join(' | ')}`);
} catch (e) {
  console.error(String(e && e.stack || e));
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  process.exit(1);
}
await context.close();
rmSync(profile, { recursive: true, force: true });
