#!/usr/bin/env python3
"""The big screen left running (issue 18): a share link's screen of two dashboards rotating
in headless Chromium while live lines arrive over syslog and HTTP, with the page's JS heap
(after a collection) and the server's resident memory sampled over time.

Sets up a site of the release `secviz serve` (a member, a pf upload with its addresses kept,
a live-ingest token, two dashboards refreshed every REFRESH s, their share links), then runs
tests/browser/screen.mjs in soak mode for SECONDS while a feeder sends LINES lines a second
(one unless told) over each path from ever new sources: over syslog as LINES messages on its
TCP connection, over HTTP as one POST of LINES lines (a token may make 120 requests a minute).
Every 10 s it samples the server's VmRSS, its open file descriptors and the Parquet files
of the two live datasets (compaction must keep their number from growing with the day).
VmRSS is also split into its anonymous part (the heap: what a leak grows) and its
file-backed part (mostly the binary's own pages, which grow as more of its code runs, up
to its size).

usage: soak.py SECVIZ_BIN WORK_DIR SECONDS REFRESH [LINES]
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
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "live"))
from site_setup import make_site, serve, soak_lines  # noqa: E402

BIN, WORK, SECONDS, REFRESH = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
LINES = int(sys.argv[5]) if len(sys.argv) > 5 else 1
HERE = os.path.dirname(os.path.abspath(__file__))
BROWSER = os.path.join(HERE, "..", "..", "tests", "browser")
os.makedirs(WORK, exist_ok=True)

DATA, dataset, token, shares = make_site(BIN, WORK, ("SOC wall", "SOC wall 2"), REFRESH)

# The soak.
server, base, tcp = serve(BIN, WORK, DATA, dataset)
stop = threading.Event()
rss_rows = ["seconds,rss_bytes,lines_sent,fds,parquet_files,utc,rss_anon_bytes,rss_file_bytes"]
sent = [0]
failed = []  # HTTP posts not answered 2xx


def feeder():
    host, port = tcp.rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
    i = 0
    while not stop.is_set():
        now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z"
        frames, lines = [], []
        for _ in range(LINES):
            i += 1
            frame, line = soak_lines(i, now)
            frames.append(frame)
            lines.append(line)
        s.sendall("".join(frames).encode())
        req = urllib.request.Request(f"{base}/api/v1/live/{dataset}", data="".join(lines).encode(),
                                     headers={"Authorization": f"Bearer {token}"})
        try:
            urllib.request.urlopen(req, timeout=60).read()
            sent[0] += LINES
        except (urllib.error.URLError, OSError) as e:  # counted and reported, never hidden
            failed.append(f"{time.strftime('%H:%M:%S', time.gmtime())} {e}")
        sent[0] += LINES
        stop.wait(1.0)


def parquet_files():
    root = os.path.join(DATA, "lake", "datasets")
    return sum(1 for d, _, fs in os.walk(root) for f in fs if f.endswith(".parquet"))


def sampler():
    started = time.time()
    while not stop.is_set():
        with open(f"/proc/{server.pid}/status") as f:
            status = f.read()
        rss, anon, file_ = (int(re.search(rf"{k}:\s+(\d+)", status).group(1)) * 1024
                            for k in ("VmRSS", "RssAnon", "RssFile"))
        fds = len(os.listdir(f"/proc/{server.pid}/fd"))
        utc = time.strftime("%H:%M:%S", time.gmtime())
        rss_rows.append(f"{round(time.time() - started)},{rss},{sent[0]},{fds},{parquet_files()},{utc},{anon},{file_}")
        if len(rss_rows) % 30 == 0:  # a long soak's samples survive its interruption
            with open(os.path.join(WORK, "rss.csv"), "w") as f:
                f.write("\n".join(rss_rows) + "\n")
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


ok_line = re.search(r"soak: ok .*", out.stdout).group(0)
screen = {k: int(v) for k, v in re.findall(r"(boards|switches|stale_samples)=(\d+)", ok_line)}
heap = col(open(heap_csv).read().splitlines(), 1)
nodes = col(open(heap_csv).read().splitlines(), 2)
refreshes = int(open(heap_csv).read().splitlines()[-1].split(",")[3])
rss = col(rss_rows, 1)
fds = col(rss_rows, 3)
files = col(rss_rows, 4)
anon = col(rss_rows, 6)


def tenth(xs, last=False):
    n = max(1, len(xs) // 10)
    part = xs[-n:] if last else xs[n:2 * n] if len(xs) >= 2 * n else xs[:n]
    return sum(part) / len(part)


print(json.dumps({
    "seconds": SECONDS, "refresh_seconds": REFRESH, "lines_per_second_per_path": LINES,
    "lines_sent": sent[0], "http_posts_failed": len(failed), "http_failures": failed[:10],
    "refreshes": refreshes, "dashboards_shown": screen.get("boards"),
    "rotations": screen.get("switches"), "stale_samples": screen.get("stale_samples"),
    "heap_warm_mib": round(tenth(heap) / 2**20, 2), "heap_last_mib": round(tenth(heap, True) / 2**20, 2),
    "heap_max_mib": round(max(heap) / 2**20, 2),
    "nodes_warm": round(tenth(nodes)), "nodes_last": round(tenth(nodes, True)),
    "rss_warm_mib": round(tenth(rss) / 2**20, 1), "rss_last_mib": round(tenth(rss, True) / 2**20, 1),
    "rss_max_mib": round(max(rss) / 2**20, 1),
    "rss_anon_warm_mib": round(tenth(anon) / 2**20, 1), "rss_anon_last_mib": round(tenth(anon, True) / 2**20, 1),
    "fds_warm": round(tenth(fds)), "fds_last": round(tenth(fds, True)), "fds_max": round(max(fds)),
    "parquet_files_warm": round(tenth(files)), "parquet_files_last": round(tenth(files, True)),
    "parquet_files_max": round(max(files)),
}))
