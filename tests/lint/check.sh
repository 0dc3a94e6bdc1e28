#!/usr/bin/env bash
# corm lint's contract (make lint, part of make test):
#  1. golden diagnostics: tests/lint/NAME.c gives exactly NAME.expected;
#  2. exit status (--error-on) and usage errors;
#  3. --format sarif: a SARIF 2.1.0 log with its required properties, and
#     valid against the SARIF 2.1.0 JSON schema (tests/lint/sarif);
#  4. the project's own examples, tests and demo: exactly the findings in
#     project.expected (file, kind, model.relation: each a deliberate N+1 or
#     a deliberate bad lookup of a test; none is a false positive);
#  5. with the corm program given: every site the runtime detector reports
#     in a naive `corm demo` scenario (N+1, counts and filters in loops) is
#     reported by the linter at the same line with the same kind, and
#     nothing else in the demo's scenarios (writes in loops aside: the
#     linter sees those over a queryset's objects, not over an array).
#   Usage: check.sh path/to/corm-lint GEN_DIR [path/to/corm]
set -eu
lint=${1:?usage: check.sh CORM_LINT GEN_DIR}
gen=${2:?usage: check.sh CORM_LINT GEN_DIR}
here=$(dirname "$0")
schema=examples/bookstore.corm
flags=(-D_POSIX_C_SOURCE=200809L -Iinclude "-I$gen" -Itests/support -Isrc -Icli)
fail=0

for src in "$here"/*.c; do
  want=${src%.c}.expected
  # defaults.c is written against the schema with `default` eager loads
  sch=$schema; [ "$(basename "$src")" = defaults.c ] && sch=tests/integration/default_eager.corm
  got=$("$lint" --schema "$sch" "${flags[@]}" "$src" || true)
  if ! diff -u "$want" <(printf '%s\n' "$got") >/dev/null; then
    echo "lint: $src: diagnostics differ from $want:" >&2
    diff -u "$want" <(printf '%s\n' "$got") >&2 || true
    fail=1
  fi
done

# -p: the flags of each file from a compilation database (as CMake writes it,
# relative include directories resolved from its "directory")
cdb=$(mktemp -d)
trap 'rm -rf "$cdb"' EXIT
printf '[{"directory": "%s", "file": "%s", "command": "cc -std=c11 %s -MMD -MF x.d -c %s -o x.o"}]\n' \
  "$PWD" "$here/loops.c" "-D_POSIX_C_SOURCE=200809L -Iinclude -I $gen -Itests/support" "$here/loops.c" \
  >"$cdb/compile_commands.json"
if ! diff -u "$here/loops.expected" <("$lint" --schema "$schema" -p "$cdb" "$here/loops.c") >&2; then
  echo "lint: -p (compile_commands.json): diagnostics differ from loops.expected" >&2
  fail=1
fi

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
check_status 2 --schema "$schema" -p "$here/no-such-dir" "$here/loops.c"
check_status 1 --schema "$schema" "${flags[@]}" --error-on=count_in_loop "$here/nested.c"
check_status 0 --schema "$schema" "${flags[@]}" --error-on=exists_in_loop "$here/nested.c"

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

# the same log against the SARIF 2.1.0 JSON schema itself (make lint-deps
# installs the validator from npm; without node it is skipped, said so)
if command -v node >/dev/null && [ -d "$here/sarif/node_modules/ajv" ]; then
  "$lint" --schema "$schema" "${flags[@]}" --format sarif "$here/loops.c" "$here/nested.c" "$here/lookups.c" |
    node "$here/sarif/validate.mjs" >/dev/null || { echo "lint: --format sarif: not valid against the SARIF 2.1.0 schema" >&2; fail=1; }
else
  echo "lint: SARIF schema validation skipped (no node, or make lint-deps not run)"
fi

project=(examples/*.c tests/integration/*.c tests/oom/*.c tests/unit/*/*.c cli/*.c)
got=$("$lint" --schema "$schema" "${flags[@]}" "${project[@]}" |
  sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: warning: \([^ ]*\).*\[\(.*\)\]$/\1: \3: \2/p' | sort)
if ! diff -u "$here/project.expected" <(printf '%s\n' "$got") >/dev/null; then
  echo "lint: the project's own sources: findings differ from $here/project.expected" >&2
  echo "(a new finding is a false positive to fix in lint/lint.c, or a deliberate N+1 to list):" >&2
  diff -u "$here/project.expected" <(printf '%s\n' "$got") >&2 || true
  fail=1
fi
corm=${3:-}
if [ -n "$corm" ]; then
  runtime=$("$corm" demo --json | python3 -c '
import json, sys
sites = set()
for line in sys.stdin:
    s = json.loads(line)
    if s.get("variant") != "naive": continue
    for f in s["findings"]:
        if f["kind"] not in ("duplicate", "write_in_loop"):
            sites.add("%s %s" % (f["site"], f["kind"]))
print("\n".join(sorted(sites)))')
  linted=$("$lint" --schema "$schema" "${flags[@]}" cli/demo_scenarios.c |
    sed -n 's/^\([^:]*:[0-9]*\):[0-9]*: warning: .*\[\(.*\)\]$/\1 \2/p' | grep -v ' write_in_loop$' |
    sort -u)
  if [ -z "$runtime" ] || ! diff -u <(printf '%s\n' "$runtime") <(printf '%s\n' "$linted") >&2; then
    echo "lint: the demo's naive scenarios: linter sites (+) differ from the detector's (-)" >&2
    fail=1
  fi
fi
[ $fail -eq 0 ] && echo "lint: golden diagnostics, exit status, SARIF, the project sources${corm:+ and the detector sites of the demo}: ok"
exit $fail
