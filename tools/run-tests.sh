#!/usr/bin/env bash
# Runs each test program, prints its output, and closes with one line
# "N passed, N failed" summing the cmocka groups.  Exit 1 if any failed.
set -u
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
export CMOCKA_MESSAGE_OUTPUT=stdout
# every compiled-SQL memo hit is compiled again and compared (src/sql/memo.c)
export CORM_SQL_MEMO_VERIFY=1
passed=0 failed=0 broken=()
# "--backend=sqlite" and "--backend=postgresql" pick the database of the
# programs after them (CORM_TEST_DB; tests/support/test.c): the PostgreSQL
# url is the CORM_TEST_DB this script was started with (tools/pg-test-server.sh
# run sets it).  Without one that is a failure, unless CORM_TEST_SQLITE_ONLY=1
# asked for SQLite alone: then the PostgreSQL programs are skipped, loudly.
PG_URL=${CORM_TEST_DB:-}
case "$PG_URL" in postgres*) ;; *) PG_URL= ;; esac
backend=sqlite skip=0
unset CORM_TEST_DB
# An argument "script:arg" runs a checking script with one argument; it
# counts as one test.
for t in "$@"; do
  case "$t" in
    --backend=sqlite) backend=sqlite skip=0; unset CORM_TEST_DB; echo "=== on SQLite"; continue ;;
    --backend=postgresql)
      backend=postgresql skip=0
      if [ -n "$PG_URL" ]; then
        export CORM_TEST_DB="$PG_URL"; echo "=== on PostgreSQL ($PG_URL)"
      elif [ "${CORM_TEST_SQLITE_ONLY:-}" = 1 ]; then
        skip=1; echo "=== on PostgreSQL: SKIPPED (CORM_TEST_SQLITE_ONLY=1)"
      else
        skip=1; failed=$((failed + 1)); broken+=("PostgreSQL: no server (CORM_TEST_DB)")
        echo "=== on PostgreSQL: FAILED, no server: run under tools/pg-test-server.sh, or set CORM_TEST_SQLITE_ONLY=1"
      fi
      continue ;;
  esac
  [ $skip -eq 1 ] && continue
  tag=""; [ "$backend" = postgresql ] && tag=" [postgresql]"
  case "$t" in
    *.sh:*) script=${t%%:*}; arg=${t#*:}
            out=$("$script" "$arg" 2>&1); rc=$?
            printf '%s\n' "$out"
            if [ $rc -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); broken+=("$script$tag"); fi
            continue ;;
  esac
  out=$(${RUNNER:-} "$t" 2>&1); rc=$?
  printf '%s\n' "$out"
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f))
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); broken+=("$t$tag (exit $rc)"); fi
  [ $rc -ne 0 ] && [ "$f" -gt 0 ] && broken+=("$t$tag")
done
if [ ${#broken[@]} -gt 0 ]; then printf 'FAILED: %s\n' "${broken[@]}"; fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
