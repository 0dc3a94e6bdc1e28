#!/usr/bin/env python3
"""docs/migrations.md shows real output: run the transcripts of its sections
"A schema change, step by step", "The migration file" (renames), "Pointing
a foreign key at another model", "A plain column becomes a foreign key",
"Partial indexes" and "Text search indexes"
(every `$ command` line of their code blocks, in a fresh directory, with the
schema edits and rows the prose describes in between) and compare what each
command prints (stdout and stderr) with the lines under it on the page.  A
command whose output starts with "corm: " must fail (exit 1, as `--check`
with changes); every other must succeed.

    Usage: check-docs.py path/to/corm

The PostgreSQL commands of those transcripts (postgresql://localhost/shop)
run against CORM_TEST_DB when it is a postgresql:// url, else they are
skipped and said so.  `sqlite3 DB SQL` runs through Python's sqlite3 module
(printing rows as the sqlite3 shell does), so the sqlite3 shell is not needed.
"""
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

CORM = os.path.abspath(sys.argv[1])
DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                   "migrations.md")
PG = os.environ.get("CORM_TEST_DB", "")
PG = PG if PG.startswith("postgres") else ""
failures = []
ran = skipped = 0


def section(title):
    text = open(DOC).read()
    start = text.index("\n## " + title + "\n")
    end = text.find("\n## ", start + 1)
    return re.findall(r"```\n(.*?)```", text[start:end], re.S)


def transcript(block):
    """[(command, expected output)] of a block of `$ ` lines."""
    steps = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append([line[2:], []])
        elif steps:
            steps[-1][1].append(line)
    return [(c, "\n".join(o)) for c, o in steps]


def sqlite_shell(db, sql):
    con = sqlite3.connect(db)
    rows = con.execute(sql).fetchall()
    con.commit()
    con.close()
    if sql.startswith("EXPLAIN QUERY PLAN"):  # the shell's tree (one level)
        return "\n".join(["QUERY PLAN"] + [("`--" if i == len(rows) - 1 else "|--") + r[3]
                                           for i, r in enumerate(rows)])
    return "\n".join("|".join("" if v is None else str(v) for v in r) for r in rows)


def run(cmd, want, cwd):
    global ran, skipped
    if re.search(r"postgresql://localhost/\w+", cmd):
        if not PG:
            skipped += 1
            return
        cmd = re.sub(r"postgresql://localhost/\w+", "'" + PG + "'", cmd)
    m = re.match(r"cat (\w+\.corm)$", cmd)
    if m:  # the schema as the page shows it: written, then shown
        write(cwd, m.group(1), want + "\n")
    ran += 1
    m = re.match(r"sqlite3 (\S+) ['\"](.*)['\"]$", cmd)
    if m:
        got, code = sqlite_shell(os.path.join(cwd, m.group(1)), m.group(2)), 0
    else:
        p = subprocess.run(["bash", "-c", cmd], cwd=cwd, capture_output=True, text=True,
                           env=dict(os.environ, PATH=os.path.dirname(CORM) + ":" +
                                    os.environ["PATH"]))
        got, code = (p.stdout + p.stderr).rstrip("\n"), p.returncode
    should_fail = want.startswith("corm: ") or " --check" in cmd and "has changes" in want
    if got != want:
        failures.append("$ %s\n--- the page says:\n%s\n--- it printed:\n%s" % (cmd, want, got))
    elif (code != 0) != should_fail:
        failures.append("$ %s\nexit status %d" % (cmd, code))


def write(cwd, name, text):
    with open(os.path.join(cwd, name), "w") as f:
        f.write(text)


# The CLI is called `corm` on the page: a directory with that name on PATH.
dirs = [tempfile.mkdtemp()]
bindir = dirs[0]
os.symlink(CORM, os.path.join(bindir, "corm"))
CORM = os.path.join(bindir, "corm")

# A schema change, step by step
blocks = section("A schema change, step by step")
cwd = tempfile.mkdtemp()
dirs.append(cwd)
write(cwd, "shop.corm", blocks[0])
for cmd, want in transcript(blocks[1]):
    run(cmd, want, cwd)
# "The database gets some rows (Hugo, Les Miserables). Then the schema grows"
sqlite_shell(os.path.join(cwd, "shop.db"), "INSERT INTO author (name) VALUES ('Hugo')")
sqlite_shell(os.path.join(cwd, "shop.db"),
             "INSERT INTO book (title, author_id) VALUES ('Les Miserables', 1)")
write(cwd, "shop.corm", """model Author {
    name: char(100) db_index
    born: integer null
}
model Book {
    title: char(200)
    pages: integer default=0
    author: fk(Author, on_delete=cascade, related_name=books)
    genres: m2m(Genre)
    index (title, -author)
}
model Genre {
    name: char(50) unique
}
""")
for cmd, want in transcript(blocks[2]):
    run(cmd, want, cwd)
