#!/usr/bin/env python3
"""Baseline for bench/parse/run.sh: a plain Python pf log parser, the way a quick script
would do it: one compiled regular expression per line, the csv module for the output.

It prints the same nine fields, in the same order, as the awk baseline and as
`secviz parse --fields time,rule,action,direction,interface,src_ip,src_port,dst_ip,dst_port
--to csv --no-header`: the time as the log gives it (secviz also adds the year and writes
RFC 3339), pf's rule (`57/0`), action, direction, interface, and each endpoint split into
address and port (empty when the packet has none, e.g. ICMP). Lines that do not match are
counted on stderr.

usage: pf_regex.py PF_LOG > out.csv
"""
import csv
import re
import sys

LINE = re.compile(
    r"(?P<time>\w{3} +\d+ [\d:.]+) rule (?P<rule>[^(]+)\(\w+\):? "
    r"(?P<action>\w+) (?P<dir>\w+) on (?P<iface>[^:]+): (?P<src>\S+) > (?P<dst>[^:\s]+): "
)
ENDPOINT = re.compile(r"(\d+\.\d+\.\d+\.\d+)(?:\.(\d+))?$")


def split_endpoint(e):
    m = ENDPOINT.match(e)
    return (m[1], m[2] or "") if m else (e, "")


def main():
    out = csv.writer(sys.stdout, lineterminator="\n")
    bad = 0
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                bad += 1
                continue
            src, src_port = split_endpoint(m["src"])
            dst, dst_port = split_endpoint(m["dst"])
            out.writerow([m["time"], m["rule"], m["action"], m["dir"], m["iface"],
                          src, src_port, dst, dst_port])
    print(f"rejected {bad}", file=sys.stderr)


if __name__ == "__main__":
    main()
