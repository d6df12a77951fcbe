#!/usr/bin/env python3
"""Writes fixtures/graph/left.csv and right.csv (deterministic) and the expected outputs of
fixtures/graph/*.toml, computed here, apart from the engine:

  expected/graph_joined.csv   join of left and right on key: left fields, then right fields
  expected/graph_small.csv    rows of left ∪ right with value < 50 (the filter's rejected)
  expected/graph_two_stage.csv  key_by key → rolling count n → key_by n → rolling count
                                (the last rows per n: n, keys that reached n events)
Each expected file is sorted (the engine's order across workers is not defined).
"""
import os, random

root = os.path.join(os.path.dirname(__file__), "..", "fixtures")
rng = random.Random(6)

def rows(n, keys, t0):
    out = []
    for i in range(n):
        k = "k%02d" % rng.randrange(keys)
        out.append((k, rng.randrange(100), t0 + i * 7))
    return out

left = rows(300, 40, 1714564800000)
right = rows(200, 60, 1714564900000)
for name, data in (("left", left), ("right", right)):
    with open(os.path.join(root, "graph", name + ".csv"), "w") as f:
        f.write("key,value,ts\n")
        for k, v, t in data:
            f.write(f"{k},{v},{t}\n")
    # A malformed line goes to the dead letters, not into the join.
    with open(os.path.join(root, "graph", name + ".csv"), "a") as f:
        f.write("broken line without enough fields\n")

joined = sorted(f"{lk},{lv},{lt},{rk},{rv},{rt}" for lk, lv, lt in left for rk, rv, rt in right if lk == rk)
small = sorted(f"{k},{v},{t}" for k, v, t in left + right if v < 50)
counts = {}
for k, _, _ in left:
    counts[k] = counts.get(k, 0) + 1
# Every (n, j) for j in 1..c_n, c_n = keys with at least n events.
two = []
for n in range(1, max(counts.values()) + 1):
    c = sum(1 for v in counts.values() if v >= n)
    two += [f"{n},{j}" for j in range(1, c + 1)]
for name, lines in (("graph_joined", joined), ("graph_small", small), ("graph_two_stage", sorted(two))):
    with open(os.path.join(root, "expected", name + ".csv"), "w") as f:
        f.write("".join(l + "\n" for l in lines))
