#!/usr/bin/env bash
# Layers under src/ depend downward only (STYLE.md).  Each line: a layer and
# the layers it may include.  Fails naming the file and the include.
set -u
allowed() {
  case "$1" in
    core) echo "core" ;;
    schema) echo "core schema" ;;
    sql) echo "core schema sql" ;;
    backend) echo "core backend" ;;
    instr) echo "core instr" ;;
    cache) echo "core backend cache" ;;
    migrate) echo "core schema sql backend migrate" ;;
    qs) echo "core schema sql backend instr cache qs prefetch" ;;
    prefetch) echo "core schema sql backend instr cache qs prefetch" ;;
    gen) echo "core schema gen" ;;
    *) echo "" ;;
  esac
}
rc=0
for f in src/*/*.[ch]; do
  layer=$(basename "$(dirname "$f")")
  ok=" $(allowed "$layer") "
  while IFS= read -r inc; do
    dep=$(printf '%s' "$inc" | sed -n 's|.*"\.\./\([a-z]*\)/.*|\1|p')
    [ -z "$dep" ] && continue
    case "$ok" in *" $dep "*) ;; *) echo "check-layers: $f includes $dep/ ($layer may use:$ok)"; rc=1 ;; esac
  done < <(grep -h '^#include "' "$f")
done
exit $rc
