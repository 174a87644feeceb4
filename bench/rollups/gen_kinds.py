#!/usr/bin/env python3
"""Generates a CSV dataset "of its kind" for bench/rollups/kinds.sh (run with a python3 that
has duckdb): sshd-like logins, web access, Zeek-dns-like queries or Zeek-conn-like flows,
with realistic cardinalities and a few planted findings for the built-in analyses to find.

    gen_kinds.py KIND ROWS SEED OUT.csv        KIND: auth, web, dns or conn

Why DuckDB SQL and not a Python loop: 100 M rows in minutes, not hours. Every value is a
function of the row number and the seed (`hash(i, seed, salt)`), so the same arguments give
the same file; DuckDB writes the rows in row order (insertion order is preserved).

Times are epoch seconds with microseconds (`1700000000.123456`, what `secviz ingest` reads
as `time`), spread evenly over 7 days (but for auth's burst) and rising with the row
number, so every pair's events come in time order. The header names are the event columns themselves (src_ip,
dst_port, auth_result, dns_qname, http_status, src_bytes...), which the CSV parser maps by
name (crates/parse/src/text/names.rs). Inside hosts are in 10.0.0.0/8 and 192.168.0.0/16
(the private networks, secviz's default inside networks); outside hosts are public.

Planted findings (what kinds.sh expects the analyses to rank first):
  auth: a burst of 5 % of the logins within one hour (a spike of events-over-time); guessers 185.191.171.35 (root), 45.135.232.19 (admin, administrator),
        193.32.162.70 (ubuntu); 91.240.118.222 guesses oracle and then gets in; sprayer
        103.145.13.91 (a couple of tries at each of 1,500 accounts).
  web:  scanners 45.155.205.233, 162.142.125.10, 80.82.77.139 asking for about 3,000,
        1,100 and 350 distinct missing paths (404).
  dns:  tunnel under pqtunnel.com from 10.66.6.6 and 10.66.6.7 (1 % of queries, long
        random names); DGA client 10.13.13.13 (NXDOMAIN for most of its queries); 10.7.7.7
        sends every query from source port 33333; beacon 10.5.5.55 every 300 s; 20 queries
        to rare outside resolvers.
  conn: long connections (4 to 26 h) from 10.20.30.40, 192.168.50.5, 10.8.8.8;
        exfiltration 10.44.4.4 -> 185.220.101.7 (GBs) and 192.168.9.9 -> 149.154.167.99;
        beacons 10.3.3.3 -> 45.77.10.20:8443 (60 s) and 192.168.7.7 -> 91.219.236.18:4444
        (300 s); fan-in: about 300 inside hosts call 194.26.29.120:31337; scanner 10.9.9.9
        sweeping 10.20.0.0/22 on ports 1-1024; 10.4.4.4 sends its DNS from port 53; 20
        flows to rare destinations.
"""
import sys

import duckdb

T0_US = 1_700_000_000 * 1_000_000
SPAN_US = 7 * 86_400 * 1_000_000
BILLION = 1_000_000_000

# Helpers for every kind: uniform doubles and skewed indexes from the row's hashes, and
# addresses from indexes (inside_ip: 10.1.x.y, or 192.168.x.y for every fifth; public_ip:
# unique for k below 983,040, first octets of public networks only).
MACROS = """
CREATE MACRO unit(h) AS (h >> 11)::DOUBLE / 9007199254740992.0;
CREATE MACRO inside_ip(k) AS CASE WHEN k % 5 = 4
    THEN '192.168.' || ((k // 5) // 250 + 1) || '.' || ((k // 5) % 250 + 1)
    ELSE '10.' || (k // 62500 + 1) || '.' || (k // 250 % 250) || '.' || (k % 250 + 1) END;
CREATE MACRO public_ip(k) AS
    [23, 34, 45, 52, 62, 77, 91, 104, 142, 151, 176, 185, 193, 203, 212][k % 15 + 1] || '.' ||
    (k // 15 % 256) || '.' || (k // 3840 % 256) || '.' || (1 + (k * 7) % 250);
CREATE MACRO epoch_text(us) AS (us // 1000000) || '.' || lpad((us % 1000000)::VARCHAR, 6, '0');
"""


