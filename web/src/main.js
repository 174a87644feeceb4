// The secviz viewer: a JavaScript island over a server-rendered page. It finds mount elements
// (`<div data-secviz-viewer data-api="…">`), hides their static SVG fallback and builds the
// linked views: the WebGL link graph, bar charts of the view's fields, the time line and
// parallel coordinates. Every number comes from the server, aggregated: the browser never
// holds raw rows beyond a small selection. Selecting in any view (bars, a time range, an
// axis range, Shift+click on a node) filters every other view after one debounced round trip.
import './viewer.css';
import { Api, isAbort } from './api.js';
import { BarsView } from './bars.js';
import { el, fmtInt, label } from './format.js';
import { GraphView } from './graph.js';
import { ParallelView } from './parallel.js';
import { Selection } from './selection.js';
import { TimelineView } from './timeline.js';

const SHORTCUTS = [
  ['/', 'search a node'],
  ['Esc', 'clear the selection'],
  ['+ / − / 0', 'zoom the graph in, out, reset (graph focused)'],
  ['arrows', 'pan the graph; move the time or axis selection (when focused)'],
  ['Enter / Space', 'select the focused bar (Shift adds to the selection)'],
  ['Shift+click', 'select a node’s value in every view'],
  ['?', 'show or hide this help'],
];

class Viewer {
  constructor(mount) {
    this.mount = mount;
    let spec = null;
    if (mount.dataset.spec) {
      try {
        spec = JSON.parse(mount.dataset.spec);
      } catch (_) {
        spec = null;
      }
    }
    this.api = new Api(mount.dataset.api, spec);
    this.selection = new Selection();
    // A selection named by the page (a link from a comment) applies from the start.
    if (mount.dataset.sel) {
      try {
        const s = JSON.parse(mount.dataset.sel);
        this.selection.values = s.values || {};
        this.selection.ranges = s.ranges || {};
        this.selection.time = s.time || null;
      } catch (_) {
        /* ignore a malformed selection: show everything */
      }
    }
    this.selection.onChange(() => this.refresh());
    this.views = {};
  }

  theme() {
    const cs = getComputedStyle(this.mount);
    const v = (n, d) => cs.getPropertyValue(n).trim() || d;
    return { bg: v('--sv-bg', '#ffffff'), fg: v('--sv-fg', '#1f2328'), dim: v('--sv-dim', '#d0d7de'), edge: v('--sv-edge', '#8c959f') };
  }

  nodeField(role) {
    const g = this.info && this.info.spec.graph;
    if (!g) return null;
    return [g.source, g.event || g.target, g.target][role] || null;
  }

  async start() {
    this.mount.classList.add('sv-live');
    this.mount.querySelectorAll('.sv-static').forEach((n) => (n.hidden = true));
    this.status = el('p', { class: 'sv-status', role: 'status', 'aria-live': 'polite', text: 'Loading…' });
    this.error = el('p', { class: 'sv-error', role: 'alert', hidden: true });
    const clear = el('button', { type: 'button', text: 'Clear selection', title: 'Clear the selection (Esc)', onclick: () => this.selection.clear() });
    const csv = el('button', { type: 'button', text: 'Export CSV', title: 'Download the selected records as CSV', onclick: () => this.exportCsv() });
    const helpBtn = el('button', { type: 'button', text: '?', title: 'Keyboard shortcuts (?)', 'aria-label': 'Keyboard shortcuts', 'aria-expanded': 'false' });
    this.help = el('div', { class: 'sv-help', hidden: true }, el('h3', { text: 'Keyboard shortcuts' }), el('dl', {}, ...SHORTCUTS.flatMap(([k, d]) => [el('dt', {}, el('kbd', { text: k })), el('dd', { text: d })])));
    helpBtn.addEventListener('click', () => this.toggleHelp(helpBtn));
    this.helpBtn = helpBtn;
    const head = el('div', { class: 'sv-head' }, this.status, el('div', { class: 'sv-actions' }, clear, csv, helpBtn));
    this.grid = el('div', { class: 'sv-grid' });
    this.rows = el('div', { class: 'sv-rows' });
    this.mount.append(head, this.help, this.error, this.grid, this.rows);
    document.addEventListener('keydown', (e) => this.globalKey(e));
    try {
      this.info = await this.api.get('/info');
      this.api.spec = this.info.spec;
      this.layout();
      await Promise.all([this.views.graph ? this.views.graph.load() : null, this.refresh()]);
    } catch (e) {
      this.fail(e);
    }
  }

  panel(title, cls) {
    const body = el('div', { class: 'sv-panel-body' });
    const p = el('section', { class: `sv-panel ${cls}`, 'aria-label': title }, el('h3', { text: title }), body);
    this.grid.append(p);
    return { panel: p, body };
  }

  exportButtons(panel, svgOf, name) {
    const svgBtn = el('button', { type: 'button', class: 'sv-mini', text: 'SVG', title: `Export ${name} as SVG` });
    const pngBtn = el('button', { type: 'button', class: 'sv-mini', text: 'PNG', title: `Export ${name} as PNG` });
    svgBtn.addEventListener('click', async () => {
      const { download, svgBlob } = await import('./format.js');
      download(`secviz-${name}.svg`, svgBlob(svgOf()));
    });
    pngBtn.addEventListener('click', async () => {
      const { download, svgToPngBlob } = await import('./format.js');
      download(`secviz-${name}.png`, await svgToPngBlob(svgOf()));
    });
    panel.querySelector('h3').append(svgBtn, pngBtn);
  }

