#!/usr/bin/env python3
"""The server's memory while a day of the big screen's feed comes in and is compacted.

The soak (soak.py) sends a day's lines in an hour and samples the server's RSS; what grows
with the day is the live day's compacted file, rewritten (with its summary) as appends
come. This script makes the soak's site (bench/live/site_setup.py) once per binary, a
fresh data folder each, sends the same day of lines (feed_day: LINES over syslog and as
many over HTTP, stamped over the last SPAN seconds), waits until every line is stored and
the day's small files are compacted, and samples the server's RSS every 0.1 s all along;
then it has the soak's dashboard (six 15-minute panels) computed three times through its
share link, a fresh interval each, and takes the RSS's peak during each computation. Then
it ingests the feed's HTTP lines as one JSON-lines file with `secviz ingest` (a file
summarized while written, no server), once with the feed's sources and once with the
same lines given 8 sources, under /usr/bin/time.

With BASELINE_SECVIZ set (the binary of an earlier commit), both binaries are measured
on the same input in the same run, one after the other.

usage: [BASELINE_SECVIZ=BIN] memory.py SECVIZ_BIN WORK_DIR [LINES [SPAN]]
       (86400 lines a path over 3600 s unless told)
Prints one JSON object: per binary, the server's peak and final RSS during the feed, its
RSS over time in tenths of the feed, its RSS before and at the peak of each dashboard
computation, and the ingests' peak RSS and seconds.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "live"))
from site_setup import feed_day, make_site, serve, soak_lines, stamp, stored_rows, wait_stored  # noqa: E402

BIN, WORK = sys.argv[1], os.path.abspath(sys.argv[2])
LINES = int(sys.argv[3]) if len(sys.argv) > 3 else 86400
SPAN = int(sys.argv[4]) if len(sys.argv) > 4 else 3600
BASELINE = os.environ.get("BASELINE_SECVIZ")
BINS = ([("baseline", BASELINE)] if BASELINE else []) + [("secviz", BIN)]
MIB = 1 << 20
REFRESH = 5


def rss(pid):
    """(VmRSS, VmHWM) of `pid` in bytes."""
    with open(f"/proc/{pid}/status") as f:
        v = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", f.read(), re.M))
    return int(v["VmRSS"]) * 1024, int(v["VmHWM"]) * 1024


def feed(label, bin_):
    work = os.path.join(WORK, label)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    data, dataset, token, shares = make_site(bin_, work, ("SOC wall",), REFRESH)
    server, base, tcp = serve(bin_, work, data, dataset)
    samples, done = [], threading.Event()

    def sample():
        t0 = time.time()
        while not done.is_set():
            samples.append((time.time() - t0, rss(server.pid)[0]))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample)
    try:
        before = stored_rows(bin_, data, dataset)
        sampler.start()
        t0 = time.time()
        feed_day(base, tcp, dataset, token, LINES, SPAN)
        want = before + 2 * LINES
        wait_stored(bin_, data, dataset, want)
        # Let the background compaction fold the day's small files.
        time.sleep(20)
        seconds = time.time() - t0
        now, peak = rss(server.pid)
        fed = len(samples)
        computations = []
        for _ in range(3):
            time.sleep(REFRESH + 1)  # a new interval: computed again
            before = len(samples)
            start = time.time()
            with urllib.request.urlopen(f"{base}{shares[0]}/panels", timeout=300) as r:
                r.read()
            wall = time.time() - start
            time.sleep(0.5)
            during = [r for _, r in samples[before:]]
            computations.append({"rss_before_mib": round(during[0] / MIB), "peak_mib": round(max(during) / MIB),
                                 "seconds": round(wall, 2)})
    finally:
        done.set()
        if sampler.is_alive():
            sampler.join()
        server.terminate()
        server.wait()
    tenth = max(1, fed // 10)
    tenths = [{"max_mib": round(max(r for _, r in samples[i:min(i + tenth, fed)]) / MIB),
               "min_mib": round(min(r for _, r in samples[i:min(i + tenth, fed)]) / MIB)}
              for i in range(0, fed, tenth)]
    return {"seconds": round(seconds), "rows": want, "peak_rss_mib": round(peak / MIB),
            "final_rss_mib": round(now / MIB), "tenths": tenths, "dashboard": computations}


def ingest(bin_, path, label):
    data = os.path.join(WORK, "ingest-" + label)
    shutil.rmtree(data, ignore_errors=True)
    out = subprocess.run(["/usr/bin/time", "-f", "%M %e", bin_, "ingest", path, "--data", data,
                          "--dataset", "feed", "--format", "jsonl"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"ingest failed: {out.stderr[-2000:]}")
    kb, secs = out.stderr.strip().splitlines()[-1].split()
    shutil.rmtree(data, ignore_errors=True)
    return {"peak_rss_mib": round(int(kb) / 1024), "seconds": float(secs)}


os.makedirs(WORK, exist_ok=True)
files = {}
for name, sources in (("feed", None), ("8-sources", 8)):
    path = os.path.join(WORK, f"{name}.jsonl")
    with open(path, "w") as f:
        for i in range(2 * LINES):
            event = json.loads(soak_lines(i, stamp(1_765_000_000 + i / 48))[1])
            if sources:
                event["src_ip"] = f"198.20.0.{1 + i % sources}"
            f.write(json.dumps(event) + "\n")
    files[name] = path
result = {"lines_per_path": LINES, "span_seconds": SPAN, "binaries": dict(BINS)}
for label, bin_ in BINS:
    result[label] = {"feed": feed(label, bin_),
                     "ingest": {name: ingest(bin_, path, f"{label}-{name}") for name, path in files.items()}}
print(json.dumps(result, indent=1))
