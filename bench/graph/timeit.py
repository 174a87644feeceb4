#!/usr/bin/env python3
"""Runs a shell command N times; prints the median wall and CPU time and the peak RSS.

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
    times, cpu, rss = [], [], 0
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.Popen(["bash", "-c", cmd])
        _, status, usage = os.wait4(p.pid, 0)
        times.append(time.perf_counter() - t)
        cpu.append(usage.ru_utime + usage.ru_stime)
        rss = max(rss, usage.ru_maxrss // 1024)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"command failed: {cmd}")
    # CPU seconds too: on a shared machine wall time mostly measures the neighbours.
    print(json.dumps({"median_s": round(statistics.median(times), 3),
                      "median_cpu_s": round(statistics.median(cpu), 3),
                      "runs": [round(x, 3) for x in times], "max_rss_mb": rss,
                      "load": round(os.getloadavg()[0], 1)}))


if __name__ == "__main__":
    main()
