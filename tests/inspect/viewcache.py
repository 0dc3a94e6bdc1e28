#!/usr/bin/env python3
"""The per-view cache of `corm serve --cache URL` over loopback HTTP
(docs/cache.md, "Caching a page"), on the local cache and on the Redis of
CORM_TEST_REDIS (tools/redis-test-server.sh):

    viewcache.py CORM

A second request for a cached page runs 0 queries (Server-Timing), with
Django's cache_page headers (Cache-Control: max-age, Expires, Age on a
hit); HEAD takes the GET's copy; POST, 403 and 404 are never stored;
/account (per user: the corm_user cookie) never shows one user's page to
another, also under concurrent requests; a cache that is down serves every
page from the database.  Servers are started and stopped by pid (serve.py's
Server); Python's standard library only.
"""
import email.utils
import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve import Server, check  # noqa: E402
import serve  # noqa: E402


def request(s, method, path, cookie=None):
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
    c.request(method, path, headers={"Cookie": cookie} if cookie else {})
    r = c.getresponse()
    body = r.read().decode("utf-8", "replace")
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


def queries(h):
    m = re.search(r'desc="(\d+) queries"', h.get("server-timing", ""))
    return int(m.group(1)) if m else None


def page(body):
    """The page without the toolbar (that one is per request)."""
    return re.sub(r'<div id="corm-toolbar".*?</div>', "", body, flags=re.S)


