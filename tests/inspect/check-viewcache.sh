#!/usr/bin/env bash
# The per-view cache of `corm serve --cache` over HTTP (tests/inspect/viewcache.py),
# on the local cache and the Redis of CORM_TEST_REDIS: tools/run-tests.sh runs it as
# "tests/inspect/check-viewcache.sh:build/asan/corm" under tools/redis-test-server.sh.
exec python3 "$(dirname "$0")/viewcache.py" "$1"
