#!/usr/bin/python3
"""run.py - corm's benchmark suite (issue 8): every scenario three ways,
side by side in one run, on one SQLite file or one PostgreSQL server.

    make bench                       quick size (10,000 books)
    make bench ARGS="--scale full"   100,000 books, 10,000 authors, ...
    make bench ARGS=--json           one JSON object per scenario
    make bench DB=postgresql://user@host:port/dbname    on PostgreSQL

    python3 bench/run.py --bin build/bench/corm-bench [--scale N|full]
        [--rounds R] [--only a,b] [--no-django] [--json] [--callgrind]
        [--db postgresql://...]

On PostgreSQL (--db URL) the url names a server and a database to connect
to for administration; the bench creates its own databases beside it (the
role needs CREATEDB; the url's database is never written):
  * corm_bench_N: seeded once per scale (corm-bench seed: corm_migrate,
    then COPY), reused while its COMMENT (seed version, scale, newest
    source time) matches, otherwise dropped and made again;
  * corm_bench_N_w: a write scenario's fresh data, CREATE DATABASE ...
    TEMPLATE corm_bench_N before each write child (the file copy of the
    SQLite runs), dropped at the end.
Raw C is bench/raw_pg.c on libpq, Django uses its postgresql backend
(psycopg2); peak memory is the client process's only.

How it measures
  * One seeded file per scale (build/bench/bookstore-N.db), re-seeded when
    BENCH_SEED_VERSION in bench/bench.h changes or the schema / seeder is
    newer than the file.  Write scenarios run on a fresh copy of it, made
    before the child starts.
  * Each round runs every scenario, and for each the three variants one
    after another (their order rotates from round to round), each in its own
    child process: corm-bench for corm and raw C, bench/django_bench.py for
    Django.  A read runs once untimed (warm-up: statement caches, imports),
    then --reps times timed (C; Django once); a write runs once, timed.
  * Time: the median of the timed runs over all rounds, wall clock
    (monotonic) around the work including freeing the results; CPU time
    (user + system of the process) alongside, which a busy machine's
    preemption does not inflate.
  * Memory: the child's peak RSS (VmHWM, read from /proc/self/status as the
    child exits: getrusage's ru_maxrss is not usable in a child, Linux
    carries the forking runner's high-water mark over exec), median over
    the rounds.  The memory ratio compares what each variant added on top
    of its own baseline (the RSS after opening the database, reported by
    the child), since the baselines (binary, libraries, SQLite) are equal.
  * --callgrind: instructions of one timed run of corm and raw C under
    valgrind (collection toggled around it with callgrind's client
    requests), a ratio that does not depend on the machine's load.
  * Every variant computes a check (ids, string lengths, counts; for writes
    a SUM read afterwards); a mismatch is reported and fails the run.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# name, kind, what it does at full scale
SCENARIOS = [
    ("n_plus_one", "read", "naive loop: book.author for 1,000 books (1,001 queries)"),
    ("select_related", "read", "select_related author+publisher, every book"),
    ("select_related_nested", "read", "select_related author__country, every book"),
    ("prefetch_books", "read", "every author, prefetch books"),
    ("prefetch_genres", "read", "every book, prefetch genres (m2m)"),
    ("prefetch_to_attr", "read", "every user, Prefetch paid orders, -created_at, to_attr"),
    ("values_list_flat", "read", "values_list('title', flat=True), every book"),
    ("annotate_having", "read", "authors annotate Count(books), filter n > 10 (HAVING)"),
    ("count_exists", "read", "count() + exists() for 1,000 authors (2,000 queries)"),
    ("bulk_create", "write", "bulk_create as many books as the table holds"),
    ("update", "write", "update pages = F(pages) + 1, every book"),
    ("bulk_update", "write", "bulk_update pages, price of 1/10 of the books"),
    ("iterator", "read", "iterator(chunk_size=2000), every book"),
    ("only", "read", "only('id', 'title'), every book"),
    ("deep_offset", "read", "page 900 of 1,000 by id: OFFSET (only id, title)"),
    ("deep_keyset", "read", "page 900 of 1,000 by id: keyset, from a signed cursor"),
    ("uncached_read", "read", "1,000 books by id, select_related author+publisher"),
    ("cached_read", "read", "the same from a cached queryset (warm local cache; raw C: the database)"),
]
# Scenarios whose result grows with the table: peak memory is compared.
LARGE = {"select_related", "select_related_nested", "prefetch_books", "prefetch_genres",
         "prefetch_to_attr", "values_list_flat", "iterator", "only", "bulk_create",
         "bulk_update"}
# Issue 16's targets: on SQLite reads <= 1.15x hand-written C and writes
# <= 1.1x, in wall time, CPU and instructions; on PostgreSQL every scenario
# <= 1.2x.
TARGET = {"read": 1.15, "write": 1.1}
PG_TARGET = 1.2
MEM_TARGET = 1.5
VARIANTS = ["corm", "raw", "django"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def seed_version():
    with open(os.path.join(HERE, "bench.h")) as f:
        m = re.search(r"#define BENCH_SEED_VERSION (\d+)", f.read())
    return int(m.group(1))


def db_version(path):
    import sqlite3
    try:
        con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        v = con.execute("PRAGMA user_version").fetchone()[0]
        con.close()
        return v
    except Exception:
        return -1


def stale(db):
    """A seeded file is reused unless the data or the schema changed since."""
    if db_version(db) != seed_version():
        return True
    t = os.path.getmtime(db)
    return any(os.path.getmtime(os.path.join(ROOT, f)) > t
               for f in ("examples/bookstore.corm", "bench/seed.c", "bench/common.c"))


def remove_db(path):
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass


class Sqlite:
    """The seeded SQLite file per scale, and a copy for each write."""
    name = "sqlite"

    def __init__(self, binary, bindir):
        self.bin, self.dir, self.checked = binary, bindir, set()

    def seeded(self, scale):
        db = os.path.join(self.dir, "bookstore-%d.db" % scale)
        if scale not in self.checked and stale(db):
            log("bench: seeding %s (scale %d)" % (db, scale))
            remove_db(db)
            subprocess.run([self.bin, "seed", "--db", db, "--scale", str(scale)], check=True)
        self.checked.add(scale)
        return db

    def fresh(self, scale, tag=""):
        work = os.path.join(self.dir, "work-%s%d.db" % (tag, scale))
        remove_db(work)
        shutil.copyfile(self.seeded(scale), work)
        return work

    def cleanup(self, scale, tag=""):
        remove_db(os.path.join(self.dir, "work-%s%d.db" % (tag, scale)))


class Postgres:
    """corm_bench_N per scale on the server the admin url names, and
    corm_bench_N_w, a copy made from it (CREATE DATABASE ... TEMPLATE)
    before each write.  The helpers are corm-bench's own (libpq), so the
    runner needs no Python driver."""
    name = "postgresql"

    def __init__(self, binary, admin):
        self.bin, self.admin, self.checked = binary, admin, set()

    def exec(self, *sql):
        cmd = [self.bin, "pg-exec", "--db", self.admin]
        for q in sql:
            cmd += ["--sql", q]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("bench: %s\n%s" % ("; ".join(sql), r.stderr))
        return r.stdout.splitlines()

    def url(self, dbname):
        return subprocess.run([self.bin, "pg-url", "--db", self.admin, "--dbname", dbname],
                              capture_output=True, text=True, check=True).stdout.strip()

    @staticmethod
    def stamp(scale):
        newest = max(int(os.path.getmtime(os.path.join(ROOT, f)))
                     for f in ("examples/bookstore.corm", "bench/seed_pg.c", "bench/common.c"))
        return "corm-bench seed %d scale %d sources %d" % (seed_version(), scale, newest)

    def seeded(self, scale):
        name = "corm_bench_%d" % scale
        if scale not in self.checked:
            have = self.exec("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                             "WHERE datname = '%s'" % name)
            if have[:1] != [self.stamp(scale)]:
                log("bench: seeding PostgreSQL database %s (scale %d)" % (name, scale))
                self.exec("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name,
                          "CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8' "
                          "LC_COLLATE 'C' LC_CTYPE 'C'" % name)
                subprocess.run([self.bin, "seed", "--db", self.url(name), "--scale", str(scale)],
                               check=True)
                self.exec("COMMENT ON DATABASE %s IS '%s'" % (name, self.stamp(scale)))
            self.checked.add(scale)
        return self.url(name)

    def fresh(self, scale, tag=""):
        self.seeded(scale)
        work = "corm_bench_%d_w" % scale
        self.exec("DROP DATABASE IF EXISTS %s WITH (FORCE)" % work,
                  "CREATE DATABASE %s TEMPLATE corm_bench_%d" % (work, scale))
        return self.url(work)

    def cleanup(self, scale, tag=""):
        self.exec("DROP DATABASE IF EXISTS corm_bench_%d_w WITH (FORCE)" % scale)


def run_child(cmd):
    """Run cmd, return its JSON line as a dict.  The child reports its own
    peak RSS (VmHWM): wait4's ru_maxrss would be at least this runner's
    RSS, which Linux carries over fork + exec."""
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s%s" % (" ".join(cmd), r.returncode, r.stdout,
                                                       r.stderr))
    line = [l for l in r.stdout.splitlines() if l.startswith("{")][-1]
    return json.loads(line)


def have_django(python, pg=False):
    mods = "import django, psycopg2" if pg else "import django"
    return subprocess.run([python, "-c", mods], capture_output=True).returncode == 0


def ensure_django(python, pg=False):
    if have_django(python, pg):
        return True
    log("bench: Django or psycopg2 is missing; installing python3-django and "
        "python3-psycopg2 (tools/deps.sh bench)")
    subprocess.run([os.path.join(ROOT, "tools", "deps.sh"), "bench"], check=False)
    return have_django(python, pg)


def django_version(python):
    r = subprocess.run([python, "-c", "import django; print(django.get_version())"],
                       capture_output=True, text=True)
    return r.stdout.strip() or "?"


def callgrind_ir(cmd):
    """Instructions executed in the timed run (corm-bench toggles collection
    around it with callgrind's client requests), or None."""
    vg = shutil.which("valgrind")
    if not vg:
        return None
    r = subprocess.run([vg, "--tool=callgrind", "--callgrind-out-file=/dev/null",
                        "--collect-atstart=no"] + cmd, capture_output=True, text=True)
    m = re.search(r"Collected\s*:\s*(\d+)", r.stderr)
    return int(m.group(1)) if m and r.returncode == 0 else None


def fmt_ms(v):
    if v is None:
        return "n/a"
    return "%.0f" % v if v >= 100 else "%.1f" % v if v >= 10 else "%.2f" % v


def fmt_ratio(v):
    return "n/a" if v is None else "%.2f" % v


def fmt_mb(kb):
    return "n/a" if kb is None else "%.1f" % (kb / 1024.0)


def median(xs):
    return statistics.median(xs) if xs else None


def spread(xs):
    """(max - min) / median of the rounds, in percent."""
    if not xs or len(xs) < 2:
        return None
    m = statistics.median(xs)
    return 100.0 * (max(xs) - min(xs)) / m if m else None


def main():
    ap = argparse.ArgumentParser(description="corm benchmark suite")
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "bench", "corm-bench"))
    ap.add_argument("--dir", default=None, help="where the database files go (default: beside --bin)")
    ap.add_argument("--scale", default="quick", help="books: N, 'quick' (10000) or 'full' (100000)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=3,
                    help="timed runs per child for the C variants' reads (Django: 1)")
    ap.add_argument("--only", default="", help="comma-separated scenario names")
    ap.add_argument("--no-django", action="store_true")
    ap.add_argument("--python", default=None, help="python for Django (default: this one)")
    ap.add_argument("--json", action="store_true", help="one JSON object per line per scenario")
    ap.add_argument("--json-out", default=None, help="also write the JSON lines to this file")
    ap.add_argument("--callgrind", action="store_true",
                    help="also count instructions of corm and raw C reads under callgrind")
    ap.add_argument("--callgrind-scale", type=int, default=10000)
    ap.add_argument("--db", default=None,
                    help="postgresql://user@host:port/dbname: run on PostgreSQL (the bench "
                         "creates corm_bench_N databases there; the role needs CREATEDB)")
    args = ap.parse_args()

    scale = {"quick": 10000, "full": 100000}.get(args.scale)
    if scale is None:
        scale = int(args.scale)
    bindir = args.dir or os.path.dirname(os.path.abspath(args.bin))
    os.makedirs(bindir, exist_ok=True)
    python = args.python or sys.executable
    only = [s for s in args.only.split(",") if s]
    scen = [s for s in SCENARIOS if not only or s[0] in only]
    if only and len(scen) != len(only):
        sys.exit("bench: unknown scenario in --only (known: %s)" % ", ".join(s[0] for s in SCENARIOS))
    if args.db and not args.db.startswith(("postgresql:", "postgres:")):
        sys.exit("bench: --db takes a postgresql:// url (SQLite is the default)")
    pg = bool(args.db)
    django = not args.no_django and ensure_django(python, pg)
    if not args.no_django and not django:
        log("bench: Django is not available; its column stays empty")
    variants = [v for v in VARIANTS if v != "django" or django]

    store = Postgres(args.bin, args.db) if pg else Sqlite(args.bin, bindir)
    db = store.seeded(scale)

    def command(variant, name, dbfile):
        if variant == "django":
            return [python, os.path.join(HERE, "django_bench.py"), "--db", dbfile,
                    "--scale", str(scale), "--scenario", name, "--warmup", "1", "--reps", "1"]
        return [args.bin, "run", "--db", dbfile, "--scale", str(scale), "--variant", variant,
                "--scenario", name, "--warmup", "1", "--reps", str(args.reps)]

    res = {(s[0], v): {"ms": [], "cpu": [], "peak": [], "base": [], "check": set(), "queries": None,
                       "na": False} for s in scen for v in variants}
    log("bench: %d books, %d rounds, variants %s%s" % (scale, args.rounds, ", ".join(variants),
                                                     ", on PostgreSQL" if pg else ""))
    for r in range(args.rounds):
        order = variants[r % len(variants):] + variants[:r % len(variants)]
        for name, kind, _ in scen:
            for v in order:
                dbfile = store.fresh(scale) if kind == "write" else db
                out = run_child(command(v, name, dbfile))
                cell = res[(name, v)]
                if out.get("na"):
                    cell["na"] = True
                    continue
                cell["ms"] += out["ms"]
                cell["cpu"] += out["cpu_ms"]
                cell["peak"].append(out["peak_kb"])
                cell["base"].append(out["base_kb"])
                cell["check"].add(out["check"])
                cell["queries"] = out["queries"]
        log("bench: round %d/%d done" % (r + 1, args.rounds))
    store.cleanup(scale)

    ir = {}
    if args.callgrind:
        cdb = store.seeded(args.callgrind_scale)
        for name, kind, _ in scen:
            for v in ("corm", "raw"):
                dbfile = store.fresh(args.callgrind_scale, "cg-") if kind == "write" else cdb
                cmd = [args.bin, "run", "--db", dbfile, "--scale", str(args.callgrind_scale),
                       "--variant", v, "--scenario", name, "--warmup", "1"]
                ir[(name, v)] = callgrind_ir(cmd)
            log("bench: callgrind %s done" % name)
        store.cleanup(args.callgrind_scale, "cg-")

    rows, bad = [], False
    for name, kind, what in scen:
        c, rw = res[(name, "corm")], res[(name, "raw")]
        d = res.get((name, "django"))
        checks = set()
        for cell in (c, rw, d):
            if cell and not cell["na"]:
                checks |= cell["check"]
        check_ok = len(checks) <= 1
        bad |= not check_ok
        cm, rm = median(c["ms"]), median(rw["ms"])
        cc, rc = median(c["cpu"]), median(rw["cpu"])
        dm = median(d["ms"]) if d else None
        cp, rp = median(c["peak"]), median(rw["peak"])
        cb, rb = median(c["base"]), median(rw["base"])
        mem = None
        if name in LARGE and cp and rp and rp - rb > 0:
            mem = max(cp - cb, 0) / float(rp - rb)
        row = {
            "scenario": name, "kind": kind, "scale": scale, "rounds": args.rounds,
            "corm_ms": cm, "raw_ms": rm, "django_ms": dm,
            "corm_over_raw": cm / rm if cm and rm else None,
            "corm_cpu_ms": cc, "raw_cpu_ms": rc,
            "django_cpu_ms": median(d["cpu"]) if d else None,
            "corm_over_raw_cpu": cc / rc if cc and rc else None,
            "django_over_corm": dm / cm if dm and cm else None,
            "corm_peak_kb": cp, "raw_peak_kb": rp,
            "django_peak_kb": median(d["peak"]) if d else None,
            "corm_base_kb": cb, "raw_base_kb": rb,
            "corm_over_raw_mem": mem,
            "corm_spread_pct": spread(c["ms"]), "raw_spread_pct": spread(rw["ms"]),
            "django_spread_pct": spread(d["ms"]) if d else None,
            "queries": {v: res[(name, v)]["queries"] for v in variants},
            "check_ok": check_ok,
            "target": PG_TARGET if pg else TARGET[kind],
        }
        if pg:
            row["database"] = "postgresql"  # absent on SQLite, whose rows stay as they were
        if ir:
            ci, ri = ir.get((name, "corm")), ir.get((name, "raw"))
            row.update({"corm_ir": ci, "raw_ir": ri,
                        "corm_over_raw_ir": ci / ri if ci and ri else None})
        ir_ratio = row.get("corm_over_raw_ir")
        row["meets_target"] = (row["corm_over_raw"] is not None and
                               row["corm_over_raw"] <= row["target"] and
                               (ir_ratio is None or ir_ratio <= row["target"]) and
                               (mem is None or mem <= MEM_TARGET))
        rows.append(row)

    lines = [json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()})
             for row in rows]
    if args.json_out:
        with open(args.json_out, "w") as f:
            f.write("\n".join(lines) + "\n")
    if args.json:
        print("\n".join(lines))
    else:
        print_table(rows, scale, args.rounds, variants, ir, python if django else None, pg)
    if bad:
        log("bench: CHECK MISMATCH: the variants did not compute the same result "
            "(see check_ok in --json)")
        sys.exit(1)


