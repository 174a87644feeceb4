#!/usr/bin/env python3
"""Drives a running portal through the data-post path and times each stage.

usage: driver.py BASE LOG [--view graph|linked]

Signs up a member, then:
  upload         POST /new with LOG attached (streamed to staging, job queued) -> 303
  parse+ingest   from the redirect until the draft page says ready (polled every 50 ms)
  layout         POST the view form, then GET the preview SVG: the graph query, rules,
                 layout and SVG drawing (the picture is cached for publishing)
  publish        POST publish: thumbnail PNG (resvg) + image processing + one transaction
                 (the portal logs `publish_timings` with the thumbnail's share)
  viewer graph   GET the viewer API's graph JSON for the post, as the first visitor's browser
                 does (a second graph build and layout: the API keeps its own cache)
Prints one JSON object with the seconds of each stage.
"""
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.cookiejar import CookieJar

base, log = sys.argv[1], sys.argv[2]
view = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--view" else "graph"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


jar = CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)


def req(method, path, data=None, headers=None):
    r = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    r.add_header("Origin", base)
    try:
        resp = opener.open(r, timeout=3600)
        return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def csrf(html):
    m = re.search(rb'name="csrf" value="([^"]+)"', html)
    return m.group(1).decode()


def form(path, fields):
    body = urllib.parse.urlencode(fields, doseq=True).encode()
    return req("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})


# A member.
_, _, page = req("GET", "/signup")
name = "bench" + uuid.uuid4().hex[:8]
st, h, body = form("/signup", {"csrf": csrf(page), "username": name, "email": name + "@example.org",
                               "password": "violet staple orbit lantern"})
assert st == 303, (st, body[:500])

# upload
_, _, page = req("GET", "/new")
token = csrf(page)
boundary = uuid.uuid4().hex
parts = []
for k, v in [("csrf", token), ("title", "Benchmark: 1M pf lines"), ("body", "Timing the data-post path."),
             ("data_format", "pf"), ("data_year", "2026"), ("action", "publish")]:
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
with open(log, "rb") as f:
    data = f.read()
parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="data_file"; filename="pf.log"\r\n'
             f'Content-Type: application/octet-stream\r\n\r\n'.encode() + data + b"\r\n")
parts.append(f"--{boundary}--\r\n".encode())
payload = b"".join(parts)
t = {}
t0 = time.perf_counter()
st, h, body = req("POST", "/new", payload, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
t["upload"] = time.perf_counter() - t0
assert st == 303, (st, body[:1000])
draft = h.get("Location")

# parse + ingest
t0 = time.perf_counter()
while True:
    _, _, page = req("GET", draft)
    m = re.search(rb'data-status="(\w+)"', page)
    if m and m.group(1) in (b"ready", b"failed"):
        break
    time.sleep(0.05)
t["parse+ingest"] = time.perf_counter() - t0
assert m.group(1) == b"ready", page[:3000]
events = int(re.search(rb"Ready: (\d+) events", page).group(1))

# layout (the view, then its picture)
fields = {"csrf": csrf(page), "action": "save", "title": "Benchmark: 1M pf lines",
          "body": "Timing the data-post path.", "kind": view, "source": "src_ip", "event": "dst_port",
          "target": "dst_ip", "color": "action", "size": "degree", "cluster_source": "none",
          "cluster_target": "16", "cluster_event": "none", "fields": "src_ip, dst_port, dst_ip",
          "seed": "1", "top_k": "10"}
t0 = time.perf_counter()
st, _, page = form(draft, fields)
assert st == 200, page[:3000]
st, _, svg = req("GET", draft + "/preview.svg")
t["layout"] = time.perf_counter() - t0
assert st == 200 and b"<svg" in svg[:200], svg[:500]
assert b"could not be drawn" not in svg, svg[:1000]

# publish (thumbnail + post)
fields["action"] = "publish"
fields["csrf"] = csrf(page)
t0 = time.perf_counter()
st, h, body = form(draft, fields)
t["publish"] = time.perf_counter() - t0
assert st == 303, body[:3000]
post = h.get("Location")

# the first visitor's viewer graph
_, _, page = req("GET", post)
api = re.search(rb'data-api="([^"]+)"', page).group(1).decode()
spec = re.search(rb'data-spec="([^"]+)"', page).group(1).decode()
spec = spec.replace("&#34;", '"').replace("&quot;", '"').replace("&#38;", "&").replace("&amp;", "&")
t0 = time.perf_counter()
st, _, g = req("GET", api + "/graph?spec=" + urllib.parse.quote(spec))
t["viewer graph"] = time.perf_counter() - t0
assert st == 200, g[:500]
gj = json.loads(g)

def count(part):
    # Columnar graph JSON (docs/graph-json.md): one list per attribute.
    v = gj.get(part, {})
    return len(next(iter(v.values()), [])) if isinstance(v, dict) else len(v)


print(json.dumps({"events": events, "post": post, "nodes": count("nodes"), "edges": count("edges"), "svg_bytes": len(svg),
                  "seconds": {k: round(v, 3) for k, v in t.items()}}))
