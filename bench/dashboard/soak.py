#!/usr/bin/env python3
"""The big screen left running (issue 18): a share link's screen of two dashboards rotating
in headless Chromium while live lines arrive over syslog and HTTP, with the page's JS heap
(after a collection) and the server's resident memory sampled over time.

Sets up a site of the release `secviz serve` (a member, a pf upload with its addresses kept,
a live-ingest token, two dashboards refreshed every REFRESH s, their share links), then runs
tests/browser/screen.mjs in soak mode for SECONDS while a feeder sends a line a second over
each path from ever new sources, and samples the server's VmRSS every 10 s.

usage: soak.py SECVIZ_BIN WORK_DIR SECONDS REFRESH
Prints one JSON object: the samples' summaries; writes heap.csv and rss.csv to WORK_DIR.
"""
import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

BIN, WORK, SECONDS, REFRESH = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
HERE = os.path.dirname(os.path.abspath(__file__))
BROWSER = os.path.join(HERE, "..", "..", "tests", "browser")
PASSWORD = "quartz meadow lantern"
DATA = os.path.join(WORK, "data")
os.makedirs(WORK, exist_ok=True)


def run(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


env = {k: v for k, v in os.environ.items() if k not in ("SECVIZ_DATA", "SECVIZ_DATABASE_URL")}
run(BIN, "user", "add", "ana", "--data", DATA, env={**env, "SECVIZ_PASSWORD": PASSWORD})


def serve(dataset=None):
    args = [BIN, "serve", "--addr", "127.0.0.1:0", "--data", DATA]
    if dataset:
        args += ["--syslog", "127.0.0.1:0", "--syslog-dataset", dataset]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=open(os.path.join(WORK, "serve.err"), "a"),
                         text=True, env={**env, "RUST_LOG": "warn"}, cwd=WORK)
    first = p.stdout.readline()
    base = "http://" + re.search(r"http://(\S+)", first).group(1)
    tcp = None
    if dataset:
        tcp = re.search(r"tcp://(\S+)", p.stdout.readline()).group(1)
    return p, base, tcp


class Browser:
    def __init__(self, base):
        self.base = base
        jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k):
                return None

        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)

    def request(self, path, data=None, headers=None):
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            r = self.opener.open(req, timeout=300)
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read().decode()

    def csrf(self, path):
        return re.search(r'name="csrf" value="([^"]+)"', self.request(path)[2]).group(1)

    def multipart(self, path, page, fields):
        boundary = "----secvizsoak" + str(time.time_ns())
        parts = []
        for k, v in {"csrf": self.csrf(page), **fields}.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n')
        body = ("".join(parts) + f"--{boundary}--\r\n").encode()
        return self.request(path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def form(self, path, page, fields):
        fields = {"csrf": self.csrf(page), **fields}
        return self.request(path, urllib.parse.urlencode(fields).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})


# The site: a member's upload (addresses kept: the syslog receiver writes raw ones), a token,
# two dashboards and their share links.
server, base, _ = serve()
b = Browser(base)
st, h, body = b.form("/login", "/login", {"username": "ana", "password": PASSWORD})
assert st == 303, (st, body[:300])
lines = "".join(
    f"Oct 21 06:{i // 60 % 60:02}:{i % 60:02}.000000 rule 12/0(match): block in on xl1: 10.0.{i % 7}.{1 + i % 200}.{1024 + i} > 192.0.2.{1 + i % 50}.80: S 1:1(0) win 8192 (DF)\n"
    for i in range(2000))
st, h, body = b.multipart("/new", "/new", {"title": "Edge", "body": "b", "data_format": "pf", "data_year": "2025",
                                      "data_text": lines, "keep_addresses": "1", "confirm_keep": "1"})
assert st == 303, (st, body[:500])
draft = h["location"]
for _ in range(600):
    if 'data-status="ready"' in b.request(draft)[2]:
        break
    time.sleep(0.5)
