#!/usr/bin/env bash
# The layers under src/ and what each may include (STYLE.md, docs/architecture.md).
# Prints the folder graph, then fails when:
#   - a file includes a folder its layer may not use,
#   - the graph below has a cycle (it is checked, not assumed),
#   - a folder exists that the graph does not name,
#   - a corm__ function is declared in two layers (a prototype re-declared
#     to dodge an include), or declared in a .c file other than the one
#     that defines it (a forward declaration for recursion is fine).
exec python3 - "$@" <<'PY'
import os, re, sys
GRAPH = {                      # layer: the layers it may include (besides itself)
    "core":    [],
    "schema":  ["core"],
    "sql":     ["core", "schema"],
    "backend": ["core"],
    "instr":   ["core"],
    "db":      ["core", "schema", "sql", "backend", "instr"],
    "fetch":   ["core", "schema", "sql", "backend", "instr", "db"],
    "qs":      ["core", "schema", "sql", "backend", "instr", "db", "fetch"],
    "write":   ["core", "schema", "sql", "backend", "instr", "db", "fetch", "qs"],
    "migrate": ["core", "schema", "sql", "backend", "instr", "db"],
    "gen":     ["core", "schema"],
    "cache":   ["core", "schema", "sql", "backend", "instr", "db"],
    "inspect": ["core", "schema", "sql", "backend", "instr", "db"],
    "json":    ["core", "schema", "sql", "backend", "instr", "db", "fetch", "qs"],
}
rc = 0
def fail(msg):
    global rc
    print("check-layers: " + msg)
    rc = 1

# the graph itself: every edge goes to a known layer, and there is no cycle
state = {}
def visit(n, stack):
    if state.get(n) == 1:
        fail("cycle: " + " -> ".join(stack + [n]))
        return
    if state.get(n) == 2:
        return
    state[n] = 1
    for d in GRAPH[n]:
        if d not in GRAPH:
            fail("%s may use unknown layer %s" % (n, d))
        else:
            visit(d, stack + [n])
    state[n] = 2
for n in GRAPH:
    visit(n, [])

folders = sorted(d for d in os.listdir("src") if os.path.isdir(os.path.join("src", d)))
for d in folders:
    if d not in GRAPH:
        fail("src/%s/ is not a layer of the graph (add it to tools/check-layers.sh)" % d)

inc_re = re.compile(r'^#include "\.\./([a-z_]+)/')
proto_re = re.compile(r'^[A-Za-z_][\w \*]*?\b(corm__\w+)\s*\([^;{]*$|^[A-Za-z_][\w \*]*?\b(corm__\w+)\s*\(.*\);')
declared = {}                  # name -> set of (layer, file)
defined = {}                   # name -> files defining it
used = {d: set() for d in folders}
for d in folders:
    for f in sorted(os.listdir(os.path.join("src", d))):
        if not f.endswith((".c", ".h")):
            continue
        path = os.path.join("src", d, f)
        text = open(path, encoding="utf-8").read()
        for line in text.splitlines():
            m = inc_re.match(line)
            if m:
                dep = m.group(1)
                if dep != d:
                    used[d].add(dep)
                    if d in GRAPH and dep not in GRAPH[d]:
                        fail("%s includes %s/ (%s may use: %s)" % (path, dep, d, " ".join(GRAPH[d]) or "nothing"))
        # prototypes: a declaration at file scope ends with ");" before any "{"
        for m in re.finditer(r'^(?!static\b)(?:[A-Za-z_][\w\s\*]*?)\b(corm__\w+)\s*\(([^;{}]*?)\)\s*\{', text, re.M):
            defined.setdefault(m.group(1), set()).add(path)
        for m in re.finditer(r'^(?!static\b)(?:[A-Za-z_][\w\s\*]*?)\b(corm__\w+)\s*\(([^;{}]*?)\)\s*;',
                             text, re.M):
            declared.setdefault(m.group(1), set()).add((d, path))
for name, where in sorted(declared.items()):
    layers = sorted({l for l, _ in where})
    if len(layers) > 1:
        fail("%s is declared in %s: declare it once, in its layer's header, and include that"
             % (name, ", ".join(sorted(p for _, p in where))))
    for l, p in where:
        if p.endswith(".c") and defined.get(name, set()) != {p}:
            fail("%s is declared in %s: declare it in a header of src/%s/" % (name, p, l))

print("check-layers: src/ folders and the layers they include (may use -> uses):")
for d in folders:
    print("  %-8s -> %s" % (d, " ".join(sorted(used[d], key=lambda x: list(GRAPH).index(x) if x in GRAPH else 99)) or "-"))
sys.exit(rc)
PY
