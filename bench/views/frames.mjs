// Viewer frame benchmark in headless Chromium with software WebGL: time from navigation to the
// first drawn graph frame, then frame times over FRAMES animation frames for two kinds of pan:
//  - "camera": the camera is set every frame from script, so sigma does not know it moves and
//    draws everything (nodes, edges, labels) each frame: the worst case, and the old figure;
//  - "drag": a mouse drag (pointer events on sigma's captor, one move per frame), as a user
//    pans: sigma hides edges and labels while the camera moves and draws them when it stops;
// and the time from a node hover (sigma's hover state) to the next drawn frame.
// Prints one JSON line. Run from tests/browser (for playwright-core).
//
// GL=swiftshader (default): Chromium's SwiftShader (Vulkan) through ANGLE, as before.
// GL=llvmpipe: ANGLE over Mesa's llvmpipe (software OpenGL through EGL), the other software
// renderer on a Linux machine without GPU.
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
const GL = process.env.GL || 'swiftshader';
const GL_ARGS = { swiftshader: ['--disable-gpu', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'], llvmpipe: ['--use-gl=angle', '--use-angle=gl-egl', '--ignore-gpu-blocklist'] }[GL];
if (!GL_ARGS) throw new Error(`GL=${GL}: expected swiftshader or llvmpipe`);
const profile = mkdtempSync(join(tmpdir(), 'secviz-frames-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-dev-shm-usage', ...GL_ARGS, ...EXTRA],
  viewport: { width: 1280, height: 900 },
});
try {
  const page = await ctx.newPage();
  await page.goto(url);
  await page.waitForSelector('.sv-graph[data-drawn="true"]', { timeout: 600000 });
  const first = await page.evaluate(() => ({ sincePageStart: performance.now(), sigma: window.secvizViewers[0].views.graph.frames.first, nodes: window.secvizViewers[0].views.graph.graph.order, edges: window.secvizViewers[0].views.graph.graph.size }));
  const renderer = await page.evaluate(() => {
    const gl = window.secvizViewers[0].views.graph.sigma.webGLContext;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
  });
  const pan = (mode) =>
    page.evaluate(
      ([FRAMES_N, MODE]) =>
        new Promise((resolve) => {
          const FRAMES = FRAMES_N;
          const sigma = window.secvizViewers[0].views.graph.sigma;
          const cam = sigma.getCamera();
          cam.setState({ x: 0.5, y: 0.5, ratio: 1 });
          const el = sigma.getMouseCaptor().container;
          const box = el.getBoundingClientRect();
          const cx = box.left + box.width / 2;
          const cy = box.top + box.height / 2;
          const pointer = (type, x, y) => el.dispatchEvent(new PointerEvent(type, { bubbles: true, cancelable: true, composed: true, pointerType: 'mouse', isPrimary: true, button: 0, buttons: type === 'pointerup' ? 0 : 1, clientX: x, clientY: y }));
          const times = [];
          let last = performance.now();
          let i = 0;
          if (MODE === 'drag') pointer('pointerdown', cx, cy);
          const step = () => {
            const now = performance.now();
            times.push(now - last);
            last = now;
            if (MODE === 'drag') pointer('pointermove', cx + 200 * Math.sin(i / 20), cy + 150 * Math.cos(i / 20) - 150);
            else cam.setState({ x: 0.5 + 0.3 * Math.sin(i / 20), y: 0.5 + 0.3 * Math.cos(i / 20) });
            if (++i < FRAMES) requestAnimationFrame(step);
            else {
              if (MODE === 'drag') pointer('pointerup', cx, cy);
              resolve(times.slice(5));
            }
          };
          requestAnimationFrame(step);
        }),
      [FRAMES, mode],
    );
  const stats = (frames) => {
    frames.sort((a, b) => a - b);
    const q = (p) => frames[Math.min(frames.length - 1, Math.floor(p * frames.length))];
    return [+q(0.5).toFixed(1), +q(0.95).toFixed(1)];
  };
  const [camMedian, camP95] = stats(await pan('camera'));
  await page.waitForTimeout(1000);
  const [dragMedian, dragP95] = stats(await pan('drag'));
  await page.waitForTimeout(1000);
  // Hover: sigma's hover state on a node (what entering it with the pointer sets), then out
  // again; the time until the next frame is drawn, median of 6.
  const hovers = await page.evaluate(async () => {
    const sigma = window.secvizViewers[0].views.graph.sigma;
    // A state change that draws no new frame within 30 s counts as 30 s.
    const drawn = () => new Promise((res) => { sigma.once('afterRender', res); setTimeout(res, 30000); });
    const out = [];
    for (let i = 0; i < 3; i++) {
      const key = String(i * 101);
      for (const on of [true, false]) {
        const t = performance.now();
        const wait = drawn();
        sigma.setNodeState(key, { isHovered: on });
        await wait;
        out.push(performance.now() - t);
      }
    }
    return out;
  });
  hovers.sort((a, b) => a - b);
  const loadavg = (await import('node:os')).loadavg().map((x) => +x.toFixed(2));
  console.log(JSON.stringify({ nodes: Number(nodes), gl: GL, renderer, drawnNodes: first.nodes, edges: first.edges, firstFrameMs: Math.round(first.sincePageStart), sigmaFirstRenderMs: Math.round(first.sigma), panFrameMedianMs: camMedian, panFrameP95Ms: camP95, dragFrameMedianMs: dragMedian, dragFrameP95Ms: dragP95, hoverMs: Math.round(hovers[3]), loadavg }));
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