dataset = os.listdir(os.path.join(DATA, "lake", "datasets"))[0]
st, h, body = b.form("/account/tokens", "/account", {"dataset": dataset, "label": "feeder", "days": "2"})
token = re.search(r'<code class="token">([^<]+)<', body).group(1)
shares = []
for title in ("SOC wall", "SOC wall 2"):
    spec = {"title": title, "refresh_seconds": REFRESH, "panels": [
        {"kind": k, "window": "15m"} for k in
        ("findings", "event-rate", "new-sources", "new-destinations", "failed-logins", "talker-changes")]}
    st, h, body = b.form("/dashboards", "/dashboards", {"dataset": dataset, "title": "", "json": json.dumps(spec)})
    assert st == 303, (st, body[:500])
    dash = h["location"]
    st, h, body = b.form(f"{dash}/shares", dash, {"label": "wall"})
    shares.append("/s/" + re.search(r"shown this once\): <code>[^<]*/s/([^<]+)</code>", body).group(1))
server.terminate()
server.wait()

# The soak.
server, base, tcp = serve(dataset)
stop = threading.Event()
rss_rows = ["seconds,rss_bytes,lines_sent"]
sent = [0]


def feeder():
    host, port = tcp.rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
    i = 0
    while not stop.is_set():
        i += 1
        now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z"
        src = f"198.18.{i // 250 % 250}.{1 + i % 250}"
        msg = f"<34>1 {now} fw1 sshd 4242 - - Failed password for root from {src} port 4711 ssh2"
        s.sendall(f"{len(msg)} {msg}".encode())
        line = json.dumps({"ts": now, "src_ip": f"198.19.{i // 250 % 250}.{1 + i % 250}",
                           "dst_ip": "192.0.2.99", "dst_port": 443, "proto": "tcp"}) + "\n"
        req = urllib.request.Request(f"{base}/api/v1/live/{dataset}", data=line.encode(),
                                     headers={"Authorization": f"Bearer {token}"})
        urllib.request.urlopen(req, timeout=60).read()
        sent[0] += 2
        stop.wait(1.0)


def sampler():
    started = time.time()
    while not stop.is_set():
        with open(f"/proc/{server.pid}/status") as f:
            rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) * 1024
        rss_rows.append(f"{round(time.time() - started)},{rss},{sent[0]}")
        stop.wait(10.0)


threads = [threading.Thread(target=feeder, daemon=True), threading.Thread(target=sampler, daemon=True)]
for t in threads:
    t.start()
url = f"{base}{shares[0]}?rotate={shares[1][3:]}&every=30"
heap_csv = os.path.join(WORK, "heap.csv")
out = subprocess.run(["node", "screen.mjs", url, "soak", str(SECONDS), heap_csv], cwd=BROWSER,
                     capture_output=True, text=True)
stop.set()
for t in threads:
    t.join(timeout=15)
server.terminate()
server.wait()
with open(os.path.join(WORK, "rss.csv"), "w") as f:
    f.write("\n".join(rss_rows) + "\n")
if out.returncode != 0:
    sys.exit(f"the screen failed: {out.stdout}\n{out.stderr}")


def col(rows, i):
    return [float(r.split(",")[i]) for r in rows[1:]]


heap = col(open(heap_csv).read().splitlines(), 1)
nodes = col(open(heap_csv).read().splitlines(), 2)
refreshes = int(open(heap_csv).read().splitlines()[-1].split(",")[3])
rss = col(rss_rows, 1)


def tenth(xs, last=False):
    n = max(1, len(xs) // 10)
    part = xs[-n:] if last else xs[n:2 * n] if len(xs) >= 2 * n else xs[:n]
    return sum(part) / len(part)


print(json.dumps({
    "seconds": SECONDS, "refresh_seconds": REFRESH, "lines_sent": sent[0], "refreshes": refreshes,
    "heap_warm_mib": round(tenth(heap) / 2**20, 2), "heap_last_mib": round(tenth(heap, True) / 2**20, 2),
    "heap_max_mib": round(max(heap) / 2**20, 2),
    "nodes_warm": round(tenth(nodes)), "nodes_last": round(tenth(nodes, True)),
    "rss_warm_mib": round(tenth(rss) / 2**20, 1), "rss_last_mib": round(tenth(rss, True) / 2**20, 1),
    "rss_max_mib": round(max(rss) / 2**20, 1),
}))
