#!/usr/bin/env bash
# corm lint's contract (make lint, part of make test):
#  1. golden diagnostics: tests/lint/NAME.c gives exactly NAME.expected;
#  2. exit status (--error-on) and usage errors;
#  3. --format sarif: a SARIF 2.1.0 log with its required properties;
#  4. the project's own examples, tests and demo: exactly the findings in
#     project.expected (file, kind, model.relation: each a deliberate N+1 or
#     a deliberate bad lookup of a test; none is a false positive).
#   Usage: check.sh path/to/corm-lint GEN_DIR
set -eu
lint=${1:?usage: check.sh CORM_LINT GEN_DIR}
gen=${2:?usage: check.sh CORM_LINT GEN_DIR}
here=$(dirname "$0")
schema=examples/bookstore.corm
flags=(-D_POSIX_C_SOURCE=200809L -Iinclude "-I$gen" -Itests/support -Isrc -Icli)
fail=0

for src in "$here"/*.c; do
  want=${src%.c}.expected
  got=$("$lint" --schema "$schema" "${flags[@]}" "$src" || true)
  if ! diff -u "$want" <(printf '%s\n' "$got") >/dev/null; then
    echo "lint: $src: diagnostics differ from $want:" >&2
    diff -u "$want" <(printf '%s\n' "$got") >&2 || true
    fail=1
  fi
done

status() { set +e; "$lint" "$@" >/dev/null 2>&1; echo $?; set -e; }
check_status() {
  local want=$1; shift
  local got; got=$(status "$@")
  [ "$got" = "$want" ] || { echo "lint: exit status $got, $want expected: corm-lint $*" >&2; fail=1; }
}
check_status 1 --schema "$schema" "${flags[@]}" --error-on=n_plus_one "$here/loops.c"
check_status 0 --schema "$schema" "${flags[@]}" --error-on=lookup "$here/loops.c"
check_status 1 --schema "$schema" "${flags[@]}" --error-on=n_plus_one,lookup "$here/lookups.c"
check_status 0 --schema "$schema" "${flags[@]}" "$here/loops.c"
check_status 2 --schema "$schema" --error-on=typo "$here/loops.c"
check_status 2 --schema "$schema" --format xml "$here/loops.c"
check_status 2 "$here/loops.c"
check_status 2 --schema "$schema" "$here/does-not-exist.c"

"$lint" --schema "$schema" "${flags[@]}" --format sarif "$here/loops.c" | python3 -c '
import json, sys
log = json.load(sys.stdin)
assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
run, = log["runs"]
driver = run["tool"]["driver"]
assert driver["name"] == "corm-lint"
ids = {r["id"] for r in driver["rules"]}
assert run["results"], "no results"
for r in run["results"]:
    assert r["ruleId"] in ids and r["level"] == "warning" and r["message"]["text"]
    loc, = r["locations"]
    p = loc["physicalLocation"]
    assert p["artifactLocation"]["uri"].endswith("loops.c")
    assert p["region"]["startLine"] >= 1 and p["region"]["startColumn"] >= 1
' || { echo "lint: --format sarif: not a valid SARIF log" >&2; fail=1; }

project=(examples/*.c tests/integration/*.c tests/oom/*.c tests/unit/*/*.c cli/*.c)
got=$("$lint" --schema "$schema" "${flags[@]}" "${project[@]}" |
  sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: warning: \([^ ]*\).*\[\(.*\)\]$/\1: \3: \2/p' | sort)
if ! diff -u "$here/project.expected" <(printf '%s\n' "$got") >/dev/null; then
  echo "lint: the project's own sources: findings differ from $here/project.expected" >&2
  echo "(a new finding is a false positive to fix in lint/lint.c, or a deliberate N+1 to list):" >&2
  diff -u "$here/project.expected" <(printf '%s\n' "$got") >&2 || true
  fail=1
fi
[ $fail -eq 0 ] && echo "lint: golden diagnostics, exit status, SARIF and the project's sources: ok"
exit $fail
