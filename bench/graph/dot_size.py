#!/usr/bin/env python3
"""Counts the nodes and edges of a DOT file as AfterGlow and `secviz graph --to dot` write
it (one statement per line): prints `NODES EDGES`. Edges are distinct (tail, head) pairs."""
import re
import sys

NAME = r'"((?:[^"\\]|\\.)*)"'
nodes, edges = set(), set()
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.match(r"\s*" + NAME + r"\s*->\s*" + NAME, line)
    if m:
        edges.add((m[1], m[2]))
        nodes.update((m[1], m[2]))
        continue
    m = re.match(r"\s*" + NAME + r"\s*(\[|;|$)", line)
    if m:
        nodes.add(m[1])
print(len(nodes), len(edges))
