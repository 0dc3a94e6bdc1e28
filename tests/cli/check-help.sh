#!/usr/bin/env bash
# The CLI's help, against golden files in tests/cli/help/: `corm --help`,
# and for every command `corm help CMD` and `corm CMD --help` (the same
# text, exit 0); usage errors (an unknown option names the options, a
# missing value, an unknown command) go to stderr with exit 2, from the
# shared parser for every command (lint checks its options against its
# table entry before running corm-lint).
#   Usage: check-help.sh path/to/corm       CORM_HELP_UPDATE=1 rewrites the goldens
set -u
corm=${1:?usage: check-help.sh CORM}
dir=$(dirname "$0")/help
fails=0

# check NAME WANT_RC CMD...: stdout+stderr of CMD against $dir/NAME.txt
check() {
  local name=$1 want=$2; shift 2
  local got rc
  got=$("$@" 2>&1); rc=$?
  if [ "${CORM_HELP_UPDATE:-}" = 1 ]; then printf '%s\n' "$got" > "$dir/$name.txt"; fi
  if [ "$rc" != "$want" ]; then
    echo "FAIL: ${*#"$corm"}: exit $rc, want $want"; fails=$((fails + 1))
  fi
  if ! diff -u "$dir/$name.txt" <(printf '%s\n' "$got") >/dev/null 2>&1; then
    echo "FAIL: ${*#"$corm"}: differs from $dir/$name.txt:"
    diff -u "$dir/$name.txt" <(printf '%s\n' "$got") | head -20
    fails=$((fails + 1))
  fi
}

check corm 0 "$corm" --help
check corm 0 "$corm" help
check no-command 2 "$corm"
commands=$("$corm" --help | sed -n '/^commands:/,/^$/p' | awk 'NF && !/^commands:/ {print $1}')
[ -n "$commands" ] || { echo "FAIL: corm --help lists no commands"; exit 1; }
for c in $commands; do
  check "cmd-$c" 0 "$corm" help "$c"
  check "cmd-$c" 0 "$corm" "$c" --help
  check "cmd-$c" 0 "$corm" "$c" -h
done
check err-unknown-option 2 "$corm" demo --scael 5
check err-unknown-option-own-parser 2 "$corm" migrate x.corm --dbb sqlite:x.db
check err-missing-value 2 "$corm" gen x.corm -o
check err-required 2 "$corm" migrate x.corm
check err-extra-argument 2 "$corm" gen a.corm b.corm
check err-flag-value 2 "$corm" demo --json=yes
check err-bad-value 2 "$corm" demo --scale zero
check err-unknown-command 2 "$corm" frob
check err-help-unknown 2 "$corm" help frob
check err-sqlmigrate-unknown-option 2 "$corm" sqlmigrate 0001 --db sqlite:x.db --backward
check err-showmigrations-extra 2 "$corm" showmigrations extra --db sqlite:x.db
check err-makemigrations-not-schema 2 "$corm" makemigrations app.txt
check err-serve-bad-value 2 "$corm" serve --port 80a
check err-lint-unknown-option 2 "$corm" lint --shema app.corm a.c
check err-lint-missing-value 2 "$corm" lint a.c --schema
# --rename is repeatable: both renames reach the migration
tmp=$(mktemp -d)
printf 'model Writer {\n    name: char(40)\n}\n' > "$tmp/a.corm"
"$corm" makemigrations "$tmp/a.corm" --dir "$tmp/m" >/dev/null
printf 'model Author {\n    title: char(40)\n}\n' > "$tmp/a.corm"
got=$("$corm" makemigrations "$tmp/a.corm" --dir "$tmp/m" --rename Writer:Author \
      --rename=Author.name:title --dry-run 2>&1)
if ! printf '%s\n' "$got" | grep -q '^rename_model Writer Author$' ||
   ! printf '%s\n' "$got" | grep -q '^rename_field Author name title$'; then
  echo "FAIL: makemigrations --rename twice:"; printf '%s\n' "$got"; fails=$((fails + 1))
fi
rm -rf "$tmp"
if [ "$fails" -gt 0 ]; then echo "help: $fails failures"; exit 1; fi
echo "help: corm --help and $(echo $commands | wc -w) commands match their golden text"
