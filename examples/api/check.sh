#!/usr/bin/env bash
# make test's check of examples/api: install corm into a prefix of our own,
# build the API against it with its Makefile (pkg-config corm-json, as a
# user would), run it on loopback (port 0) over a fresh database and check
# every endpoint's status, body and exact query count (test_api.py).
#   Usage: check.sh BUILD_DIR     (the database: $CORM_TEST_DB if it is a
#   postgresql:// url - a fresh schema there, dropped after - else SQLite)
set -eu
B=${1:?usage: check.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d)
cleanup() { rm -rf "$root"; }
trap cleanup EXIT
prefix="$root/prefix"
make --no-print-directory -s B="$B" install PREFIX="$prefix" >/dev/null
unset LD_LIBRARY_PATH
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PATH="$prefix/bin:$PATH"
# a library built with the sanitizers needs their runtime in the program
san=""
nm "$B/libcorm.a" 2>/dev/null | grep -q ' U __asan_' && san="-fsanitize=address,undefined"
make --no-print-directory -s -C "$here" OUT="$root" RPATH="$prefix/lib" \
  CFLAGS="-O1 -g $san" LDFLAGS="$san" >/dev/null
db="sqlite:$root/api.db"
case "${CORM_TEST_DB:-}" in
  postgres*)
    psql=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)
    schema="corm_api_$$"
    "$psql" -qX -v ON_ERROR_STOP=1 "$CORM_TEST_DB" -c "CREATE SCHEMA $schema" >/dev/null
    cleanup() { "$psql" -qX "$CORM_TEST_DB" -c "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1 || true; rm -rf "$root"; }
    case "$CORM_TEST_DB" in *\?*) sep='&' ;; *) sep='?' ;; esac
    db="$CORM_TEST_DB${sep}options=-csearch_path%3D$schema" ;;
esac
python3 "$here/test_api.py" "$root/api" "$db"
