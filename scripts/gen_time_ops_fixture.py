#!/usr/bin/env python3
"""Writes the fixtures of the sliding window, the merging session window, the interval join
and the event-time dedup, with expected outputs computed here by scripts/oracle_time.py (plain
Python, apart from the engine). Every record is within its source's out-of-orderness bound, so
no record is late and the outputs do not depend on when watermarks are emitted (batch size,
workers).

  fixtures/time/events.csv (input, from gen_time_fixture.py) -> expected/time_sliding.csv
      1 s windows sliding by 250 ms: key,window_start,window_end,n,sum,min,max
  fixtures/time/sessions.csv -> expected/time_session.csv
      bursts per key with quiet spells, 120 ms of disorder, records that bridge two sessions
      of their key (gap 400 ms): key,window_start,window_end,n,sum
  fixtures/time/ij_left.csv, ij_right.csv -> expected/time_interval_join.csv
      pairs of one key with right.ts - left.ts in [-1000, 2000]: left row, then right row
  fixtures/time/events_late.csv (from gen_time_fixture.py) -> expected/time_session_late.csv
      session windows (gap 400 ms) of the on-time records; the records 10 s behind are too
      late for any session (at batch sizes up to 64) and go to the side output unchanged:
      expected/time_late.csv, checked here against the oracle's late records
  fixtures/time/dedup.csv -> expected/time_dedup.csv
      `process dedup` with ttl 2 s in event time (bound 200 ms, batches of at most 16): the
      first record of a key, and again once the watermark passes its first ts + ttl. Keys come
      in bursts far apart, and the script fails unless every decision is the same for any
      watermark the batching allows (see dedup_oracle).
"""
import os, random, sys

sys.path.insert(0, os.path.dirname(__file__))
from oracle_time import interval_join, windows  # noqa: E402

root = os.path.join(os.path.dirname(__file__), "..", "fixtures")
T0 = 1714564800000


def read(name):
    with open(os.path.join(root, "time", name)) as f:
        next(f)
        return [(k, int(v), int(t)) for k, v, t in (l.strip().split(",") for l in f)]


def write(name, rows, header="key,value,ts\n"):
    with open(os.path.join(root, "time", name), "w") as f:
        f.write(header)
        f.writelines(",".join(map(str, r)) + "\n" for r in rows)


def expect(name, lines):
    with open(os.path.join(root, "expected", name), "w") as f:
        f.writelines(sorted(",".join(map(str, l)) + "\n" for l in lines))


def sliding():
    recs = [(k, t, (k, v, t)) for k, v, t in read("events.csv")]
    agg = lambda rows: [len(rows), sum(r[1] for r in rows), min(r[1] for r in rows),
                        max(r[1] for r in rows)]
    out, late = windows(recs, "sliding", ooo=200, size=1000, slide=250, agg=agg)
    assert not late
    expect("time_sliding.csv", out)


def sessions(rng):
    rows, t = [], T0
    for i in range(2500):
        t += rng.randrange(10, 60) + (1500 if i % 97 == 96 else 0)
        rows.append((f"k{rng.randrange(5)}", rng.randrange(-20, 50), t - rng.randrange(120)))
    # Bridges: a record between two sessions of its key, less than a gap from both, placed
    # just after the later one's first record (within the 1 s bound).
    for _ in range(40):
        j = rng.randrange(50, len(rows) - 1)
        k, _, t = rows[j]
        rows.insert(j + 1, (k, 500, t - 350))
    write("sessions.csv", rows)
    recs = [(k, t, (k, v, t)) for k, v, t in rows]
    agg = lambda rows: [len(rows), sum(r[1] for r in rows)]
    out, late = windows(recs, "session", ooo=1000, gap=400, agg=agg)
    assert not late
    # Without the bridges there are more sessions: some bridges really merge two.
    plain, _ = windows([r for r in recs if r[2][1] != 500], "session", ooo=1000, gap=400)
    assert len(plain) - len(out) >= 5, (len(plain), len(out))
    expect("time_session.csv", out)


def sessions_late():
    recs = [(k, t, (k, v, t)) for k, v, t in read("events_late.csv")]
    agg = lambda rows: [len(rows), sum(r[1] for r in rows)]
    got = []
    for batch in (1, 64):
        out, late = windows(recs, "session", ooo=200, batch=batch, gap=400, agg=agg)
        got.append((sorted(out), sorted(late)))
    assert got[0] == got[1], "the late records depend on the batch size"
    with open(os.path.join(root, "expected", "time_late.csv")) as f:
        assert sorted(",".join(map(str, r)) for r in got[0][1]) == [l.strip() for l in f]
    expect("time_session_late.csv", got[0][0])


def join_inputs(rng):
    left, right = [], []
    for side, n, step in ((left, 600, 53), (right, 900, 37)):
        for i in range(n):
            side.append((f"k{rng.randrange(40)}", rng.randrange(1000), T0 + i * step - rng.randrange(300)))
    write("ij_left.csv", left)
    write("ij_right.csv", right)
    events = [("L", k, t, [k, v, t]) for k, v, t in left] + [("R", k, t, [k, v, t]) for k, v, t in right]
    pairs, late = interval_join(events, -1000, 2000, ooo=float("inf"))
    assert not late and len(pairs) > 500, len(pairs)
    expect("time_interval_join.csv", pairs)


def dedup_oracle(rows, ttl, bound, batch):
    """EventTimeDedup's documented semantics over one split: a record is emitted unless its key
    has an expiry (first ts + ttl) above the watermark. The watermark before record i is at most
    hi (all earlier records seen) and at least lo (all but the last batch - 1 records seen);
    a decision that differs between the two is refused."""
    out, expiry, tss = [], {}, [t for _, _, t in rows]
    mx_prefix, mx = [], float("-inf")
    for t in tss:
        mx_prefix.append(mx)  # max ts before index i
        mx = max(mx, t)
    for i, (k, v, t) in enumerate(rows):
        hi = mx_prefix[i] - bound - 1
        j = i - batch + 1
        lo = mx_prefix[j] - bound - 1 if j > 0 else float("-inf")
        e = expiry.get(k)
        if e is not None and lo < e <= hi:
            raise SystemExit(f"dedup fixture: record {i} ({k}) depends on the watermark")
        if e is None or e <= hi:
            out.append((k, v, t))
            expiry[k] = t + ttl
    return out


def dedup(rng):
    rows, t = [], T0
    keys = [(f"u{n}", rng.randrange(6000)) for n in range(30)]
    while len(rows) < 2000:
        t += 20
        active = [k for k, phase in keys if (t - T0 + phase) % 6000 < 600]
        if active:
            rows.append((rng.choice(active), rng.randrange(100), t - rng.randrange(150)))
    write("dedup.csv", rows)
    out = dedup_oracle(rows, ttl=2000, bound=200, batch=16)
    assert len(out) > 3 * len(keys), len(out)  # keys come back after their ttl
    expect("time_dedup.csv", out)


if __name__ == "__main__":
    rng = random.Random(11)
    sliding()
    sessions(rng)
    join_inputs(rng)
    dedup(rng)
    sessions_late()
    print("gen_time_ops_fixture: ok")
