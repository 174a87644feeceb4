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
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "live"))
from site_setup import make_site, serve  # noqa: E402

BIN, WORK, SECONDS, REFRESH = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
HERE = os.path.dirname(os.path.abspath(__file__))
BROWSER = os.path.join(HERE, "..", "..", "tests", "browser")
os.makedirs(WORK, exist_ok=True)

DATA, dataset, token, shares = make_site(BIN, WORK, ("SOC wall", "SOC wall 2"), REFRESH)

# The soak.
server, base, tcp = serve(BIN, WORK, DATA, dataset)
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