def roles(n, plants):
    """A CASE choosing each row's role from its hash `r` (0..1e9): `plants` is a list of
    (role, share) where share is a fraction of the rows, or an int: that many rows
    (expected), at most 5 % of them. Rows left over are 'bg'."""
    arms, lo = [], 0
    for role, share in plants:
        frac = min(share / n, 0.05) if isinstance(share, int) else share
        hi = lo + max(1, round(frac * BILLION))
        arms.append(f"WHEN r < {hi} THEN '{role}'")
        lo = hi
    return f"CASE {' '.join(arms)} ELSE 'bg' END"


def periodic(step, period_us, jitter, salt, j, of):
    """True on the row nearest after each beat of a period (with jitter, a share of it).
    Beacon j of `of` beats on the rows with i % of = j only, so no two beacons share a row."""
    base = f"(i // {of} * {step * of})"
    beat = f"({base} // {period_us})"
    at = f"({beat} * {period_us} + (hash({beat}, seed, {salt}) % {max(1, int(period_us * jitter))})::BIGINT)"
    return f"(i % {of} = {j} AND {base} >= {at} AND {base} - {step * of} < {at})"


def times(n, seed, burst):
    """SQL of each row's time (µs): rising with the row number, evenly over the span, or
    with `burst` = (first row, rows, seconds) packed into that many seconds (a spike for
    events-over-time); each row jittered within its own step, so times never go back."""
    if not burst:
        step = max(1, SPAN_US // n)
        return f"{T0_US} + i * {step} + (hash(i, {seed}, 99) % {step})::BIGINT"
    a, w, secs = burst
    s_in, s_out = max(1, secs * 1_000_000 // w), max(1, (SPAN_US - secs * 1_000_000) // (n - w))
    return f"""{T0_US} + CASE WHEN i < {a} THEN i * {s_out} + (hash(i, {seed}, 99) % {s_out})::BIGINT
        WHEN i < {a + w} THEN {a * s_out} + (i - {a}) * {s_in} + (hash(i, {seed}, 99) % {s_in})::BIGINT
        ELSE {a * s_out + w * s_in} + (i - {a + w}) * {s_out} + (hash(i, {seed}, 99) % {s_out})::BIGINT END"""


def base_cte(n, seed, role_case, beacons=(), burst=None):
    """Row number, time, five hashes, the role."""
    step = max(1, SPAN_US // n)
    beacon_arms = "".join(f"WHEN {periodic(step, p, jit, salt, j, len(beacons))} THEN '{name}' "
                          for j, (name, p, jit, salt) in enumerate(beacons))
    return f"""
    b0 AS (SELECT i, {seed}::UBIGINT AS seed, {times(n, seed, burst)} AS t_us,
                  (hash(i, {seed}, 0) % {BILLION})::BIGINT AS r, unit(hash(i, {seed}, 1)) AS u1,
                  unit(hash(i, {seed}, 2)) AS u2, (hash(i, {seed}, 3) >> 1)::BIGINT AS h3,
                  (hash(i, {seed}, 4) >> 1)::BIGINT AS h4
           FROM range({n}) t(i)),
    b AS (SELECT *, {f"CASE {beacon_arms} ELSE {role_case} END" if beacons else role_case} AS role FROM b0)"""


NAMES = "['alice','bob','carol','dave','erin','frank','grace','heidi','ivan','judy','mallory','oscar'," \
        "'peggy','rupert','sybil','trent','victor','walter','root','admin','deploy','git','backup','ubuntu'," \
        "'oracle','postgres','jenkins','nagios','ftp','www','test','guest','support','mysql','tomcat'," \
        "'ansible','svc','ops','dev','user']"


def acct(k):
    return f"({NAMES}[({k}) % 40 + 1] || CASE WHEN ({k}) >= 40 THEN (({k}) // 40)::VARCHAR ELSE '' END)"


def auth(n, seed):
    role = roles(n, [("g1", 0.001), ("g2", 0.0008), ("g3", 0.0005), ("gs", 0.0003), ("spray", 3000),
                     ("fail", 0.02)])
    # Failures of ordinary clients (typos) come from any client alike; successes from busy
    # clients more often. A client logs in as its own account, now and then as another.
    # A burst: 5 % of the logins within one hour, from 1700355600 (one hour into a 3-hour
    # bucket of events-over-time, so that all of it falls into that bucket).
    w = max(1, n // 20)
    first = 355_600 * 1_000_000 // max(1, (SPAN_US - 3600 * 1_000_000) // (n - w))
    return f"""WITH {base_cte(n, seed, role, burst=(first, w, 3600))},
    a AS (SELECT *, CASE WHEN role = 'fail' THEN h3 % 5000 ELSE floor(5000 * u1 * u1)::BIGINT END AS client FROM b)
    SELECT epoch_text(t_us) AS time,
      CASE role WHEN 'g1' THEN '185.191.171.35' WHEN 'g2' THEN '45.135.232.19' WHEN 'g3' THEN '193.32.162.70'
        WHEN 'gs' THEN '91.240.118.222' WHEN 'spray' THEN '103.145.13.91'
        ELSE (CASE WHEN client < 4000 THEN inside_ip(client) ELSE public_ip(client) END) END AS src_ip,
      CASE role WHEN 'g1' THEN 'root' WHEN 'g2' THEN (CASE WHEN h4 % 2 = 0 THEN 'admin' ELSE 'administrator' END)
        WHEN 'g3' THEN 'ubuntu' WHEN 'gs' THEN 'oracle' WHEN 'spray' THEN {acct('h4 % 1500')}
        ELSE {acct('CASE WHEN u2 < 0.1 THEN h4 % 300 ELSE client * 7 % 300 END')} END AS "user",
      CASE WHEN role IN ('g1', 'g2', 'g3', 'spray', 'fail') THEN 'failure'
        WHEN role = 'gs' THEN (CASE WHEN i >= {n * 97 // 100} THEN 'success' ELSE 'failure' END)
        ELSE 'success' END AS auth_result,
      'srv-' || lpad((h4 % 24)::VARCHAR, 2, '0') AS host, 'sshd' AS app
    FROM a"""


UAS = "['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'," \
      "'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15'," \
      "'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0'," \
      "'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148'," \
      "'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36'," \
      "'curl/8.5.0','Googlebot/2.1 (+http://www.google.com/bot.html)','python-requests/2.31.0']"
SCAN_DIRS = "['/wp-admin/','/phpmyadmin/','/.git/','/cgi-bin/','/admin/','/backup/','/api/v1/','/vendor/phpunit/','/.aws/','/solr/']"
SCAN_FILES = "['config.php','setup.php','.env','index.php.bak','HEAD','credentials','login.action','shell.php'," \
             "'install.php','db.sql','web.config','server-status','eval-stdin.php','debug.log','id_rsa'," \
             "'wp-config.php.old','xmlrpc.php','console','actuator','readme.html']"


def web(n, seed):
    role = roles(n, [("s1", 6000), ("s2", 2000), ("s3", 600)])
    scan = {"s1": 4000, "s2": 1500, "s3": 500}
    path = lambda m: (f"({SCAN_DIRS}[(h4 % {m}) % 10 + 1] || {SCAN_FILES}[(h4 % {m}) // 10 % 20 + 1] || "
                      f"CASE WHEN h4 % {m} >= 200 THEN '.' || ((h4 % {m}) // 200) ELSE '' END)")
    page = "floor(2000 * pow(u2, 1.5))::BIGINT"
    client = "floor(8000 * u1 * u1)::BIGINT"
    return f"""WITH {base_cte(n, seed, role)},
    w AS (SELECT *, CASE WHEN role <> 'bg' THEN (CASE WHEN h3 % 17 = 0 THEN 403 ELSE 404 END)
                    WHEN h3 % 1000 < 5 THEN 404 WHEN h3 % 1000 < 105 THEN 304 WHEN h3 % 1000 < 115 THEN 301
                    WHEN h3 % 1000 < 116 THEN 500 ELSE 200 END AS status FROM b)
    SELECT epoch_text(t_us) AS time,
      CASE role WHEN 's1' THEN '45.155.205.233' WHEN 's2' THEN '162.142.125.10' WHEN 's3' THEN '80.82.77.139'
        ELSE public_ip(20000 + {client}) END AS src_ip,
      CASE WHEN role <> 'bg' THEN 'GET' WHEN h4 % 100 < 90 THEN 'GET' WHEN h4 % 100 < 98 THEN 'POST' ELSE 'HEAD' END AS http_method,
      CASE role WHEN 's1' THEN {path(scan['s1'])} WHEN 's2' THEN {path(scan['s2'])} WHEN 's3' THEN {path(scan['s3'])}
        ELSE (CASE WHEN status = 404 THEN '/old/page-' || (h4 % 50) || '.html'
              ELSE ['/products/', '/blog/post-', '/static/js/app.', '/images/', '/docs/'][{page} % 5 + 1] || {page} END) END AS http_uri,
      status AS http_status,
      CASE status WHEN 200 THEN 500 + h4 % 50000 WHEN 404 THEN 153 WHEN 403 THEN 199 WHEN 500 THEN 512 ELSE 0 END AS bytes,
      CASE role WHEN 's1' THEN 'Mozilla/5.0 zgrab/0.x' WHEN 's2' THEN 'Nikto/2.5.0' WHEN 's3' THEN 'sqlmap/1.7.2#stable (https://sqlmap.org)'
        ELSE {UAS}[{client} % 8 + 1] END AS user_agent
    FROM w"""


SYL = "['ka','lo','mi','ne','po','ru','sa','ti','vo','xe','ba','de','fi','go','hu','ja','ke','li','mo','nu'," \
      "'pa','qi','re','so','tu','va','we','yo','zi','cha']"
LABELS = "['www','api','cdn','mail','img','static','login','m','app','edge','assets','ws']"
TLDS = "['com','net','org','io','de','fr']"


def dns(n, seed):
    role = roles(n, [("tun1", 0.008), ("tun2", 0.002), ("dga", 0.001), ("fixed", 0.0005), ("rare", 20),
                     ("nx", 0.015)])
    beacons = [("beacon", 300_000_000, 0.1, 7)]
    dmn = "floor(3000 * u2 * u2)::BIGINT"
    domain = f"({SYL}[{dmn} % 30 + 1] || {SYL}[{dmn} // 30 % 30 + 1] || '.' || {TLDS}[{dmn} // 900 % 6 + 1])"
    label = f"({LABELS}[h4 % 12 + 1] || CASE WHEN h4 % 7 = 0 THEN (h4 // 12 % 5)::VARCHAR ELSE '' END)"
    client = "floor(4000 * pow(u1, 1.5))::BIGINT"
    hexes = "md5(i::VARCHAR || '-' || seed::VARCHAR)"
    dga = "translate(substr(md5((h4 % 2000)::VARCHAR || 'dga'), 1, 12), '0123456789', 'ghijklmnop')"
    return f"""WITH {base_cte(n, seed, role, beacons)}
    SELECT epoch_text(t_us) AS time,
      CASE role WHEN 'tun1' THEN '10.66.6.6' WHEN 'tun2' THEN '10.66.6.7' WHEN 'dga' THEN '10.13.13.13'
        WHEN 'fixed' THEN '10.7.7.7' WHEN 'beacon' THEN '10.5.5.55' ELSE inside_ip({client}) END AS src_ip,
      CASE role WHEN 'fixed' THEN 33333 ELSE 1024 + h3 % 64511 END AS src_port,
      CASE WHEN role = 'rare' THEN public_ip(500000 + i % 400000)
        WHEN role = 'beacon' OR role LIKE 'tun%' THEN '10.0.0.53'
        WHEN {client} % 20 = 0 THEN '8.8.8.8' WHEN {client} % 20 = 1 THEN '1.1.1.1'
        WHEN h4 % 4 = 0 THEN '10.0.0.54' ELSE '10.0.0.53' END AS dst_ip,
      53 AS dst_port, 'udp' AS protocol,
      CASE role WHEN 'tun1' THEN substr({hexes}, 1, 40) || '.' || substr(md5({hexes}), 1, 12) || '.t.pqtunnel.com'
        WHEN 'tun2' THEN substr({hexes}, 1, 30) || '.t.pqtunnel.com'
        WHEN 'dga' THEN {dga} || '.' || ['com','net','biz'][h4 % 3 + 1]
        WHEN 'beacon' THEN 'update.telemetry-cdn.com'
        WHEN 'nx' THEN 'no-such-' || (h4 % 50) || '.' || {domain}
        ELSE (CASE WHEN h3 % 200 = 0 THEN upper({label} || '.' || {domain}) ELSE {label} || '.' || {domain} END) END AS dns_qname,
      CASE WHEN role LIKE 'tun%' THEN 'TXT' WHEN role IN ('dga', 'beacon') THEN 'A'
        ELSE ['A','A','A','A','A','A','A','A','A','A','A','A','A','AAAA','AAAA','AAAA','AAAA','AAAA','HTTPS','MX'][h3 % 20 + 1] END AS dns_qtype,
      CASE WHEN role = 'nx' OR (role = 'dga' AND h3 % 20 <> 0) THEN 'NXDOMAIN'
        WHEN role = 'bg' AND h3 % 500 = 0 THEN 'SERVFAIL' ELSE 'NOERROR' END AS dns_rcode
    FROM b"""


def conn(n, seed):
    role = roles(n, [("long", 9), ("exfil1", 500), ("exfil2", 200), ("c2", 3000), ("scan", 20000),
                     ("rare", 20), ("dns53", 0.0002)])
    beacons = [("beacon1", 60_000_000, 0.1, 11), ("beacon2", 300_000_000, 0.1, 12)]
    host = "floor(3000 * pow(u1, 1.5))::BIGINT"
    server = f"(({host} * 7919 + floor(300 * u2 * u2)::BIGINT) % 30000)"
    # Background service by h4 % 100: web, DNS to a resolver, ssh, ntp, imaps, proxy, and a
    # server's own port for every 50th server (rare ports: the fan-in's population).
    svc = "h4 % 100"
    longs = "[['10.20.30.40', '203.0.113.77', '22'], ['192.168.50.5', '52.14.88.3', '443'], ['10.8.8.8', '104.18.2.9', '5900']]"
    return f"""WITH {base_cte(n, seed, role, beacons)},
    c AS (SELECT *, CASE
        WHEN role = 'long' THEN {longs}[i % 3 + 1]
        WHEN role = 'exfil1' THEN ['10.44.4.4', '185.220.101.7', '443']
        WHEN role = 'exfil2' THEN ['192.168.9.9', '149.154.167.99', '443']
        WHEN role = 'c2' THEN [inside_ip((h3 % 300) * 10), '194.26.29.120', '31337']
        WHEN role = 'scan' THEN ['10.9.9.9', '10.20.' || (h3 % 4) || '.' || (h4 % 256), (1 + h4 % 1024)::VARCHAR]
        WHEN role = 'rare' THEN [inside_ip({host}), public_ip(500000 + i % 400000), '443']
        WHEN role = 'dns53' THEN ['10.4.4.4', '10.0.0.53', '53']
        WHEN role = 'beacon1' THEN ['10.3.3.3', '45.77.10.20', '8443']
        WHEN role = 'beacon2' THEN ['192.168.7.7', '91.219.236.18', '4444']
        WHEN {svc} < 10 THEN [inside_ip({host}), CASE WHEN h3 % 3 = 0 THEN '8.8.8.8' ELSE '10.0.0.53' END, '53']
        WHEN {svc} < 97 THEN [inside_ip({host}), public_ip({server}),
             [443, 443, 443, 443, 443, 443, 443, 443, 443, 443, 443, 80, 80, 80, 22, 123, 993, 8080][{svc} % 18 + 1]::VARCHAR]
        ELSE [inside_ip({host}), public_ip({server} // 50 * 50), (10000 + {server} // 50 * 50)::VARCHAR] END AS e
      FROM b)
    SELECT epoch_text(t_us) AS time, e[1] AS src_ip,
      CASE WHEN role = 'dns53' THEN 53 ELSE 1024 + h3 % 64511 END AS src_port,
      e[2] AS dst_ip, e[3]::INTEGER AS dst_port,
      CASE WHEN e[3] IN ('53', '123') THEN 'udp' ELSE 'tcp' END AS protocol,
      round(CASE WHEN role = 'long' THEN [14400, 32400, 93600][i % 3 + 1] + u2 * 600
        WHEN role = 'scan' THEN 0.001 + u2 * 0.01
        WHEN e[3] = '22' THEN -ln(1 - u2) * 60 ELSE -ln(1 - u2) * 3 END, 6) AS duration,
      CASE WHEN role = 'exfil1' THEN 3000000 + h3 % 5000000 WHEN role = 'exfil2' THEN 1000000 + h3 % 500000
        WHEN role = 'scan' THEN 60 ELSE 100 + h3 % 4000 END AS src_bytes,
      CASE WHEN role LIKE 'exfil%' THEN 2000 + h4 % 3000 WHEN role = 'scan' THEN 0
        ELSE 500 + floor(200000 * pow(u1 * u2, 2))::BIGINT END AS dst_bytes,
      src_bytes + dst_bytes AS bytes
    FROM c"""


KINDS = {"auth": auth, "web": web, "dns": dns, "conn": conn}


def main():
    kind, n, seed, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    if kind not in KINDS:
        sys.exit(f"gen_kinds.py: no kind {kind!r} (one of {', '.join(KINDS)})")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET preserve_insertion_order = true")
    con.execute(MACROS)
    sql = KINDS[kind](n, seed)
    con.execute(f"COPY ({sql}) TO '{out}' (FORMAT csv, HEADER true)")


if __name__ == "__main__":
    main()
