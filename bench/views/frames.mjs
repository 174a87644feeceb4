// Viewer frame benchmark in headless Chromium with software WebGL (SwiftShader): time from
// navigation to the first drawn graph frame, then frame times while panning the camera for
// 180 animation frames. Prints one JSON line. Run from tests/browser (for playwright-core).
//
// usage: node ../../bench/views/frames.mjs <explorer-url> <nodes>
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
// playwright-core is installed in tests/browser (scripts/setup-test-env.sh): resolve it there.
const require = createRequire(fileURLToPath(new URL('../../tests/browser/package.json', import.meta.url)));
const { chromium } = require('playwright-core');
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, nodes] = process.argv.slice(2);
const FRAMES = Number(process.env.FRAMES || 180);
const EXTRA = (process.env.CHROMIUM_ARGS || '').split(' ').filter(Boolean);
const profile = mkdtempSync(join(tmpdir(), 'secviz-frames-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-dev-shm-usage', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', ...EXTRA],
  viewport: { width: 1280, height: 900 },
});
try {
  const page = await ctx.newPage();
  await page.goto(url);
  await page.waitForSelector('.sv-graph[data-drawn="true"]', { timeout: 600000 });
  const first = await page.evaluate(() => ({ sincePageStart: performance.now(), sigma: window.secvizViewers[0].views.graph.frames.first, nodes: window.secvizViewers[0].views.graph.graph.order, edges: window.secvizViewers[0].views.graph.graph.size }));
  const frames = await page.evaluate(
    (FRAMES_N) =>
      new Promise((resolve) => {
        const FRAMES = FRAMES_N;
        const sigma = window.secvizViewers[0].views.graph.sigma;
        const cam = sigma.getCamera();
        const times = [];
        let last = performance.now();
        let i = 0;
        const step = () => {
          const now = performance.now();
          times.push(now - last);
          last = now;
          cam.setState({ x: 0.5 + 0.3 * Math.sin(i / 20), y: 0.5 + 0.3 * Math.cos(i / 20) });
          if (++i < FRAMES) requestAnimationFrame(step);
          else resolve(times.slice(5));
        };
        requestAnimationFrame(step);
      }),
    FRAMES,
  );
  frames.sort((a, b) => a - b);
  const q = (p) => frames[Math.min(frames.length - 1, Math.floor(p * frames.length))];
  console.log(JSON.stringify({ nodes: Number(nodes), drawnNodes: first.nodes, edges: first.edges, firstFrameMs: Math.round(first.sincePageStart), sigmaFirstRenderMs: Math.round(first.sigma), panFrameMedianMs: +q(0.5).toFixed(1), panFrameP95Ms: +q(0.95).toFixed(1) }));
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
