#!/usr/bin/env python3
"""Runs a shell command REPS times and writes its median wall time, median CPU time
(user + sys of the command and everything it waited for) and peak RSS (the largest single
process) as JSON. The command's stdout goes where the command sends it; a failing run ends
the benchmark with the command's exit status (nothing is masked).

    measure.py [--reps N] [--timeout SECS] --json OUT.json -- 'shell command'
    measure.py [--reps N] --pair OUT1.json 'command 1' --pair OUT2.json 'command 2' ...

--timeout stops a run that takes longer (its process group is killed); the JSON then says
"timed_out": true and the times are lower bounds. Only for baselines known to take very
long: the script that uses it must report the figure as "more than".

With --pair, the commands take turns: each of the REPS rounds runs every command once, in
the order given. A machine whose speed drifts over a minute (a neighbour on the host, a
warming cache) then slows every command alike, and the ratio of two commands is measured
on the same minutes, not one command's minute against another's.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time


def run_once(cmd, timeout):
    """One run: (wall seconds, cpu seconds, peak RSS in MB, timed out)."""
    t = time.perf_counter()
    p = subprocess.Popen(["bash", "-o", "pipefail", "-c", cmd], start_new_session=True)
    timed_out = False
    if timeout is None:
        # Waits without polling: the wall time is the command's, to the microsecond.
        _, status, usage = os.wait4(p.pid, 0)
    else:
        deadline = t + timeout
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(p.pid, signal.SIGKILL)
                _, status, usage = os.wait4(p.pid, 0)
                timed_out = True
                break
            time.sleep(0.005)
    wall = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    if code != 0 and not timed_out:
        sys.exit(f"measure.py: command failed with status {code}: {cmd}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, timed_out


def report(out, cmd, walls, cpus, rss, timed_out):
    r = {"wall": statistics.median(walls), "cpu": statistics.median(cpus), "rss_mb": rss,
         "runs": [round(x, 3) for x in walls], "cpu_runs": [round(x, 3) for x in cpus],
         "timed_out": timed_out, "load": round(os.getloadavg()[0], 1), "cmd": cmd}
    with open(out, "w") as f:
        json.dump(r, f)
    print(f"   wall {r['wall']:.3f} s  cpu {r['cpu']:.3f} s  peak RSS {rss} MB"
          f"{'  (TIMED OUT)' if timed_out else ''}  load {r['load']}  <- {cmd}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--timeout", type=float)
    ap.add_argument("--json")
    ap.add_argument("--pair", nargs=2, action="append", metavar=("OUT", "CMD"))
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    if a.pair:
        if a.json or a.cmd or a.timeout is not None:
            sys.exit("measure.py: --pair takes no --json, --timeout or command after --")
        runs = [(out, cmd, [], [], [0], [False]) for out, cmd in a.pair]
    else:
        if not a.json:
            sys.exit("measure.py: --json OUT.json -- 'command', or --pair OUT.json 'command'")
        cmd = " ".join(a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd)
        runs = [(a.json, cmd, [], [], [0], [False])]
    for _ in range(a.reps):
        for out, cmd, walls, cpus, rss, timed_out in runs:
            if timed_out[0]:
                continue
            w, c, m, t = run_once(cmd, a.timeout)
            walls.append(w)
            cpus.append(c)
            rss[0] = max(rss[0], m)
            timed_out[0] = t
    for out, cmd, walls, cpus, rss, timed_out in runs:
        report(out, cmd, walls, cpus, rss[0], timed_out[0])


if __name__ == "__main__":
    main()
