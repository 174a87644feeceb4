#!/usr/bin/env python3
"""Parsing benchmark (BENCHMARKS.md, "Parsing"): secviz-parse against a Python regex
parser, awk and `wc -l` on the same generated pf logs, plus pcap packets/s on the largest
real capture against tshark. Each command runs REPS times (default 5); the table shows the
median wall time, lines per second by wall and by CPU (user+sys) time, and the peak RSS.

usage: bench/parse/run.py [--reps N] [--skip-10m] [--skip-cli]
Run from the repository root. Writes bench/out/parse-results.md too.
PARSE_BENCH_BIN=PATH uses an already built parse_bench instead of building one.
"""
import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "bench", "out")
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
GEN = next(p for p in [os.path.join(ROOT, "..", "shared", "tools", "gen_security_data.py"),
                       "/work/shared/tools/gen_security_data.py"] if os.path.exists(p))
REAL = next(p for p in [os.path.join(ROOT, "..", "shared", "data", "real"), "/work/shared/data/real"]
            if os.path.exists(p))


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, **kw)


def measure(cmd, reps):
    """Runs `cmd` (a shell string, output to /dev/null) reps times under /usr/bin/time."""
    walls, cpus, rss = [], [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "sh", "-c", cmd + " > /dev/null"],
                           stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            sys.exit(f"failed: {cmd}\n{p.stderr}")
        u, s, m = p.stderr.strip().splitlines()[-1].split()
        walls.append(wall)
        cpus.append(float(u) + float(s))
        rss.append(int(m))
    return statistics.median(walls), statistics.median(cpus), max(rss)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--skip-10m", action="store_true")
    ap.add_argument("--skip-cli", action="store_true")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    os.chdir(ROOT)

    bench = os.environ.get("PARSE_BENCH_BIN")
    if bench:
        # A binary built earlier (e.g. while the shared build directory is busy).
        print(f"== using {bench} (PARSE_BENCH_BIN), not building", file=sys.stderr)
    else:
        print("== building the bench binary (release)", file=sys.stderr)
        sh("cargo build --release -q -p secviz-parse --example parse_bench")
        bench = os.path.join(TARGET, "release", "examples", "parse_bench")
    cli = None
    if not a.skip_cli:
        print("== building the secviz binary (release)", file=sys.stderr)
        if subprocess.run("cargo build --release -q -p secviz", shell=True).returncode == 0:
            cli = os.path.join(TARGET, "release", "secviz")
        else:
            print("   (secviz does not build right now: CLI rows skipped)", file=sys.stderr)

    pf1 = os.path.join(OUT, "pf-1m.log")
    pf10 = os.path.join(OUT, "pf-10m.log")
    if not os.path.exists(pf1):
        sh(f"python3 {GEN} --kind pf --lines 1000000 --seed 1 --out {pf1}")
    if not a.skip_10m and not os.path.exists(pf10):
        sh(f"python3 {GEN} --kind pf --lines 10000000 --seed 1 --out {pf10}")

    rows = []

    def row(name, cmd, lines, unit="lines"):
        print(f"== {name}", file=sys.stderr)
        wall, cpu, rss = measure(cmd, a.reps)
        rows.append((name, lines, wall, cpu, rss, unit))

    n1 = 1_000_000
    row("wc -l (floor)", f"wc -l {pf1}", n1)
    row("awk, split fields and print two", f"awk '{{print $10\",\"$12}}' {pf1}", n1)
    row("Python regex parser to CSV", f"python3 bench/parse/pf_regex.py {pf1}", n1)
    row("secviz-parse into Arrow batches", f"{bench} {pf1} arrow --year 2005", n1)
    row("secviz-parse to CSV, all 38 columns", f"{bench} {pf1} csv --year 2005", n1)
    if cli:
        row("`secviz parse --fields src_ip,dst_port,dst_ip --to csv`",
            f"{cli} parse {pf1} --year 2005 --fields src_ip,dst_port,dst_ip --to csv 2>/dev/null", n1)
        row("`secviz parse --to csv` (all columns)", f"{cli} parse {pf1} --year 2005 --to csv 2>/dev/null", n1)
    if not a.skip_10m:
        n10 = 10_000_000
        row("10 M lines: secviz-parse into Arrow", f"{bench} {pf10} arrow --year 2005", n10)
        row("10 M lines: secviz-parse to CSV", f"{bench} {pf10} csv --year 2005", n10)

    scanner = os.path.join(REAL, "zeek-training", "scanner.pcap")
    reps_pcap = 50
    row(f"pcap packets, scanner.pcap x{reps_pcap}", f"{bench} {scanner} arrow --repeat {reps_pcap}",
        32214 * reps_pcap, "packets")
    if shutil.which("tshark"):
        row("tshark -T fields ip.src ip.dst, scanner.pcap x1",
            f"tshark -r {scanner} -T fields -e ip.src -e ip.dst -e tcp.dstport", 32214, "packets")

    base = {r[0]: r for r in rows}
    py = base["Python regex parser to CSV"]
    lines = []
    lines.append(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, load average before: "
                 f"{os.getloadavg()[0]:.1f}; {a.reps} runs each, median.")
    lines.append("")
    lines.append("| command | records | median wall | rate (wall) | rate (CPU) | peak RSS | vs Python (CPU) |")
    lines.append("|---|---|---|---|---|---|---|")
    for name, n, wall, cpu, rss, unit in rows:
        ratio = ""
        if unit == "lines" and n == 1_000_000 and py[3] > 0 and cpu > 0:
            ratio = f"{py[3] / cpu:.1f}x"
        lines.append(f"| {name} | {n:,} {unit} | {wall:.2f} s | {n / wall / 1e6:.2f} M/s | "
                     f"{n / max(cpu, 1e-9) / 1e6:.2f} M/s | {rss / 1024:.0f} MB | {ratio} |")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(OUT, "parse-results.md"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
