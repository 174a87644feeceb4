"""The answers of secviz's analyses against DuckDB's, for the five analyses DuckDB computes
in bench/rollups/duckdb_side.py. Shared by run.sh and first-runs.sh, so both judge the same
way: exact figures must be equal; estimated distinct counts within three standard errors
(4.9 %); fan-out, whose z-scores rest on estimated counts, must name the same top source,
find at least 80 % of DuckDB's sources and give their z within 10 %.
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