  layout() {
    const spec = this.info.spec;
    if (spec.graph) {
      const { body } = this.panel('Link graph', 'sv-wide');
      this.views.graph = new GraphView(body, this);
    }
    if (this.info.time_min !== null && this.info.time_min !== undefined) {
      const { panel, body } = this.panel('Time line', 'sv-wide');
      this.views.timeline = new TimelineView(body, this);
      this.exportButtons(panel, () => this.views.timeline.svg.node(), 'timeline');
    }
    this.views.bars = {};
    for (const f of spec.fields) {
      const { panel, body } = this.panel(f, 'sv-bars-panel');
      this.views.bars[f] = new BarsView(body, this, f);
      this.exportButtons(panel, () => this.views.bars[f].svg.node(), f);
    }
    if (spec.fields.length >= 2) {
      const { panel, body } = this.panel('Parallel coordinates', 'sv-wide');
      this.views.parallel = new ParallelView(body, this);
      this.exportButtons(panel, () => this.views.parallel.svg.node(), 'parallel');
    }
    if (['treemap', 'heatmap', 'scatter'].includes(spec.kind)) {
      const { body } = this.panel(spec.kind, 'sv-wide');
      this.chartImg = el('img', { class: 'sv-server-chart', alt: `${spec.kind} of ${spec.fields.join(', ')}` });
      body.append(this.chartImg);
    }
  }

  async refresh() {
    const sel = this.selection.toJSON();
    const hasSel = !this.selection.isEmpty();
    this.mount.dataset.state = 'loading';
    try {
      const jobs = [this.api.get('/facets', { sel }).then((d) => this.showFacets(d))];
      if (this.views.timeline) jobs.push(this.api.get('/timeline', { sel }).then((d) => this.views.timeline.update(d)));
      if (this.views.parallel) jobs.push(this.api.get('/parallel', { sel }).then((d) => this.views.parallel.update(d)));
      if (this.views.graph) {
        if (hasSel) jobs.push(this.api.get('/graph/selection', { sel }).then((d) => this.views.graph.setSelection(d.nodes)));
        else this.views.graph.setSelection(null);
      }
      if (this.chartImg) this.chartImg.src = this.api.url('/chart.svg', { sel, theme: matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light' });
      await Promise.all(jobs);
      this.error.hidden = true;
      this.mount.dataset.state = 'ready';
    } catch (e) {
      if (!isAbort(e)) this.fail(e);
    }
  }

  showFacets(d) {
    this.totals = d;
    const pct = d.total ? ((100 * d.selected) / d.total).toFixed(1) : '0';
    this.status.textContent = this.selection.isEmpty() ? `${fmtInt(d.total)} records` : `${fmtInt(d.selected)} of ${fmtInt(d.total)} records selected (${pct}%)`;
    this.status.dataset.selected = d.selected;
    this.status.dataset.total = d.total;
    for (const f of d.facets) this.views.bars[f.field]?.update(f);
    if (!this.selection.isEmpty() && d.selected > 0 && d.selected <= 200) this.showRows();
    else this.rows.replaceChildren();
  }

  async showRows() {
    const data = await this.api.get('/rows', { sel: this.selection.toJSON(), limit: '200' });
    const table = el('table', { class: 'sv-table' });
    const caption = el('caption', { text: `The ${fmtInt(data.rows.length)} selected records` });
    const head = el('tr', {}, ...data.columns.map((c) => el('th', { scope: 'col', text: c })));
    const body = data.rows.map((r) => el('tr', {}, ...r.map((v) => el('td', { text: label(v) }))));
    table.append(caption, el('thead', {}, head), el('tbody', {}, ...body));
    this.rows.replaceChildren(table);
  }

  exportCsv() {
    const a = el('a', { href: this.api.url('/export.csv', { sel: this.selection.toJSON() }), download: 'secviz-selection.csv' });
    document.body.append(a);
    a.click();
    a.remove();
  }

  toggleHelp(btn) {
    this.help.hidden = !this.help.hidden;
    btn.setAttribute('aria-expanded', String(!this.help.hidden));
  }

  globalKey(e) {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName);
    if (e.key === 'Escape' && !typing) {
      this.selection.clear();
      this.views.graph?.setFocus(null);
    } else if (e.key === '/' && !typing && this.views.graph) {
      e.preventDefault();
      this.views.graph.search.focus();
    } else if (e.key === '?' && !typing) {
      this.toggleHelp(this.helpBtn);
    }
  }

  fail(e) {
    this.error.textContent = `The view could not be loaded: ${e.message || e}`;
    this.error.hidden = false;
    this.mount.dataset.state = 'error';
  }
}

function boot() {
  window.secvizViewers = [];
  document.querySelectorAll('[data-secviz-viewer]').forEach((m) => {
    const v = new Viewer(m);
    window.secvizViewers.push(v);
    v.start();
  });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
