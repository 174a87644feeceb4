// The link graph in WebGL (sigma.js over graphology). Positions, colours and sizes come from
// the server (secviz-graph's layout and rules, docs/graph-json.md), so the browser does no
// layout.
//
// Styling for selection, neighbour highlight and filters is declared as sigma styles over
// per-item states (`dim`, `isFocus`, `raised`, sigma's `isHidden`), set by `restyle()` when our
// state changes. Not reducers: sigma treats a reducer as depending on the whole graph state,
// so every hover, pan start/end and zoom animation re-ran both reducers over all 250,000 items
// of a 50,000-node graph; with state-driven styles only the items whose state changed are
// refreshed. Edges use the straight-line path only (unless the graph has self-loops): sigma's
// default pair line + loop draws every edge with the loop's 32-segment geometry and a heavier
// fragment shader. Edges and labels are hidden while the camera moves (drag, wheel, animation)
// and drawn again when it stops: with software WebGL (SwiftShader) every node and edge is a
// separate instanced draw, which costs tens of microseconds each, so a moving frame draws the
// nodes only.
import Graph from 'graphology';
import Sigma from 'sigma';
import { layerPlain, pathLine, pathLoop } from 'sigma/rendering';
import { DEFAULT_STYLES } from 'sigma/types';
import { download, el, fmtInt, label } from './format.js';

const ROLES = ['source', 'event', 'target'];

export class GraphView {
  constructor(root, viewer) {
    this.viewer = viewer;
    this.root = root;
    this.hiddenColors = new Set(); // legend colour indices filtered out
    this.valueFilter = '';
    this.selected = null; // Set of node keys in the brushed selection, or null for all
    this.focus = null; // node whose neighbours are highlighted
    this.frames = { first: null };
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
    this.doc = doc;
    const n = doc.nodes.id.length;
    const g = new Graph({ type: 'directed', multi: false, allowSelfLoops: true });
    const color = (i) => doc.colors[i] || '#888888';
    const maxSize = Math.max(1, ...doc.nodes.size.slice(0, 50000));
    for (let i = 0; i < n; i++) {
      g.addNode(String(i), {
        x: doc.nodes.x ? doc.nodes.x[i] : Math.cos(i) * i,
        // Screen y grows downwards; the layout's y grows upwards in SVG terms.
        y: doc.nodes.y ? -doc.nodes.y[i] : Math.sin(i) * i,
        size: 2 + (8 * doc.nodes.size[i]) / maxSize,
        color: color(doc.nodes.color[i]),
        colorIndex: doc.nodes.color[i],
        label: doc.nodes.label[i] ?? doc.nodes.id[i],
        id: doc.nodes.id[i],
        role: doc.nodes.role[i],
        count: doc.nodes.count[i],
      });
    }
    const edgeColor = this.viewer.theme().edge;
    for (let i = 0; i < doc.edges.source.length; i++) {
      const s = String(doc.edges.source[i]);
      const t = String(doc.edges.target[i]);
      if (g.hasEdge(s, t)) continue;
      const c = doc.edges.color[i];
      g.addEdgeWithKey(String(i), s, t, { size: Math.min(4, 0.5 + Math.log1p(doc.edges.weight[i]) / 2), color: c >= 0 ? color(c) : edgeColor, count: doc.edges.count[i] });
    }
    this.graph = g;
    let loops = false;
    for (let i = 0; i < doc.edges.source.length && !loops; i++) loops = doc.edges.source[i] === doc.edges.target[i];
    const t = this.theme();
    const started = performance.now();
    this.sigma = new Sigma(g, this.stage, {
      settings: { hideEdgesOnMove: true, hideLabelsOnMove: true, labelRenderedSizeThreshold: 7, labelDensity: 0.5, stagePadding: 20 },
      primitives: { edges: { paths: loops ? [pathLine(), pathLoop()] : [pathLine()], layers: [layerPlain()] } },
      customNodeState: { dim: false, isFocus: false, raised: false },
      customEdgeState: { dim: false },
      styles: {
        nodes: {
          ...DEFAULT_STYLES.nodes,
          color: { whenState: 'dim', then: t.dim, else: { attribute: 'color' } },
          label: { whenState: 'dim', then: '', else: { attribute: 'label' } },
          labelColor: t.fg,
          backdropColor: t.bg,
          labelVisibility: { whenState: 'isHovered', then: 'visible', else: { whenState: 'isFocus', then: 'visible', else: 'auto' } },
          depth: { whenState: 'isHovered', then: 'topNodes', else: { whenState: 'raised', then: 'topNodes', else: 'nodes' } },
        },
        edges: {
          ...DEFAULT_STYLES.edges,
          color: { whenState: 'dim', then: t.dim, else: { attribute: 'color' } },
          size: { whenState: 'dim', then: 0.5, else: { attribute: 'size' } },
        },
      },
    });
    this.restyle();
    // Sigma renders in its constructor; a synchronous refresh makes sure a frame was drawn
    // before the time is taken.
    this.sigma.refresh();
    this.frames.first = performance.now() - started;
    this.stage.dataset.drawn = 'true';
    this.sigma.on('enterNode', ({ node }) => this.hover(node));
    this.sigma.on('leaveNode', () => this.hover(null));
    this.sigma.on('clickNode', ({ node, event }) => this.click(node, event));
    this.sigma.on('clickStage', () => this.setFocus(null));
    this.renderLegend();
    this.status.textContent = `${fmtInt(n)} nodes, ${fmtInt(g.size)} edges${doc.notes && doc.notes.length ? ' · ' + doc.notes.join(' · ') : ''}`;
  }

