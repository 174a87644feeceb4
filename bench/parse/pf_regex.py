#!/usr/bin/env python3
"""Baseline: a plain Python regex parser of pf log lines writing CSV, the way a quick
script would do it (one regex per line, csv module). Used by run.py for comparison.

usage: pf_regex.py PF_LOG > out.csv
"""
import csv
import re
import sys

LINE = re.compile(
    r"^(?P<time>\w{3} +\d+ [\d:.]+) rule (?P<rule>[^(]+)\((?P<reason>\w+)\):? "
    r"(?P<action>\w+) (?P<dir>\w+) on (?P<iface>[^:]+): (?P<src>\S+) > (?P<dst>[^:]+): (?P<rest>.*)$"
)


def split_endpoint(e):
    parts = e.split(".")
    if len(parts) == 5:
        return ".".join(parts[:4]), parts[4]
    return e, ""


def main():
    out = csv.writer(sys.stdout)
    out.writerow(["time", "rule", "action", "direction", "interface", "src_ip", "src_port", "dst_ip", "dst_port", "raw"])
    bad = 0
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = LINE.match(line)
            if not m:
                bad += 1
                continue
            s, sp = split_endpoint(m["src"])
            d, dp = split_endpoint(m["dst"])
            out.writerow([m["time"], m["rule"], m["action"], m["dir"], m["iface"], s, sp, d, dp, line])
    print(f"rejected {bad}", file=sys.stderr)


if __name__ == "__main__":
    main()
