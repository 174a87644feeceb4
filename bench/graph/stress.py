#!/usr/bin/env python3
"""Normalized layout stress on sampled node pairs, for secviz and Graphviz layouts of the
same graph (lower is better).

    stress.py secviz.json [sfdp.plain] [--pivots 64] [--seed 1]

secviz.json: `secviz graph --to json` (its edges define the graph, read as undirected).
sfdp.plain: `sfdp -Tplain` of the DOT secviz wrote for the same rows (same node names).

Stress: for pivot nodes p and every node j reachable from p, d = hop distance, x = layout
distance; with the scale s minimising it, stress = mean((s*x - d)^2 / d^2). Layouts are
compared on the same pairs, so the figure is scale-free and comparable.
"""
import argparse
import json
import random
import shlex
from collections import deque


def read_edges_from_json(doc):
    n = doc["nodes"]
    e = doc["edges"]
    ids = n["id"]
    adj = {i: set() for i in ids}
    for s, t in zip(e["source"], e["target"]):
        a, b = ids[s], ids[t]
        adj[a].add(b)
        adj[b].add(a)
    return adj


def secviz_positions(doc):
    n = doc["nodes"]
    return {i: (x, y) for i, x, y in zip(n["id"], n["x"], n["y"])}


def plain_positions(path):
    pos = {}
    with open(path) as f:
        for line in f:
            if not line.startswith("node "):
                continue
            parts = shlex.split(line)
            pos[parts[1]] = (float(parts[2]), float(parts[3]))
    return pos


def stress(adj, pos, pivots):
    num = 0.0
    pairs = []
    for p in pivots:
        dist = {p: 0}
        q = deque([p])
        while q:
            u = q.popleft()
            for v in adj[u]:
                if v not in dist:
                    dist[v] = dist[u] + 1
                    q.append(v)
        for v, d in dist.items():
            if d > 0 and v in pos and p in pos:
                x = ((pos[p][0] - pos[v][0]) ** 2 + (pos[p][1] - pos[v][1]) ** 2) ** 0.5
                pairs.append((x, d))
    # Optimal scale s for sum((s x - d)^2 / d^2): s = sum(x/d) / sum(x^2/d^2).
    sxd = sum(x / d for x, d in pairs)
    sxx = sum((x / d) ** 2 for x, d in pairs)
    s = sxd / sxx if sxx else 1.0
    num = sum(((s * x - d) / d) ** 2 for x, d in pairs)
    return num / max(len(pairs), 1), len(pairs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("secviz_json")
    ap.add_argument("plain", nargs="?")
    ap.add_argument("--pivots", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    doc = json.load(open(a.secviz_json))
    adj = read_edges_from_json(doc)
    nodes = sorted(adj)
    rng = random.Random(a.seed)
    pivots = rng.sample(nodes, min(a.pivots, len(nodes)))
    sv, pairs = stress(adj, secviz_positions(doc), pivots)
    out = {"nodes": len(nodes), "pairs": pairs, "secviz": round(sv, 4)}
    if a.plain:
        gv, _ = stress(adj, plain_positions(a.plain), pivots)
        out["graphviz"] = round(gv, 4)
        out["ratio"] = round(sv / gv, 3) if gv else None
    print(json.dumps(out))


if __name__ == "__main__":
    main()
