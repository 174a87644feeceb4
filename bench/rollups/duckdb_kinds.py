#!/usr/bin/env python3
"""DuckDB's side of bench/rollups/kinds.sh (run with a python3 that has duckdb): every one of
secviz's 14 built-in analyses (crates/lake/src/analyze), computed in SQL from a dataset's raw
Parquet files, in-process, to give the same answer as `secviz analyze --json NAME`.

    duckdb_kinds.py DATASET_DIR REPS OUTDIR NAME...

DATASET_DIR is the dataset's folder in the lake (its manifest.json says which networks are
inside; the private ranges when it does not). Each analysis runs REPS times; prints
`duckdb NAME median_wall median_cpu rows=N` and writes OUTDIR/duckdb-NAME.json: the findings
as secviz's JSON has them, [{"detail": {"kind": ..., fields...}, "z": z or null}, ...], for
compare.py.

Same answer means the same statistic per entity, the same population for the baseline
(median and median absolute deviation, with the analysis's model for fewer than 10 entities
and its floor: crates/lake/src/analyze/baseline.rs), the same candidates and the same top
`limit` (ties in the order secviz ranks them: by entity). The little Python below only
chooses a bucket size from two numbers, merges two lists of 10 and names the columns.
"""
import ipaddress
import json
import os
import statistics
import sys
import time

import duckdb

LIMIT = 10
# Ports too common for a server on them to be rare (crates/lake/src/analyze/flows.rs).
COMMON_PORTS = "20, 21, 22, 25, 53, 80, 110, 123, 143, 443, 465, 587, 853, 993, 995"
# Names the entropy of a DNS tunnel is measured on (the first in text order).
DOMAIN_SAMPLE = 64
BUCKETS = [1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 10_800, 21_600, 43_200, 86_400, 604_800]
IS_QUERY = "(dst_port = 53 OR dns_qname IS NOT NULL)"
DOMAIN = "reverse(concat(split_part(reverse(name), '.', 1), '.', split_part(reverse(name), '.', 2)))"


def baseline(name, src, x, model, floor, where="TRUE"):
    """CTEs `name` (m, mad, floor) of the statistic `x` over the rows of `src` (Baseline::of)."""
    return f"""{name}_n AS (SELECT count(*) AS n, CASE WHEN count(*) >= 10 THEN median({x}) ELSE {model} END AS m
                    FROM {src} WHERE {where}),
    {name} AS (SELECT any_value({name}_n.m) AS m, {floor} AS fl,
                      CASE WHEN any_value({name}_n.n) >= 10 THEN median(abs({x} - {name}_n.m)) ELSE 0 END AS mad
               FROM {src}, {name}_n WHERE {where})"""


def z(x, b):
    return f"(({x}) - {b}.m) / (1.4826 * greatest({b}.mad, {b}.fl))"


def inside(col, nets):
    """SQL true when `col` is in one of the networks (InsideNetworks::sql_predicate)."""
    parts = []
    for net in nets:
        n = ipaddress.ip_network(net, strict=False)
        if n.version == 6:
            if str(n) != "fc00::/7":
                raise SystemExit(f"duckdb_kinds.py: inside network {n} is not supported (IPv4, or fc00::/7)")
            parts.append(f"regexp_matches({col}, '^f[cd][0-9a-f]{{2}}:')")
            continue
        whole, rest = divmod(n.prefixlen, 8)
        octets = n.network_address.packed
        p = [f"starts_with({col}, '{'.'.join(str(o) for o in octets[:whole])}.')"] if whole else \
            [f"regexp_matches({col}, '^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$')"]
        if rest:
            lo = octets[whole]
            p.append(f"TRY_CAST(split_part({col}, '.', {whole + 1}) AS INTEGER) BETWEEN {lo} AND {lo + 2 ** (8 - rest) - 1}")
        parts.append("(" + " AND ".join(p) + ")")
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


