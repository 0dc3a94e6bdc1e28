#!/usr/bin/env python3
"""check-docs: compile every ```c block of the README and docs/*.md.

Usage: check-docs.py --cc CC --out DIR [--cflags FLAGS] [--gen HEADER] FILE.md...

Each block becomes one translation unit, compiled with the flags given
(make check-docs: -std=c11 -Wall -Wextra -Werror) against include/ and the
generated bookstore header, the models every example is written against.
Errors point at the markdown file and line (#line).

How a block is read (the convention, also in docs/architecture.md):
  - Preprocessor lines (#include, #define) go first, before anything else:
    a block may define CORM_ASSERT_FAIL before its own #include <corm.h>.
  - Then <corm.h>, "bookstore.h" and the usual C headers are included.
  - Function definitions at the block's top level stay at file scope; every
    other line is a statement, and the statements are wrapped, in order, in
    the body of a function whose parameters are the names the docs use
    without declaring them (CONTEXT below: db, qs, b, a, ...) and which
    returns corm_rc, with a local `corm_error err` (a fragment may
    `return err.rc;`).  A block may declare
    one of these names again: its statements sit in a nested block.
    Wrapped statements may leave a variable unused (a fragment shows how a
    value is obtained, not what the program does with it); every other
    warning is an error.
  - ```c generated: an excerpt of the generated header, checked instead to
    appear in it: each paragraph (lines between blank lines) as written.
  - ```c nocompile: <reason>: skipped, and the reason is required.  Keep these
    rare: make the example compile instead.
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys

# The names doc fragments use without declaring them, as the parameters of
# the function their statements are wrapped in.
CONTEXT = [
    ("corm_db *", "db"),          # an open database
    ("corm_qs *", "qs"),          # querysets built earlier in the text
    ("corm_qs *", "qs2"),
    ("corm_qs *", "authors"),
    ("corm_qs *", "books"),
    ("Book *", "b"),              # objects loaded earlier
    ("Author *", "a"),
    ("Author *", "a1"),
    ("Author *", "a2"),
    ("Author *", "a3"),
    ("Book *", "b1"),
    ("Book *", "b2"),
    ("Book *", "b3"),
    ("Genre *", "g"),
    ("size_t ", "n"),
    ("struct request *", "req"),  # the application's own request and output
    ("FILE *", "out"),
    ("corm_inspect *", "ins"),    # docs/inspect.md: the program's inspector
]

PREAMBLE = """\
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <corm.h>
#include "bookstore.h"

/* What the examples' surrounding application provides. */
struct request {
    int64_t tenant;
};
void handle_request(corm_db *db, struct request *req);
void render_author_list(corm_db *db, FILE *out);
char *render_books(corm_db *db);
"""

FENCE = re.compile(r"^(\s*)```(.*)$")
KEYWORDS = {"return", "else", "case", "goto", "sizeof", "do", "if", "while", "for", "switch"}
# a function definition's first line: [static] [inline] type name(
FUNC_HEAD = re.compile(
    r"^(?:(?:static|inline|extern)\s+)*(?:const\s+)?(?:(?:struct|enum|union|unsigned)\s+)?"
    r"([A-Za-z_]\w*)(?:\s*\*+\s*|\s+)([A-Za-z_]\w*)\s*\(")


class Block:
    def __init__(self, path, line, info, lines):
        self.path, self.line, self.info, self.lines = path, line, info, lines

    @property
    def where(self):
        return "%s:%d" % (self.path, self.line)


def blocks_of(path):
    """The fenced blocks of a markdown file whose language is c."""
    out = []
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        info = m.group(2).strip()
        j = i + 1
        while j < len(lines) and not FENCE.match(lines[j]):
            j += 1
        if info.split()[:1] == ["c"]:
            # the first code line is line i + 2 of the file
            out.append(Block(path, i + 2, info, lines[i + 1:j]))
        i = j + 1
    return out


LEXEMES = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)


def code_lines(lines):
    """lines with comments blanked and string and character constants
    emptied (line for line), so braces and '#' can be counted."""
    def blank(m):
        t = m.group(0)
        if t[0] in "\"'":
            return t[0] * 2
        return re.sub(r"[^\n]", " ", t)
    return LEXEMES.sub(blank, "\n".join(lines)).split("\n")


def split_block(b):
    """(preprocessor lines, file-scope functions, statement lines): lines
    are (markdown line number, text); a function is (name, lines).  A
    `static` variable declared outside a function stays at file scope
    (with the functions)."""
    pre, funcs, stmts = [], [], []
    lines, code = b.lines, code_lines(b.lines)
    depth, i = 0, 0
    while i < len(lines):
        c = code[i].strip()
        if depth == 0 and c.startswith("#"):
            pre.append((b.line + i, lines[i]))
            while lines[i].endswith("\\") and i + 1 < len(lines):
                i += 1
                pre.append((b.line + i, lines[i]))
            i += 1
            continue
        if depth == 0 and c.startswith("static ") and c.endswith(";") and "(" not in c:
            funcs.append((None, [(b.line + i, lines[i])]))
            i += 1
            continue
        m = FUNC_HEAD.match(c) if depth == 0 else None
        if m and m.group(1) not in KEYWORDS and not c.endswith(";"):
            chunk, opened = [], False
            while i < len(lines):
                chunk.append((b.line + i, lines[i]))
                depth += code[i].count("{") - code[i].count("}")
                opened = opened or "{" in code[i]
                i += 1
                if opened and depth == 0:
                    break
            funcs.append((m.group(2), chunk))
            continue
        depth += code[i].count("{") - code[i].count("}")
        stmts.append((b.line + i, lines[i]))
        i += 1
    return pre, funcs, stmts


def with_lines(path, numbered):
    """numbered lines, each run preceded by a #line directive."""
    out, nxt = [], None
    for no, text in numbered:
        if no != nxt:
            out.append('#line %d "%s"' % (no, path))
        out.append(text)
        nxt = no + 1
    return out


