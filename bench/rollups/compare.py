"""The answers of secviz's analyses against DuckDB's, judged one way for every script.

`same`: the five analyses bench/rollups/duckdb_side.py computes, for run.sh and
first-runs.sh: exact figures must be equal; estimated distinct counts within three standard
errors (4.9 %); fan-out, whose z-scores rest on estimated counts, must name the same top
source, find at least 80 % of DuckDB's sources and give their z within 10 %.

`differences`: all 14 analyses, for kinds.sh against bench/rollups/duckdb_kinds.py, every
field of every finding by the same rules (see its doc).
"""

BOUND = 3 * 0.01625


def close(a, b):
    return abs(a - b) <= BOUND * max(b, 1)


def same(name, findings, theirs):
    """(equal, secviz's answer, DuckDB's answer) of the analysis `name`: `findings` is the
    `findings` list of `secviz analyze --json`, `theirs` the duckdb-NAME.json rows."""
    det = [x["detail"] for x in findings]
    if name == "top-talkers":
        key = lambda r: (-r[1], r[0])
        a = sorted(([x["ip"], round(g["z"], 4)] for x, g in zip(det, findings)), key=key)
        b = sorted(([ip, round(z, 4)] for ip, z in theirs), key=key)
        return a == b, a, b
    if name == "rare-destinations":
        a = sorted([x["dst"], round(g["z"], 4)] for x, g in zip(det, findings))
        b = sorted([r[0], round(r[1], 4)] for r in theirs)
        return a == b, a, b
    if name == "events-over-time":
        hist = next(x for x in det if x["kind"] == "histogram")
        a = [[t, n] for t, n in hist["buckets"]]
        return a == theirs, a[:3], theirs[:3]
    if name == "top-ports":
        a = {(x["port"], x["protocol"]): (x["events"], x["sources"]) for x in det}
        b = {(r[0], r[1]): (r[2], r[3]) for r in theirs}
        ok = a.keys() == b.keys() and all(a[k][0] == b[k][0] and close(a[k][1], b[k][1]) for k in a)
        return ok, list(a.items())[:3], list(b.items())[:3]
    if name == "fan-out":
        a = [[x["src"], round(g["z"], 3)] for x, g in zip(det, findings)]
        b = [[r[0], round(r[1], 3)] for r in theirs]
        zb = dict(b)
        common = [s for s, _ in a if s in zb]
        ok = (not a and not b) or bool(
            a and b and a[0][0] == b[0][0] and len(common) >= 0.8 * len(b)
            and all(abs(z - zb[s]) <= 0.1 * max(1, abs(zb[s])) for s, z in a if s in zb))
        return ok, a, b
    raise ValueError(f"DuckDB does not compute {name}")


# Every analysis, as bench/rollups/kinds.sh compares it with bench/rollups/duckdb_kinds.py:
# findings matched by entity (the fields that name it, by kind of finding).
KEYS = {
    "talker": ("ip",), "port": ("port", "protocol"), "spike": ("start_us",), "fan_out": ("src",),
    "fan_in": ("dst", "port"), "password_guessing": ("src",), "fixed_source_port": ("client",),
    "dns_tunnel": ("domain",), "rare_destination": ("dst",), "beacon": ("src", "dst"),
    "long_connection": ("src", "dst", "port"), "web_probing": ("src",), "exfiltration": ("src", "dst"),
    "dns_name": ("name",), "dns_type": ("qtype",), "nxdomain": ("client",),
}
# A flag secviz sets on a finding whose counts are estimated from sketches, and the counts.
ESTIMATED = {
    "sources_estimated": ("sources",), "accounts_estimated": ("accounts",),
    "missing_estimated": ("missing_paths",), "names_estimated": ("names",), "clients_estimated": ("clients",),
    "estimated": ("destinations", "ports", "names", "clients"),
}
# Analyses whose z rests on counts the summaries estimate (a whole population's, even when
# the finding's own counts are exact).
Z_ON_ESTIMATES = {"fan-out", "fan-in", "dns-fixed-port", "web-probing", "dns-tunnel"}
# Figures computed in floating point (by a different sum or division order): to 1e-9.
FLOATS = {"share", "typical", "mean_length", "entropy_bits", "mean_interval_s", "stddev_s", "cv", "ratio", "seconds"}


def near(a, b, rel):
    return a is not None and b is not None and abs(a - b) <= rel * max(1.0, abs(b))


def differences(name, result, theirs):
    """What differs between secviz's answer (`secviz analyze --json NAME`: findings and
    read) and DuckDB's (duckdb_kinds.py's JSON) of the analysis `name`; empty when they
    agree: exact figures equal (floating point ones to 1e-9), z within 1e-6 relative; counts
    secviz marks as estimated within three standard errors, a DNS name's queries given as a
    range holding DuckDB's count, and z resting on estimates within 10 %
    (then at least 80 % of DuckDB's findings must be among secviz's, the first included)."""
    relaxed = result.get("read") == "summaries" and name in Z_ON_ESTIMATES
    ours = {}
    for f in result["findings"]:
        d = dict(f["detail"], z=f.get("z"))
        ours.setdefault(d["kind"], []).append(d)
    mine = {}
    for f in theirs:
        mine.setdefault(f["detail"]["kind"], []).append(dict(f["detail"], z=f["z"]))
    bad = []
    for kind in sorted(set(ours) | set(mine)):
        a, b = ours.get(kind, []), mine.get(kind, [])
        if kind == "histogram":
            if [(x["bucket_seconds"], x["buckets"]) for x in a] != [(x["bucket_seconds"], x["buckets"]) for x in b]:
                bad.append(f"histogram: secviz {[(x['bucket_seconds'], x['buckets'][:3]) for x in a]} "
                           f"!= duckdb {[(x['bucket_seconds'], x['buckets'][:3]) for x in b]}")
            continue
        key = lambda x: tuple(x[k] for k in KEYS[kind])
        ka, kb = {key(x): x for x in a}, {key(x): x for x in b}
        if relaxed:
            common = [k for k in kb if k in ka]
            if b and (len(common) < 0.8 * len(kb) or key(b[0]) not in ka):
                bad.append(f"{kind}: secviz found {sorted(ka)} where duckdb found {sorted(kb)}")
        elif ka.keys() != kb.keys():
            bad.append(f"{kind}: secviz found {sorted(ka)}, duckdb {sorted(kb)}")
        for k in ka.keys() & kb.keys():
            x, y = ka[k], kb[k]
            loose = {c for flag, cols in ESTIMATED.items() if x.get(flag) for c in cols}
            for field in y:
                if field == "z" and x[field] is not None and y[field] is not None:
                    ok = near(x[field], y[field], 0.1 if relaxed else 1e-6)
                elif field in loose:
                    ok = close(x[field], y[field])
                elif field == "spraying" and "accounts" in loose:
                    ok = True  # decided on the estimated accounts
                elif field == "queries" and x.get("queries_at_most") is not None:
                    ok = x[field] <= y[field] <= x["queries_at_most"]  # a name's range
                elif field in FLOATS and x.get(field) is not None:
                    ok = near(x[field], y[field], 1e-9)
                else:
                    ok = x.get(field) == y[field]
                if not ok:
                    bad.append(f"{kind} {k}: {field} secviz {x.get(field)!r} != duckdb {y[field]!r}")
    return bad
