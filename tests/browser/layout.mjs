// The layout check of secviz's drawings in headless Chromium (Debian's, never a downloaded
// browser): every SVG in a folder (charts of every type and link graphs, light and dark, at
// the sizes the portal and the CLI draw; the Rust test crates/render/tests/it/layout_browser.rs
// writes them) is opened in a page, and every <text> is measured as the browser lays it
// out with its real font. A text whose box reaches outside the drawing is clipped; two texts
// whose boxes intersect overlap. Boxes are the glyph boxes (getBBox) carried through each
// element's transform (rotated tick labels stay rotated quadrilaterals), so neighbours that
// only touch diagonally do not count.
//
// usage: node layout.mjs <svg-folder> [<screenshot-folder>]
// Prints one line per problem and `LAYOUT_RESULT {...}`; exits 1 when a drawing has a problem.

import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [folder, shots] = process.argv.slice(2);
if (!folder) {
  console.error('usage: node layout.mjs <svg-folder> [<screenshot-folder>]');
  process.exit(2);
}
if (shots) mkdirSync(shots, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'secviz-layout-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-dev-shm-usage'],
  viewport: { width: 1400, height: 1000 },
});
const page = await context.newPage();

// Runs in the page: the problems of the open SVG document.
function measure() {
  // Half a pixel of slack: anti-aliasing, and glyph boxes that include the font's ascent.
  const SLACK = 0.5;
  const svg = document.querySelector('svg');
  const vb = svg.viewBox && svg.viewBox.baseVal && svg.viewBox.baseVal.width
    ? svg.viewBox.baseVal
    : { x: 0, y: 0, width: svg.width.baseVal.value, height: svg.height.baseVal.value };
  const texts = [...document.querySelectorAll('text')].filter((t) => t.textContent.trim() !== '');
  const boxes = [];
  for (const t of texts) {
    const b = t.getBBox();
    if (b.width === 0 || b.height === 0) continue;
    // The element's user space to the root's (viewBox units), through every transform.
    const toViewBox = svg.getScreenCTM().inverse().multiply(t.getScreenCTM());
    const corners = [
      [b.x, b.y], [b.x + b.width, b.y], [b.x + b.width, b.y + b.height], [b.x, b.y + b.height],
    ].map(([x, y]) => {
      const p = new DOMPoint(x, y).matrixTransform(toViewBox);
      return [p.x, p.y];
    });
    boxes.push({ text: t.textContent.trim().slice(0, 60), corners });
  }
  const problems = [];
  for (const box of boxes) {
    const out = box.corners.some(([x, y]) =>
      x < vb.x - SLACK || y < vb.y - SLACK || x > vb.x + vb.width + SLACK || y > vb.y + vb.height + SLACK);
    if (out) {
      const xs = box.corners.map((c) => c[0].toFixed(1)).join(',');
      const ys = box.corners.map((c) => c[1].toFixed(1)).join(',');
      problems.push(`clipped: "${box.text}" (x ${xs}; y ${ys}) outside ${vb.width}x${vb.height}`);
    }
  }
  // Separating axis test of two convex quadrilaterals, each shrunk by the slack.
  const shrink = (c) => {
    const cx = c.reduce((s, p) => s + p[0], 0) / 4;
    const cy = c.reduce((s, p) => s + p[1], 0) / 4;
    return c.map(([x, y]) => {
      const dx = x - cx, dy = y - cy, d = Math.hypot(dx, dy) || 1;
      return [x - (dx / d) * SLACK, y - (dy / d) * SLACK];
    });
  };
  const axes = (c) => [0, 1].map((i) => {
    const [a, b] = [c[i], c[i + 1]];
    return [-(b[1] - a[1]), b[0] - a[0]];
  });
  const project = (c, [ax, ay]) => {
    const v = c.map(([x, y]) => x * ax + y * ay);
    return [Math.min(...v), Math.max(...v)];
  };
  const overlap = (p, q) => {
    for (const axis of [...axes(p), ...axes(q)]) {
      const [a0, a1] = project(p, axis);
      const [b0, b1] = project(q, axis);
      if (a1 <= b0 || b1 <= a0) return false;
    }
    return true;
  };
  const shrunk = boxes.map((b) => shrink(b.corners));
  // A sweep over x keeps this near-linear for graphs with thousands of labels.
  const order = shrunk.map((c, i) => [Math.min(...c.map((p) => p[0])), Math.max(...c.map((p) => p[0])), i])
    .sort((a, b) => a[0] - b[0]);
  for (let i = 0; i < order.length; i++) {
    for (let j = i + 1; j < order.length && order[j][0] < order[i][1]; j++) {
      const [a, b] = [order[i][2], order[j][2]];
      if (overlap(shrunk[a], shrunk[b])) {
        problems.push(`overlap: "${boxes[a].text}" and "${boxes[b].text}"`);
      }
    }
  }
  return { texts: boxes.length, problems };
}

const files = readdirSync(folder).filter((f) => f.endsWith('.svg')).sort();
let failed = 0;
let texts = 0;
const report = {};
for (const f of files) {
  // Inline in a page of its own, as the portal shows a picture; no network, no scripts.
  const svg = readFileSync(join(folder, f), 'utf8').replace(/^<\?xml[^>]*>\s*/, '');
  await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
  const r = await page.evaluate(measure);
  texts += r.texts;
  report[f] = { texts: r.texts, problems: r.problems.length };
  if (r.texts === 0) r.problems.push('no text measured');
  for (const p of r.problems.slice(0, 20)) console.log(`${f}: ${p}`);
  if (r.problems.length > 20) console.log(`${f}: … and ${r.problems.length - 20} more`);
  if (r.problems.length) failed++;
  if (shots) {
    await page.locator('svg').first().screenshot({ path: join(shots, f.replace(/\.svg$/, '.png')) });
  }
}
await context.close();
rmSync(profile, { recursive: true, force: true });
console.log(`LAYOUT_RESULT ${JSON.stringify({ drawings: files.length, texts, failed, report })}`);
process.exit(failed ? 1 : 0);
