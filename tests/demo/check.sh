#!/usr/bin/env bash
# The demo's contract: `corm demo --json --scale 100` prints, for every
# scenario and variant, the query and row counts in expected-scale100.txt
# (Django's counts for the same data).
#   Usage: check.sh path/to/corm [DB_URL]
# DB_URL defaults to $CORM_TEST_DB, else an in-memory SQLite database.  On a
# postgresql:// url the demo runs in a fresh schema (search_path), dropped
# afterwards, so the counts are those of a new database.
set -eu
corm=${1:?usage: check.sh CORM [DB_URL]}
db=${2:-${CORM_TEST_DB:-}}
here=$(dirname "$0")
args=()
case "$db" in
  postgres*)
    psql=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)
    [ -n "$psql" ] || { echo "demo: psql is needed to make a schema on $db" >&2; exit 1; }
    schema="corm_demo_$$"
    "$psql" -qX -v ON_ERROR_STOP=1 "$db" -c "CREATE SCHEMA $schema" >/dev/null
    trap '"$psql" -qX "$db" -c "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1 || true' EXIT
    case "$db" in *\?*) sep='&' ;; *) sep='?' ;; esac
    args=(--db "$db${sep}options=-csearch_path%3D$schema") ;;
  "") ;;
  *) args=(--db "$db") ;;
esac
got=$("$corm" demo --json --scale 100 "${args[@]}" | python3 -c '
import json, sys
for line in sys.stdin:
    o = json.loads(line)
    assert set(o) >= {"scenario", "variant", "queries", "rows", "ms"}, line
    print(o["scenario"], o["variant"], o["queries"], o["rows"])')
if ! diff -u "$here/expected-scale100.txt" <(printf '%s\n' "$got"); then
  echo "demo: query or row counts differ from tests/demo/expected-scale100.txt" >&2
  exit 1
fi
echo "demo: $(printf '%s\n' "$got" | wc -l) scenario variants match"
# and auto mode's contract (docs/nplusone.md), on the same database
"$here/check-auto.sh" "$corm" "${args[@]}"
# and the index workflow (corm demo index), in a database of its own
"$here/check-index.sh" "$corm" "$db"
