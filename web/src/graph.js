// The link graph in WebGL. Positions, colours and sizes come from the server (secviz-graph's
// layout and rules, docs/graph-json.md), so the browser does no layout.
//
// Sigma keeps the camera, the mouse, touch and wheel handling, animations and the render
// loop; the nodes and edges themselves are drawn by our two layer programs (graph-gl.js) with a
// few plain draw calls, because sigma's own programs draw every item as an instance and
// software WebGL (SwiftShader) pays tens of microseconds per instance. So sigma's graph holds
// a single hidden placeholder node (sigma renders nothing, custom layers included, for an empty
// graph) and the graph lives here in typed arrays: positions in sigma's framed coordinates,
// a compressed adjacency for degrees and neighbours. Hover and click find the node under the
// pointer on the CPU in a uniform grid, and labels are drawn on a 2D canvas over the WebGL one.
//
// Styling (filters, the brushed selection, the focused node and its neighbours) is applied by
// `restyle()`, which rewrites colours and the drawing order. Edges cost their pixels (a long
// edge is hundreds of them), which software WebGL fills at about 100 million a second: 1-3 s
// for 200,000 edges. So they are drawn in chunks over several frames into a texture that
// moves with the camera while it moves (graph-gl.js). Labels are left out while the camera
// moves. Hover touches the label canvas only, never the WebGL frame.
import Graph from 'graphology';
import Sigma from 'sigma';
import { edgeLayer, lineIndices, nodeLayer, pxPerSize, quadIndices } from './graph-gl.js';
import { download, el, fmtInt, label } from './format.js';

const ROLES = ['source', 'event', 'target'];
const PLACEHOLDER = 'secviz-placeholder';
// Labels: sigma's defaults for what gets a label (rendered radius, one per grid cell).
const LABEL_MIN_RADIUS = 7;
const LABEL_CELL = 100;
const LABEL_FONT = 12;
// Pixels around a node that still count as pointing at it.
const PICK_PADDING = 3;
// How long after the last camera change the camera counts as still.
const SETTLE_MS = 120;

// '#rgb', '#rrggbb' or any CSS colour -> [r, g, b, a] bytes.
const colorCache = new Map();
let colorCtx = null;
export function rgba(css) {
  let c = colorCache.get(css);
  if (c) return c;
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(css);
  if (m) {
    const h = m[1].length === 3 ? [...m[1]].map((x) => x + x).join('') : m[1];
    c = [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16), 255];
  } else {
    colorCtx = colorCtx || document.createElement('canvas').getContext('2d');
    colorCtx.clearRect(0, 0, 1, 1);
    colorCtx.fillStyle = '#888888';
    colorCtx.fillStyle = css;
    colorCtx.fillRect(0, 0, 1, 1);
    c = [...colorCtx.getImageData(0, 0, 1, 1).data];
  }
  colorCache.set(css, c);
  return c;
}

const hex = (c) => '#' + c.slice(0, 3).map((v) => v.toString(16).padStart(2, '0')).join('');
// [r, g, b, a] -> one 32-bit word with the bytes in that order in memory (little-endian), so
// a colour is written to the vertex buffers with one store.
const packed = (c) => (c[0] | (c[1] << 8) | (c[2] << 16) | (c[3] << 24)) >>> 0;

export class GraphView {
  constructor(root, viewer) {
    this.viewer = viewer;
    this.root = root;
    this.hiddenColors = new Set(); // legend colour indices filtered out
    this.valueFilter = '';
    this.selected = null; // Set of node indices in the brushed selection, or null for all
    this.focus = null; // node index whose neighbours are highlighted
    this.hovered = null; // node index under the pointer
    this.frames = { first: null };
    this.nodeCount = 0;
    this.edgeCount = 0;
    this.build();
  }

