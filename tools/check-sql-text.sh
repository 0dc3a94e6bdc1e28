#!/usr/bin/env bash
# SQL text is written by the SQL layer only (src/sql: SELECT, INSERT,
# UPDATE, DELETE, transaction statements, EXPLAIN; sql_int.h).  The layers
# that run statements for querysets and writes call its compiler; this
# check fails when one of them writes SQL itself:
#   - a string literal holding an SQL keyword in capitals (SELECT, FROM,
#     SET, VALUES, RETURNING, SAVEPOINT, CASE, ...); comments, and the
#     messages of corm__err_set / corm__err_hint, do not count;
#   - a call of the SQL writer's primitives (identifier quoting,
#     placeholders, the WHERE/SET fragments) or a dialect's text fields
#     (d->keys_open, dialect->explain_prefix, d->sync_ids, ...).
# Usage: tools/check-sql-text.sh [DIR...]   (default: src/qs src/write src/fetch)
exec python3 - "$@" <<'PY'
import os, re, sys

DIRS = sys.argv[1:] or ["src/qs", "src/write", "src/fetch"]
KEYWORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|FROM|WHERE|SET|VALUES|RETURNING|BEGIN|"
                      r"COMMIT|ROLLBACK|SAVEPOINT|RELEASE|EXPLAIN|CASE|WHEN|THEN|ELSE|JOIN|"
                      r"CONFLICT|EXCLUDED|COALESCE|CAST|INTO|GROUP BY|ORDER BY|LIMIT|OFFSET|"
                      r"HAVING|DISTINCT|EXISTS|UNION|COUNT)\b")
PRIMITIVES = re.compile(r"\b(corm__sql_ident|corm__sql_param|corm__sql_int_list|corm__sql_array_text|"
                        r"corm__sql_bind|corm__compiled_param|corm__compile_where|"
                        r"corm__compile_set_expr|corm__render_\w+)\b|\b(d|dialect)\s*(->|\.)\s*(keys_open|keys_close|"
                        r"keys_text|explain_prefix|sync_ids|column_type|date_part|true_literal|"
                        r"false_literal|pk_column_def|like_escape|link_join|no_limit|nulls_first|"
                        r"nulls_last|text_cast)\b")

MESSAGE = re.compile(r"\bcorm__err_(set|hint)\s*\([^;{}]*$")

def split(text):
    """(code with comments and literals blanked, [(line, literal body, code
    before it)])."""
    code, lits, i, n, line = [], [], 0, len(text), 1
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            chunk = text[i:j]
            code.append(" " + "\n" * chunk.count("\n"))
            line += chunk.count("\n")
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            code.append(" ")
        elif c in "\"'":
            j, start = i + 1, line
            while j < n and text[j] != c:
                if text[j] == "\\":
                    j += 1
                if j < n and text[j] == "\n":
                    line += 1
                j += 1
            if c == '"':
                lits.append((start, text[i + 1:j], "".join(code[-400:])))
            code.append('""' if c == '"' else "0")
            i = j + 1
        else:
            if c == "\n":
                line += 1
            code.append(c)
            i += 1
    return "".join(code), lits

bad = []
for d in DIRS:
    for root, _, files in os.walk(d):
        for f in sorted(files):
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(root, f)
            code, lits = split(open(path, encoding="utf-8", errors="replace").read())
            for line, lit, before in lits:
                m = KEYWORDS.search(lit)
                if m and not MESSAGE.search(before):
                    bad.append('%s:%d: SQL text "%s" (%s)' % (path, line, lit, m.group(0)))
            for no, text in enumerate(code.split("\n"), 1):
                m = PRIMITIVES.search(text)
                if m:
                    bad.append("%s:%d: writes SQL: %s" % (path, no, text.strip()))
if bad:
    print("check-sql-text: SQL is written in src/sql only; call its compiler "
          "(sql_int.h: corm__compile_*, corm__sql_tx) instead of writing it here:")
    print("\n".join(bad))
    sys.exit(1)
PY
