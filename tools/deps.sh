#!/usr/bin/env bash
# Installs the Debian packages corm needs, only those that are missing.
# Called by `make deps` (which every build waits for) when pkg-config,
# python3 or clang-format cannot find something; safe to run by hand.
#   tools/deps.sh build    libraries to build and test corm (libssl-dev: libcrypto's
#                          HMAC-SHA256 signs keyset pagination cursors)
#   tools/deps.sh pg       a PostgreSQL server for the test suite
#   tools/deps.sh lint     libclang (its C API), for `corm-lint`
#   tools/deps.sh bench    Django and psycopg2 (its PostgreSQL driver), for the
#                          benchmark suite
#   tools/deps.sh web      libmicrohttpd, for `corm serve` and the inspect tests
#   tools/deps.sh cache    hiredis (the Redis cache backend) and redis-server
#                          (the cache tests start one on a unix socket)
#   tools/deps.sh browser  Chromium and Node.js, for the panel's browser tests
#                          (tests/browser: playwright-core from npm, `npm ci`)
#   tools/deps.sh fuzz     clang and its libFuzzer runtime (libclang-rt-dev),
#                          for `make fuzz` (tests/fuzz)
set -eu
want=()
need() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed" || want+=("$1"); }
for what in "${@:-build}"; do
  case "$what" in
    build) for p in pkg-config libsqlite3-dev libpq-dev libcmocka-dev libjansson-dev python3 clang-format libssl-dev; do need "$p"; done ;;
    pg)    for p in postgresql postgresql-client; do need "$p"; done ;;
    lint)  for p in libclang-dev; do need "$p"; done ;;
    bench) for p in python3-django python3-psycopg2; do need "$p"; done ;;
    web)   for p in libmicrohttpd-dev; do need "$p"; done ;;
    cache) for p in libhiredis-dev redis-server; do need "$p"; done ;;
    browser) need chromium; command -v node >/dev/null && command -v npm >/dev/null || { need nodejs; need npm; } ;;
    fuzz)  for p in clang libclang-rt-dev; do need "$p"; done ;;
    *) echo "deps.sh: unknown group '$what' (use build, pg, bench, web, cache, browser, lint or fuzz)" >&2; exit 2 ;;
  esac
done
[ ${#want[@]} -eq 0 ] && exit 0
echo "deps.sh: installing ${want[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${want[@]}"
