#!/usr/bin/env python3
"""Drive `corm serve` over HTTP on loopback (docs/inspect.md).

    serve.py check CORM        the HTTP tests: findings and fixes, the
                               recorder across 1,000 concurrent requests,
                               escaping, EXPLAIN refusing a write, /metrics,
                               a non-loopback listen address without a token
    serve.py bench CORM [--requests N] [--concurrency C]
                               what the recorder adds per request: two
                               servers, recording on and off, the same load
                               in alternating rounds of one run

Servers bind 127.0.0.1 on a free port, are started and stopped by pid by
this script, and get a fresh temporary directory.  Python's standard
library only.
"""
import argparse
import http.client
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time


class Server:
    def __init__(self, corm, workdir, name, *args):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        self.portfile = os.path.join(self.dir, "port")
        self.db = os.path.join(self.dir, "shop.db")
        self.record = os.path.join(self.dir, "shop.inspect")
        self.err = open(os.path.join(self.dir, "stderr"), "w+")
        cmd = [corm, "serve", "--db", "sqlite:" + self.db, "--port", "0",
               "--port-file", self.portfile, "--scale", "50", *args]
        if "--record" not in args:
            cmd += ["--record", self.record]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.err, text=True)
        deadline = time.time() + 60
        while not os.path.exists(self.portfile) or not open(self.portfile).read().strip():
            if self.proc.poll() is not None or time.time() > deadline:
                raise SystemExit("corm serve did not start: " + self.stderr())
            time.sleep(0.05)
        self.port = int(open(self.portfile).read())

    def stderr(self):
        self.err.flush()
        self.err.seek(0)
        return self.err.read()

    def get(self, path, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        body = r.read().decode("utf-8", "replace")
        c.close()
        return r.status, dict(r.getheaders()), body

    def recorded(self, rid):
        """The panel page of request rid.  The recorder writes off the
        request path (a queue and one writer thread), but a panel page
        waits for what is queued to be written: a request that answered is
        there at once, without retrying."""
        return self.get("/__corm/request/%s" % rid)

    def stop(self):
        """SIGTERM by pid; returns the exit code."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            rc = self.proc.wait()
        self.proc.stdout.close()
        return rc


passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok   " + what)
    else:
        failed += 1
        print("FAIL " + what + (": " + detail if detail else ""))


def request_id(body):
    m = re.search(r'href="/__corm/request/(\d+)">details</a>', body)
    return int(m.group(1)) if m else None


def load(server, paths, total, concurrency):
    """total GETs of paths (round robin) from concurrency threads; returns
    (errors, seconds)."""
    lock = threading.Lock()
    state = {"next": 0, "errors": 0}

    def worker():
        conn = None
        while True:
            with lock:
                i = state["next"]
                if i >= total:
                    break
                state["next"] += 1
            try:
                c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
                c.request("GET", paths[i % len(paths)])
                r = c.getresponse()
                r.read()
                c.close()
                if r.status != 200:
                    raise RuntimeError(r.status)
            except Exception:
                with lock:
                    state["errors"] += 1
        del conn

    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return state["errors"], time.perf_counter() - t0


def metric(text, name):
    m = re.search("^" + re.escape(name) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def run_check(corm):
    work = tempfile.mkdtemp(prefix="corm-serve-")
    s = Server(corm, work, "main", "--threads", "4")
    sent = {"/books": 0}
    try:
        # the naive book list: an N+1 with its fix and both call sites
        st, h, body = s.get("/books")
        sent["/books"] += 1
        check("naive /books answers 200", st == 200, str(st))
        check("Server-Timing header", re.match(r'db;dur=[\d.]+;desc="52 queries", app;dur=', h.get("Server-Timing", "")) is not None, h.get("Server-Timing"))
        check("toolbar injected", 'id="corm-toolbar"' in body and "52 queries" in body)
        rid = request_id(body)
        st, _, page = s.recorded(rid)
        check("naive request recorded", st == 200, str(st))
        check("N+1 finding in the panel", 'data-kind="n_plus_one"' in page)
        check("its fix", "corm_select_related(qs, &quot;author&quot;) at cli/cmd_serve.c:" in page)
        check("both call sites", 'class="site">cli/cmd_serve.c:' in page and 'class="built">cli/cmd_serve.c:' in page)

        st, h, body = s.get("/books?fixed=1")
        sent["/books"] += 1
        check("fixed /books: one query", 'desc="1 queries"' in h.get("Server-Timing", ""), h.get("Server-Timing"))
        st, _, page = s.recorded(request_id(body))
        check("fixed request has no finding", "None: no N+1" in page and "data-kind=" not in page)

        for path in ("/authors", "/authors?fixed=1", "/users/1/orders", "/users/1/orders?fixed=1"):
            st, h, body = s.get(path)
            check("%s answers 200 with the toolbar" % path, st == 200 and "corm-toolbar" in body, str(st))
        st, _, page = s.recorded(request_id(s.get("/authors")[2]))
        check("count per author is a finding", 'data-kind="count_in_loop"' in page)

        # a title that is HTML is shown as text, in the app and in the panel
        q = "%3Cscript%3Edocument.title"
        st, h, body = s.get("/books?q=" + q)
        sent["/books"] += 1
        check("XSS title escaped in the page", "&lt;script&gt;document.title" in body and "<script>document.title" not in body)
        st, _, page = s.recorded(request_id(body))
        check("XSS title escaped in the panel", "&lt;script&gt;document.title" in page and "<script>document.title" not in page, re.findall(r"params: [^<]*", page)[:2])
        st, _, lst = s.get("/__corm/")
        check("request list escapes too", "<script>document.title" not in lst)

        # EXPLAIN: a plan for a SELECT, refused for a write
        st, _, plan = s.get("/__corm/explain/%s/1?fragment=1" % rid)
        check("EXPLAIN of a SELECT gives a plan", st == 200 and "SCAN" in plan, "%s %s" % (st, plan))
        st, _, body = s.get("/books/2/feature")
        wid = request_id(body)
        st, _, refusal = s.get("/__corm/explain/%s/1" % wid)
        check("EXPLAIN refuses a write", st == 403 and "not a SELECT" in refusal, "%s %s" % (st, refusal[:200]))

        # the recorder across 1,000 requests at a fixed concurrency
        before = s.get("/metrics")[2]
        paths = ["/books?fixed=1", "/books", "/authors?fixed=1", "/users/1/orders?fixed=1"]
        errors, secs = load(s, paths, 1000, 8)
        check("1,000 requests at concurrency 8 without an error", errors == 0, "%d errors" % errors)
        sent["/books"] += 500
        deadline = time.time() + 60
        while True:
            m = s.get("/metrics")[2]
            rec = metric(m, 'corm_recorder_requests_total{fate="recorded"}')
            drop = metric(m, 'corm_recorder_requests_total{fate="dropped"}')
            if rec + drop >= metric(before, 'corm_recorder_requests_total{fate="recorded"}') + 1000 or time.time() > deadline:
                break
            time.sleep(0.1)
        total_app = 1000 + 9  # and the 9 page requests above
        check("recorded + dropped = sent (%d recorded, %d dropped)" % (rec, drop), rec + drop == total_app, "%s + %s != %d" % (rec, drop, total_app))
        check("/metrics counts the route", metric(m, 'corm_http_requests_total{route="/books"}') == sent["/books"], str(metric(m, 'corm_http_requests_total{route="/books"}')))
        check("/metrics has per-fingerprint statements", "corm_request_statements_total{fingerprint=" in m)
        st, _, routes = s.get("/__corm/routes")
        check("per-route statistics", '<td class="route">/books</td>' in routes and "p95 ms" in routes)
        st, _, lst = s.get("/__corm/?sort=queries&route=%2Fbooks")
        rows = re.findall(r'<td class="n queries">(\d+)</td>', lst)
        check("request list sorted by queries, filtered by route", rows and rows[0] == "52" and all(int(a) >= int(b) for a, b in zip(rows, rows[1:])), str(rows[:5]))
        print("1,000 requests in %.2f s (%.0f requests/s)" % (secs, 1000 / secs))
    finally:
        rc = s.stop()
    check("SIGTERM stops the server cleanly", rc == 0, "exit %d: %s" % (rc, s.stderr()[-500:]))
    n = sqlite3.connect(s.record).execute("SELECT count(*) FROM requests").fetchone()[0]
    check("the recorder's file holds every recorded request (%d)" % n, n == rec, "%d != %d" % (n, rec))

    # any other address than loopback needs a token
    p = subprocess.run([corm, "serve", "--listen", "0.0.0.0", "--port", "0", "--db", "sqlite:" + os.path.join(work, "x.db")],
                       capture_output=True, text=True, timeout=60)
    check("non-loopback listen without --token is refused", p.returncode == 2 and "needs --token" in p.stderr, p.stderr)
    subprocess.run(["rm", "-rf", work])
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


def run_bench(corm, total, concurrency, rounds):
    work = tempfile.mkdtemp(prefix="corm-bench-")
    on = Server(corm, work, "on", "--threads", str(concurrency))
    off = Server(corm, work, "off", "--threads", str(concurrency), "--record", "off")
    res = {"on": [], "off": []}
    paths = {"fixed (1 query)": ["/books?fixed=1"], "naive (52 queries)": ["/books"]}
    try:
        for label, p in paths.items():
            for srv in (on, off):  # warm up
                load(srv, p, 50, concurrency)
            for r in range(rounds):
                for name, srv in (("on", on), ("off", off)) if r % 2 == 0 else (("off", off), ("on", on)):
                    errors, secs = load(srv, p, total, concurrency)
                    if errors:
                        raise SystemExit("bench: %d errors" % errors)
                    res[name].append((label, secs))
        print("recorder on vs off: %d requests x %d rounds per variant, concurrency %d, same run" % (total, rounds, concurrency))
        print("%-20s %14s %14s %14s" % ("page", "off us/req", "on us/req", "recorder adds"))
        for label in paths:
            best = {k: min(s for l, s in v if l == label) for k, v in res.items()}
            off_us = best["off"] / total * 1e6
            on_us = best["on"] / total * 1e6
            print("%-20s %14.1f %14.1f %+13.1f us (%+.1f%%)" % (label, off_us, on_us, on_us - off_us, (on_us / off_us - 1) * 100))
    finally:
        on.stop()
        off.stop()
        st = on.stderr().strip().splitlines()
        print(st[-1] if st else "")
        subprocess.run(["rm", "-rf", work])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["check", "bench"])
    ap.add_argument("corm")
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    if a.mode == "check":
        return run_check(a.corm)
    return run_bench(a.corm, a.requests, a.concurrency, a.rounds)


if __name__ == "__main__":
    sys.exit(main())
