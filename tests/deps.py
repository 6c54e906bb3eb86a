#!/usr/bin/env python3
"""Checks that superd's files depend on each other one way only.

    tests/deps.py OBJDIR [SRCDIR]           what `make check-deps` runs
    tests/deps.py --graph OBJDIR [SRCDIR]   prints who calls whom

A file calls another when its object file (OBJDIR/NAME.o) leaves
undefined a symbol the other defines (`nm`).  The check fails on:
  - a cycle of calls between files, other than one in ALLOWED_CYCLES
    (each justified in the README's design section);
  - a cycle of #include among the headers of SRCDIR (superd/), or a .c
    file included anywhere;
  - a .c file of SRCDIR over MAX_LINES lines.
"""

import os
import re
import subprocess
import sys

MAX_LINES = 800

# Sets of files allowed to call each other: none today.  A cycle added
# here needs its reason in README.md's design section.
ALLOWED_CYCLES = []


def symbols(obj):
    """(defined, undefined) global symbols of an object file."""
    out = subprocess.run(["nm", obj], capture_output=True, text=True,
                         check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] == "U":
            undefined.add(fields[1])
        elif len(fields) == 3 and fields[1] in "TDBRCGSV":
            defined.add(fields[2])
    return defined, undefined


def call_graph(objdir, srcdir):
    """{file: {file it calls: [symbols]}} over the objects in OBJDIR of
    the .c files of SRCDIR (a stale object of a removed file is left out)."""
    owner, needs = {}, {}
    for unit in sorted(os.listdir(srcdir)):
        if not unit.endswith(".c"):
            continue
        name = unit[:-2] + ".o"
        defined, needs[unit] = symbols(os.path.join(objdir, name))
        for sym in defined:
            owner[sym] = unit
    graph = {unit: {} for unit in needs}
    for unit, syms in needs.items():
        for sym in sorted(syms):
            callee = owner.get(sym)
            if callee is not None and callee != unit:
                graph[unit].setdefault(callee, []).append(sym)
    return graph


def cycles(graph):
    """The strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            comp = set()
            while True:
                top = stack.pop()
                on_stack.discard(top)
                comp.add(top)
                if top == node:
                    break
            if len(comp) > 1:
                found.append(comp)

    sys.setrecursionlimit(10000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def include_graph(srcdir):
    """{file: {local file it includes: []}} over SRCDIR's .c and .h."""
    graph = {}
    for name in sorted(os.listdir(srcdir)):
        if not name.endswith((".c", ".h")):
            continue
        with open(os.path.join(srcdir, name), encoding="utf-8") as f:
            text = f.read()
        graph[name] = {inc: [] for inc in
                       re.findall(r'^#\s*include\s+"([^"]+)"', text, re.M)}
    return graph


def problems(objdir, srcdir):
    out = []
    for comp in cycles(call_graph(objdir, srcdir)):
        if comp not in [set(c) for c in ALLOWED_CYCLES]:
            out.append("call cycle among %s" % ", ".join(sorted(comp)))
    incs = include_graph(srcdir)
    for comp in cycles(incs):
        out.append("include cycle among %s" % ", ".join(sorted(comp)))
    for name, included in sorted(incs.items()):
        for inc in included:
            if inc.endswith(".c"):
                out.append("%s includes %s" % (name, inc))
        if name.endswith(".c"):
            with open(os.path.join(srcdir, name), encoding="utf-8") as f:
                lines = sum(1 for _ in f)
            if lines > MAX_LINES:
                out.append("%s has %d lines, over %d"
                           % (name, lines, MAX_LINES))
    return out


def main(argv):
    if len(argv) in (2, 3) and argv[0] == "--graph":
        srcdir = argv[2] if len(argv) == 3 else "superd"
        for unit, callees in sorted(call_graph(argv[1], srcdir).items()):
            for callee, syms in sorted(callees.items()):
                print("%s -> %s: %s" % (unit, callee, " ".join(syms)))
        return 0
    if len(argv) not in (1, 2):
        sys.stderr.write(__doc__)
        return 2
    found = problems(argv[0], argv[1] if len(argv) == 2 else "superd")
    for p in found:
        print("deps: " + p)
    if not found:
        print("deps: no cycle among superd's files, none over %d lines"
              % MAX_LINES)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