  theme() {
    return this.viewer.theme();
  }

  visible(key, attrs) {
    if (this.hiddenColors.has(attrs.colorIndex)) return false;
    if (this.valueFilter && !String(attrs.label).toLowerCase().includes(this.valueFilter)) return false;
    return true;
  }

  // Sets every node's and edge's style state from the filters, the selection and the focus.
  // Sigma refreshes only the items whose state changed.
  restyle() {
    const sigma = this.sigma;
    const g = this.graph;
    if (!sigma || !g) return;
    const focus = this.focus;
    const sel = this.selected;
    const active = focus !== null || sel !== null;
    const shown = new Set();
    g.forEachNode((key, attrs) => {
      if (!this.visible(key, attrs)) {
        sigma.setNodeState(key, { isHidden: true, dim: false, isFocus: false, raised: false });
        return;
      }
      shown.add(key);
      const inFocus = focus === null || key === focus || g.areNeighbors(key, focus);
      const inSel = sel === null || sel.has(key);
      const dim = !inFocus || !inSel;
      sigma.setNodeState(key, { isHidden: false, dim, isFocus: key === focus, raised: active && !dim });
    });
    g.forEachEdge((key, attrs, s, t) => {
      let hidden = false;
      let dim = false;
      if (!shown.has(s) || !shown.has(t)) hidden = true;
      else if (focus !== null && s !== focus && t !== focus) dim = true;
      else if (sel !== null && !(sel.has(s) && sel.has(t))) hidden = true;
      sigma.setEdgeState(key, { isHidden: hidden, dim });
    });
  }

  // Nodes touched by the current selection (indices from the server), or null for all.
  setSelection(indices) {
    this.selected = indices ? new Set(indices.map(String)) : null;
    this.restyle();
  }

  setFocus(node) {
    this.focus = node;
    this.restyle();
  }

