// The linked-brushing selection shared by every view: chosen values per field, a time range,
// and numeric ranges per field. Views call the setters; listeners hear about changes after a
// short debounce, so dragging a brush sends one request per pause, not one per mouse move.

export class Selection {
  constructor(delay = 120) {
    this.values = {}; // field -> array of values (strings, or null for "no value")
    this.ranges = {}; // field -> [lo, hi]
    this.time = null; // [t0, t1] in microseconds
    this.listeners = [];
    this.delay = delay;
    this.timer = null;
  }

  isEmpty() {
    return Object.keys(this.values).length === 0 && Object.keys(this.ranges).length === 0 && !this.time;
  }

  toJSON() {
    const out = {};
    if (Object.keys(this.values).length) out.values = this.values;
    if (Object.keys(this.ranges).length) out.ranges = this.ranges;
    if (this.time) out.time = this.time;
    return out;
  }

  has(field, value) {
    return (this.values[field] || []).includes(value);
  }

  toggle(field, value, additive) {
    const cur = this.values[field] || [];
    let next;
    if (cur.includes(value)) next = cur.filter((v) => v !== value);
    else next = additive ? [...cur, value] : [value];
    if (next.length) this.values[field] = next;
    else delete this.values[field];
    this.changed();
  }

  setRange(field, range) {
    if (range) this.ranges[field] = range;
    else delete this.ranges[field];
    this.changed();
  }

  setTime(range) {
    this.time = range;
    this.changed();
  }

  clear() {
    this.values = {};
    this.ranges = {};
    this.time = null;
    this.changed(true);
  }

  onChange(fn) {
    this.listeners.push(fn);
  }

  changed(now = false) {
    clearTimeout(this.timer);
    const fire = () => this.listeners.forEach((fn) => fn(this));
    if (now) fire();
    else this.timer = setTimeout(fire, this.delay);
  }
}
