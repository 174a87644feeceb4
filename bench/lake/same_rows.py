#!/usr/bin/env python3
"""Compares the rows secviz returned (`secviz query --format csv`) with DuckDB's
(duckdb_side.py's JSON) for one query; exits 1 and shows the first differences when they
are not the same rows.

    same_rows.py SECVIZ.csv DUCKDB.json ORDERED

ORDERED=1 compares row by row (the query's ORDER BY fixes every position); 0 compares the
rows as multisets. Values are compared after one canonical form on both sides: integers as
integers, other numbers to 9 significant digits, times as microseconds since the epoch
(UTC), NULL and the empty CSV cell alike.
"""
import csv
import datetime
import json
import sys


def canon(v):
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if v.is_integer() else float(f"{v:.9g}")
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return ["time", int(v.timestamp() * 1_000_000)]
    s = str(v)
    try:
        return int(s)
    except ValueError:
        pass
    try:
        return canon(float(s)) if any(ch.isdigit() for ch in s) and s.lower() not in ("nan", "inf") else s
    except ValueError:
        pass
    if len(s) >= 19 and s[4] == "-" and s[10] in "T ":
        try:
            return canon(datetime.datetime.fromisoformat(s.replace("Z", "+00:00")))
        except ValueError:
            pass
    return s


def main():
    with open(sys.argv[1], newline="") as f:
        r = csv.reader(f)
        next(r)  # header
        ours = [[canon(v) for v in row] for row in r]
    theirs = json.load(open(sys.argv[2]))
    if sys.argv[3] != "1":
        key = lambda row: json.dumps(row, sort_keys=True)
        ours, theirs = sorted(ours, key=key), sorted(theirs, key=key)
    if ours == theirs:
        print(f"   same rows: {len(ours)}", file=sys.stderr)
        return
    print(f"   DIFFERENT: secviz {len(ours)} rows, DuckDB {len(theirs)} rows", file=sys.stderr)
    shown = 0
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if a != b:
            print(f"   row {i}: secviz {a} DuckDB {b}", file=sys.stderr)
            shown += 1
            if shown == 5:
                break
    sys.exit(1)


if __name__ == "__main__":
    main()
