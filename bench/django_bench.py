#!/usr/bin/python3
"""django_bench.py - the benchmark's scenarios in Django's ORM, on the same
SQLite file as the C variants (bench/djbench: settings and models over
corm's tables, managed=False, no migrations, no network), or with --db
postgresql:... on the same PostgreSQL database (Django's postgresql
backend, psycopg2).

    python3 bench/django_bench.py --db FILE --scale N --scenario NAME
                                  [--warmup W] [--reps R]

prints one JSON line like corm-bench's: {"scenario", "variant": "django",
"ms": [...], "check", "queries", "base_kb"}.  The data helpers mirror
bench/common.c exactly (bulk_create writes the same rows in every variant).
The connection gets corm's settings (WAL is in the file; foreign keys on,
as Django always does; synchronous=NORMAL), so only the ORM differs.
"""
import argparse
import datetime
import json
import os
import resource
import sys
import time
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# ------------------------------------------------------------ data (common.c)

M64 = (1 << 64) - 1
WORDS = [
    "ancient", "river", "shadow", "garden", "empire", "winter", "machine", "letters",
    "silent", "harbor", "crimson", "journey", "mountain", "library", "glass", "orchard",
    "northern", "voices", "lantern", "forest", "hidden", "atlas", "copper", "tide",
    "stranger", "island", "morning", "archive", "thunder", "compass", "velvet", "frontier",
]