# --check in CI: with every change migrated, it passes
run("corm makemigrations shop.corm --dir migrations --check", "No changes detected", cwd)

# A plain column becomes a foreign key
blocks = section("A plain column becomes a foreign key")
cwd = tempfile.mkdtemp()
dirs.append(cwd)
write(cwd, "shop.corm", "model Author {\n    name: char(100)\n}\n"
      "model Book {\n    title: char(200)\n    author: integer null\n}\n")
run("corm makemigrations shop.corm --dir migrations",
    "wrote migrations/0001_initial.corm-migration", cwd)
run("corm migrate shop.corm --db sqlite:shop.db --dir migrations", "applied 0001_initial", cwd)
sqlite_shell(os.path.join(cwd, "shop.db"), "INSERT INTO author (name) VALUES ('Ann')")
sqlite_shell(os.path.join(cwd, "shop.db"),
             "INSERT INTO book (title, author) VALUES ('b1', 1), ('b2', 7)")
write(cwd, "shop.corm", "model Author {\n    name: char(100)\n}\n"
      "model Book {\n    title: char(200)\n    author: fk(Author, on_delete=set_null) null\n}\n")
run("corm makemigrations shop.corm --dir migrations",
    "wrote migrations/0002_alter_book_author.corm-migration", cwd)
for cmd, want in transcript(blocks[0]):
    run(cmd, want, cwd)

# Renames (section "The migration file"): the schema before, as the page
# implies it (the indexes the sqlmigrate output renames)
blocks = section("The migration file")
cwd = tempfile.mkdtemp()
dirs.append(cwd)
write(cwd, "shop.corm", "model Author {\n    name: char(100)\n}\n"
      "model Book {\n    title: char(200) db_index\n    isbn: char(13) unique\n"
      "    pages: integer\n    author: fk(Author, on_delete=cascade)\n"
      "    index (title, -pages)\n}\n")
run("corm makemigrations shop.corm --dir migrations",
    "wrote migrations/0001_initial.corm-migration", cwd)
write(cwd, "shop.corm", "model Author {\n    name: char(100)\n}\n" + blocks[0])
for block in blocks[1:]:
    for cmd, want in transcript(block):
        run(cmd, want, cwd)



def start(v1, name, db):
    """A fresh directory with schema v1 in `name`, migrated (0001) to db."""
    cwd = tempfile.mkdtemp()
    dirs.append(cwd)
    write(cwd, name, v1)
    run("corm makemigrations %s --dir migrations" % name,
        "wrote migrations/0001_initial.corm-migration", cwd)
    run("corm migrate %s --db %s --dir migrations" % (name, db), "applied 0001_initial", cwd)
    return cwd


# Pointing a foreign key at another model (book 2's author has no writer)
cwd = start("model Author {\n    name: char(100)\n}\nmodel Writer {\n    name: char(100)\n}\n"
            "model Book {\n    title: char(200)\n    author: fk(Author, on_delete=cascade)\n}\n",
            "shop.corm", "sqlite:shop.db")
sqlite_shell(os.path.join(cwd, "shop.db"), "INSERT INTO author (name) VALUES ('A'), ('B')")
sqlite_shell(os.path.join(cwd, "shop.db"), "INSERT INTO writer (name) VALUES ('W')")
sqlite_shell(os.path.join(cwd, "shop.db"),
             "INSERT INTO book (title, author_id) VALUES ('b1', 1), ('b2', 2)")
write(cwd, "shop.corm", "model Author {\n    name: char(100)\n}\nmodel Writer {\n"
      "    name: char(100)\n}\nmodel Book {\n    title: char(200)\n"
      "    author: fk(Writer, on_delete=cascade)\n}\n")
for block in section("Pointing a foreign key at another model"):
    for cmd, want in transcript(block):
        run(cmd, want, cwd)

# Partial indexes and text search indexes: the schemas before are the
# tests' (tests/migrations/partial, tests/migrations/text)
here = os.path.dirname(os.path.abspath(__file__))
for title, v1, name, db in (("Partial indexes", "partial/v1.corm", "blog.corm", "sqlite:blog.db"),
                            ("Text search indexes", "text/v1.corm", "library.corm",
                             "sqlite:lib.db")):
    cwd = start(open(os.path.join(here, v1)).read(), name, db)
    for block in section(title):
        for cmd, want in transcript(block):
            run(cmd, want, cwd)

for d in dirs:
    shutil.rmtree(d)
for f in failures:
    print("FAIL docs/migrations.md:\n" + f + "\n")
print("docs/migrations.md transcripts: %d commands, %d as printed, %d PostgreSQL ones skipped%s"
      % (ran, ran - len(failures), skipped, "" if PG else " (no CORM_TEST_DB)"))
sys.exit(1 if failures else 0)
