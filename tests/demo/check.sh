#!/usr/bin/env bash
# The demo's contract: `corm demo --json --scale 100` prints, for every
# scenario and variant, the query and row counts in expected-scale100.txt
# (Django's counts for the same data).  Usage: check.sh path/to/corm
set -eu
corm=${1:?usage: check.sh CORM}
here=$(dirname "$0")
got=$("$corm" demo --json --scale 100 | python3 -c '
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
