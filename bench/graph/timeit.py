#!/usr/bin/env python3
"""Runs a shell command N times; prints the median wall time and the largest peak RSS.

    timeit.py RUNS 'command ...'   ->   {"median_s": 1.23, "runs": [...], "max_rss_mb": 310}
"""
import json
import os
import statistics
import subprocess
import sys
import time


def main():
    runs, cmd = int(sys.argv[1]), sys.argv[2]
    times, rss = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.Popen(["bash", "-c", cmd])
        _, status, usage = os.wait4(p.pid, 0)
        times.append(time.perf_counter() - t)
        rss = max(rss, usage.ru_maxrss // 1024)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"command failed: {cmd}")
    print(json.dumps({"median_s": round(statistics.median(times), 3),
                      "runs": [round(x, 3) for x in times], "max_rss_mb": rss}))


if __name__ == "__main__":
    main()
