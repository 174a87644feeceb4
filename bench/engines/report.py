"""Reads <out>/{embedded,distributed,ballista}.tsv + answer files, prints the
Markdown table, and exits 1 (loudly) if any engine's answer differs."""
import os
import sys

out = sys.argv[1]
engines = ["embedded", "distributed", "ballista"]
queries = ["q1_top_talkers", "q2_pairs", "q3_distinct", "q4_per_hour", "q5_filter"]


def load(engine):
    path = os.path.join(out, f"{engine}.tsv")
    if not os.path.exists(path):
        return None
    rows = [line.rstrip("\n").split("\t") for line in open(path)][1:]
    return {r[0]: r for r in rows}


def answer(engine, q):
    path = os.path.join(out, f"{engine}-{q}.txt")
    return open(path).read() if os.path.exists(path) else None


data = {e: load(e) for e in engines}
bad = []
print("| query | embedded DF ms | datafusion-distributed (2 workers) ms | Ballista (2 executors) ms | answers equal |")
print("|---|---:|---:|---:|---|")
for q in queries:
    cells = []
    for e in engines:
        r = (data[e] or {}).get(q)
        cells.append(f"{r[1]} ({r[2]}–{r[3]})" if r else "n/a")
    answers = {e: answer(e, q) for e in engines}
    present = {e: a for e, a in answers.items() if a is not None}
    same = len(set(present.values())) <= 1 and len(present) == len(engines)
    if len(set(present.values())) > 1:
        bad.append(q)
    eq = "yes" if same else ("NO" if q in bad else f"only {','.join(present)}")
    print(f"| {q} | {' | '.join(cells)} | {eq} |")
print("\n(median of 5 runs after 1 warm-up; min–max in brackets)")
if bad:
    print(f"\n!!!!!!!! ANSWER MISMATCH in {bad} !!!!!!!!", file=sys.stderr)
    for q in bad:
        for e in engines:
            print(f"--- {e} {q}\n{answer(e, q)}", file=sys.stderr)
    sys.exit(1)
if any(d is None for d in data.values()):
    print("!!! some engine produced no results", file=sys.stderr)
    sys.exit(2)
