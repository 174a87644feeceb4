#!/usr/bin/env python3
"""The big screen's computation at the end of a soak's day, in minutes instead of an hour.

The soak (soak.py) sends a day's lines in an hour; what decides whether its screen keeps
its cadence is how long one computation of the SOC dashboard takes once the day is in.
This script makes the same site (bench/live/site_setup.py: a member, a live dataset, the
soak's dashboard of six 15-minute panels), sends LINES lines over syslog (TCP) and as many
over HTTP at once, stamped evenly over the last SPAN seconds in time order and in rounds of
CHUNK lines a path (so the lake gets the live path's small files and their compaction),
waits until every line is stored and the day is compacted, then has the dashboard computed
ROUNDS times through its share link (a fresh interval each time) and reads each
computation's panels' and analyses' milliseconds from the server's debug log.

With BASELINE_SECVIZ set (the binary of an earlier commit), the two binaries take turns on
the same data, a fresh server each, so both are measured in one run on one input (the
windows end at the clock, so the turns keep them comparable as the data ages).

usage: [BASELINE_SECVIZ=BIN] fill.py SECVIZ_BIN WORK_DIR [LINES [SPAN [ROUNDS]]]
       (86400 lines a path over 3600 s, 5 rounds, unless told)
Prints one JSON object: rows, files, and per binary each round's wall time, panels' and
analyses' milliseconds.
"""
import json
import os
import re
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "live"))
from site_setup import feed_day, make_site, serve, stored_rows, wait_stored  # noqa: E402

BIN, WORK = sys.argv[1], os.path.abspath(sys.argv[2])
LINES = int(sys.argv[3]) if len(sys.argv) > 3 else 86400
SPAN = int(sys.argv[4]) if len(sys.argv) > 4 else 3600
ROUNDS = int(sys.argv[5]) if len(sys.argv) > 5 else 5
BASELINE = os.environ.get("BASELINE_SECVIZ")
BINS = ([("baseline", BASELINE)] if BASELINE else []) + [("secviz", BIN)]
LOG = "secviz_portal=debug,secviz_lake::analyze=debug,warn"
CHUNK = 1000
REFRESH = 5
PANELS = ("findings", "event-rate", "new-sources", "new-destinations", "failed-logins", "talker-changes")
os.makedirs(WORK, exist_ok=True)

DATA, dataset, token, shares = make_site(BIN, WORK, ("SOC wall",), REFRESH)
log_path = os.path.join(WORK, "serve.err")
server, base, tcp = serve(BIN, WORK, DATA, dataset, log=LOG)


def parquet_files():
    root = os.path.join(DATA, "lake", "datasets", dataset)
    return sum(1 for _, _, fs in os.walk(root) for f in fs if f.endswith(".parquet"))


try:
    rows_before = stored_rows(BIN, DATA, dataset)
    sent_at = time.time()
    feed_day(base, tcp, dataset, token, LINES, SPAN, CHUNK)
    want = rows_before + 2 * LINES
    wait_stored(BIN, DATA, dataset, want)
    fed = time.time() - sent_at
    # Let the background compaction fold the day's small files.
    time.sleep(15)
    files = parquet_files()
finally:
    server.terminate()
    server.wait()


def log_lines(what):
    with open(log_path) as f:
        return [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in f if what in line]


def computation(base):
    """One computation of the dashboard (a new interval): its wall time, panels and analyses."""
    seen, ran = len(log_lines("dashboard computed")), len(log_lines("analysis ran"))
    t0 = time.time()
    with urllib.request.urlopen(f"{base}{shares[0]}/panels", timeout=300) as r:
        status = r.status
        r.read()
    wall = time.time() - t0
    new = log_lines("dashboard computed")[seen:]
    ms = [int(x) for x in re.findall(r"\d+", re.search(r"panel_ms=\[([^\]]*)\]", new[-1]).group(1))] if new else []
    analyses = {}
    for line in log_lines("analysis ran")[ran:]:
        name, took = re.search(r'analysis="?([^" ]+)"? ms=(\d+)', line).groups()
        analyses.setdefault(name, []).append(int(took))
    time.sleep(REFRESH + 1)  # the next request starts a new interval
    return {"status": status, "wall_ms": round(wall * 1000), "panels_ms": dict(zip(PANELS, ms)),
            "analyses_ms": analyses}


# The binaries take turns on the same data, a server each: the first computation after a
# start is a warm-up, the second is measured.
rounds = {label: [] for label, _ in BINS}
for _ in range(ROUNDS):
    for label, bin_ in BINS:
        server, base, _ = serve(bin_, WORK, DATA, log=LOG)
        try:
            computation(base)
            rounds[label].append(computation(base))
        finally:
            server.terminate()
            server.wait()
print(json.dumps({"lines_per_path": LINES, "span_seconds": SPAN, "rows": want, "parquet_files": files,
                  "feed_seconds": round(fed), "binaries": dict(BINS), "rounds": rounds}, indent=1))
