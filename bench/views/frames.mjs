// Viewer frame benchmark in headless Chromium with software WebGL: time from navigation to the
// first drawn graph frame, then frame times over FRAMES animation frames for two kinds of pan:
//  - "camera": the camera is set every frame from script, so sigma does not know it moves and
//    draws everything (nodes, edges, labels) each frame: the worst case, and the old figure
//    (a viewer that notices camera changes itself draws what it draws while moving);
//  - "drag": a mouse drag (pointer events on sigma's captor, one move per frame), as a user
//    pans: sigma hides edges and labels while the camera moves and draws them when it stops;
// and the time from a node hover to the next drawn frame.
// Prints one JSON line. Run from tests/browser (for playwright-core).
//
// GL=swiftshader (default): Chromium's SwiftShader (Vulkan) through ANGLE, as before.
// GL=llvmpipe: ANGLE over Mesa's llvmpipe (software OpenGL through EGL), the other software
// renderer on a Linux machine without GPU.
//
// VIEWER_DIR=DIR serves DIR/viewer.js and DIR/viewer.css in place of the server's bundle (a
// bundle built with `node build.mjs --outdir=DIR` from another version of web/src), so two
// versions of the viewer are measured against the same server and data.
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
  if (process.env.VIEWER_DIR) {
    const { readFileSync } = await import('node:fs');
    for (const f of ['viewer.js', 'viewer.css']) {
      const body = readFileSync(join(process.env.VIEWER_DIR, f));
      await page.route(new RegExp(`/${f.replace('.', '\\.')}(\\?|$)`), (r) => r.fulfill({ body, contentType: f.endsWith('.js') ? 'text/javascript' : 'text/css' }));
    }
  }
  await page.goto(url);
  await page.waitForSelector('.sv-graph[data-drawn="true"]', { timeout: 600000 });
  // Node and edge counts: the view's own (typed arrays), or those of the graphology graph of
  // viewers that gave sigma the whole graph.
  const first = await page.evaluate(() => {
    const g = window.secvizViewers[0].views.graph;
    // Where the first frame's time goes: the /graph request (server and transfer), then the
    // view's own work after it (parse, build, first render: `frames.first`, split in `parts`).
    const req = performance.getEntriesByType('resource').find((e) => /\/graph(\?|$)/.test(new URL(e.name).pathname + (new URL(e.name).search ? '?' : '')));
    const graphRequest = req ? { startMs: Math.round(req.startTime), endMs: Math.round(req.responseEnd), bytes: req.encodedBodySize } : null;
    return { sincePageStart: performance.now(), sigma: g.frames.first, parts: g.frames.parts, graphRequest, nodes: g.graph ? g.graph.order : g.nodeCount, edges: g.graph ? g.graph.size : g.edgeCount };
  });
  // Viewers that draw the edges over several frames (graph-gl.js): the time until the last one
  // is drawn.
  const allEdges = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const g = window.secvizViewers[0].views.graph;
        if (!g.gl || !g.gl.edge) return resolve(null);
        const poll = () => (g.gl.edge.progress === 1 || !g.edgeCount ? resolve(performance.now()) : requestAnimationFrame(poll));
        poll();
      }),
  );
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
    const view = window.secvizViewers[0].views.graph;
    const sigma = view.sigma;
    // The view's hover (what the pointer over a node sets), or sigma's hover state for viewers
    // that drew the nodes with sigma.
    const hover = view.setHovered ? (i, on) => view.setHovered(on ? i : null) : (i, on) => sigma.setNodeState(String(i), { isHovered: on });
    // Until the page produced the next frame after the change: the next animation frame (whose
    // callbacks run after sigma's own render, which it scheduled first), then the task after
    // it. This also counts a hover drawn outside sigma's render (the label canvas).
    const drawn = () => new Promise((res) => requestAnimationFrame(() => setTimeout(res, 0)));
    const out = [];
    for (let i = 0; i < 3; i++) {
      for (const on of [true, false]) {
        const t = performance.now();
        hover(i * 101, on);
        await drawn();
        out.push(performance.now() - t);
      }
    }
    return out;
  });
  hovers.sort((a, b) => a - b);
  const loadavg = (await import('node:os')).loadavg().map((x) => +x.toFixed(2));
  console.log(JSON.stringify({ nodes: Number(nodes), gl: GL, renderer, drawnNodes: first.nodes, edges: first.edges, firstFrameMs: Math.round(first.sincePageStart), allEdgesMs: allEdges === null ? null : Math.round(allEdges), sigmaFirstRenderMs: Math.round(first.sigma), firstParts: first.parts, graphRequest: first.graphRequest, panFrameMedianMs: camMedian, panFrameP95Ms: camP95, dragFrameMedianMs: dragMedian, dragFrameP95Ms: dragP95, hoverMs: Math.round(hovers[3]), loadavg }));
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
