"""A seeded JSON-lines dataset whose src_ip -> dst_ip graph has about NODES nodes and
EDGES distinct edges (half the nodes as sources, half as targets, scale-free-ish degrees),
for the viewer frame benchmark."""
import argparse, json, random

ap = argparse.ArgumentParser()
ap.add_argument("--nodes", type=int, required=True)
ap.add_argument("--edges", type=int, required=True)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--out", required=True)
a = ap.parse_args()
rng = random.Random(a.seed)
half = a.nodes // 2
ip = lambda base, i: f"{base}.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
seen = set()
with open(a.out, "w") as f:
    for i in range(half):  # every node appears at least once
        s, t = i, i
        seen.add((s, t))
        f.write(json.dumps({"time": f"2024-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z", "src_ip": ip(10, s), "dst_ip": ip(172, t), "dst_port": 443}) + "\n")
    while len(seen) < a.edges:
        s = min(int(rng.paretovariate(1.2)) - 1, half - 1) if rng.random() < 0.5 else rng.randrange(half)
        t = rng.randrange(half)
        if (s, t) in seen:
            continue
        seen.add((s, t))
        f.write(json.dumps({"time": "2024-01-01T01:00:00Z", "src_ip": ip(10, s), "dst_ip": ip(172, t), "dst_port": 80}) + "\n")
