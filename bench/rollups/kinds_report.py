#!/usr/bin/env python3
"""The report of bench/rollups/kinds.sh: secviz's answers against DuckDB's, the planted
findings looked for, and one ROW line per analysis and kind (for BENCHMARKS.md; appended to
$BENCH_ROWS too when bench/run-all.sh collects them). Exits 1 when an answer differs or a
planted finding is missing, after printing every difference.

    kinds_report.py DIR ROWS KIND...

DIR holds, per kind, what kinds.sh wrote: NAME.json (`secviz analyze --json NAME`),
time-NAME.json (measure.py), duckdb.txt and duckdb-NAME.json (duckdb_kinds.py).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import KEYS, differences  # noqa: E402

# What bench/rollups/gen_kinds.py plants, by kind and analysis: entities (as KEYS name them)
# that must be among secviz's findings.
PLANTED = {
    ("auth", "password-guessing"): {("185.191.171.35",), ("45.135.232.19",), ("193.32.162.70",),
                                    ("91.240.118.222",), ("103.145.13.91",)},
    ("web", "web-probing"): {("45.155.205.233",), ("162.142.125.10",), ("80.82.77.139",)},
    ("dns", "dns-tunnel"): {("pqtunnel.com",)},
    ("dns", "dns"): {("10.13.13.13",)},
    ("dns", "dns-fixed-port"): {("10.7.7.7",)},
    ("dns", "beacons"): {("10.5.5.55", "10.0.0.53")},
    ("conn", "long-connections"): {("10.20.30.40", "203.0.113.77", 22), ("192.168.50.5", "52.14.88.3", 443),
                                   ("10.8.8.8", "104.18.2.9", 5900)},
    ("conn", "exfiltration"): {("10.44.4.4", "185.220.101.7"), ("192.168.9.9", "149.154.167.99")},
    ("conn", "beacons"): {("10.3.3.3", "45.77.10.20"), ("192.168.7.7", "91.219.236.18")},
    ("conn", "fan-in"): {("194.26.29.120", 31337)},
    ("conn", "fan-out"): {("10.9.9.9",)},
    ("conn", "dns-fixed-port"): {("10.4.4.4",)},
}


def found(result):
    return {tuple(f["detail"][k] for k in KEYS[f["detail"]["kind"]])
            for f in result["findings"] if f["detail"]["kind"] in KEYS}


def main():
    d, rows, kinds = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    bad, lines = [], []
    for kind in kinds:
        k = f"{d}/{kind}"
        duck = {l.split()[1]: l.split() for l in open(f"{k}/duckdb.txt")}
        for name, dl in duck.items():
            result = json.load(open(f"{k}/{name}.json"))
            if result.get("not_run"):
                bad.append(f"{kind} {name}: not run: {result['not_run']}")
            diff = differences(name, result, json.load(open(f"{k}/duckdb-{name}.json")))
            bad += [f"{kind} {name}: {x}" for x in diff]
            missing = PLANTED.get((kind, name), set()) - found(result)
            if missing:
                bad.append(f"{kind} {name}: planted findings not found: {sorted(missing)}")
            t = json.load(open(f"{k}/time-{name}.json"))
            sw, dw = t["wall"], float(dl[2])
            goal = "met" if sw < 1.0 and dw / sw >= 10 else "**missed**"
            agree = "answers agree" if not diff else "ANSWERS DIFFER"
            lines.append(f"| `{name}` over {rows:,} {kind} events, whole `secviz analyze` process, {agree} "
                         f"| under 1 s, ≥ 10× faster than DuckDB | DuckDB {dw * 1000:.0f} ms wall ({float(dl[3]) * 1000:.0f} ms CPU) "
                         f"| {sw * 1000:.0f} ms wall, {t['cpu'] * 1000:.0f} ms CPU, {t['rss_mb']} MB, read {result.get('read')} "
                         f"| {dw / sw:.1f}× | {goal} |")
    for line in lines:
        print("ROW " + line)
    if os.environ.get("BENCH_ROWS"):
        with open(os.environ["BENCH_ROWS"], "a") as f:
            f.writelines(line + "\n" for line in lines)
    if bad:
        print("ANSWERS DIFFER:\n" + "\n".join(bad))
        sys.exit(1)
    print(f"all answers agree ({len(lines)} analyses over {len(kinds)} kinds); every planted finding found")


if __name__ == "__main__":
    main()
