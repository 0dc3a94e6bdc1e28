#!/usr/bin/env bash
# `corm demo index` (docs/migrations.md): the filter on the unindexed column
# is a table scan, the migration adding db_index applies on the populated
# table, and the same filter then searches the index.
#   Usage: check-index.sh path/to/corm [DB_URL]
# On a postgresql:// url it runs in a fresh schema of its own, dropped after.
set -eu
corm=${1:?usage: check-index.sh CORM [DB_URL]}
db=${2:-}
args=()
case "$db" in
  postgres*)
    psql=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)
    schema="corm_demo_index_$$"
    "$psql" -qX -v ON_ERROR_STOP=1 "$db" -c "CREATE SCHEMA $schema" >/dev/null
    trap '"$psql" -qX "$db" -c "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1 || true' EXIT
    case "$db" in *\?*) sep='&' ;; *) sep='?' ;; esac
    args=(--db "$db${sep}options=-csearch_path%3D$schema") ;;
esac
out=$("$corm" demo index --rows 3000 "${args[@]}")
fail() { printf '%s\n' "$out" >&2; echo "demo index: $1" >&2; exit 1; }
grep -q '^   3000 books$' <<<"$out" || fail "the table was not filled"
grep -q '^   applied 0002_alter_book_pages in ' <<<"$out" || fail "the migration was not applied"
before=$(sed -n '/^2\./,/^3\./p' <<<"$out")
after=$(sed -n '/^4\./,$p' <<<"$out")
case "$db" in
  postgres*)
    grep -q 'Seq Scan on book' <<<"$before" || fail "no table scan before the index"
    grep -Eq 'Index (Only )?Scan using book_pages_idx|Bitmap Index Scan on book_pages_idx' \
      <<<"$after" || fail "the index is not used after the migration" ;;
  *)
    grep -q 'plan: SCAN book' <<<"$before" || fail "no table scan before the index"
    grep -q 'plan: SEARCH book USING COVERING INDEX book_pages_idx (pages=?)' <<<"$after" ||
      fail "the index is not used after the migration" ;;
esac
echo "demo index: a table scan before, the index after the migration"