def records(con, sql):
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def findings(kind, rows):
    """Rows with a `z` column as secviz's findings of one kind."""
    return [{"detail": {"kind": kind, **{k: v for k, v in r.items() if k != "z"}}, "z": r.get("z")} for r in rows]


def score(z):
    return 0.0 if z is None or z != z or z <= 0 else 1.0 - 2.0 ** (-z / 6.0)


def top_talkers(con, ctx):
    rows = records(con, f"""
    WITH per AS (SELECT src_ip AS ip, count(*) AS events, greatest(coalesce(sum(bytes), 0), 0)::BIGINT AS bytes
                 FROM ev WHERE src_ip IS NOT NULL GROUP BY src_ip),
    tot AS (SELECT sum(events)::DOUBLE AS te, sum(bytes)::DOUBLE AS tb FROM per),
    {baseline('be', 'per', 'ln(1 + events)', 0, 0.5)},
    {baseline('bb', 'per', 'ln(1 + bytes)', 0, 0.5, 'bytes > 0')},
    a AS (SELECT ip, events, bytes, events / greatest(te, 1) AS share, {z('ln(1 + events)', 'be')} AS z, 0 AS by_bytes
          FROM per, tot, be ORDER BY z DESC, ip LIMIT {LIMIT}),
    c AS (SELECT ip, events, bytes, bytes / greatest(tb, 1) AS share, {z('ln(1 + bytes)', 'bb')} AS z, 1 AS by_bytes
          FROM per, tot, bb WHERE bytes > 0 AND tb > 0 ORDER BY z DESC, ip LIMIT {LIMIT})
    SELECT * FROM a UNION ALL SELECT * FROM c ORDER BY by_bytes""")
    out = {}  # a host on both lists once, with the higher score (the first on a tie)
    for r in rows:
        r.pop("by_bytes")
        if r["ip"] not in out or score(out[r["ip"]]["z"]) < score(r["z"]):
            out[r["ip"]] = r
    return findings("talker", out.values())


def top_ports(con, ctx):
    return findings("port", records(con, f"""
    SELECT dst_port AS port, protocol, count(*) AS events, count(DISTINCT src_ip) AS sources FROM ev
    WHERE dst_port IS NOT NULL GROUP BY ALL ORDER BY events DESC, port, protocol NULLS FIRST LIMIT {LIMIT}"""))