  hover(node) {
    if (node === null) {
      this.tip.hidden = true;
      return;
    }
    const a = this.graph.getNodeAttributes(node);
    const lines = [label(a.id), `${ROLES[a.role] || 'node'} · ${fmtInt(a.count)} records · degree ${this.graph.degree(node)}`];
    this.tip.replaceChildren(...lines.map((l, i) => el(i ? 'div' : 'strong', { text: l })));
    const d = this.sigma.getNodeDisplayData(node);
    const p = this.sigma.framedGraphToViewport(d);
    this.tip.style.left = `${p.x + 14}px`;
    this.tip.style.top = `${p.y + 14}px`;
    this.tip.hidden = false;
  }

  // A click highlights the node's neighbours; with Shift it also selects its value in every
  // other view (the same records the node stands for).
  click(node, event) {
    this.setFocus(this.focus === node ? null : node);
    const a = this.graph.getNodeAttributes(node);
    const field = this.viewer.nodeField(a.role);
    const shift = event && event.original && (event.original.shiftKey || event.original.ctrlKey || event.original.metaKey);
    if (field && shift) this.viewer.selection.toggle(field, a.id, true);
  }

  find(text) {
    const q = text.trim().toLowerCase();
    if (!q || !this.graph) return;
    let hit = null;
    this.graph.forEachNode((k, a) => {
      if (hit === null && (String(a.id).toLowerCase() === q || String(a.label).toLowerCase().includes(q))) hit = k;
    });
    if (hit === null) {
      this.status.textContent = `No node matches “${text}”.`;
      return;
    }
    this.setFocus(hit);
    const d = this.sigma.getNodeDisplayData(hit);
    this.sigma.getCamera().animate({ x: d.x, y: d.y, ratio: 0.15 }, { duration: 400 });
    this.status.textContent = `Found ${this.graph.getNodeAttribute(hit, 'id')} (${this.graph.degree(hit)} neighbours).`;
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
      const btn = el('button', { type: 'button', class: 'sv-legend-item', 'aria-pressed': 'true', title: 'Show or hide these nodes' }, swatch, el('span', { text: `${entry.role}: ${entry.label} (${fmtInt(entry.nodes)})` }));
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

  // The WebGL buffers are not preserved, so render and copy the layers in the same task.
  snapshot() {
    this.sigma.refresh();
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

  // The nodes and edges in the viewport, as SVG (positions from the current camera).
  exportSvg() {
    const { width, height } = this.sigma.getDimensions();
    const t = this.theme();
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
    this.graph.forEachNode((k) => {
      const d = this.sigma.getNodeDisplayData(k);
      if (!d || d.visibility === 'hidden') return;
      const p = this.sigma.framedGraphToViewport(d);
      pos.set(k, [p.x, p.y, this.sigma.scaleSize(d.size), d.color, d.label]);
    });
    const inView = ([x, y]) => x >= -20 && y >= -20 && x <= width + 20 && y <= height + 20;
    this.graph.forEachEdge((k, a, s, tt) => {
      const p = pos.get(s);
      const q = pos.get(tt);
      if (!p || !q || (!inView(p) && !inView(q))) return;
      const l = document.createElementNS(NS, 'line');
      [['x1', p[0]], ['y1', p[1]], ['x2', q[0]], ['y2', q[1]]].forEach(([n, v]) => l.setAttribute(n, v.toFixed(1)));
      l.setAttribute('stroke', a.color);
      l.setAttribute('stroke-opacity', '0.6');
      svg.append(l);
    });
    for (const [, [x, y, r, color, text]] of pos) {
      if (!inView([x, y])) continue;
      const c = document.createElementNS(NS, 'circle');
      c.setAttribute('cx', x.toFixed(1));
      c.setAttribute('cy', y.toFixed(1));
      c.setAttribute('r', r.toFixed(1));
      c.setAttribute('fill', color);
      const title = document.createElementNS(NS, 'title');
      title.textContent = text || '';
      c.append(title);
      svg.append(c);
    }
    download('secviz-graph.svg', new Blob([new XMLSerializer().serializeToString(svg)], { type: 'image/svg+xml' }));
  }
}
