#!/usr/bin/env python3
"""Syslog (or JSON-lines) load over TCP or HTTP, and how long the messages take to become
visible at the receiver.

Two modes, against any receiver on a TCP port, or secviz's live-ingest endpoint over HTTP
(`--http URL --token T`: each chunk is one POST, answered once durable):

  burst:  COUNT messages as fast as one connection takes them; the time from the first byte
          sent until the receiver shows COUNT messages is the sustained rate.
  steady: RATE messages a second for SECONDS (a chunk every 10 ms); for each chunk, the time
          from its sending until the receiver shows it: p50, p99 and max of that delay.

What "shows" means is the watcher's: `--manifest FILE` polls a secviz dataset's manifest.json
(its committed rows: what a query reads), `--file FILE` polls the file rsyslog writes (every
message the same length, so its size counts them). Both are polled every 10 ms.

Prints one JSON object.
"""
import argparse
import json
import os
import socket
import threading
import time

LENGTH = 200  # bytes of every message, newline excluded


FORMAT = "syslog"


def message(i):
    if FORMAT == "json":
        head = (f'{{"ts":"2026-12-05T10:00:{i % 60:02d}Z","src_ip":"192.0.2.{i % 250 + 1}",'
                f'"dst_ip":"198.51.100.7","dst_port":443,"id":"{i:012d}","pad":"')
        return (head + "x" * (LENGTH - len(head) - 2) + '"}').encode() + b"\n"
    head = f"<13>Dec  5 10:00:{i % 60:02d} loadhost app[7]: id={i:012d} "
    return (head + "x" * (LENGTH - len(head))).encode() + b"\n"


def chunk(start, n):
    return b"".join(message(i) for i in range(start, start + n))


class HttpSink:
    """Sends each chunk as one POST of JSON lines; returns when it is answered (durable)."""

    def __init__(self, url, token):
        import urllib.request
        self.urllib = urllib.request
        self.url, self.token = url, token

    def sendall(self, body):
        while True:
            req = self.urllib.Request(self.url, data=body, headers={"Authorization": f"Bearer {self.token}"})
            try:
                self.urllib.urlopen(req, timeout=600).read()
                return
            except Exception as e:  # a 429 says when to come back
                if getattr(e, "code", None) != 429:
                    raise
                time.sleep(float(e.headers.get("Retry-After", "1")))

    def close(self):
        pass


class Watcher:
    def __init__(self, args):
        self.args = args
        self.samples = []  # (time, count)
        self.stop = False

    def count(self):
        a = self.args
        if a.manifest:
            try:
                with open(a.manifest, "rb") as f:
                    return json.load(f).get("rows", 0) - a.base
            except (OSError, ValueError):
                return 0
        try:
            return os.stat(a.file).st_size // (LENGTH + 1) - a.base
        except OSError:
            return 0

    def run(self):
        while not self.stop:
            c = self.count()  # the time after the count: a delay is never under-stated
            self.samples.append((time.monotonic(), c))
            time.sleep(0.01)

    def first_time(self, n, after=0):
        """When the count first reached n (None if never), scanning from sample `after`."""
        for k in range(after, len(self.samples)):
            if self.samples[k][1] >= n:
                return self.samples[k][0], k
        return None, after


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tcp")
    p.add_argument("--http", help="secviz's live-ingest URL (instead of --tcp)")
    p.add_argument("--token")
    p.add_argument("--format", choices=["syslog", "json"], default="syslog")
    p.add_argument("--chunk", type=int, default=5000, help="messages per write (burst)")
    p.add_argument("--tick", type=float, default=0.01, help="seconds between chunks (steady)")
    p.add_argument("--mode", choices=["burst", "steady"], required=True)
    p.add_argument("--count", type=int, default=1_000_000)
    p.add_argument("--rate", type=int, default=10_000)
    p.add_argument("--seconds", type=int, default=30)
    p.add_argument("--manifest")
    p.add_argument("--file")
    p.add_argument("--base", type=int, default=0, help="messages already there")
    p.add_argument("--timeout", type=float, default=600)
    args = p.parse_args()
    global FORMAT
    FORMAT = args.format
    if args.http:
        sock = HttpSink(args.http, args.token)
    else:
        host, port = args.tcp.rsplit(":", 1)
        sock = socket.create_connection((host, int(port)))
    w = Watcher(args)
    t = threading.Thread(target=w.run, daemon=True)
    t.start()
    out = {"mode": args.mode, "message_bytes": LENGTH + 1, "format": args.format,
           "transport": "http" if args.http else "tcp"}
    if args.mode == "burst":
        size = args.chunk
        block = chunk(0, size)
        sent = 0
        t0 = time.monotonic()
        while sent < args.count:
            n = min(size, args.count - sent)
            sock.sendall(block if n == size else chunk(0, n))
            sent += n
        t_sent = time.monotonic()
        while w.count() < args.count:
            if time.monotonic() - t0 > args.timeout:
                raise SystemExit(f"only {w.count()} of {args.count} arrived in {args.timeout} s")
            time.sleep(0.01)
        done, _ = w.first_time(args.count)
        done = done or time.monotonic()
        out.update(
            count=args.count,
            send_seconds=round(t_sent - t0, 3),
            seconds=round(done - t0, 3),
            per_second=round(args.count / (done - t0)),
        )
    else:
        per_tick = max(1, round(args.rate * args.tick))
        ticks = round(args.seconds / args.tick)
        sends = []  # (count after this chunk, time sent)
        t0 = time.monotonic()
        i = 0
        for k in range(ticks):
            due = t0 + k * args.tick
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            # The delay counts from when the chunk starts out: over HTTP the POST returns only
            # once its lines are durable.
            at = time.monotonic()
            sock.sendall(chunk(i, per_tick))
            i += per_tick
            sends.append((i, at))
        while w.count() < i:
            if time.monotonic() - t0 > args.seconds + args.timeout:
                raise SystemExit(f"only {w.count()} of {i} arrived")
            time.sleep(0.01)
        time.sleep(0.05)
        delays = []
        k = 0
        for n, at in sends:
            seen, k = w.first_time(n, k)
            delays.append(seen - at)
        delays.sort()
        pick = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]
        out.update(
            count=i,
            rate=args.rate,
            achieved_per_second=round(i / (sends[-1][1] - t0)),
            p50_ms=round(pick(0.50) * 1000, 1),
            p99_ms=round(pick(0.99) * 1000, 1),
            max_ms=round(delays[-1] * 1000, 1),
        )
    w.stop = True
    sock.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
