// The viewer in headless Chromium (Debian's, never a downloaded browser), over a dataset the
// Rust test (crates/viewer/tests/it/viewer_browser.rs) generated and serves with the explorer.
// It opens the view, checks the WebGL graph drew pixels, brushes a bar, reads every view's
// counts, clears, hovers and clicks a node, uses the keyboard, exports CSV, and prints what
// it saw as one JSON line (`VIEWER_RESULT {...}`) for the Rust side to compare with lake
// queries. Screenshots go to
// ./screenshots/viewer-*.png (gitignored). Any console error (a CSP violation) fails.
//
// usage: node viewer.mjs <explorer-url>

import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const [base] = process.argv.slice(2);
if (!base) {
  console.error('usage: node viewer.mjs <explorer-url>');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, 'screenshots');
mkdirSync(shots, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'secviz-viewer-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-dev-shm-usage', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  viewport: { width: 1280, height: 1000 },
  acceptDownloads: true,
});
const errors = [];
const page = await context.newPage();
page.on('console', (m) => {
  if (m.type() === 'error') errors.push(m.text());
});
page.on('pageerror', (e) => errors.push(String(e)));

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}
const shot = (name) => page.screenshot({ path: join(shots, `viewer-${name}.png`), fullPage: true });
const ready = () => page.waitForFunction(() => document.querySelector('[data-secviz-viewer]')?.dataset.state === 'ready');

// Everything the views show, as numbers.
async function observe() {
  return page.evaluate(() => {
    const status = document.querySelector('.sv-status');
    const facets = {};
    document.querySelectorAll('.sv-bars-panel').forEach((p) => {
      const field = p.getAttribute('aria-label');
      facets[field] = [...p.querySelectorAll('g.bar')].map((g) => ({ value: g.dataset.value ?? null, other: g.classList.contains('other'), total: +g.dataset.total, selected: +g.dataset.selected }));
    });
    const sum = (sel, attr) => [...document.querySelectorAll(sel)].reduce((a, n) => a + Number(n.getAttribute(attr)), 0);
    return {
      selected: +status.dataset.selected,
      total: +status.dataset.total,
      text: status.textContent,
      facets,
      timeline: { total: sum('.sv-timeline g.bin', 'data-total'), selected: sum('.sv-timeline g.bin', 'data-selected') },
      parallel: { total: sum('.sv-parallel .lines path', 'data-total'), selected: sum('.sv-parallel .lines path', 'data-selected') },
    };
  });
}

// Waits for the views to settle with part of the records selected ('some') or all ('all').
// (No eval: the page's CSP forbids it, and waitForFunction with a string would need it.)
async function waitSelected(mode) {
  await page.waitForFunction((m) => {
    const s = document.querySelector('.sv-status');
    const v = document.querySelector('[data-secviz-viewer]');
    if (!s || v.dataset.state !== 'ready') return false;
    const sel = +s.dataset.selected;
    const tot = +s.dataset.total;
    return m === 'some' ? sel < tot : sel === tot;
  }, mode);
}

