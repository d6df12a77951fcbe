#!/usr/bin/env python3
"""Writes the event-time fixtures and their expected outputs, computed here, apart from the
engine:

  fixtures/time/events.csv        key,value,ts: ts rises ~37 ms per record with up to 150 ms
                                  of disorder (within the pipelines' 200 ms bound: no record
                                  is late, so the windows do not depend on watermark timing)
  fixtures/time/events_late.csv   the same, plus records 10 s behind, each placed after 200
                                  later records (late at any batch size up to 64, 1 worker)
  expected/time_window.csv        1 s tumbling windows per key: key,window_start,window_end,n,sum
  expected/time_late.csv          the late records, unchanged
"""
import os, random

root = os.path.join(os.path.dirname(__file__), "..", "fixtures")
rng = random.Random(7)
t0 = 1714564800000
records = []
for i in range(3000):
    ts = t0 + i * 37 - rng.randrange(150)
    records.append((f"k{rng.randrange(7)}", rng.randrange(-50, 100), ts))

late = []
with_late = list(records)
for j, pos in enumerate(range(600, 3000, 600)):
    r = (f"k{j % 7}", 1000 + j, with_late[pos][2] - 10_000)
    late.append(r)
    with_late.insert(pos + j, r)

def write(name, rows):
    with open(os.path.join(root, "time", name), "w") as f:
        f.write("key,value,ts\n")
        f.writelines(f"{k},{v},{t}\n" for k, v, t in rows)

write("events.csv", records)
write("events_late.csv", with_late)

windows = {}
for k, v, t in records:
    start = t - t % 1000
    n, s = windows.get((k, start), (0, 0))
    windows[(k, start)] = (n + 1, s + v)
lines = sorted(f"{k},{s},{s + 1000},{n},{total}" for (k, s), (n, total) in windows.items())
with open(os.path.join(root, "expected", "time_window.csv"), "w") as f:
    f.writelines(l + "\n" for l in lines)
with open(os.path.join(root, "expected", "time_late.csv"), "w") as f:
    f.writelines(sorted(f"{k},{v},{t}\n" for k, v, t in late))