def flush_redis(url):
    """FLUSHDB on the test's Redis (unix:PATH), so an earlier run's pages are gone."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(url[len("unix:"):].split("?")[0])
    s.sendall(b"*1\r\n$7\r\nFLUSHDB\r\n")
    reply = s.recv(64)
    s.close()
    return reply.startswith(b"+OK")


def run(corm, work, name, cache_url):
    s = Server(corm, work, name, "--threads", "4", "--record", "off", "--cache", cache_url)
    tag = "[%s] " % name
    try:
        # the shared page: stored on the first request, 0 queries after
        st, h, first = request(s, "GET", "/authors?fixed=1")
        check(tag + "first /authors?fixed=1: 200, 1 query, a miss",
              st == 200 and queries(h) == 1 and h.get("x-corm-cache") == "miss", "%s %s" % (st, h))
        check(tag + "Cache-Control: max-age=60", h.get("cache-control") == "max-age=60", h.get("cache-control"))
        date = email.utils.parsedate_to_datetime(h["date"]).timestamp()
        expires = email.utils.parsedate_to_datetime(h["expires"]).timestamp()
        check(tag + "Expires is the response's Date + 60 s", 59 <= expires - date <= 61, "%s / %s" % (h["date"], h["expires"]))
        check(tag + "no Age on a miss", "age" not in h)
        st, h2, second = request(s, "GET", "/authors?fixed=1")
        check(tag + "second /authors?fixed=1: 0 queries, a hit",
              st == 200 and queries(h2) == 0 and h2.get("x-corm-cache") == "hit", str(h2))
        check(tag + "the same page", page(second) == page(first) and "<table>" in first)
        check(tag + "the stored Expires and Cache-Control, an Age",
              h2.get("expires") == h["expires"] and h2.get("cache-control") == "max-age=60"
              and h2.get("age") in ("0", "1", "2"), str(h2))
        check(tag + "the toolbar of this request", 'id="corm-toolbar"' in second and "0 queries" in second)
        st, h, _ = request(s, "HEAD", "/authors?fixed=1")
        check(tag + "HEAD takes the GET's copy", st == 200 and queries(h) == 0 and h.get("x-corm-cache") == "hit", str(h))
        # another query string is another page
        st, h, naive = request(s, "GET", "/authors")
        n = queries(h)
        check(tag + "/authors (naive) is another key: a miss", n is not None and n > 1 and h.get("x-corm-cache") == "miss", str(h))
        st, h, _ = request(s, "GET", "/authors")
        check(tag + "then a hit", queries(h) == 0, str(h))
        # POST is never cached, nor given the headers
        for i in range(2):
            st, h, _ = request(s, "POST", "/authors?fixed=1")
            check(tag + "POST %d: renders (1 query), no Cache-Control" % (i + 1),
                  st == 200 and queries(h) == 1 and "cache-control" not in h, str(h))
        # a page not marked for the cache
        st, h, _ = request(s, "GET", "/books?fixed=1")
        check(tag + "/books is not cached", queries(h) == 1 and "cache-control" not in h and "x-corm-cache" not in h, str(h))
        st, h, _ = request(s, "GET", "/books?fixed=1")
        check(tag + "/books again: 1 query", queries(h) == 1, str(h))

        # the personalised page: per user, never another's
        seen = {}
        for user in ("1", "2"):
            st, h, body = request(s, "GET", "/account", "corm_user=" + user)
            seen[user] = page(body)
            check(tag + "/account of user %s: a miss, 2 queries, private" % user,
                  st == 200 and queries(h) == 2 and h.get("cache-control") == "max-age=60, private"
                  and '<p id="user">User %s</p>' % user in body, "%s %s %s" % (st, h, body[:300]))
        check(tag + "users 1 and 2 see different pages", seen["1"] != seen["2"])
        for user in ("2", "1"):
            st, h, body = request(s, "GET", "/account", "corm_user=" + user)
            check(tag + "/account of user %s again: 0 queries, their own page" % user,
                  queries(h) == 0 and page(body) == seen[user] and h.get("cache-control") == "max-age=60, private",
                  "%s %s" % (h, body[:200]))
        for i in range(2):
            st, h, body = request(s, "GET", "/account")
            check(tag + "/account without a user: 403, not stored (%d)" % (i + 1),
                  st == 403 and queries(h) == 0 and "cache-control" not in h and "corm_user=ID" in body, str(h))
            st, h, body = request(s, "GET", "/account", "corm_user=99999")
            check(tag + "/account of no such user: 404, not stored (%d)" % (i + 1),
                  st == 404 and queries(h) == 1 and "cache-control" not in h, str(h))

        # concurrent users: every answer is the asker's own page
        users = ["1", "2", "3", "4"]
        wrong = []
        lock = threading.Lock()

        def worker(k):
            for i in range(40):
                u = users[(k + i) % len(users)]
                st, h, body = request(s, "GET", "/account", "corm_user=" + u)
                if st != 200 or '<p id="user">User %s</p>' % u not in body:
                    with lock:
                        wrong.append((u, st, body[:120]))
        ts = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        check(tag + "320 concurrent /account requests of 4 users: each got their own page", not wrong, str(wrong[:3]))
    finally:
        rc = s.stop()
    err = s.stderr()
    check(tag + "SIGTERM stops the server cleanly", rc == 0, "exit %d: %s" % (rc, err[-500:]))
    return err


def main(corm):
    work = tempfile.mkdtemp(prefix="corm-viewcache-")
    run(corm, work, "local", "local:")
    redis = os.environ.get("CORM_TEST_REDIS")
    if not redis:
        check("CORM_TEST_REDIS is set (run under tools/redis-test-server.sh run --)", False)
    else:
        check("FLUSHDB on the test Redis", flush_redis(redis))
        err = run(corm, work, "redis", redis)
        m = re.search(r"cache: (\d+) hits, (\d+) misses, (\d+) sets, (\d+) errors", err)
        check("[redis] no cache errors", m is not None and m.group(4) == "0", err[-300:])
    # a cache that is down: every page from the database, nothing breaks
    s = Server(corm, work, "down", "--record", "off", "--cache", "unix:/nonexistent-corm-dir/redis.sock")
    try:
        for i in range(2):
            st, h, body = request(s, "GET", "/authors?fixed=1")
            check("[down] /authors?fixed=1 %d: 200 from the database (1 query), with the headers" % (i + 1),
                  st == 200 and queries(h) == 1 and h.get("cache-control") == "max-age=60", str(h))
    finally:
        rc = s.stop()
    err = s.stderr()
    check("[down] the server stops cleanly", rc == 0, err[-300:])
    check("[down] each failure logged and counted (a get and a store per request)",
          "corm serve: cache: 0 hits, 2 misses, 0 sets, 4 errors" in err
          and err.count("corm cache: redis cache at unix:/nonexistent-corm-dir/redis.sock") == 4, err[-600:])
    # a bad cache url is refused at start
    p = subprocess.run([corm, "serve", "--port", "0", "--record", "off", "--cache", "memcached://x",
                        "--db", "sqlite:" + os.path.join(work, "bad.db")], capture_output=True, text=True, timeout=60)
    check("a bad --cache url is refused", p.returncode == 1 and "unknown cache url 'memcached://x'" in p.stderr, p.stderr)
    subprocess.run(["rm", "-rf", work])
    print("%d passed, %d failed" % (serve.passed, serve.failed))
    return 0 if serve.failed == 0 else 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: viewcache.py CORM")
    sys.exit(main(sys.argv[1]))
