#!/usr/bin/env python3
"""check-exports: the shared library exports exactly the public API.

Usage: check-exports.py LIBCORM.so [HEADER...]   (default: include/corm.h
include/corm/*.h)

Fails when
  - an exported symbol lacks the corm_ prefix,
  - an exported symbol is not declared CORM_API in a public header (it
    leaked: a missing static, or an internal corm__ name without hidden
    visibility, or an API nobody documented),
  - a CORM_API declaration has no definition in the library (a program
    using it would not link),
  - a public header declares a function or variable without CORM_API (it
    would not be exported: -fvisibility=hidden).
Public headers are scanned as text: comments, preprocessor lines and the
`extern "C"` guard are dropped, then each top-level declaration is read.
"""
import glob
import re
import subprocess
import sys

EXPORT_MARKS = ("CORM_API", '__attribute__((visibility("default")))')


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True, capture_output=True,
                         text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] not in ("A",):  # A: absolute (version nodes)
            names.add(parts[2].split("@")[0])
    return names


def top_level_decls(text):
    """(declaration text, line) for each declaration at file scope."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    lines, keep, skip = text.split("\n"), [], 0
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("#"):
            # C++ guards hold only extern "C" { / }: drop what they enclose
            if re.match(r"#\s*(ifdef\s+__cplusplus|if\s+defined\s*\(?\s*__cplusplus)", stripped):
                skip += 1
            elif skip and re.match(r"#\s*if", stripped):
                skip += 1
            elif skip and re.match(r"#\s*endif", stripped):
                skip -= 1
            while line.endswith("\\") and i + 1 < len(lines):
                i += 1
                line = lines[i]
            keep.append("")
        else:
            keep.append("" if skip else line)
        i += 1
    decls, cur, depth, start = [], [], 0, None
    for no, line in enumerate(keep, 1):
        for ch in line:
            if start is None and not ch.isspace():
                start = no
            cur.append(ch)
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                body = "".join(cur)
                # a function definition ends at its closing brace
                if depth == 0 and body.find("(") != -1 and body.find("(") < body.find("{"):
                    decls.append((body, start))
                    cur, start = [], None
            elif ch == ";" and depth == 0:
                decls.append(("".join(cur), start))
                cur, start = [], None
        cur.append("\n")
    return decls


def declared_name(decl):
    """The identifier a function or variable declaration declares, or None
    for type declarations."""
    d = re.sub(r"__attribute__\s*\(\(.*?\)\)", " ", decl, flags=re.S)
    d = re.sub(r"\bCORM_(API|WARN_UNUSED)\b", " ", d)
    head = d.split("{", 1)[0]
    if re.match(r"\s*(typedef|struct|enum|union)\b", head) and "(" not in head:
        return None
    if re.match(r"\s*typedef\b", head):
        return None
    m = re.search(r"([A-Za-z_]\w*)\s*\(", head)
    if m:
        return m.group(1)
    m = re.search(r"([A-Za-z_]\w*)\s*(\[[^\]]*\]\s*)*(=.*)?;?\s*$", head, flags=re.S)
    return m.group(1) if m else None


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    lib = argv[1]
    headers = argv[2:] or ["include/corm.h"] + sorted(glob.glob("include/corm/*.h"))
    api, unmarked = {}, []
    for h in headers:
        for decl, line in top_level_decls(open(h, encoding="utf-8").read()):
            name = declared_name(decl)
            if not name:
                continue
            if re.match(r"\s*static\b", decl):
                continue
            if any(mark in decl for mark in EXPORT_MARKS):
                api[name] = "%s:%d" % (h, line)
            else:
                unmarked.append("%s:%d: %s" % (h, line, name))
    syms = exported(lib)
    bad = []
    for s in sorted(syms):
        if not s.startswith("corm_"):
            bad.append("%s is exported without the corm_ prefix (make it static, or a corm__ "
                       "internal)" % s)
        elif s not in api:
            bad.append("%s is exported but not declared CORM_API in a public header (make it "
                       "static or a corm__ internal, or declare and document it in include/)" % s)
    for name, where in sorted(api.items()):
        if name not in syms:
            bad.append("%s: %s is declared CORM_API but %s does not define it" % (where, name, lib))
    for u in unmarked:
        bad.append("%s is declared without CORM_API, so the library does not export it" % u)
    for b in bad:
        print("check-exports: " + b)
    if not bad:
        print("check-exports: %d symbols exported, each declared CORM_API in %s" %
              (len(syms), " ".join(headers)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