const result = {};
try {
  await page.goto(base);
  await ready();
  await page.waitForSelector('.sv-graph[data-drawn="true"]', { timeout: 60000 });
  await page.waitForTimeout(300);
  // The graph drew something: composite its WebGL layers and count non-background pixels.
  result.drawn = await page.evaluate(() => {
    const g = window.secvizViewers[0].views.graph;
    const c = g.snapshot();
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const bg = [d[0], d[1], d[2]];
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - bg[0]) + Math.abs(d[i + 1] - bg[1]) + Math.abs(d[i + 2] - bg[2]) > 30) n++;
    return { pixels: n, of: d.length / 4, firstFrameMs: g.frames.first };
  });
  check(result.drawn.pixels > 500, `the graph canvas is blank (${result.drawn.pixels} drawn pixels)`);
  // Edges are drawn over several frames (graph-gl.js): all of them, once the camera is still.
  await page.waitForFunction(() => window.secvizViewers[0].views.graph.gl.edge.progress === 1, null, { timeout: 60000 });
  result.edges = await page.evaluate(() => {
    const g = window.secvizViewers[0].views.graph;
    return { drawn: g.gl.edge.drawn, of: g.edgeCount };
  });
  check(result.edges.of > 0 && result.edges.drawn === result.edges.of, `every edge is drawn (${JSON.stringify(result.edges)})`);
  result.initial = await observe();
  check(result.initial.selected === result.initial.total, 'nothing is selected at first');
  await shot('1-loaded');

  // Brush the top bar of dst_port.
  // The biggest bar that is a port (not "no value").
  const bars = page.locator('.sv-bars-panel[aria-label="dst_port"] g.bar:not(.other)');
  let bar = null;
  for (let i = 0; i < (await bars.count()) && !bar; i++) {
    if (/^[0-9]+$/.test(await bars.nth(i).getAttribute('data-value'))) bar = bars.nth(i);
  }
  check(bar !== null, 'a dst_port bar with a port');
  result.brushed = { field: 'dst_port', value: await bar.getAttribute('data-value') };
  await bar.click();
  await waitSelected('some');
  result.afterBrush = await observe();
  check(result.afterBrush.selected > 0, 'the brushed bar selects records');
  // The graph highlights the selection (some nodes dimmed).
  result.graphSelection = await page.evaluate(() => {
    const g = window.secvizViewers[0].views.graph;
    return g.selected ? g.selected.size : -1;
  });
  check(result.graphSelection > 0, 'the graph highlights the selected nodes');
  // What the graph draws: the selected nodes keep their colour, the others take the dim colour
  // (read from the colour buffer the WebGL layer draws from).
  const dimmed = () =>
    page.evaluate(async () => {
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const g = window.secvizViewers[0].views.graph;
      const dim = g.hex(g.theme().dim);
      let n = 0;
      for (let i = 0; i < g.nodeCount; i++) if (g.drawnColor(i) === dim) n++;
      return { dimmed: n, of: g.nodeCount };
    });
  result.graphDimmed = await dimmed();
  check(result.graphDimmed.dimmed > 0 && result.graphDimmed.dimmed === result.graphDimmed.of - result.graphSelection, `the graph dims exactly the unselected nodes (${JSON.stringify(result.graphDimmed)}, ${result.graphSelection} selected)`);
  await shot('2-brushed');

  // CSV export of the selection.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
  const csvPath = join(profile, 'export.csv');
  await download.saveAs(csvPath);
  result.csv = readFileSync(csvPath, 'utf8');

  // Clear with the keyboard (Escape): every view is whole again.
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Escape');
  await waitSelected('all');
  result.afterClear = await observe();
  result.graphDimmedAfterClear = await dimmed();
  check(result.graphDimmedAfterClear.dimmed === 0, `clearing restores every node's colour (${JSON.stringify(result.graphDimmedAfterClear)})`);
  await shot('3-cleared');

  // The pointer over a node shows its details, a click highlights its neighbours, a click on
  // the background clears that. The node: one whose disc is far from every other on screen, so
  // which node is under the pointer does not depend on the drawing order.
  const stage = await page.locator('.sv-graph').boundingBox();
  const target = await page.evaluate(() => {
    const g = window.secvizViewers[0].views.graph;
    const pts = [];
    for (let i = 0; i < g.nodeCount; i++) pts.push(g.project(i));
    const params = g.sigma.getRenderParams();
    const r = (i) => g.size[i] / params.sizeRatio;
    const { width, height } = params;
    const inside = (p) => p.x > 20 && p.y > 20 && p.x < width - 20 && p.y < height - 20;
    let node = -1;
    for (let i = 0; i < pts.length && node < 0; i++) {
      if (!inside(pts[i])) continue;
      let alone = true;
      for (let j = 0; j < pts.length && alone; j++) if (j !== i && Math.hypot(pts[i].x - pts[j].x, pts[i].y - pts[j].y) < r(i) + r(j) + 12) alone = false;
      if (alone) node = i;
    }
    // A background point: 30 px or more from every node.
    let empty = null;
    for (let y = 30; y < height - 30 && !empty; y += 17) {
      for (let x = 30; x < width - 30 && !empty; x += 17) if (pts.every((p, j) => Math.hypot(p.x - x, p.y - y) > r(j) + 30)) empty = { x, y };
    }
    // Its neighbours from the document's edge list, independently of the view's adjacency.
    const d = g.doc;
    const near = new Set([node]);
    d.edges.source.forEach((s, k) => {
      if (s === node) near.add(d.edges.target[k]);
      if (d.edges.target[k] === node) near.add(s);
    });
    return node < 0 ? null : { node, id: String(d.nodes.id[node]), at: pts[node], empty, neighbours: near.size };
  });
  check(target !== null && target.empty !== null, 'an isolated node and an empty spot in the graph view');
  await page.mouse.move(stage.x + target.at.x, stage.y + target.at.y);
  await page.waitForTimeout(200);
  result.hover = await page.evaluate(() => {
    const tip = document.querySelector('.sv-tip');
    return { shown: !tip.hidden, text: tip.textContent };
  });
  check(result.hover.shown && result.hover.text.startsWith(target.id), `hovering node ${target.id} shows its details (${JSON.stringify(result.hover)})`);
  // The hovered node's label is drawn on the label canvas, right of the node.
  result.hoverLabel = await page.evaluate((at) => {
    const c = document.querySelector('.sv-graph canvas.sigma-secviz-labels');
    const ratio = window.devicePixelRatio || 1;
    const d = c.getContext('2d').getImageData(Math.round(at.x * ratio), Math.round((at.y - 8) * ratio), Math.round(60 * ratio), Math.round(16 * ratio)).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  }, target.at);
  check(result.hoverLabel > 20, `the hovered node's label is drawn (${result.hoverLabel} pixels)`);
  await page.mouse.click(stage.x + target.at.x, stage.y + target.at.y);
  result.focusDimmed = await dimmed();
  result.focus = await page.evaluate(() => window.secvizViewers[0].views.graph.focus);
  check(result.focus === target.node, `a click focuses the node (${result.focus} for ${target.node})`);
  check(result.focusDimmed.dimmed === result.focusDimmed.of - target.neighbours, `a click dims all but the node and its ${target.neighbours - 1} neighbours (${JSON.stringify(result.focusDimmed)})`);
  await page.mouse.move(stage.x + target.empty.x, stage.y + target.empty.y);
  // Past sigma's double-click window (300 ms), which would make the next click a zoom.
  await page.waitForTimeout(400);
  check(await page.evaluate(() => document.querySelector('.sv-tip').hidden), 'the details hide off the node');
  await page.mouse.click(stage.x + target.empty.x, stage.y + target.empty.y);
  result.unfocusDimmed = await dimmed();
  check(result.unfocusDimmed.dimmed === 0, `a click on the background clears the highlight (${JSON.stringify(result.unfocusDimmed)})`);

  // Keyboard: Tab to a bar of src_ip, select it with Enter; the focus ring shows.
  let focused = null;
  for (let i = 0; i < 80 && !focused; i++) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => {
      const a = document.activeElement;
      const panel = a?.closest?.('.sv-bars-panel');
      return a && a.matches('g.bar') && panel?.getAttribute('aria-label') === 'src_ip' ? a.dataset.value : null;
    });
  }
  check(focused !== null, 'a src_ip bar is reachable with Tab');
  result.keyboard = { value: focused };
  result.keyboard.focusRing = await page.evaluate(() => getComputedStyle(document.activeElement.querySelector('rect.total')).stroke);
  await page.keyboard.press('Enter');
  await waitSelected('some');
  result.keyboard.after = await observe();
  result.keyboard.pressed = await page.evaluate(() => document.activeElement.getAttribute('aria-pressed'));
  await shot('4-keyboard');
  await page.keyboard.press('?');
  result.keyboard.help = await page.evaluate(() => !document.querySelector('.sv-help').hidden);
  await page.keyboard.press('Escape');
  await waitSelected('all');

  // The search box finds a node ("/" focuses it).
  await page.keyboard.press('/');
  const node = result.brushed.value;
  await page.keyboard.type(node);
  await page.keyboard.press('Enter');
  await page.waitForTimeout(600);
  result.search = await page.evaluate(() => document.getElementById('sv-graph-status').textContent);
  await shot('5-search');

  check(errors.length === 0, `console errors: ${errors.join(' | ')}`);
  console.log('VIEWER_RESULT ' + JSON.stringify(result));
  console.log('viewer: ok');
} catch (e) {
  await shot('failed').catch(() => {});
  console.error(String(e && e.stack ? e.stack : e));
  console.error('console errors:', errors.join(' | '));
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
