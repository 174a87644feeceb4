// Talks to the views API. Every request carries the view spec and the current selection as
// query parameters (GET: cacheable, and a URL can name a selection). A newer request of the
// same kind aborts the older one, so a fast brush never shows stale numbers.

const BUSY_RETRIES = 4;
const MAX_WAIT_MS = 5000;

/** The wait a 429 asks for (`Retry-After`, seconds), within 0.5 s to MAX_WAIT_MS. */
function retryAfterMs(res) {
  const s = Number(res.headers.get('Retry-After'));
  const ms = Number.isFinite(s) && s > 0 ? s * 1000 : 1000;
  return Math.min(Math.max(ms, 500), MAX_WAIT_MS);
}

/** Resolves after `ms`; rejects as an abort when `signal` aborts first. */
function wait(ms, signal) {
  return new Promise((resolve, reject) => {
    const aborted = () => new DOMException('The request was replaced', 'AbortError');
    if (signal.aborted) return reject(aborted());
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(aborted());
    }, { once: true });
  });
}

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
      let res;
      // A busy server (429: this client's requests in flight, or the queue, are full) says
      // when to come back: wait as told (at most MAX_WAIT_MS) and ask again, a few times,
      // instead of showing an error while the answers of earlier requests are under way.
      for (let attempt = 0; ; attempt++) {
        res = await fetch(this.url(path, params), { signal: ctl.signal, headers: { Accept: 'application/json' }, credentials: 'same-origin' });
        if (res.status !== 429 || attempt >= BUSY_RETRIES) break;
        await wait(retryAfterMs(res), ctl.signal);
      }
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
