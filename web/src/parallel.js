// Parallel coordinates over the view's fields: one line per distinct tuple (the server sends
// the most frequent ones), highlighted when records of the tuple are in the selection. Brush
// an axis to select the values (categorical axes) or the range (numeric axes) it covers.
// Keyboard: focus an axis, ↑/↓ move a one-value window, Escape clears that axis.
import { axisLeft, brushY, line, max, scaleLinear, scaleLog, scalePoint, select } from 'd3';
import { fmtInt, label } from './format.js';

const M = { top: 24, right: 110, bottom: 12, left: 110 };

export class ParallelView {
  constructor(root, viewer) {
    this.viewer = viewer;
    this.svg = select(root).append('svg').attr('class', 'sv-chart sv-parallel').attr('role', 'group').attr('aria-label', 'Parallel coordinates. Brush an axis to select; with an axis focused, arrow keys move the selection and Escape clears it.');
    this.lines = this.svg.append('g').attr('class', 'lines');
    this.axes = this.svg.append('g');
    this.quiet = false;
  }

  scaleFor(axis, height) {
    if (axis.categories) return scalePoint().domain(axis.categories.map((_, i) => i)).range([M.top, height - M.bottom]).padding(0.5);
    const lo = axis.min;
    const hi = axis.max > lo ? axis.max : lo + 1;
    if (axis.log) return scaleLog().domain([Math.max(1, lo), Math.max(10, hi)]).range([height - M.bottom, M.top]).clamp(true);
    return scaleLinear().domain([lo, hi]).range([height - M.bottom, M.top]);
  }

  update(data) {
    this.data = data;
    const width = Math.max(360, this.svg.node().parentNode.clientWidth || 600);
    const height = 260;
    this.svg.attr('width', width).attr('height', height).attr('viewBox', `0 0 ${width} ${height}`);
    const n = data.axes.length;
    const xs = data.axes.map((_, i) => M.left + (i * (width - M.left - M.right)) / Math.max(1, n - 1));
    const ys = data.axes.map((a) => this.scaleFor(a, height));
    this.ys = ys;
    const wmax = max(data.lines, (l) => l.total) || 1;
    const path = line();
    const anySel = !this.viewer.selection.isEmpty();
    const paths = this.lines.selectAll('path').data(data.lines);
    paths.exit().remove();
    paths
      .enter()
      .append('path')
      .merge(paths)
      .attr('d', (l) => path(l.values.map((v, i) => [xs[i], ys[i](v)])))
      .attr('stroke-width', (l) => 0.75 + (3 * Math.log1p(l.total)) / Math.log1p(wmax))
      .attr('data-total', (l) => l.total)
      .attr('data-selected', (l) => l.selected)
      .classed('selected', (l) => anySel && l.selected > 0)
      .classed('dimmed', (l) => anySel && l.selected === 0)
      .selectAll('title')
      .data((l) => [l])
      .join('title')
      .text((l) => `${l.values.map((v, i) => `${data.axes[i].field}=${data.axes[i].categories ? label(data.axes[i].categories[v]) : v}`).join(', ')}: ${fmtInt(l.selected)} / ${fmtInt(l.total)}`);
    const axes = this.axes.selectAll('g.pc-axis').data(data.axes, (a) => a.field);
    axes.exit().remove();
    const enter = axes.enter().append('g').attr('class', 'pc-axis').attr('tabindex', 0).attr('role', 'group');
    enter.append('g').attr('class', 'axis');
    enter.append('text').attr('class', 'pc-title').attr('y', M.top - 10).attr('text-anchor', 'middle');
    enter.append('g').attr('class', 'brush');
    const all = enter.merge(axes);
    all.attr('transform', (a, i) => `translate(${xs[i]} 0)`).attr('aria-label', (a) => `axis ${a.field}`);
    all.select('text.pc-title').text((a) => a.field);
    all.each((a, i, nodes) => {
      const g = select(nodes[i]);
      const ax = axisLeft(ys[i]);
      if (a.categories) {
        // Label every k-th value when they would overlap (each still has its tick).
        const every = Math.max(1, Math.ceil((a.categories.length * 12) / (height - M.top - M.bottom)));
        ax.tickValues(a.categories.map((_, k) => k).filter((k) => k % every === 0)).tickFormat((v) => {
          const s = label(a.categories[v]);
          return s.length > 16 ? s.slice(0, 15) + '…' : s;
        });
      }
      else ax.ticks(5, '~s');
      g.select('g.axis').call(ax);
      const brush = brushY().extent([[-10, M.top - 4], [10, height - M.bottom + 4]]).on('end', (e) => this.brushed(a, i, e));
      g.select('g.brush').call(brush);
      g.on('keydown', (e) => this.key(a, i, e));
    });
  }

  brushed(axis, i, e) {
    if (!e.sourceEvent) return;
    const sel = this.viewer.selection;
    if (!e.selection) {
      if (axis.categories) {
        delete sel.values[axis.field];
        sel.changed();
      } else sel.setRange(axis.field, null);
      return;
    }
    const [y0, y1] = e.selection;
    const scale = this.ys[i];
    if (axis.categories) {
      const picked = axis.categories.filter((_, k) => scale(k) >= y0 && scale(k) <= y1);
      if (picked.length) sel.values[axis.field] = picked;
      else delete sel.values[axis.field];
      sel.changed();
    } else {
      const a = scale.invert(y1);
      const b = scale.invert(y0);
      sel.setRange(axis.field, [Math.min(a, b), Math.max(a, b)]);
    }
  }

  key(axis, i, e) {
    const sel = this.viewer.selection;
    if (e.key === 'Escape') {
      if (axis.categories) {
        delete sel.values[axis.field];
        sel.changed();
      } else sel.setRange(axis.field, null);
      e.preventDefault();
      e.stopPropagation();
      return;
    }
    if (e.key !== 'ArrowUp' && e.key !== 'ArrowDown') return;
    e.preventDefault();
    const d = e.key === 'ArrowDown' ? 1 : -1;
    if (axis.categories) {
      const cur = (sel.values[axis.field] || [])[0];
      let k = axis.categories.indexOf(cur);
      k = k < 0 ? 0 : Math.min(axis.categories.length - 1, Math.max(0, k + d));
      sel.values[axis.field] = [axis.categories[k]];
      sel.changed();
    } else {
      const span = (axis.max - axis.min) / 10 || 1;
      const cur = sel.ranges[axis.field] || [axis.max - span, axis.max];
      sel.setRange(axis.field, [cur[0] - d * span, cur[1] - d * span]);
    }
  }
}
