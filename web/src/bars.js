// A bar chart of the top values of one field, Mondrian style: the full bar is every record
// with that value, the highlighted part the records in the current selection. Clicking a bar
// (or Enter/Space on it) selects its value; Shift/Ctrl adds to the selection.
import { max, scaleLinear, select } from 'd3';
import { fmtInt, fmtShort, label } from './format.js';

const ROW = 22;
const LABEL_W = 130;

export class BarsView {
  constructor(root, viewer, field) {
    this.viewer = viewer;
    this.field = field;
    this.svg = select(root).append('svg').attr('class', 'sv-chart sv-bars').attr('role', 'group').attr('aria-label', `Top values of ${field}`);
  }

  update(facet) {
    const sel = this.viewer.selection;
    const rows = facet.values.map((v) => ({ ...v, other: false }));
    if (facet.other && facet.other.total > 0) rows.push({ value: null, total: facet.other.total, selected: facet.other.selected, other: true, count: facet.other.values });
    const width = Math.max(280, this.svg.node().parentNode.clientWidth || 320);
    const height = rows.length * ROW + 24;
    this.svg.attr('width', width).attr('height', height).attr('viewBox', `0 0 ${width} ${height}`);
    const x = scaleLinear().domain([0, max(rows, (r) => r.total) || 1]).range([LABEL_W, width - 56]);
    const g = this.svg.selectAll('g.bar').data(rows, (r) => (r.other ? '\u0000other' : `v:${r.value}`));
    g.exit().remove();
    const enter = g.enter().append('g').attr('class', 'bar').attr('tabindex', (r) => (r.other ? null : 0)).attr('role', (r) => (r.other ? null : 'button'));
    enter.append('title');
    // The whole row is the click target, not only the painted bar and label.
    enter.append('rect').attr('class', 'hit').attr('fill', 'transparent');
    enter.append('rect').attr('class', 'total');
    enter.append('rect').attr('class', 'selected');
    enter.append('text').attr('class', 'label');
    enter.append('text').attr('class', 'count');
    const all = enter.merge(g);
    all.order();
    const activate = (event, r) => {
      if (r.other) return;
      this.viewer.selection.toggle(this.field, r.value, event.shiftKey || event.ctrlKey || event.metaKey);
    };
    all
      .attr('transform', (r, i) => `translate(0 ${i * ROW + 4})`)
      .attr('data-value', (r) => (r.other ? null : label(r.value)))
      .attr('data-total', (r) => r.total)
      .attr('data-selected', (r) => r.selected)
      .classed('other', (r) => r.other)
      .classed('picked', (r) => !r.other && sel.has(this.field, r.value))
      .attr('aria-pressed', (r) => (r.other ? null : String(sel.has(this.field, r.value))))
      .attr('aria-label', (r) => `${r.other ? `other (${fmtInt(r.count)} values)` : label(r.value)}: ${fmtInt(r.selected)} of ${fmtInt(r.total)} records selected`)
      .on('click', activate)
      .on('keydown', (event, r) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          activate(event, r);
        }
      });
    all.select('title').text((r) => `${r.other ? 'other values' : label(r.value)}: ${fmtInt(r.selected)} / ${fmtInt(r.total)}`);
    all.select('rect.hit').attr('x', 0).attr('y', -2).attr('height', ROW - 2).attr('width', width);
    all.select('rect.total').attr('x', LABEL_W).attr('y', 0).attr('height', ROW - 6).attr('width', (r) => Math.max(1, x(r.total) - LABEL_W));
    all.select('rect.selected').attr('x', LABEL_W).attr('y', 0).attr('height', ROW - 6).attr('width', (r) => (r.selected > 0 ? Math.max(1, x(r.selected) - LABEL_W) : 0));
    all.select('text.label').attr('x', LABEL_W - 6).attr('y', ROW / 2).attr('text-anchor', 'end').text((r) => {
      const s = r.other ? `other (${fmtInt(r.count)})` : label(r.value);
      return s.length > 20 ? s.slice(0, 19) + '…' : s;
    });
    all.select('text.count').attr('x', (r) => x(r.total) + 4).attr('y', ROW / 2).text((r) => (sel.isEmpty() ? fmtShort(r.total) : `${fmtShort(r.selected)}/${fmtShort(r.total)}`));
  }
}
