"""A portal site for the live benchmarks: the release `secviz serve` on a data folder with a
member who uploaded a small pf log (its addresses kept: the syslog receiver writes raw
ones), a live-ingest token, and dashboards with share links. Used by
bench/dashboard/soak.py and bench/live/load.py's HTTP mode (via bench/live/run.sh).
"""
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

PASSWORD = "quartz meadow lantern"


def clean_env():
    return {k: v for k, v in os.environ.items() if k not in ("SECVIZ_DATA", "SECVIZ_DATABASE_URL")}


def serve(bin_, work, data, dataset=None, extra=(), log="warn"):
    """Starts `secviz serve` (`log`: its RUST_LOG, the log going to serve.err); returns
    (process, base URL, syslog TCP address or None)."""
    args = [bin_, "serve", "--addr", "127.0.0.1:0", "--data", data, *extra]
    if dataset:
        args += ["--syslog", "127.0.0.1:0", "--syslog-dataset", dataset]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=open(os.path.join(work, "serve.err"), "a"),
                         text=True, env={**clean_env(), "RUST_LOG": log}, cwd=work)
    first = p.stdout.readline()
    base = "http://" + re.search(r"http://(\S+)", first).group(1)
    tcp = re.search(r"tcp://(\S+)", p.stdout.readline()).group(1) if dataset else None
    return p, base, tcp


def soak_lines(i, ts):
    """The i-th line of the big screen's feed (bench/dashboard), stamped `ts`: an sshd
    failure from an ever new source as an octet-counted syslog frame, and a flow from another
    as a JSON line for the HTTP endpoint."""
    src = f"198.18.{i // 250 % 250}.{1 + i % 250}"
    msg = f"<34>1 {ts} fw1 sshd 4242 - - Failed password for root from {src} port 4711 ssh2"
    line = json.dumps({"ts": ts, "src_ip": f"198.19.{i // 250 % 250}.{1 + i % 250}",
                       "dst_ip": "192.0.2.99", "dst_port": 443, "proto": "tcp"}) + "\n"
    return f"{len(msg)} {msg}", line


def stamp(t):
    """`t` (seconds since the epoch) as the feed's RFC 3339 time, to the microsecond."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1e6) % 1000000:06d}Z"


def feed_day(base, tcp, dataset, token, lines, span, chunk=1000):
    """Sends `lines` of the feed (soak_lines) over syslog (TCP, to `tcp`) and as many over the
    HTTP endpoint at once, stamped evenly over the last `span` seconds in time order, in
    rounds of `chunk` lines a path (so the lake gets the live path's small files)."""
    import socket
    start = time.time() - span
    host, port = tcp.rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
    for first in range(0, lines, chunk):
        frames, jsons = [], []
        for i in range(first, min(first + chunk, lines)):
            frame, line = soak_lines(i, stamp(start + span * i / lines))
            frames.append(frame)
            jsons.append(line)
        s.sendall("".join(frames).encode())
        req = urllib.request.Request(f"{base}/api/v1/live/{dataset}", data="".join(jsons).encode(),
                                     headers={"Authorization": f"Bearer {token}"})
        urllib.request.urlopen(req, timeout=120).read()
        time.sleep(0.5)  # a token may make 120 requests a minute
    s.close()


def stored_rows(bin_, data, dataset):
    """The rows the dataset holds, as `secviz datasets` tells (None if it cannot)."""
    out = subprocess.run([bin_, "datasets", dataset, "--json", "--data", data], capture_output=True, text=True)
    return json.loads(out.stdout)["rows"] if out.returncode == 0 else None


def wait_stored(bin_, data, dataset, want, seconds=600):
    """Waits until the dataset holds `want` rows; exits with what it holds if it never does."""
    rows = None
    for _ in range(seconds):
        rows = stored_rows(bin_, data, dataset)
        if rows and rows >= want:
            return
        time.sleep(1)
    sys.exit(f"not every line was stored: {rows} of {want} rows")


class Browser:
    """A logged-in member: cookies kept, redirects not followed."""

    def __init__(self, base):
        self.base = base
        jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k):
                return None

        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)

    def request(self, path, data=None, headers=None):
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            r = self.opener.open(req, timeout=300)
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read().decode()

    def csrf(self, path):
        return re.search(r'name="csrf" value="([^"]+)"', self.request(path)[2]).group(1)

    def form(self, path, page, fields):
        fields = {"csrf": self.csrf(page), **fields}
        return self.request(path, urllib.parse.urlencode(fields).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def multipart(self, path, page, fields):
        boundary = "----secvizbench" + str(time.time_ns())
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                 for k, v in {"csrf": self.csrf(page), **fields}.items()]
        body = ("".join(parts) + f"--{boundary}--\r\n").encode()
        return self.request(path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})


SOC_PANELS = ("findings", "event-rate", "new-sources", "new-destinations", "failed-logins", "talker-changes")


def make_site(bin_, work, dashboards=(), refresh=5):
    """A member, an upload, a token and `dashboards` with share links: each a title (the
    soak's six 15-minute panels, SOC_PANELS) or a (title, panel kinds) pair.
    Returns (data folder, dataset, token, share paths)."""
    data = os.path.join(work, "data")
    subprocess.run([bin_, "user", "add", "ana", "--data", data], check=True, capture_output=True,
                   env={**clean_env(), "SECVIZ_PASSWORD": PASSWORD})
    server, base, _ = serve(bin_, work, data)
    try:
        b = Browser(base)
        st, h, body = b.form("/login", "/login", {"username": "ana", "password": PASSWORD})
        assert st == 303, (st, body[:300])
        lines = "".join(
            f"Oct 21 06:{i // 60 % 60:02}:{i % 60:02}.000000 rule 12/0(match): block in on xl1: "
            f"10.0.{i % 7}.{1 + i % 200}.{1024 + i} > 192.0.2.{1 + i % 50}.80: S 1:1(0) win 8192 (DF)\n"
            for i in range(2000))
        st, h, body = b.multipart("/new", "/new", {
            "title": "Edge", "body": "b", "data_format": "pf", "data_year": "2025",
            "data_text": lines, "keep_addresses": "1", "confirm_keep": "1"})
        assert st == 303, (st, body[:500])
        draft = h["location"]
        for _ in range(600):
            if 'data-status="ready"' in b.request(draft)[2]:
                break
            time.sleep(0.5)
        dataset = os.listdir(os.path.join(data, "lake", "datasets"))[0]
        st, h, body = b.form("/account/tokens", "/account", {"dataset": dataset, "label": "bench", "days": "2"})
        token = re.search(r'<code class="token">([^<]+)<', body).group(1)
        shares = []
        for board in dashboards:
            title, kinds = board if isinstance(board, tuple) else (board, SOC_PANELS)
            spec = {"title": title, "refresh_seconds": refresh, "panels": [
                {"kind": k, "window": "15m"} for k in kinds]}
            st, h, body = b.form("/dashboards", "/dashboards",
                                 {"dataset": dataset, "title": "", "json": json.dumps(spec)})
            assert st == 303, (st, body[:500])
            dash = h["location"]
            st, h, body = b.form(f"{dash}/shares", dash, {"label": "wall"})
            shares.append("/s/" + re.search(r"shown this once\): <code>[^<]*/s/([^<]+)</code>", body).group(1))
        return data, dataset, token, shares
    finally:
        server.terminate()
        server.wait()
