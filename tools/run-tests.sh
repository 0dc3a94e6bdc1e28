#!/usr/bin/env bash
# Runs each test program, prints its output, and closes with one line
# "N passed, N failed" summing the cmocka groups.  Exit 1 if any failed.
set -u
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
export CMOCKA_MESSAGE_OUTPUT=stdout
passed=0 failed=0 broken=()
# An argument "script:arg" runs a checking script with one argument; it
# counts as one test.
for t in "$@"; do
  case "$t" in
    *.sh:*) script=${t%%:*}; arg=${t#*:}
            out=$("$script" "$arg" 2>&1); rc=$?
            printf '%s\n' "$out"
            if [ $rc -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); broken+=("$script"); fi
            continue ;;
  esac
  out=$(${RUNNER:-} "$t" 2>&1); rc=$?
  printf '%s\n' "$out"
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f))
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); broken+=("$t (exit $rc)"); fi
  [ $rc -ne 0 ] && [ "$f" -gt 0 ] && broken+=("$t")
done
if [ ${#broken[@]} -gt 0 ]; then printf 'FAILED: %s\n' "${broken[@]}"; fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
