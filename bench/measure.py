#!/usr/bin/env python3
"""Runs a shell command REPS times and writes its median wall time, median CPU time
(user + sys of the command and everything it waited for) and peak RSS (the largest single
process) as JSON. The command's stdout goes where the command sends it; a failing run ends
the benchmark with the command's exit status (nothing is masked).

    measure.py [--reps N] [--timeout SECS] --json OUT.json -- 'shell command'

--timeout stops a run that takes longer (its process group is killed); the JSON then says
"timed_out": true and the times are lower bounds. Only for baselines known to take very
long: the script that uses it must report the figure as "more than".
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--timeout", type=float)
    ap.add_argument("--json", required=True)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = " ".join(a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd)
    walls, cpus, rss, timed_out = [], [], 0, False
    for _ in range(a.reps):
        t = time.perf_counter()
        p = subprocess.Popen(["bash", "-o", "pipefail", "-c", cmd], start_new_session=True)
        deadline = None if a.timeout is None else t + a.timeout
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                os.killpg(p.pid, signal.SIGKILL)
                _, status, usage = os.wait4(p.pid, 0)
                timed_out = True
                break
            time.sleep(0.005)
        wall = time.perf_counter() - t
        code = os.waitstatus_to_exitcode(status)
        if code != 0 and not timed_out:
            sys.exit(f"measure.py: command failed with status {code}: {cmd}")
        walls.append(wall)
        cpus.append(usage.ru_utime + usage.ru_stime)
        rss = max(rss, usage.ru_maxrss // 1024)
        if timed_out:
            break
    r = {"wall": statistics.median(walls), "cpu": statistics.median(cpus), "rss_mb": rss,
         "runs": [round(x, 3) for x in walls], "cpu_runs": [round(x, 3) for x in cpus],
         "timed_out": timed_out, "load": round(os.getloadavg()[0], 1), "cmd": cmd}
    with open(a.json, "w") as f:
        json.dump(r, f)
    print(f"   wall {r['wall']:.3f} s  cpu {r['cpu']:.3f} s  peak RSS {rss} MB"
          f"{'  (TIMED OUT)' if timed_out else ''}  load {r['load']}  <- {cmd}", file=sys.stderr)


if __name__ == "__main__":
    main()
