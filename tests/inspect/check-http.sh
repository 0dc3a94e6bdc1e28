#!/usr/bin/env bash
# The HTTP tests of `corm serve` and its panel (tests/inspect/serve.py):
# tools/run-tests.sh runs it as "tests/inspect/check-http.sh:build/asan/corm".
exec python3 "$(dirname "$0")/serve.py" check "$1"
