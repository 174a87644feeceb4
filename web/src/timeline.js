// The time line: records per automatic time bucket (total in the background, the selection
// highlighted), with a horizontal brush that selects a time range. Keyboard: with the chart
// focused, ←/→ move the range by a bucket, Shift+←/→ widen or narrow it, Escape clears it.
import { axisBottom, axisLeft, brushX, max, scaleLinear, scaleUtc, select } from 'd3';
import { fmtInt, fmtTime } from './format.js';

const M = { top: 8, right: 12, bottom: 26, left: 48 };

export class TimelineView {
  constructor(root, viewer) {
    this.viewer = viewer;
    this.svg = select(root).append('svg').attr('class', 'sv-chart sv-timeline').attr('tabindex', 0).attr('role', 'group').attr('aria-label', 'Time line. Drag to select a time range; with focus, arrow keys move it, Shift+arrows resize it, Escape clears it.');
    this.plot = this.svg.append('g');
    this.gx = this.svg.append('g').attr('class', 'axis');
    this.gy = this.svg.append('g').attr('class', 'axis');
    this.gb = this.svg.append('g').attr('class', 'brush');
    this.svg.on('keydown', (e) => this.key(e));
    this.quiet = false;
  }

  update(data) {
    this.data = data;
    const width = Math.max(320, this.svg.node().parentNode.clientWidth || 600);
    const height = 160;
    this.svg.attr('width', width).attr('height', height).attr('viewBox', `0 0 ${width} ${height}`);
    const bins = data.bins;
    const t0 = data.min ?? (bins.length ? bins[0].t : 0);
    const t1 = (data.max ?? (bins.length ? bins[bins.length - 1].t : 0)) + data.bucket_us;
    const x = scaleUtc().domain([new Date(t0 / 1000), new Date(t1 / 1000)]).range([M.left, width - M.right]);
    const y = scaleLinear().domain([0, max(bins, (b) => b.total) || 1]).nice().range([height - M.bottom, M.top]);
    this.x = x;
    const bw = (b) => Math.max(1, x(new Date((b.t + data.bucket_us) / 1000)) - x(new Date(b.t / 1000)) - 1);
    const bars = this.plot.selectAll('g.bin').data(bins, (b) => b.t);
    bars.exit().remove();
    const enter = bars.enter().append('g').attr('class', 'bin');
    enter.append('rect').attr('class', 'total');
    enter.append('rect').attr('class', 'selected');
    enter.append('title');
    const all = enter.merge(bars);
    all.attr('data-t', (b) => b.t).attr('data-total', (b) => b.total).attr('data-selected', (b) => b.selected);
    all.select('rect.total').attr('x', (b) => x(new Date(b.t / 1000))).attr('width', bw).attr('y', (b) => y(b.total)).attr('height', (b) => y(0) - y(b.total));
    all.select('rect.selected').attr('x', (b) => x(new Date(b.t / 1000))).attr('width', bw).attr('y', (b) => y(b.selected)).attr('height', (b) => y(0) - y(b.selected));
    all.select('title').text((b) => `${fmtTime(b.t)} (+${data.bucket}): ${fmtInt(b.selected)} / ${fmtInt(b.total)}`);
    this.gx.attr('transform', `translate(0 ${height - M.bottom})`).call(axisBottom(x).ticks(Math.floor(width / 110)));
    this.gy.attr('transform', `translate(${M.left} 0)`).call(axisLeft(y).ticks(4, '~s'));
    this.brush = brushX().extent([[M.left, M.top], [width - M.right, height - M.bottom]]).on('end', (e) => this.brushed(e));
    this.gb.call(this.brush);
    this.quiet = true;
    const time = this.viewer.selection.time;
    this.gb.call(this.brush.move, time ? [x(new Date(time[0] / 1000)), x(new Date(time[1] / 1000))] : null);
    this.quiet = false;
  }

  brushed(e) {
    if (this.quiet || !e.sourceEvent) return;
    if (!e.selection) {
      this.viewer.selection.setTime(null);
      return;
    }
    const [a, b] = e.selection.map((px) => this.x.invert(px).getTime() * 1000);
    // Snap to buckets so the range means whole bars.
    const step = this.data.bucket_us;
    const lo = Math.floor(a / step) * step;
    const hi = Math.max(lo + step, Math.ceil(b / step) * step);
    this.viewer.selection.setTime([lo, hi]);
  }

  key(e) {
    if (!this.data || !this.data.bins.length) return;
    const step = this.data.bucket_us;
    const sel = this.viewer.selection;
    let cur = sel.time;
    if (e.key === 'Escape') {
      if (cur) sel.setTime(null);
      e.preventDefault();
      e.stopPropagation();
      return;
    }
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
    e.preventDefault();
    const first = this.data.bins[0].t;
    if (!cur) cur = [first, first + step];
    const d = e.key === 'ArrowRight' ? step : -step;
    if (e.shiftKey) cur = [cur[0], Math.max(cur[0] + step, cur[1] + d)];
    else cur = [cur[0] + d, cur[1] + d];
    sel.setTime(cur);
  }
}