def mix(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def text(seed, length):
    out, n, k = [], 0, 0
    while n < length:
        w = WORDS[mix((seed * 1000003 + k) & M64) % 32]
        n += len(w) + (1 if out else 0)
        out.append(w)
        k += 1
    return " ".join(out)


def title(i):
    h = mix(i)
    return "The %s %s of %s, vol. %d" % (WORDS[h % 32], WORDS[(h >> 8) % 32],
                                          WORDS[(h >> 16) % 32], i)


EPOCH = datetime.datetime(2023, 1, 1)


def params(scale):
    return {
        "books": scale, "authors": max(1, scale // 10), "users": max(1, scale // 10),
        "publishers": 50, "nplus1_books": min(1000, scale),
        "count_exists_authors": min(1000, max(1, scale // 10)),
        "bulk_create_books": scale, "bulk_update_books": max(1, scale // 10),
        "annotate_min": 10, "exists_pages": 900, "iter_chunk": 2000,
        "deep_per_page": max(1, scale // 1000),
        "deep_after": max(0, (scale + max(1, scale // 1000) - 1) // max(1, scale // 1000) * 9 // 10 - 1)
        * max(1, scale // 1000),
    }


DESC_POOL = [text(7000000 + j, 480 + j % 41) for j in range(64)]


def book_values(p, i):
    """The fields of book number i, as bench_book_fill makes them."""
    if i % 10 == 0:
        pub_date = None
    else:
        secs = (mix(i * 3 + 2) % (15 * 365)) * 86400 - 8 * 365 * 86400
        pub_date = (EPOCH + datetime.timedelta(seconds=secs)).date()
    return dict(
        title=title(i),
        author_id=1 + mix(i * 2 + 1) % p["authors"],
        publisher_id=None if i % 7 == 0 else 1 + (i * 31) % p["publishers"],
        published_date=pub_date,
        isbn="978%010d" % i,
        pages=50 + mix(i * 5 + 3) % 950,
        price=Decimal(499 + mix(i * 7 + 4) % 5000) / 100,
        description=DESC_POOL[i % 64],
        featured=i % 10 == 0,
    )


def peak_kb():
    """VmHWM: the peak RSS of this process image (ru_maxrss would include
    the runner's, carried over exec by Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# ------------------------------------------------------------ scenarios

def setup_django(db):
    os.environ["BENCH_DB"] = db
    os.environ["DJANGO_SETTINGS_MODULE"] = "djbench.settings"
    import django
    from django.db.backends.signals import connection_created

    def pragmas(sender, connection, **kwargs):
        if connection.vendor != "sqlite":
            return
        with connection.cursor() as cur:
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=5000")

    connection_created.connect(pragmas)
    django.setup()


def scenarios(p):
    from django.db import connection
    from django.db.models import Count, F, Prefetch
    from djbench.models import Author, Book, Order, User

    def n_plus_one(state):
        check = 0
        for b in Book.objects.order_by("id")[:p["nplus1_books"]]:
            check += len(b.author.name) + 1      # the N+1: one query per book
        return check

    def select_related(state):
        check = 0
        for b in Book.objects.select_related("author", "publisher"):
            a, pub = b.author, b.publisher
            check += b.id + len(b.title) + len(b.description) + a.id + len(a.name)
            if pub is not None:
                check += pub.id + len(pub.name)
        return check

    def select_related_nested(state):
        check = 0
        for b in Book.objects.select_related("author__country"):
            a = b.author
            co = a.country
            check += b.id + a.id
            if co is not None:
                check += co.id + len(co.name)
        return check

    def prefetch_books(state):
        check = 0
        for a in Author.objects.prefetch_related("books"):
            check += a.id
            for b in a.books.all():
                check += b.id + len(b.title)
        return check

    def prefetch_genres(state):
        check = 0
        for b in Book.objects.prefetch_related("genres"):
            check += b.id
            for g in b.genres.all():
                check += g.id + len(g.name)
        return check

    def prefetch_to_attr(state):
        check = 0
        paid = Order.objects.filter(status="paid").order_by("-created_at")
        for u in User.objects.prefetch_related(Prefetch("orders", queryset=paid,
                                                        to_attr="paid_orders")):
            check += u.id
            for k, o in enumerate(u.paid_orders):
                check += (k + 1) * o.id
        return check

    def values_list_flat(state):
        titles = list(Book.objects.values_list("title", flat=True))
        return len(titles) + sum(len(t) for t in titles)

    def annotate_having(state):
        check = 0
        for a in Author.objects.annotate(n=Count("books")).filter(n__gt=p["annotate_min"]):
            check += 1 + a.id + a.n
        return check

    def count_exists(state):
        total = found = 0
        for a in range(1, p["count_exists_authors"] + 1):
            total += Book.objects.filter(author_id=a).count()
            found += Book.objects.filter(author_id=a, pages__gt=p["exists_pages"]).exists()
        return total + 100000 * found

    def bulk_create_prepare():
        return [book_values(p, p["books"] + 1 + i) for i in range(p["bulk_create_books"])]

    def bulk_create(values):
        Book.objects.bulk_create([Book(**v) for v in values])

    def update(state):
        Book.objects.update(pages=F("pages") + 1)

    def bulk_update_prepare():
        objs = list(Book.objects.order_by("id")[:p["bulk_update_books"]])
        for o in objs:
            o.pages += 1
            o.price += 1
        return objs

    def bulk_update(objs):
        Book.objects.bulk_update(objs, ["pages", "price"])

    def iterator(state):
        check = 0
        for b in Book.objects.iterator(chunk_size=p["iter_chunk"]):
            check += b.id + len(b.title)
        return check

    def only(state):
        check = 0
        for b in Book.objects.only("id", "title"):
            check += b.id + len(b.title)
        return check

    def deep_offset(state):
        check, pp, after = 0, p["deep_per_page"], p["deep_after"]
        for b in Book.objects.only("id", "title").order_by("id")[after:after + pp]:
            check += b.id + len(b.title)
        return check

    def deep_keyset(state):
        check, pp, after = 0, p["deep_per_page"], p["deep_after"]
        for b in Book.objects.only("id", "title").filter(id__gt=after).order_by("id")[:pp]:
            check += b.id + len(b.title)
        return check

    def read_page(books):
        check = 0
        for b in books:
            a, pub = b.author, b.publisher
            check += b.id + len(b.title) + len(b.description) + a.id + len(a.name)
            if pub is not None:
                check += pub.id + len(pub.name)
        return check

    def page_qs():
        return Book.objects.select_related("author", "publisher").order_by("id")[:p["nplus1_books"]]

    def uncached_read(state):
        return read_page(page_qs())

    def cached_read(state):
        # Django has no automatic queryset cache: "cache the QuerySet
        # result, explicitly" with its low-level cache (locmem, pickled)
        from django.core.cache import cache
        return read_page(cache.get_or_set("bench_cached_read", lambda: list(page_qs()), None))

    post_books = "SELECT COUNT(*) + SUM(pages) FROM book"
    post_prices = "SELECT SUM(pages) + CAST(ROUND(SUM(price) * 100) AS INTEGER) FROM book"
    if connection.vendor == "postgresql":  # 32-bit INTEGER there (bench/common.c)
        post_prices = post_prices.replace("AS INTEGER", "AS BIGINT")
    # name: (prepare, run, post_sql)
    return {
        "n_plus_one": (None, n_plus_one, None),
        "select_related": (None, select_related, None),
        "select_related_nested": (None, select_related_nested, None),
        "prefetch_books": (None, prefetch_books, None),
        "prefetch_genres": (None, prefetch_genres, None),
        "prefetch_to_attr": (None, prefetch_to_attr, None),
        "values_list_flat": (None, values_list_flat, None),
        "annotate_having": (None, annotate_having, None),
        "count_exists": (None, count_exists, None),
        "bulk_create": (bulk_create_prepare, bulk_create, post_books),
        "update": (None, update, post_books),
        "bulk_update": (bulk_update_prepare, bulk_update, post_prices),
        "iterator": (None, iterator, None),
        "only": (None, only, None),
        "deep_offset": (None, deep_offset, None),
        "deep_keyset": (None, deep_keyset, None),
        "uncached_read": (None, uncached_read, None),
        "cached_read": (None, cached_read, None),
    }, connection


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--scale", type=int, default=10000)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--sql", action="store_true", help="print the SQL Django runs")
    args = ap.parse_args()
    setup_django(args.db)
    p = params(args.scale)
    table, connection = scenarios(p)
    if args.scenario not in table:
        sys.exit("django_bench: unknown scenario %r" % args.scenario)
    prepare, run, post_sql = table[args.scenario]
    write = post_sql is not None
    warmup, reps = (0, 1) if write else (args.warmup, args.reps)
    connection.ensure_connection()
    base_kb = peak_kb()

    nq = [0]

    def counter(execute, sql, params, many, context):
        nq[0] += 1
        if args.sql and nq[0] <= 3:
            print("  " + sql[:300], file=sys.stderr)
        return execute(sql, params, many, context)

    times, cpu, check, queries = [], [], 0, 0
    for r in range(-warmup, reps):
        state = prepare() if prepare else None
        counting = r == -warmup          # count (and show) the first run only
        nq[0] = 0
        if counting:
            with connection.execute_wrapper(counter):
                c0, t0 = time.process_time(), time.perf_counter()
                check = run(state)
                t1, c1 = time.perf_counter(), time.process_time()
            queries = nq[0]
        else:
            c0, t0 = time.process_time(), time.perf_counter()
            check = run(state)
            t1, c1 = time.perf_counter(), time.process_time()
        del state
        if r >= 0:
            times.append((t1 - t0) * 1e3)
            cpu.append((c1 - c0) * 1e3)
    if write:
        with connection.cursor() as cur:
            cur.execute(post_sql)
            check = cur.fetchone()[0]
    print(json.dumps({"scenario": args.scenario, "variant": "django",
                      "ms": [round(t, 3) for t in times],
                      "cpu_ms": [round(t, 3) for t in cpu], "check": int(check or 0),
                      "queries": queries, "base_kb": base_kb, "peak_kb": peak_kb()}))


if __name__ == "__main__":
    main()
