#!/usr/bin/env bash
# Auto mode's contract: `corm demo --json --mode auto --scale 100` runs each
# naive variant twice; the second run ("naive_learned", after auto mode
# learned what the first one had to batch-load) makes the fixed variant's
# query count, except for the scenarios listed in auto-not-fixable.txt,
# which must make exactly the count listed there.  Every variant returns
# the same rows as the fixed one, and auto mode never touches a fixed one.
#   Usage: check-auto.sh path/to/corm [demo args...]
set -eu
corm=${1:?usage: check-auto.sh CORM [DEMO ARGS...]}
shift
here=$(dirname "$0")
"$corm" demo --json --mode auto --scale 100 "$@" | python3 -c '
import json, sys
allowed = {}
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].split()
    if line:
        allowed[line[0]] = int(line[1])
runs = {}
for line in sys.stdin:
    o = json.loads(line)
    runs.setdefault(o["scenario"], {})[o["variant"]] = o
bad = []
for name, v in runs.items():
    fixed, learned, naive = v["fixed"], v["naive_learned"], v["naive"]
    want = allowed.get(name, fixed["queries"])
    if learned["queries"] != want:
        bad.append("%s: learned run made %d queries, %d expected" % (name, learned["queries"], want))
    if name in allowed and allowed[name] == fixed["queries"]:
        bad.append("%s: now fixed by auto mode: remove it from auto-not-fixable.txt" % name)
    if fixed["findings"]:
        bad.append("%s: the fixed variant has findings in auto mode" % name)
    for r in (naive, learned):
        # count/exists send fewer rows; tenant_manager shows the rows a
        # missing default scope leaks (every tenant)
        if r["rows"] != fixed["rows"] and name not in ("count_vs_len", "exists_vs_len",
                                                       "tenant_manager"):
            bad.append("%s %s: %d rows, the fixed variant %d" % (name, r["variant"], r["rows"], fixed["rows"]))
    if learned["queries"] < naive["queries"] and not any(f.get("auto") for f in learned["findings"]):
        bad.append("%s: auto mode changed the count but reported no auto finding" % name)
for name in allowed:
    if name not in runs:
        bad.append("%s: listed in auto-not-fixable.txt but not a scenario" % name)
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
print("demo --mode auto: %d scenarios, %d at the fixed count after one run, %d listed as not fixable"
      % (len(runs), len(runs) - len(allowed), len(allowed)))
' "$here/auto-not-fixable.txt"