  build() {
    const bar = el('div', { class: 'sv-toolbar', role: 'toolbar', 'aria-label': 'Graph tools' });
    this.search = el('input', { type: 'search', class: 'sv-search', placeholder: 'Search a node (/)', 'aria-label': 'Search a node by name' });
    this.search.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') this.find(this.search.value);
    });
    this.filter = el('input', { type: 'search', placeholder: 'Filter by value', 'aria-label': 'Show only nodes whose name contains this text' });
    this.filter.addEventListener('input', () => {
      this.valueFilter = this.filter.value.trim().toLowerCase();
      this.restyle();
    });
    bar.append(
      this.search,
      el('button', { type: 'button', text: 'Find', onclick: () => this.find(this.search.value) }),
      this.filter,
      el('button', { type: 'button', text: '+', title: 'Zoom in (+)', 'aria-label': 'Zoom in', onclick: () => this.sigma?.getCamera().zoomIn() }),
      el('button', { type: 'button', text: '−', title: 'Zoom out (-)', 'aria-label': 'Zoom out', onclick: () => this.sigma?.getCamera().zoomOut() }),
      el('button', { type: 'button', text: 'Fit', title: 'Reset the view (0)', onclick: () => this.sigma?.getCamera().reset() }),
      el('button', { type: 'button', text: 'PNG', title: 'Export the current view as PNG', onclick: () => this.exportPng() }),
      el('button', { type: 'button', text: 'SVG', title: 'Export the current view as SVG', onclick: () => this.exportSvg() }),
    );
    this.stage = el('div', { class: 'sv-graph', tabindex: '0', role: 'application', 'aria-label': 'Link graph. Arrow keys pan, + and - zoom, 0 resets.', 'aria-describedby': 'sv-graph-status' });
    this.stage.addEventListener('keydown', (e) => this.key(e));
    this.tip = el('div', { class: 'sv-tip', role: 'status', hidden: true });
    this.status = el('p', { class: 'sv-note', id: 'sv-graph-status', 'aria-live': 'polite' });
    this.legend = el('div', { class: 'sv-legend', role: 'group', 'aria-label': 'Legend: toggle a colour to hide or show its nodes' });
    this.root.append(bar, this.stage, this.tip, this.status, this.legend);
  }

  async load() {
    const doc = await this.viewer.api.get('/graph');
    const started = performance.now();
    this.doc = doc;
    this.setData(doc);
    const t0 = performance.now();
    this.initSigma();
    const t1 = performance.now();
    this.restyle();
    const t2 = performance.now();
    // A synchronous refresh makes sure a frame with the graph was drawn before the time is taken.
    this.sigma.refresh();
    const now = performance.now();
    this.frames.first = now - started;
    this.frames.parts = { data: t0 - started, sigma: t1 - t0, style: t2 - t1, render: now - t2 };
    this.stage.dataset.drawn = 'true';
    this.renderLegend();
    this.status.textContent = `${fmtInt(this.nodeCount)} nodes, ${fmtInt(this.edgeCount)} edges${doc.notes && doc.notes.length ? ' · ' + doc.notes.join(' · ') : ''}`;
  }

  // The document's columns -> typed arrays: framed positions, sizes, colours, deduplicated
  // directed edges, adjacency in both directions, and the pointer grid.
  setData(doc) {
    const n = doc.nodes.id.length;
    this.nodeCount = n;
    const gx = new Float64Array(n);
    const gy = new Float64Array(n);
    let minX = Infinity;
    let maxX = -Infinity;
    let minY = Infinity;
    let maxY = -Infinity;
    let maxSize = 1;
    for (let i = 0; i < n; i++) {
      gx[i] = doc.nodes.x ? doc.nodes.x[i] : Math.cos(i) * i;
      // Screen y grows downwards; the layout's y grows upwards in SVG terms.
      gy[i] = doc.nodes.y ? -doc.nodes.y[i] : Math.sin(i) * i;
      if (gx[i] < minX) minX = gx[i];
      if (gx[i] > maxX) maxX = gx[i];
      if (gy[i] < minY) minY = gy[i];
      if (gy[i] > maxY) maxY = gy[i];
      if (doc.nodes.size[i] > maxSize) maxSize = doc.nodes.size[i];
    }
    if (!n) minX = maxX = minY = maxY = 0;
    this.bbox = { x: [minX, maxX], y: [minY, maxY] };
    // Sigma's normalisation of a bounding box into its "framed graph" space (what its camera
    // and matrices work in).
    let ratio = Math.max(maxX - minX, maxY - minY);
    if (!(ratio > 0) || !Number.isFinite(ratio)) ratio = 1;
    const dX = (maxX + minX) / 2;
    const dY = (maxY + minY) / 2;
    const fx = (this.fx = new Float32Array(n));
    const fy = (this.fy = new Float32Array(n));
    const size = (this.size = new Float32Array(n));
    const geometry = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      fx[i] = 0.5 + (gx[i] - dX) / ratio;
      fy[i] = 0.5 + (gy[i] - dY) / ratio;
      size[i] = 2 + (8 * doc.nodes.size[i]) / maxSize;
      geometry[i * 3] = fx[i];
      geometry[i * 3 + 1] = fy[i];
      geometry[i * 3 + 2] = size[i];
    }
    this.maxSize = n ? 10 : 0;
    this.labels = doc.nodes.label.map((l, i) => (l ?? doc.nodes.id[i]));
    this.lowerLabels = null;
    const palette = doc.colors.map((c) => packed(rgba(c || '#888888')));
    const grey = packed(rgba('#888888'));
    this.nodeColors = Uint32Array.from(doc.nodes.color, (c) => palette[c] ?? grey);

    // Edges: one per (source, target), as the previous viewer's graph kept them.
    const src = doc.edges.source;
    const dst = doc.edges.target;
    const seen = new Set();
    const keep = [];
    for (let i = 0; i < src.length; i++) {
      const s = src[i];
      const t = dst[i];
      if (!(s >= 0 && s < n && t >= 0 && t < n)) continue;
      const key = s * n + t;
      if (seen.has(key)) continue;
      seen.add(key);
      keep.push(i);
    }
    const m = keep.length;
    this.edgeCount = m;
    const es = (this.es = new Int32Array(m));
    const et = (this.et = new Int32Array(m));
    const esize = (this.esize = new Float32Array(m));
    const edgeGeometry = new Float32Array(m * 16);
    this.edgeColors = new Uint32Array(m); // 0: the theme's edge colour (no colour has alpha 0)
    for (let j = 0; j < m; j++) {
      const i = keep[j];
      const s = (es[j] = src[i]);
      const t = (et[j] = dst[i]);
      esize[j] = Math.min(4, 0.5 + Math.log1p(doc.edges.weight[i]) / 2);
      const c = doc.edges.color[i];
      this.edgeColors[j] = c >= 0 ? palette[c] ?? grey : 0;
      for (let v = 0; v < 4; v++) {
        const o = j * 16 + v * 4;
        edgeGeometry[o] = fx[s];
        edgeGeometry[o + 1] = fy[s];
        edgeGeometry[o + 2] = fx[t];
        edgeGeometry[o + 3] = fy[t];
      }
    }

    // Adjacency (both directions) for degrees and neighbours.
    const deg = new Int32Array(n + 1);
    for (let j = 0; j < m; j++) {
      deg[es[j] + 1]++;
      deg[et[j] + 1]++;
    }
    for (let i = 0; i < n; i++) deg[i + 1] += deg[i];
    const adj = new Int32Array(2 * m);
    const fill = deg.slice(0, n);
    for (let j = 0; j < m; j++) {
      adj[fill[es[j]]++] = et[j];
      adj[fill[et[j]]++] = es[j];
    }
    this.adjStart = deg;
    this.adj = adj;

    // The pointer grid over framed coordinates: cell -> node indices.
    const g = Math.max(1, Math.min(512, Math.ceil(Math.sqrt(n / 4))));
    const cellOf = new Int32Array(n);
    const start = new Int32Array(g * g + 1);
    for (let i = 0; i < n; i++) {
      const cx = Math.min(g - 1, Math.max(0, Math.floor(fx[i] * g)));
      const cy = Math.min(g - 1, Math.max(0, Math.floor(fy[i] * g)));
      cellOf[i] = cy * g + cx;
      start[cellOf[i] + 1]++;
    }
    for (let c = 0; c < g * g; c++) start[c + 1] += start[c];
    const items = new Int32Array(n);
    const pos = start.slice(0, g * g);
    for (let i = 0; i < n; i++) items[pos[cellOf[i]]++] = i;
    this.grid = { g, start, items };

    // What the layer programs draw (graph-gl.js).
    this.gl = {
      node: { geometry, geometryVersion: 1, colors: new Uint8Array(n * 4), styleVersion: 0, indices: new Uint32Array(n), drawn: 0 },
      edge: { geometry: edgeGeometry, geometryVersion: 1, colors: new Uint8Array(m * 16), sizes: new Float32Array(m * 4), styleVersion: 0, indices: new Uint32Array(m * 6), lineIndices: new Uint32Array(m * 2), sortedSizes: new Float32Array(m), drawn: 0 },
      moving: () => this.moving(),
      requestFrame: () => this.sigma.scheduleRender(),
      fullFrame: false,
    };
    this.nodeState = new Uint8Array(n); // 0 hidden, 1 dimmed, 2 normal
    this.nodeRank = new Int32Array(n); // drawing order; higher is drawn later (on top)
  }

  initSigma() {
    const ph = new Graph({ type: 'directed' });
    const { x, y } = this.bbox;
    ph.addNode(PLACEHOLDER, { x: (x[0] + x[1]) / 2, y: (y[0] + y[1]) / 2, size: 1, label: '' });
    this.sigma = new Sigma(ph, this.stage, {
      settings: { renderLabels: false, renderEdgeLabels: false, stagePadding: 20 },
    });
    this.sigma.setNodeState(PLACEHOLDER, { isHidden: true });
    this.sigma.setCustomBBox(this.bbox);
    this.sigma.addCustomLayerProgram('secviz-edges', 'edges', edgeLayer(this.gl));
    this.sigma.addCustomLayerProgram('secviz-nodes', 'nodes', nodeLayer(this.gl));
    this.overlay = this.sigma.createCanvas('secviz-labels', { afterLayer: 'stage', style: { pointerEvents: 'none' } });
    this.cameraChanged = -Infinity;
    this.sigma.getCamera().on('updated', () => this.cameraMoved());
    this.sigma.on('afterRender', () => this.drawOverlay(true));
    const mouse = this.sigma.getMouseCaptor();
    mouse.on('mousemove', (e) => this.pointerAt(mouse.isMouseDown ? null : e));
    mouse.on('mouseleave', () => this.pointerAt(null));
    this.sigma.on('clickStage', ({ event }) => {
      const node = this.nodeAt(event.x, event.y);
      if (node === null) this.setFocus(null);
      else this.click(node, event);
    });
  }

  // Sigma's own test (an animation, a drag, a wheel zoom), or a camera change less than
  // SETTLE_MS ago (arrow keys, buttons, scripts set the camera without sigma counting it as
  // moving).
  moving() {
    const mouse = this.sigma.getMouseCaptor();
    return this.sigma.getCamera().isAnimating() || mouse.isMoving || mouse.draggedEvents > 0 || mouse.currentWheelDirection !== 0 || performance.now() - this.cameraChanged < SETTLE_MS;
  }

  cameraMoved() {
    this.cameraChanged = performance.now();
    // A frame once the camera has settled, to draw the edges and labels again.
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.sigma.scheduleRender(), SETTLE_MS + 10);
  }

  theme() {
    return this.viewer.theme();
  }

  visible(i) {
    if (this.hiddenColors.has(this.doc.nodes.color[i])) return false;
    if (this.valueFilter) {
      if (!this.lowerLabels) this.lowerLabels = this.labels.map((l) => String(l).toLowerCase());
      if (!this.lowerLabels[i].includes(this.valueFilter)) return false;
    }
    return true;
  }

  isNeighbor(a, b) {
    for (let k = this.adjStart[a]; k < this.adjStart[a + 1]; k++) if (this.adj[k] === b) return true;
    return false;
  }

  degree(i) {
    return this.adjStart[i + 1] - this.adjStart[i];
  }

  // Sets every node's and edge's colour and drawing order from the filters, the selection and
  // the focus: hidden items are left out, dimmed ones drawn first.
  restyle() {
    if (!this.gl) return;
    const n = this.nodeCount;
    const m = this.edgeCount;
    const focus = this.focus;
    const sel = this.selected;
    const t = this.theme();
    const dim = packed(rgba(t.dim));
    const near = new Uint8Array(n);
    if (focus !== null) {
      near[focus] = 1;
      for (let k = this.adjStart[focus]; k < this.adjStart[focus + 1]; k++) near[this.adj[k]] = 1;
    }
    const state = this.nodeState;
    const nodes = this.gl.node;
    const nodeColors32 = new Uint32Array(nodes.colors.buffer);
    let dimmed = 0;
    let shown = 0;
    for (let i = 0; i < n; i++) {
      if (!this.visible(i)) state[i] = 0;
      else {
        const isDim = (focus !== null && !near[i]) || (sel !== null && !sel.has(i));
        state[i] = isDim ? 1 : 2;
        shown++;
        if (isDim) dimmed++;
      }
      nodeColors32[i] = state[i] === 1 ? dim : this.nodeColors[i];
    }
    // Drawing order: dimmed nodes, then the others.
    const order = new Int32Array(shown);
    let a = 0;
    let b = dimmed;
    for (let i = 0; i < n; i++) {
      if (state[i] === 1) order[a++] = i;
      else if (state[i] === 2) order[b++] = i;
      this.nodeRank[i] = -1;
    }
    for (let r = 0; r < shown; r++) this.nodeRank[order[r]] = r;
    nodes.indices.set(order);
    nodes.drawn = shown;
    nodes.styleVersion++;

    const edges = this.gl.edge;
    const edgeDefault = packed(rgba(t.edge));
    const edgeColors32 = new Uint32Array(edges.colors.buffer);
    const estate = new Uint8Array(m);
    let eshown = 0;
    for (let j = 0; j < m; j++) {
      const s = this.es[j];
      const tt = this.et[j];
      let st = 2;
      if (!state[s] || !state[tt]) st = 0;
      else if (focus !== null && s !== focus && tt !== focus) st = 1;
      else if (sel !== null && !(sel.has(s) && sel.has(tt))) st = 0;
      estate[j] = st;
      if (st) eshown++;
      const c = st === 1 ? dim : this.edgeColors[j] || edgeDefault;
      const w = st === 1 ? 0.5 : this.esize[j];
      for (let v = j * 4; v < j * 4 + 4; v++) {
        edgeColors32[v] = c;
        edges.sizes[v] = w;
      }
    }
    // Drawing order: by drawn size, so thin edges (drawn as lines) come first; dimmed edges are
    // the thinnest, so they are drawn under the others.
    // (A counting sort over sizes in 1/64 steps: comparison sorts cost 50 ms at 200,000 edges.)
    const STEPS = 64;
    // Self-loops sort last: they are rings, drawn as quads only.
    const keyOf = (j) => (this.es[j] === this.et[j] ? STEPS * 8 : Math.min(STEPS * 8 - 1, Math.round(edges.sizes[j * 4] * STEPS)));
    const counts = new Int32Array(STEPS * 8 + 2);
    for (let j = 0; j < m; j++) if (estate[j]) counts[keyOf(j) + 1]++;
    for (let k = 1; k < counts.length; k++) counts[k] += counts[k - 1];
    const eorder = new Int32Array(eshown);
    for (let j = 0; j < m; j++) {
      if (!estate[j]) continue;
      const k = keyOf(j);
      edges.sortedSizes[counts[k]] = k === STEPS * 8 ? Infinity : k / STEPS;
      eorder[counts[k]++] = j;
    }
    this.edgeState = estate;
    quadIndices(eorder, edges.indices);
    lineIndices(eorder, edges.lineIndices);
    edges.drawn = eshown;
    edges.styleVersion++;
    if (this.hovered !== null && !state[this.hovered]) this.setHovered(null);
    this.sigma?.scheduleRender();
  }

  // The colour the node is drawn with (read back from the colour buffer), as #rrggbb.
  drawnColor(i) {
    if (!this.nodeState[i]) return null;
    return hex([...this.gl.node.colors.subarray(i * 4, i * 4 + 4)]);
  }

  hex(css) {
    return hex(rgba(css));
  }

  // Nodes touched by the current selection (indices from the server), or null for all.
  setSelection(indices) {
    this.selected = indices ? new Set(indices.map(Number)) : null;
    this.restyle();
  }

  setFocus(node) {
    this.focus = node;
    this.restyle();
  }

  // Viewport position (CSS px) of a node, with the matrix the layers draw with.
  project(i, params = this.sigma.getRenderParams()) {
    const m = params.matrix;
    const x = m[0] * this.fx[i] + m[3] * this.fy[i] + m[6];
    const y = m[1] * this.fx[i] + m[4] * this.fy[i] + m[7];
    return { x: ((x + 1) / 2) * params.width, y: ((1 - y) / 2) * params.height };
  }

  // The drawn node under a viewport point (CSS px), or null: the one drawn on top among those
  // whose disc (plus a few pixels) contains the point.
  nodeAt(px, py) {
    if (!this.sigma || !this.nodeCount) return null;
    const params = this.sigma.getRenderParams();
    const scale = pxPerSize(params) / params.pixelRatio; // CSS px per size unit
    const q = this.sigma.viewportToFramedGraph({ x: px, y: py });
    const q1 = this.sigma.viewportToFramedGraph({ x: px + 1, y: py });
    const perPx = Math.hypot(q1.x - q.x, q1.y - q.y) || 1e-9; // framed units per CSS px
    const reach = (this.maxSize * scale + PICK_PADDING) * perPx;
    const { g, start, items } = this.grid;
    const c0 = Math.max(0, Math.floor((q.x - reach) * g));
    const c1 = Math.min(g - 1, Math.floor((q.x + reach) * g));
    const r0 = Math.max(0, Math.floor((q.y - reach) * g));
    const r1 = Math.min(g - 1, Math.floor((q.y + reach) * g));
    let best = null;
    let bestRank = -1;
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const cell = r * g + c;
        for (let k = start[cell]; k < start[cell + 1]; k++) {
          const i = items[k];
          if (this.nodeRank[i] < bestRank) continue;
          const d = Math.hypot(this.fx[i] - q.x, this.fy[i] - q.y) / perPx;
          if (d <= this.size[i] * scale + PICK_PADDING) {
            best = i;
            bestRank = this.nodeRank[i];
          }
        }
      }
    }
    return best;
  }

  pointerAt(e) {
    this.setHovered(e ? this.nodeAt(e.x, e.y) : null);
  }

  // The hovered node: its details in the tip, drawn on top with its label on the label canvas
  // (the WebGL frame is not redrawn).
  setHovered(node) {
    if (node === this.hovered) return;
    this.hovered = node;
    this.stage.style.cursor = node === null ? '' : 'pointer';
    if (node === null) this.tip.hidden = true;
    else {
      const d = this.doc.nodes;
      const lines = [label(d.id[node]), `${ROLES[d.role[node]] || 'node'} · ${fmtInt(d.count[node])} records · degree ${this.degree(node)}`];
      this.tip.replaceChildren(...lines.map((l, i) => el(i ? 'div' : 'strong', { text: l })));
      const p = this.project(node);
      this.tip.style.left = `${p.x + 14}px`;
      this.tip.style.top = `${p.y + 14}px`;
      this.tip.hidden = false;
    }
    this.drawOverlay(false);
  }

  // Which nodes get a label in this frame (none while the camera moves): one per 100 px cell,
  // the largest node there, when its rendered radius reaches 7 px (sigma's defaults).
  // Hubs and groups (the nodes the picture is about, and what the grey nodes hold) come
  // first, whatever their size, so their labels win any overlap.
  placeLabels(params) {
    const scale = pxPerSize(params) / params.pixelRatio;
    const cols = Math.ceil(params.width / LABEL_CELL);
    const rows = Math.ceil(params.height / LABEL_CELL);
    const best = new Int32Array(cols * rows).fill(-1);
    const key = [];
    for (let i = 0; i < this.nodeCount; i++) {
      if (this.nodeState[i] !== 2 || !this.isKey(i)) continue;
      const p = this.project(i, params);
      if (p.x < 0 || p.y < 0 || p.x >= params.width || p.y >= params.height) continue;
      key.push(i);
    }
    // Hubs before groups.
    key.sort((a, b) => this.labelKind(a) === this.labelKind(b) ? a - b : this.labelKind(a) === 'hub' ? -1 : 1);
    if (LABEL_MIN_RADIUS <= this.maxSize * scale) {
      for (let i = 0; i < this.nodeCount; i++) {
        if (this.nodeState[i] !== 2 || this.isKey(i) || this.size[i] * scale < LABEL_MIN_RADIUS) continue;
        const p = this.project(i, params);
        if (p.x < 0 || p.y < 0 || p.x >= params.width || p.y >= params.height) continue;
        const cell = Math.floor(p.y / LABEL_CELL) * cols + Math.floor(p.x / LABEL_CELL);
        const o = best[cell];
        if (o < 0 || this.size[i] > this.size[o] || (this.size[i] === this.size[o] && this.nodeRank[i] > this.nodeRank[o])) best[cell] = i;
      }
    }
    return key.concat([...best].filter((i) => i >= 0));
  }

  // 'hub', 'group' or 'plain' (older documents have no hub or folded arrays).
  labelKind(i) {
    const n = this.doc.nodes;
    if (n.hub && n.hub[i]) return 'hub';
    if (n.folded && n.folded[i] > 0) return 'group';
    return 'plain';
  }

  isKey(i) {
    return this.labelKind(i) !== 'plain';
  }

  // The label canvas over the WebGL layer: the hovered node (ringed, on top) and the focused
  // node with their labels on a backdrop, then the placed labels whose boxes overlap no other.
  // After each sigma frame (`placed`: place the labels again), and alone on hover.
  drawOverlay(placed = true) {
    const canvas = this.overlay;
    const params = this.sigma.getRenderParams();
    if (placed) this.placedLabels = this.moving() ? [] : this.placeLabels(params);
    const ratio = params.pixelRatio;
    const w = Math.round(params.width * ratio);
    const h = Math.round(params.height * ratio);
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    const ctx = canvas.getContext('2d');
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    const t = this.theme();
    const scale = pxPerSize(params) / ratio;
    ctx.font = `${LABEL_FONT}px system-ui, sans-serif`;
    ctx.textBaseline = 'middle';
    const boxes = [];
    const put = (i, p, backdrop) => {
      const text = String(this.labels[i] ?? '');
      if (!text) return;
      const r = this.size[i] * scale;
      const tx = p.x + r + 3;
      const kind = this.labelKind(i);
      ctx.font = kind === 'hub' ? `bold ${LABEL_FONT + 2}px system-ui, sans-serif` : kind === 'group' ? `italic ${LABEL_FONT}px system-ui, sans-serif` : `${LABEL_FONT}px system-ui, sans-serif`;
      const tw = ctx.measureText(text).width;
      const box = [tx - 2, p.y - LABEL_FONT / 2 - 2, tx + tw + 2, p.y + LABEL_FONT / 2 + 2];
      if (!backdrop && boxes.some((o) => box[0] < o[2] && box[2] > o[0] && box[1] < o[3] && box[3] > o[1])) return;
      boxes.push(box);
      if (backdrop) {
        ctx.fillStyle = t.bg;
        ctx.fillRect(box[0], box[1], box[2] - box[0], box[3] - box[1]);
      }
      ctx.fillStyle = t.fg;
      ctx.fillText(text, tx, p.y);
    };
    const forced = [this.focus, this.hovered].filter((i) => i !== null && this.nodeState[i]);
    for (const i of forced) {
      const p = this.project(i, params);
      if (i === this.hovered) {
        ctx.beginPath();
        ctx.arc(p.x, p.y, Math.max(2, this.size[i] * scale), 0, 2 * Math.PI);
        ctx.fillStyle = this.drawnColor(i);
        ctx.fill();
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = t.fg;
        ctx.stroke();
      }
      put(i, p, true);
    }
    for (const i of this.placedLabels || []) if (!forced.includes(i) && this.nodeState[i] === 2) put(i, this.project(i, params), false);
  }

  // A click highlights the node's neighbours; with Shift it also selects its value in every
  // other view (the same records the node stands for).
  click(node, event) {
    this.setFocus(this.focus === node ? null : node);
    const field = this.viewer.nodeField(this.doc.nodes.role[node]);
    const shift = event && event.original && (event.original.shiftKey || event.original.ctrlKey || event.original.metaKey);
    if (field && shift) this.viewer.selection.toggle(field, this.doc.nodes.id[node], true);
  }

  find(text) {
    const q = text.trim().toLowerCase();
    if (!q || !this.sigma) return;
    const ids = this.doc.nodes.id;
    let hit = null;
    for (let i = 0; i < this.nodeCount && hit === null; i++) {
      if (String(ids[i]).toLowerCase() === q || String(this.labels[i]).toLowerCase().includes(q)) hit = i;
    }
    if (hit === null) {
      this.status.textContent = `No node matches “${text}”.`;
      return;
    }
    this.setFocus(hit);
    this.sigma.getCamera().animate({ x: this.fx[hit], y: this.fy[hit], ratio: 0.15 }, { duration: 400 });
    this.status.textContent = `Found ${ids[hit]} (${this.degree(hit)} neighbours).`;
  }

  key(e) {
    const cam = this.sigma?.getCamera();
    if (!cam) return;
    const step = 0.1 * cam.ratio;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    if (moves[e.key]) {
      const [dx, dy] = moves[e.key];
      cam.setState({ x: cam.x + dx, y: cam.y + dy });
    } else if (e.key === '+' || e.key === '=') cam.zoomIn();
    else if (e.key === '-') cam.zoomOut();
    else if (e.key === '0') cam.reset();
    else return;
    e.preventDefault();
  }

  renderLegend() {
    const entries = this.doc.legend || [];
    this.legend.replaceChildren();
    entries.forEach((entry) => {
      const idx = this.doc.colors.indexOf(entry.color);
      const swatch = el('span', { class: 'sv-swatch' });
      // Through the CSSOM, not a style attribute: pages may forbid inline styles (CSP).
      swatch.style.background = /^#[0-9a-f]{6}$/i.test(entry.color) ? entry.color : '#888';
      const text = `${entry.role}${entry.label ? `: ${entry.label}` : ''} (${fmtInt(entry.nodes)})`;
      if (entry.role === 'edge') {
        // Edge colours explain the lines; toggles hide nodes, so these are not buttons.
        this.legend.append(el('span', { class: 'sv-legend-item sv-legend-edge' }, swatch, el('span', { text })));
        return;
      }
      const btn = el('button', { type: 'button', class: 'sv-legend-item', 'aria-pressed': 'true', title: 'Show or hide these nodes' }, swatch, el('span', { text }));
      btn.addEventListener('click', () => {
        const hidden = this.hiddenColors.has(idx);
        if (hidden) this.hiddenColors.delete(idx);
        else this.hiddenColors.add(idx);
        btn.setAttribute('aria-pressed', String(hidden));
        this.restyle();
      });
      this.legend.append(btn);
    });
  }

  // The WebGL buffers are not preserved, so render and copy the layers in the same task; that
  // frame draws every edge at once.
  snapshot() {
    this.gl.fullFrame = true;
    try {
      this.sigma.refresh();
    } finally {
      this.gl.fullFrame = false;
    }
    const { width, height } = this.sigma.getDimensions();
    const ratio = window.devicePixelRatio || 1;
    const out = document.createElement('canvas');
    out.width = width * ratio;
    out.height = height * ratio;
    const ctx = out.getContext('2d');
    ctx.fillStyle = this.theme().bg;
    ctx.fillRect(0, 0, out.width, out.height);
    this.stage.querySelectorAll('canvas').forEach((c) => {
      if (c.width && c.height) ctx.drawImage(c, 0, 0, out.width, out.height);
    });
    return out;
  }

  exportPng() {
    this.snapshot().toBlob((b) => download('secviz-graph.png', b), 'image/png');
  }

  // The nodes and edges in the viewport, as SVG (positions from the current camera, colours
  // as drawn).
  exportSvg() {
    const params = this.sigma.getRenderParams();
    const { width, height } = params;
    const t = this.theme();
    const scale = pxPerSize(params) / params.pixelRatio;
    const NS = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('xmlns', NS);
    svg.setAttribute('width', width);
    svg.setAttribute('height', height);
    const bg = document.createElementNS(NS, 'rect');
    bg.setAttribute('width', width);
    bg.setAttribute('height', height);
    bg.setAttribute('fill', t.bg);
    svg.append(bg);
    const pos = new Map();
    for (let i = 0; i < this.nodeCount; i++) {
      if (this.nodeState[i]) pos.set(i, this.project(i, params));
    }
    const inView = (p) => p.x >= -20 && p.y >= -20 && p.x <= width + 20 && p.y <= height + 20;
    const ec = this.gl.edge.colors;
    for (let j = 0; j < this.edgeCount; j++) {
      if (!this.edgeState[j]) continue;
      const p = pos.get(this.es[j]);
      const q = pos.get(this.et[j]);
      if (!p || !q || (!inView(p) && !inView(q))) continue;
      const l = document.createElementNS(NS, 'line');
      [['x1', p.x], ['y1', p.y], ['x2', q.x], ['y2', q.y]].forEach(([k, v]) => l.setAttribute(k, v.toFixed(1)));
      l.setAttribute('stroke', hex([...ec.subarray(j * 16, j * 16 + 4)]));
      l.setAttribute('stroke-width', Math.max(0.5, this.gl.edge.sizes[j * 4] * scale).toFixed(2));
      l.setAttribute('stroke-opacity', '0.6');
      svg.append(l);
    }
    // In drawing order, so the SVG stacks nodes as the canvas does.
    const order = [...pos.keys()].sort((a, b) => this.nodeRank[a] - this.nodeRank[b]);
    for (const i of order) {
      const p = pos.get(i);
      if (!inView(p)) continue;
      const c = document.createElementNS(NS, 'circle');
      c.setAttribute('cx', p.x.toFixed(1));
      c.setAttribute('cy', p.y.toFixed(1));
      c.setAttribute('r', (this.size[i] * scale).toFixed(1));
      c.setAttribute('fill', this.drawnColor(i));
      const title = document.createElementNS(NS, 'title');
      title.textContent = String(this.labels[i] ?? '');
      c.append(title);
      svg.append(c);
    }
    download('secviz-graph.svg', new Blob([new XMLSerializer().serializeToString(svg)], { type: 'image/svg+xml' }));
  }
}
