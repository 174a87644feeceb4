#!/usr/bin/env python3
"""What each panel of the big screen's dashboard costs the server: memory and time.

memory.py shows that a dashboard's computation briefly raises the server's RSS; this script
says which panel does it. It makes the soak's site (bench/live/site_setup.py) with one
dashboard per panel kind of the soak's dashboard (SOC_PANELS, 15-minute windows) plus the
whole dashboard, sends a day of the feed (feed_day: LINES over syslog and as many over HTTP,
stamped over the last SPAN seconds), waits until every line is stored and compacted, and
then has each dashboard computed ROUNDS times through its share link, a fresh interval
each. During each computation the server's RSS is sampled every 20 ms; the server's debug
log gives the job's peak as the query executor counted it (the bytes its threads held) and
its time. Then, the server stopped, `secviz analyze password-guessing --rows` reads the
day's rows under /usr/bin/time (the analysis whose query the findings panel spent most on).

With BASELINE_SECVIZ set (the binary of an earlier commit), both binaries are measured on
the same input in the same run, one after the other.

usage: [BASELINE_SECVIZ=BIN] panels.py SECVIZ_BIN WORK_DIR [LINES [SPAN [ROUNDS]]]
       (86400 lines a path over 3600 s, 3 rounds unless told)
Prints one JSON object: per binary and dashboard, the RSS before each computation and its
peak during it, the executor's count of the job's peak, and the seconds it took; the
analysis's peak RSS and seconds.
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
from site_setup import SOC_PANELS, feed_day, make_site, serve, stored_rows, wait_stored  # noqa: E402

BIN, WORK = sys.argv[1], os.path.abspath(sys.argv[2])
LINES = int(sys.argv[3]) if len(sys.argv) > 3 else 86400
SPAN = int(sys.argv[4]) if len(sys.argv) > 4 else 3600
ROUNDS = int(sys.argv[5]) if len(sys.argv) > 5 else 3
BASELINE = os.environ.get("BASELINE_SECVIZ")
BINS = ([("baseline", BASELINE)] if BASELINE else []) + [("secviz", BIN)]
MIB = 1 << 20
REFRESH = 5
BOARDS = [(k, (k,)) for k in SOC_PANELS] + [("all six", SOC_PANELS)]
# The executor's line when a job ends (RUST_LOG=secviz_sandbox=debug).
JOB_END = re.compile(r"^.*query job ended.*$", re.M)
PEAK = re.compile(r"\bpeak=(\d+)")


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1)) * 1024


def job_peaks(log_path, offset):
    """The executor's peaks of the jobs that ended after byte `offset` of the log."""
    with open(log_path, errors="replace") as f:
        f.seek(offset)
        text = re.sub(r"\x1b\[[0-9;]*m", "", f.read())
    return [int(PEAK.search(m.group(0)).group(1)) for m in JOB_END.finditer(text) if PEAK.search(m.group(0))]


def measure(label, bin_):
    work = os.path.join(WORK, label)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    data, dataset, token, shares = make_site(bin_, work, BOARDS, REFRESH)
    log_path = os.path.join(work, "serve.err")
    server, base, tcp = serve(bin_, work, data, dataset, log="warn,secviz_sandbox=debug")
    samples, done = [], threading.Event()

    def sample():
        while not done.is_set():
            samples.append(rss(server.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    boards = {}
    try:
        before = stored_rows(bin_, data, dataset)
        feed_day(base, tcp, dataset, token, LINES, SPAN)
        wait_stored(bin_, data, dataset, before + 2 * LINES)
        time.sleep(20)  # the background compaction folds the day's small files
        sampler.start()
        for (title, _), share in zip(BOARDS, shares):
            rounds = []
            for _ in range(ROUNDS):
                time.sleep(REFRESH + 1)  # a new interval: computed again
                first, offset = len(samples), os.path.getsize(log_path)
                start = time.time()
                with urllib.request.urlopen(f"{base}{share}/panels", timeout=300) as r:
                    r.read()
                wall = time.time() - start
                time.sleep(0.3)
                during = samples[first:]
                peaks = job_peaks(log_path, offset)
                rounds.append({"rss_before_mib": round(during[0] / MIB), "rss_peak_mib": round(max(during) / MIB),
                               "job_peak_mib": round(max(peaks) / MIB, 1) if peaks else None,
                               "seconds": round(wall, 2)})
            boards[title] = rounds
    finally:
        done.set()
        if sampler.is_alive():
            sampler.join()
        server.terminate()
        server.wait()
    # The analysis behind the findings panel's largest query, over the whole day's rows.
    out = subprocess.run(["/usr/bin/time", "-f", "%M %e", bin_, "analyze", "password-guessing", "--rows",
                          "--data", data, "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"analyze failed: {out.stderr[-2000:]}")
    kb, secs = out.stderr.strip().splitlines()[-1].split()
    boards["analyze password-guessing --rows (the day)"] = {"peak_rss_mib": round(int(kb) / 1024),
                                                            "seconds": float(secs)}
    return boards


os.makedirs(WORK, exist_ok=True)
result = {"lines_per_path": LINES, "span_seconds": SPAN, "binaries": dict(BINS)}
for label, bin_ in BINS:
    result[label] = measure(label, bin_)
print(json.dumps(result, indent=1))
