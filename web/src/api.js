// Talks to the views API. Every request carries the view spec and the current selection as
// query parameters (GET: cacheable, and a URL can name a selection). A newer request of the
// same kind aborts the older one, so a fast brush never shows stale numbers.

export class Api {
  constructor(base, spec) {
    this.base = base.replace(/\/$/, '');
    this.spec = spec;
    this.inflight = new Map();
  }

  url(path, params = {}) {
    const u = new URL(this.base + path, window.location.href);
    if (this.spec) u.searchParams.set('spec', JSON.stringify(this.spec));
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined || v === null) continue;
      u.searchParams.set(k, typeof v === 'string' ? v : JSON.stringify(v));
    }
    return u.toString();
  }

  async get(path, params = {}, kind = path) {
    const prev = this.inflight.get(kind);
    if (prev) prev.abort();
    const ctl = new AbortController();
    this.inflight.set(kind, ctl);
    try {
      const res = await fetch(this.url(path, params), { signal: ctl.signal, headers: { Accept: 'application/json' }, credentials: 'same-origin' });
      if (!res.ok) {
        let msg = `${res.status} ${res.statusText}`;
        try {
          const body = await res.json();
          if (body && body.error) msg = body.error;
        } catch (_) { /* not JSON */ }
        throw new Error(msg);
      }
      return await res.json();
    } finally {
      if (this.inflight.get(kind) === ctl) this.inflight.delete(kind);
    }
  }
}

export function isAbort(e) {
  return e && e.name === 'AbortError';
}