def print_table(rows, scale, rounds, variants, ir, python, pg=False):
    print("corm benchmark: %d books; median over %d rounds; ms = wall clock, "
          "CPU = process CPU time; MB = peak RSS" % (scale, rounds))
    if pg:
        print("on PostgreSQL: raw C = libpq, Django = its postgresql backend (psycopg2); "
              "CPU and MB are the client process's only")
    head = ["scenario", "corm ms", "raw C ms", "Django ms", "corm/raw", "corm/raw CPU",
            "Django/corm", "corm MB", "raw C MB", "mem corm/raw", "Django MB", "spread"]
    if ir:
        head.insert(6, "corm/raw Ir")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|")
    for row in rows:
        t = row["target"]

        def flagged(v, limit):
            return "n/a" if v is None else "%.2f%s" % (v, " ✗" if v > limit else "")

        mem = row["corm_over_raw_mem"]
        sp = [row[k] for k in ("corm_spread_pct", "raw_spread_pct", "django_spread_pct")
              if row[k] is not None]
        cells = [row["scenario"] + (" (w)" if row["kind"] == "write" else ""),
                 fmt_ms(row["corm_ms"]), fmt_ms(row["raw_ms"]), fmt_ms(row["django_ms"]),
                 flagged(row["corm_over_raw"], t), flagged(row["corm_over_raw_cpu"], t),
                 fmt_ratio(row["django_over_corm"]),
                 fmt_mb(row["corm_peak_kb"]), fmt_mb(row["raw_peak_kb"]),
                 flagged(mem, MEM_TARGET) if mem is not None else "-",
                 fmt_mb(row["django_peak_kb"]),
                 ("±%.0f%%" % (max(sp) / 2)) if sp else "-"]
        if ir:
            cells.insert(6, flagged(row.get("corm_over_raw_ir"), t))
        print("| " + " | ".join(cells) + " |")
    print()
    if pg:
        print("targets: corm/raw <= %.2f (wall, CPU);" % PG_TARGET, end=" ")
    else:
        print("targets: corm/raw <= %.2f on reads, <= %.2f on writes (w) (wall, CPU, Ir);"
              % (TARGET["read"], TARGET["write"]), end=" ")
    print("memory added over each "
          "process's baseline <= 1.5x raw C's; ✗ marks a miss.  spread: half the max-min "
          "range of the wall-clock samples over their median, worst of the three variants.")


if __name__ == "__main__":
    main()
