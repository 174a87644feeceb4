#!/usr/bin/env python3
"""Inputs for bench/parse/formats.sh (issue 19): N lines of one log format, deterministic.

    gen_formats.py FORMAT LINES OUT          FORMAT: tcpdump | syslog | access | zeek

tcpdump is generated (plain `tcpdump -n` lines: time of day, TCP and UDP with flags and
lengths). syslog, access and zeek repeat the shared real samples line by line (loghub's
OpenSSH log, elastic's Apache access log, zat's Zeek conn.log with its header
once), so the parsers meet real lines; the shared folder comes from SECVIZ_SHARED.
"""
import os
import random
import sys


def real(rel):
    return os.path.join(os.environ["SECVIZ_SHARED"], "data", "real", rel)


def repeat(lines, n, out, header=()):
    with open(out, "w") as f:
        for h in header:
            f.write(h)
        i = 0
        while i < n:
            for line in lines:
                if i == n:
                    break
                f.write(line)
                i += 1


def body(path):
    with open(path, errors="replace") as f:
        return [l if l.endswith("\n") else l + "\n" for l in f if l.strip()]


def main():
    fmt, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if fmt == "tcpdump":
        r = random.Random(19)
        with open(out, "w") as f:
            for i in range(n):
                sod = 36000 + i * 3600 // max(n, 1)
                us = r.randrange(1_000_000)
                src = f"10.{r.randrange(4)}.{r.randrange(256)}.{r.randrange(1, 255)}"
                dst = f"192.0.2.{r.randrange(1, 255)}"
                sport = r.randrange(1024, 65536)
                t = f"{sod // 3600:02}:{sod // 60 % 60:02}:{sod % 60:02}.{us:06}"
                if r.random() < 0.7:
                    dport = r.choice([80, 443, 22, 25, 8080])
                    flags = r.choice(["[S]", "[S.]", "[.]", "[P.]", "[F.]", "[R]"])
                    f.write(f"{t} IP {src}.{sport} > {dst}.{dport}: Flags {flags}, seq {r.randrange(1 << 31)}, "
                            f"win {r.randrange(65536)}, length {r.randrange(0, 1460)}\n")
                else:
                    f.write(f"{t} IP {src}.{sport} > {dst}.53: UDP, length {r.randrange(20, 512)}\n")
    elif fmt == "syslog":
        # One log only: the Linux sample is of June and the OpenSSH one of December, and
        # repeating both would cross New Year at every repetition.
        repeat(body(real("loghub/OpenSSH_2k.log")), n, out)
    elif fmt == "access":
        repeat(body(real("elastic-examples/apache_logs")), n, out)
    elif fmt == "zeek":
        with open(real("zat/conn.log")) as f:
            lines = f.readlines()
        header = [l for l in lines if l.startswith("#") and not l.startswith("#close")]
        data = [l for l in lines if not l.startswith("#")]
        repeat(data, n, out, header)
    else:
        sys.exit(f"unknown format {fmt}")


main()
