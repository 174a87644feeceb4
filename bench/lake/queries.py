#!/usr/bin/env python3
"""The lake benchmark's queries, one text for both engines ({t} is the table), and the
DuckDB macro that gives DuckDB the same `ip_prefix` function the lake has.

    queries.py names          the query names, one a line
    queries.py sql NAME       the SQL of one query
    queries.py ordered NAME   "1" when the query's ORDER BY fixes the order of every row

The first four are the queries of issue 4 (the same text as crates/lake/benches/lake.rs).
The last two are the subnet aggregations behind the treemap and heatmap charts (issue 6):
`ip_prefix(ip, 24)` is a built-in function of the lake (one pass over the address, no
regular expression); DuckDB gets the macro below, made of integer and string functions
(split_part, try_cast, shifts, ||), no regular expression either. Both return the network
in CIDR notation ('10.1.2.0/24') and leave values that are not IPv4 addresses unchanged.
"""
import sys

QUERIES = [
    ("top_talkers", True,
     "SELECT src_ip, count(*) AS n, sum(bytes) AS b FROM {t} GROUP BY src_ip ORDER BY n DESC, src_ip LIMIT 10"),
    ("per_hour", True,
     "SELECT date_trunc('hour', time) AS h, count(*) AS n FROM {t} GROUP BY h ORDER BY h"),
    ("fan_out", True,
     "SELECT src_ip, count(DISTINCT dst_ip) AS d, count(DISTINCT dst_port) AS p FROM {t} GROUP BY src_ip ORDER BY d DESC, p DESC, src_ip LIMIT 10"),
    ("src_dst_top100", True,
     "SELECT src_ip, dst_ip, count(*) AS n FROM {t} GROUP BY src_ip, dst_ip ORDER BY n DESC, src_ip, dst_ip LIMIT 100"),
    ("treemap_subnet24", False,
     "SELECT g, l, s FROM (SELECT g, l, s, row_number() OVER (PARTITION BY g ORDER BY s DESC, l) AS rn FROM "
     "(SELECT ip_prefix(dst_ip, 24) AS g, dst_ip AS l, count(*) AS s FROM {t} GROUP BY 1, 2) AS c) AS r WHERE rn <= 20"),
    ("heatmap_subnet24", False,
     "SELECT dst_port AS x, ip_prefix(src_ip, 24) AS y, count(*) AS n FROM {t} GROUP BY 1, 2"),
]

# ip_prefix for DuckDB. `||` gives NULL when a part is NULL, so a value that is not an
# IPv4 address (try_cast fails) falls through to coalesce's second argument unchanged.
DUCKDB_MACROS = [
    """CREATE MACRO ipv4_to_int(ip) AS
         (try_cast(split_part(ip, '.', 1) AS UBIGINT) << 24) | (try_cast(split_part(ip, '.', 2) AS UBIGINT) << 16)
       | (try_cast(split_part(ip, '.', 3) AS UBIGINT) << 8) | try_cast(split_part(ip, '.', 4) AS UBIGINT)""",
    """CREATE MACRO int_to_ipv4(n) AS
         CAST((n >> 24) & 255 AS VARCHAR) || '.' || CAST((n >> 16) & 255 AS VARCHAR) || '.'
       || CAST((n >> 8) & 255 AS VARCHAR) || '.' || CAST(n & 255 AS VARCHAR)""",
    """CREATE MACRO ip_prefix(ip, bits) AS coalesce(
         int_to_ipv4(ipv4_to_int(ip) & ((CAST(4294967295 AS UBIGINT) << (32 - bits)) & 4294967295))
         || '/' || CAST(bits AS VARCHAR), ip)""",
]

if __name__ == "__main__":
    by = {n: (o, s) for n, o, s in QUERIES}
    if sys.argv[1] == "names":
        print("\n".join(n for n, _, _ in QUERIES))
    elif sys.argv[1] == "sql":
        print(by[sys.argv[2]][1])
    elif sys.argv[1] == "ordered":
        print("1" if by[sys.argv[2]][0] else "0")