def translation_unit(b, serial):
    pre, funcs, stmts = split_block(b)
    src = with_lines(b.path, pre)
    src.append('#line 1 "<check-docs preamble>"')
    src.append(PREAMBLE)
    for _, chunk in funcs:
        src += with_lines(b.path, chunk)
    fn = "corm_doc_example_%d" % serial
    if funcs:
        # the block's functions count as used (an example may define a
        # helper the text calls later)
        src.append('#line 1 "<check-docs wrapper>"')
        src.append("void (*const %s_fns[])(void) = {%s};" %
                   (fn, ", ".join("(void (*)(void))%s" % name for name, _ in funcs if name)))
    if any(t.strip() for _, t in stmts):
        params = ", ".join("%s%s" % (t, n) for t, n in CONTEXT)
        src.append('#line 1 "<check-docs wrapper>"')
        src.append("corm_rc %s(%s);" % (fn, params))
        src.append("corm_rc %s(%s)" % (fn, params))
        src.append("{")
        src.append("    corm_error err = {0};")
        src.append("    " + " ".join("(void)%s;" % n for _, n in CONTEXT + [("", "err")]))
        src.append("#pragma GCC diagnostic ignored \"-Wunused-variable\"")
        src.append("#pragma GCC diagnostic ignored \"-Wunused-but-set-variable\"")
        src.append("    {")
        src += with_lines(b.path, stmts)
        src.append('#line 1 "<check-docs wrapper>"')
        src.append("    }")
        src.append("    return CORM_OK;")
        src.append("}")
    return "\n".join(src) + "\n"


def check_generated(b, header):
    """Each paragraph of the block (lines between blank lines) appears in the
    generated header as consecutive lines."""
    have = [l.rstrip() for l in open(header, encoding="utf-8").read().split("\n")]
    paras, cur = [], []
    for i, line in enumerate(b.lines + [""]):
        if line.strip():
            cur.append((b.line + i, line.rstrip()))
        elif cur:
            paras.append(cur)
            cur = []
    for para in paras:
        want = [t for _, t in para]
        if not any(have[k:k + len(want)] == want for k in range(len(have) - len(want) + 1)):
            return "%s:%d: these %d lines are not in %s as written:\n  %s" % (
                b.path, para[0][0], len(want), header, "\n  ".join(want))
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--cflags", default="")
    ap.add_argument("--out", required=True)
    ap.add_argument("--gen", required=True, help="the generated bookstore.h")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for f in os.listdir(args.out):  # blocks move when the text changes
        if f.endswith((".c", ".o")):
            os.remove(os.path.join(args.out, f))
    gen_dir = os.path.dirname(args.gen) or "."

    jobs, failures, skipped, generated = [], [], [], 0
    for path in args.files:
        for b in blocks_of(path):
            words = b.info.split(None, 1)
            kind = words[1].split(":")[0].strip() if len(words) > 1 else ""
            if kind == "nocompile":
                reason = b.info.split(":", 1)[1].strip() if ":" in b.info else ""
                if not reason:
                    failures.append("%s: ```c nocompile needs a reason: ```c nocompile: <why>"
                                    % b.where)
                else:
                    skipped.append("%s (%s)" % (b.where, reason))
                continue
            if kind == "generated":
                msg = check_generated(b, args.gen)
                if msg:
                    failures.append(msg)
                generated += 1
                continue
            if kind:
                failures.append("%s: unknown block kind '%s' (use ```c, ```c generated or "
                                "```c nocompile: <reason>)" % (b.where, kind))
                continue
            name = re.sub(r"\W", "_", path.replace(".md", "")) + "_%d" % b.line
            c_path = os.path.join(args.out, name + ".c")
            with open(c_path, "w", encoding="utf-8") as f:
                f.write(translation_unit(b, len(jobs)))
            jobs.append((b, c_path))

    def compile_one(job):
        b, c_path = job
        cmd = [args.cc] + args.cflags.split() + ["-Iinclude", "-I" + gen_dir, "-c", c_path,
                                                  "-o", c_path[:-2] + ".o"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        return b, c_path, r.returncode, r.stdout + r.stderr

    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for b, c_path, rc, text in pool.map(compile_one, jobs):
            if rc != 0:
                failures.append("%s: the block does not compile (%s):\n%s" %
                                (b.where, c_path, text.rstrip()))

    print("check-docs: %d C blocks compiled, %d checked against the generated header, "
          "%d skipped" % (len(jobs), generated, len(skipped)))
    for s in skipped:
        print("  skipped: " + s)
    for msg in failures:
        print("check-docs: " + msg)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
