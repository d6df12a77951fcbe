#!/usr/bin/env python3
"""Reference semantics of the event-time operators (issue 7), for fixture expected outputs.

Plain Python, nothing imported from the engine; it follows the documentation of
src/time/watermark.rs and src/operator/{window,interval_join,dedup_event}.rs:

* One source split, records in file order, a watermark after every `batch` records
  (`watermark_interval = "0ms"`; `batch` is `[runtime] batch_size`) and +inf at the end.
  The watermark is `max ts seen - max_out_of_orderness - 1`; a record with ts <= watermark
  is behind it.
* Windows `[start, end)`: tumbling and sliding align to the epoch; a session opens
  `[ts, ts + gap)` and merges with the key's sessions it overlaps (touching is not
  overlapping). A window fires when the watermark reaches `end - 1`, and again for each
  allowed-late record; it is freed at `end - 1 + allowed_lateness`. A record none of whose
  windows is still open goes to `late`.
* Interval join: pairs of on-time rows with `lower <= right.ts - left.ts <= upper`, emitted
  when the second arrives; a row with ts <= watermark is late.

Usage as a module: `windows(records, ...)`, `interval_join(events, ...)`; each returns
`(outputs, late)` in emission order (within one watermark step, sort if the engine's order
among keys is not fixed).
"""

import sys


def watermarks(tss, ooo, batch):
    """The watermark in force before each record (-inf first), advanced after every batch."""
    wm, mx, out = float("-inf"), float("-inf"), []
    for i, ts in enumerate(tss):
        out.append(wm)
        mx = max(mx, ts)
        if (i + 1) % batch == 0:
            wm = max(wm, mx - ooo - 1)
    return out


def assign(kind, ts, size=0, slide=0, gap=0):
    if kind == "tumbling":
        s = ts - ts % size
        return [(s, s + size)]
    if kind == "sliding":
        last = ts - ts % slide
        return [(s, s + size) for s in range(last, ts - size, -slide)]
    return [(ts, ts + gap)]


def windows(records, kind, ooo, batch=1, lateness=0, size=0, slide=0, gap=0, agg=None):
    """records: [(key, ts, row)] in file order; agg(rows) -> aggregate values (list).

    Returns (outputs, late): outputs are (key, start, end, *agg(rows)) in emission order.
    """
    agg = agg or (lambda rows: [len(rows)])
    open_ = {}  # key -> list of [start, end, rows]
    outputs, late = [], []
    wms = watermarks([ts for _, ts, _ in records], ooo, batch) + [float("inf")]
    wm = float("-inf")

    def advance(to):
        nonlocal wm
        if to <= wm:
            return
        due = []
        for key, ws in open_.items():
            for w in ws:
                if wm < w[1] - 1 <= to:
                    due.append((w[1] - 1, key, w))
        for _, key, w in sorted(due, key=lambda d: d[0]):
            outputs.append((key, w[0], w[1], *agg(w[2])))
        wm = to
        for key in list(open_):
            open_[key] = [w for w in open_[key] if w[1] - 1 + lateness > wm]

    for (key, ts, row), before in zip(records, wms):
        advance(before)
        ws = open_.setdefault(key, [])
        if kind == "session":
            s, e = ts, ts + gap
            hit = [w for w in ws if w[0] < e and s < w[1]]
            if not hit and e - 1 + lateness <= wm:
                late.append(row)
                continue
            rows = [r for w in hit for r in w[2]] + [row]
            s = min([s] + [w[0] for w in hit])
            e = max([e] + [w[1] for w in hit])
            ws[:] = [w for w in ws if w not in hit] + [[s, e, rows]]
            if e - 1 <= wm:
                outputs.append((key, s, e, *agg(rows)))
            continue
        live = [(s, e) for s, e in assign(kind, ts, size, slide) if e - 1 + lateness > wm]
        if not live:
            late.append(row)
        for s, e in live:
            w = next((w for w in ws if w[0] == s and w[1] == e), None)
            if w is None:
                w = [s, e, []]
                ws.append(w)
            w[2].append(row)
            if e - 1 <= wm:
                outputs.append((key, s, e, *agg(w[2])))
    advance(wms[-1])
    return outputs, late


def interval_join(events, lower, upper, ooo, batch=1):
    """events: [(side, key, ts, row)] with side "L"/"R", in arrival order (one split).

    Returns (pairs, late): pairs are left_row + right_row in emission order.
    """
    wms = watermarks([ts for _, _, ts, _ in events], ooo, batch)
    seen, pairs, late = [], [], []
    for (side, key, ts, row), wm in zip(events, wms):
        if ts <= wm:
            late.append((side, row))
            continue
        for side2, key2, ts2, row2 in seen:
            if side2 == side or key2 != key:
                continue
            lt, rt = (ts, ts2) if side == "L" else (ts2, ts)
            if lower <= rt - lt <= upper:
                pairs.append(row + row2 if side == "L" else row2 + row)
        seen.append((side, key, ts, row))
    return pairs, late


def _self_check():
    recs = [("a", 100, "a,1,100"), ("a", 130, "a,2,130"), ("a", 115, "a,3,115")]
    out, late = windows(recs, "session", ooo=100, gap=20)
    assert out == [("a", 100, 150, 3)], out
    recs = [("a", 5, "r1"), ("a", 1500, "r2"), ("a", 7, "r3")]
    out, late = windows(recs, "tumbling", ooo=0, size=1000)
    assert out == [("a", 0, 1000, 1), ("a", 1000, 2000, 1)] and late == ["r3"], (out, late)
    pairs, late = interval_join(
        [("L", 1, 10, ["l"]), ("R", 1, 9, ["r"]), ("R", 1, 13, ["r2"])], -1, 2, ooo=100
    )
    assert pairs == [["l", "r"]] and late == [], pairs
    print("oracle_time: self-check ok")


if __name__ == "__main__":
    _self_check() if sys.argv[1:] in ([], ["--check"]) else sys.exit("usage: oracle_time.py [--check]")