def events_over_time(con, ctx):
    lo, hi = con.execute("SELECT min(epoch_us(time)), max(epoch_us(time)) FROM ev WHERE time IS NOT NULL").fetchone()
    if lo is None:
        return []
    span = max(1, -(-max(hi - lo, 0) // 1_000_000))
    sec = next((b for b in BUCKETS if -(-span // b) <= 60), BUCKETS[-1])
    b = sec * 1_000_000
    rows = records(con, f"""
    WITH c AS (SELECT epoch_us(time) // {b} AS k, count(*) AS n FROM ev WHERE time IS NOT NULL GROUP BY k),
    d AS (SELECT g.k * {b} AS start_us, coalesce(c.n, 0)::DOUBLE AS n FROM range({lo // b}, {hi // b + 1}) g(k) LEFT JOIN c USING (k)),
    s AS (SELECT count(*) AS cnt, median(n) AS m FROM d),
    a AS (SELECT median(abs(n - s.m)) AS mad FROM d, s)
    SELECT start_us, n::BIGINT AS events, s.m AS typical,
           CASE WHEN s.cnt >= 10 AND n >= 10 AND n >= 3 * greatest(s.m, 1)
                THEN (n - s.m) / (1.4826 * greatest(a.mad, greatest(sqrt(s.m), 1))) END AS z
    FROM d, s, a ORDER BY start_us""")
    out = [{"detail": {"kind": "histogram", "bucket_seconds": sec, "buckets": [[r["start_us"], r["events"]] for r in rows]},
            "z": None}]
    spikes = sorted((r for r in rows if r["z"] is not None), key=lambda r: -r["events"])[:5]
    return out + [{"detail": {"kind": "spike", "start_us": r["start_us"], "bucket_seconds": sec, "events": r["events"],
                              "typical": r["typical"]}, "z": r["z"]} for r in spikes]


def fan_out(con, ctx):
    return findings("fan_out", records(con, f"""
    WITH n AS (SELECT src_ip, concat(split_part(dst_ip, '.', 1), '.', split_part(dst_ip, '.', 2), '.',
                      split_part(dst_ip, '.', 3)) AS net, count(DISTINCT dst_ip) AS hosts
               FROM ev WHERE src_ip IS NOT NULL AND dst_ip IS NOT NULL GROUP BY ALL),
    w AS (SELECT src_ip, max(hosts) AS sweep FROM n GROUP BY src_ip),
    b AS (SELECT src_ip, count(DISTINCT dst_ip) AS dsts, count(DISTINCT dst_port) AS ports, count(*) AS events
          FROM ev WHERE src_ip IS NOT NULL GROUP BY src_ip),
    per AS (SELECT b.*, coalesce(w.sweep, 0) AS sweep FROM b LEFT JOIN w USING (src_ip)),
    {baseline('bp', 'per', 'ln(1 + ports)', 'ln(2)', 0.25)},
    {baseline('bd', 'per', 'ln(1 + dsts)', 'ln(2)', 0.35)},
    {baseline('bw', 'per', 'ln(1 + sweep)', 'ln(2)', 0.35)}
    SELECT src_ip AS src, dsts AS destinations, ports, events,
           greatest({z('ln(1 + ports)', 'bp')}, {z('ln(1 + dsts)', 'bd')}, {z('ln(1 + sweep)', 'bw')}) AS z
    FROM per, bp, bd, bw WHERE greatest(dsts, ports) >= 10 ORDER BY z DESC, src LIMIT {LIMIT}"""))


def fan_in(con, ctx):
    return findings("fan_in", records(con, f"""
    WITH s AS (SELECT dst_ip, dst_port, count(DISTINCT src_ip) AS sources, count(*) AS events FROM ev
               WHERE src_ip IS NOT NULL AND dst_ip IS NOT NULL AND dst_port IS NOT NULL
                 AND {inside('src_ip', ctx['inside'])} AND NOT {inside('dst_ip', ctx['inside'])} GROUP BY ALL),
    p AS (SELECT dst_port, count(*) AS servers FROM s GROUP BY dst_port),
    r AS (SELECT s.* FROM s JOIN p USING (dst_port) WHERE p.servers <= 2 AND s.dst_port NOT IN ({COMMON_PORTS})),
    {baseline('b', 'r', 'ln(1 + sources)', 'ln(2)', 0.35)}
    SELECT dst_ip AS dst, dst_port AS port, sources, events, {z('ln(1 + sources)', 'b')} AS z
    FROM r, b WHERE sources >= 3 ORDER BY z DESC, dst, port LIMIT {LIMIT}"""))


def password_guessing(con, ctx):
    return findings("password_guessing", records(con, f"""
    WITH per AS (SELECT src_ip AS src, sum(CASE WHEN auth_result = 'failure' THEN 1 ELSE 0 END) AS failures,
                        count(DISTINCT CASE WHEN auth_result = 'failure' THEN "user" END) AS accounts,
                        sum(CASE WHEN auth_result = 'success' THEN 1 ELSE 0 END) AS successes,
                        min(CASE WHEN auth_result = 'failure' THEN "user" END) AS example_account,
                        min(CASE WHEN auth_result = 'success' THEN "user" END) AS got_in_as
                 FROM ev WHERE src_ip IS NOT NULL AND auth_result IS NOT NULL GROUP BY src_ip),
    {baseline('b', 'per', 'ln(1 + failures)', 0, 0.3)}
    SELECT src, failures, accounts, successes, accounts >= 5 AND failures <= 3 * accounts AS spraying,
           example_account, got_in_as, {z('ln(1 + failures)', 'b')} AS z
    FROM per, b WHERE failures >= 5 ORDER BY z DESC, src LIMIT {LIMIT}"""))


def web_probing(con, ctx):
    return findings("web_probing", records(con, f"""
    WITH per AS (SELECT src_ip AS src, count(DISTINCT CASE WHEN http_status = 404 THEN http_uri END) AS missing_paths,
                        count(*) AS requests, min(CASE WHEN http_status = 404 THEN http_uri END) AS example_path
                 FROM ev WHERE src_ip IS NOT NULL AND http_status IS NOT NULL GROUP BY src_ip),
    {baseline('b', 'per', 'ln(1 + missing_paths)', 0, 0.35)}
    SELECT src, missing_paths, requests, example_path, {z('ln(1 + missing_paths)', 'b')} AS z
    FROM per, b WHERE missing_paths >= 10 ORDER BY z DESC, src LIMIT {LIMIT}"""))


def dns_fixed_port(con, ctx):
    x = "ln(queries::DOUBLE / greatest(ports, 1))"
    return findings("fixed_source_port", records(con, f"""
    WITH per AS (SELECT src_ip AS client, count(DISTINCT src_port) AS ports, count(*) AS queries, min(src_port) AS port
                 FROM ev WHERE src_ip IS NOT NULL AND src_port IS NOT NULL AND {IS_QUERY} GROUP BY src_ip),
    {baseline('b', 'per', x, 0, 0.25)}
    SELECT client, port, queries, {z(x, 'b')} AS z FROM per, b WHERE ports = 1 AND queries >= 5
    ORDER BY z DESC, queries DESC, client LIMIT {LIMIT}"""))


def dns_tunnel(con, ctx):
    return findings("dns_tunnel", records(con, f"""
    WITH q AS (SELECT lower(rtrim(dns_qname, '.')) AS name, src_ip FROM ev WHERE dns_qname IS NOT NULL),
    d AS (SELECT name, src_ip, {DOMAIN} AS domain FROM q WHERE strpos(name, '.') > 0),
    per AS (SELECT domain, count(DISTINCT name) AS names, count(*) AS queries,
                   avg(length(name) - length(domain) - 1) AS mean_length, count(DISTINCT src_ip) AS clients
            FROM d GROUP BY domain),
    {baseline('b', 'per', 'ln(1 + names)', 'ln(2)', 0.35)},
    top AS (SELECT domain, names, queries, clients, mean_length, {z('ln(1 + names)', 'b')} AS z
            FROM per, b WHERE names >= 20 AND mean_length >= 20 ORDER BY z DESC, domain LIMIT {LIMIT}),
    s AS (SELECT domain, name FROM (SELECT DISTINCT domain, name FROM d SEMI JOIN top USING (domain) WHERE name <> domain)
          QUALIFY row_number() OVER (PARTITION BY domain ORDER BY name) <= {DOMAIN_SAMPLE}),
    ch AS (SELECT domain, unnest(string_split(replace(left(name, length(name) - length(domain) - 1), '.', ''), '')) AS c FROM s),
    f AS (SELECT domain, count(*) / sum(count(*)) OVER (PARTITION BY domain) AS p FROM ch WHERE c <> '' GROUP BY domain, c),
    e AS (SELECT domain, -sum(p * log2(p)) AS entropy_bits FROM f GROUP BY domain)
    SELECT top.domain, names, queries, clients, mean_length, coalesce(entropy_bits, 0) AS entropy_bits, z
    FROM top LEFT JOIN e USING (domain) ORDER BY z DESC, domain"""))


def rare_destinations(con, ctx):
    x = "-ln(1 + events)"
    return findings("rare_destination", records(con, f"""
    WITH per AS (SELECT dst_ip AS dst, count(*) AS events, count(DISTINCT src_ip) AS sources, min(src_ip) AS source,
                        min(epoch_us(time)) AS first_us FROM ev WHERE dst_ip IS NOT NULL GROUP BY dst_ip),
    {baseline('b', 'per', x, '-ln(2)', 0.5)}
    SELECT dst, events, source, first_us, {z(x, 'b')} AS z FROM per, b WHERE events <= 2 AND sources <= 1
    ORDER BY z DESC, first_us NULLS FIRST, dst LIMIT {LIMIT}"""))


def beacons(con, ctx):
    # z is capped by how steady random arrivals would look among as many pairs
    # (crates/lake/src/analyze/time.rs: ln_chance_of_steadiness, chance_z).
    ln_chance = """CASE WHEN gaps < 2 THEN 0 ELSE least((gaps - 1) / 2 * ln(pi()) + (gaps - 1) * ln(greatest(cv, 1e-9) / sqrt(gaps))
                   - lgamma((gaps - 1) / 2 + 1) - (0.5 * ln(gaps) - lgamma(gaps)), 0) END"""
    return findings("beacon", records(con, f"""
    WITH g AS (SELECT src_ip, dst_ip, epoch_us(time) - lag(epoch_us(time)) OVER (PARTITION BY src_ip, dst_ip ORDER BY time) AS gap
               FROM ev WHERE src_ip IS NOT NULL AND dst_ip IS NOT NULL AND time IS NOT NULL),
    p AS (SELECT src_ip AS src, dst_ip AS dst, count(gap) + 1 AS events, avg(gap) / 1e6 AS mean,
                 coalesce(stddev_pop(gap), 0) / 1e6 AS sd
          FROM g WHERE gap IS NOT NULL GROUP BY ALL HAVING count(gap) + 1 >= 8),
    y AS (SELECT *, CASE WHEN mean > 0 THEN sd / mean ELSE 0 END AS cv, (events - 1)::DOUBLE AS gaps FROM p),
    t AS (SELECT count(*) AS tries FROM y),
    {baseline('b', 'y', '-ln(greatest(cv, 0.01))', 0, 0.15)},
    c AS (SELECT y.*, {z('-ln(greatest(cv, 0.01))', 'b')} AS zb, {ln_chance} + ln(greatest(tries, 1)) AS lx
          FROM y, b, t WHERE cv <= 0.25 AND mean >= 1)
    SELECT src, dst, events, mean AS mean_interval_s, sd AS stddev_s, cv,
           least(zb, CASE WHEN lx >= 0 THEN 0 ELSE 6 * lx / ln(1e-5) END) AS z
    FROM c ORDER BY z DESC, src, dst LIMIT {LIMIT}"""))


def long_connections(con, ctx):
    x = "ln(1 + greatest(seconds, 0))"
    return findings("long_connection", records(con, f"""
    WITH per AS (SELECT src_ip AS src, dst_ip AS dst, dst_port AS port, max(duration) AS seconds, count(*) AS connections
                 FROM ev WHERE duration IS NOT NULL AND src_ip IS NOT NULL AND dst_ip IS NOT NULL GROUP BY ALL),
    {baseline('b', 'per', x, 'ln(2)', 0.5)}
    SELECT src, dst, port, seconds, connections, {z(x, 'b')} AS z FROM per, b WHERE seconds >= 1800
    ORDER BY z DESC, src, dst, port NULLS FIRST LIMIT {LIMIT}"""))


def exfiltration(con, ctx):
    x = "ln(1 + sent::DOUBLE)"
    return findings("exfiltration", records(con, f"""
    WITH per AS (SELECT src_ip AS src, dst_ip AS dst, sum(src_bytes)::BIGINT AS sent, sum(dst_bytes)::BIGINT AS received FROM ev
                 WHERE src_bytes IS NOT NULL AND dst_bytes IS NOT NULL AND src_ip IS NOT NULL AND dst_ip IS NOT NULL
                   AND {inside('src_ip', ctx['inside'])} AND NOT {inside('dst_ip', ctx['inside'])} GROUP BY ALL),
    {baseline('b', 'per', x, 'ln(1001)', 0.5)}
    SELECT src, dst, sent, received, {z(x, 'b')} AS z FROM per, b
    WHERE sent >= 1000000 AND sent >= 10 * greatest(received, 1) ORDER BY z DESC, src, dst LIMIT {LIMIT}"""))


def dns(con, ctx):
    names = records(con, f"""SELECT lower(rtrim(dns_qname, '.')) AS name, count(*) AS queries FROM ev
        WHERE dns_qname IS NOT NULL GROUP BY name ORDER BY queries DESC, name LIMIT {LIMIT}""")
    types = records(con, f"""SELECT upper(dns_qtype) AS qtype, count(*) AS queries FROM ev
        WHERE dns_qtype IS NOT NULL GROUP BY qtype ORDER BY queries DESC, qtype LIMIT {LIMIT}""")
    clients = records(con, f"""
    WITH per AS (SELECT src_ip AS client, count(*) AS queries,
                        sum(CASE WHEN upper(dns_rcode) IN ('NXDOMAIN', '3') THEN 1 ELSE 0 END) AS nxdomain FROM ev
                 WHERE src_ip IS NOT NULL AND dns_rcode IS NOT NULL AND {IS_QUERY} GROUP BY src_ip),
    tot AS (SELECT sum(queries)::BIGINT AS q, sum(nxdomain)::BIGINT AS nx FROM per),
    pop AS (SELECT *, nxdomain / greatest(queries, 1) AS ratio FROM per WHERE queries >= 10),
    {baseline('b', 'pop', 'ratio', 0.05, 0.05)},
    r AS (SELECT client, queries, nxdomain, ratio, {z('ratio', 'b')} AS z FROM pop, b WHERE ratio >= 0.5
          ORDER BY z DESC, client LIMIT {LIMIT})
    SELECT NULL AS client, q AS queries, nx AS nxdomain, nx / q AS ratio, NULL AS z FROM tot WHERE q > 0
    UNION ALL SELECT * FROM r""")
    return findings("dns_name", names) + findings("dns_type", types) + findings("nxdomain", clients)


ANALYSES = {
    "top-talkers": top_talkers, "top-ports": top_ports, "events-over-time": events_over_time, "fan-out": fan_out,
    "fan-in": fan_in, "password-guessing": password_guessing, "web-probing": web_probing,
    "dns-fixed-port": dns_fixed_port, "dns-tunnel": dns_tunnel, "rare-destinations": rare_destinations,
    "beacons": beacons, "long-connections": long_connections, "exfiltration": exfiltration, "dns": dns,
}


def inside_networks(dataset):
    """The dataset's inside networks as its manifest keeps them; the private ranges when it
    keeps none (crates/lake/src/analyze/mod.rs, inside_networks)."""
    m = json.load(open(os.path.join(dataset, "manifest.json")))
    nets = m.get("inside")
    if isinstance(nets, str):
        nets = nets.replace(",", " ").split()
    return nets or ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]


def main():
    dataset, reps, outdir, names = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
    unknown = [n for n in names if n not in ANALYSES]
    if unknown:
        sys.exit(f"duckdb_kinds.py: no analysis {', '.join(unknown)}")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE VIEW ev AS SELECT * FROM read_parquet('{dataset}/*/*.parquet', hive_partitioning = false)")
    ctx = {"inside": inside_networks(dataset)}
    for name in names:
        walls, cpus = [], []
        for _ in range(reps):
            w, c = time.perf_counter(), time.process_time()
            found = ANALYSES[name](con, ctx)
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
        with open(f"{outdir}/duckdb-{name}.json", "w") as out:
            json.dump(found, out)
        print(f"duckdb {name} {statistics.median(walls):.4f} {statistics.median(cpus):.4f} rows={len(found)}", flush=True)


if __name__ == "__main__":
    main()
