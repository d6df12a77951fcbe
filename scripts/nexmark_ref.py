#!/usr/bin/env python3
"""Reference results of Nexmark queries (NEXMARK.md §6), computed without the engine.

Reads the JSON lines of `weir nexmark gen` (one object per event, with `kind` and the fields of
NEXMARK.md §5) and writes one query's result rows:

  q0  pass-through   every bid: auction, bidder, price, dateTime, extra
  q1  currency       as q0 with price := price * 0.908 as an exact DECIMAL(23,3)
                     (price * 908 / 1000, always 3 decimals: 32530001 -> 29537240.908)
  q2  selection      bids with auction mod 123 = 0: auction, price
  q3  local items    auctions of category 10 joined with persons of OR/ID/CA on seller = id:
                     name, city, state, id (the auction's)
  q7  highest bid    per tumbling 10 s window, its max price; every bid with that price and
                     window_end - 10 s <= dateTime <= window_end: auction, price, bidder,
                     dateTime, extra
  q8  new users      per tumbling 10 s window, persons (id, name) who are also sellers of an
                     auction in that window: id, name, window_start
  q11 sessions       per bidder, sessions of bids less than 10 s apart: bidder, bid_count,
                     session_start (first bid), session_end (last bid + 10 s)
  q14 calculation    bids with 10^6 < 0.908*price < 5*10^7: auction, bidder, 0.908*price (3
                     decimals), bidTimeType (UTC hour 8..18 dayTime, <=6 or >=20 nightTime,
                     else otherTime), dateTime, extra, c_counts (number of 'c' in extra)
  q20 expand bid     bids joined with auctions of category 10 on auction = id: the 7 bid
                     columns, then the auction's but id

Rows of q0-q2 and q14 come in input order; the others in no particular order (compare them
as multisets). Output is CSV with a header line (the column names), or JSON lines with
`--format jsonl` (decimal prices then stay strings so that their 3 decimals are exact).

Usage:
  scripts/nexmark_ref.py QUERY [EVENTS.jsonl|-] [--format csv|jsonl] [--out FILE]
  weir nexmark gen --events 100000 | scripts/nexmark_ref.py q2 -
  scripts/nexmark_ref.py --self-test     # checks the formulas against hand-worked rows
"""

import argparse
import csv
import json
import signal
import sys

COLUMNS = {
    "q0": ["auction", "bidder", "price", "dateTime", "extra"],
    "q1": ["auction", "bidder", "price", "dateTime", "extra"],
    "q2": ["auction", "price"],
    "q3": ["name", "city", "state", "id"],
    "q7": ["auction", "price", "bidder", "dateTime", "extra"],
    "q8": ["id", "name", "window_start"],
    "q11": ["bidder", "bid_count", "session_start", "session_end"],
    "q14": ["auction", "bidder", "price", "bidTimeType", "dateTime", "extra", "c_counts"],
    "q20": ["auction", "bidder", "price", "channel", "url", "bid_dateTime", "bid_extra",
            "itemName", "description", "initialBid", "reserve", "auction_dateTime", "expires",
            "seller", "category", "auction_extra"],
}

WINDOW_MS = 10_000
GAP_MS = 10_000


def decimal_908(price):
    """price * 0.908 as an exact decimal string with 3 decimals (integer arithmetic only)."""
    milli = price * 908
    sign = "-" if milli < 0 else ""
    milli = abs(milli)
    return f"{sign}{milli // 1000}.{milli % 1000:03d}"


def q0(bid):
    return [[bid["auction"], bid["bidder"], bid["price"], bid["dateTime"], bid["extra"]]]


def q1(bid):
    return [[bid["auction"], bid["bidder"], decimal_908(bid["price"]), bid["dateTime"],
             bid["extra"]]]


def q2(bid):
    # Python's % is floored, SQL's MOD truncates; "= 0" is the same under both.
    return [[bid["auction"], bid["price"]]] if bid["auction"] % 123 == 0 else []


def q14(bid):
    milli = bid["price"] * 908  # 0.908 * price, in thousandths
    if not 1_000_000 * 1000 < milli < 50_000_000 * 1000:
        return []
    hour = bid["dateTime"] // 3_600_000 % 24
    if 8 <= hour <= 18:
        kind = "dayTime"
    elif hour <= 6 or hour >= 20:
        kind = "nightTime"
    else:
        kind = "otherTime"
    return [[bid["auction"], bid["bidder"], decimal_908(bid["price"]), kind, bid["dateTime"],
             bid["extra"], bid["extra"].count("c")]]


PER_BID = {"q0": q0, "q1": q1, "q2": q2, "q14": q14}


def q3(events):
    auctions = [e for e in events if e["kind"] == "auction" and e["category"] == 10]
    persons = {}
    for p in events:
        if p["kind"] == "person" and p["state"] in ("OR", "ID", "CA"):
            persons.setdefault(p["id"], []).append(p)
    for a in auctions:
        for p in persons.get(a["seller"], []):
            yield [p["name"], p["city"], p["state"], a["id"]]


def window_start(ts):
    return ts - ts % WINDOW_MS


def q7(events):
    bids = [e for e in events if e["kind"] == "bid"]
    top = {}  # window start -> max price
    for b in bids:
        w = window_start(b["dateTime"])
        top[w] = max(top.get(w, b["price"]), b["price"])
    for b in bids:
        for w, price in top.items():
            end = w + WINDOW_MS
            if b["price"] == price and end - WINDOW_MS <= b["dateTime"] <= end:
                yield [b["auction"], b["price"], b["bidder"], b["dateTime"], b["extra"]]


def q8(events):
    persons = {(e["id"], e["name"], window_start(e["dateTime"]))
               for e in events if e["kind"] == "person"}
    sellers = {(e["seller"], window_start(e["dateTime"]))
               for e in events if e["kind"] == "auction"}
    for pid, name, w in sorted(persons):
        if (pid, w) in sellers:
            yield [pid, name, w]


def q11(events):
    times = {}
    for b in events:
        if b["kind"] == "bid":
            times.setdefault(b["bidder"], []).append(b["dateTime"])
    for bidder, ts in sorted(times.items()):
        ts.sort()
        first = last = ts[0]
        count = 0
        for t in ts:
            if t - last >= GAP_MS:  # [last, last + gap) and [t, t + gap) do not overlap
                yield [bidder, count, first, last + GAP_MS]
                first, count = t, 0
            last = t
            count += 1
        yield [bidder, count, first, last + GAP_MS]


def q20(events):
    auctions = {}
    for a in events:
        if a["kind"] == "auction" and a["category"] == 10:
            auctions.setdefault(a["id"], []).append(a)
    for b in events:
        if b["kind"] != "bid":
            continue
        for a in auctions.get(b["auction"], []):
            yield [b["auction"], b["bidder"], b["price"], b.get("channel"), b.get("url"),
                   b["dateTime"], b["extra"], a["itemName"], a["description"],
                   a["initialBid"], a["reserve"], a["dateTime"], a["expires"], a["seller"],
                   a["category"], a["extra"]]


WHOLE = {"q3": q3, "q7": q7, "q8": q8, "q11": q11, "q20": q20}
QUERIES = sorted(list(PER_BID) + list(WHOLE))


def events_of(lines):
    """The event objects of JSON lines, in order (blank lines are skipped)."""
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as e:
            sys.exit(f"nexmark_ref: line {number}: not JSON: {e}")


def rows(query, lines):
    """Result rows of `query` over the events of `lines`."""
    if query in PER_BID:
        fn = PER_BID[query]
        for event in events_of(lines):
            if event.get("kind") == "bid":
                yield from fn(event)
    else:
        yield from WHOLE[query](list(events_of(lines)))


def write(query, out_rows, out, fmt):
    cols = COLUMNS[query]
    if fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(cols)
        w.writerows(out_rows)
    else:
        for row in out_rows:
            out.write(json.dumps(dict(zip(cols, row)), separators=(",", ":")) + "\n")


def self_test():
    """Hand-worked rows (not from the engine)."""
    assert decimal_908(32530001) == "29537240.908"
    assert decimal_908(100) == "90.800"
    assert decimal_908(1) == "0.908"
    assert decimal_908(100000000) == "90800000.000"
    events = [
        '{"kind":"person","id":1000,"dateTime":1}',
        '{"kind":"bid","auction":1107,"bidder":1001,"price":5,"dateTime":2,"extra":"x"}',
        '{"kind":"bid","auction":1000,"bidder":1002,"price":1000,"dateTime":3,"extra":"y,z"}',
        '{"kind":"auction","id":1107,"dateTime":4}',
    ]
    assert list(rows("q0", events)) == [[1107, 1001, 5, 2, "x"], [1000, 1002, 1000, 3, "y,z"]]
    assert list(rows("q1", events))[1] == [1000, 1002, "908.000", 3, "y,z"]
    assert list(rows("q2", events)) == [[1107, 5]]  # 1107 = 9 * 123
    self_test_stateful()
    print("nexmark_ref: self-test ok")


def self_test_stateful():
    """Hand-worked rows of the joins, windows and sessions."""
    ev = [
        {"kind": "person", "id": 1, "name": "A B", "city": "Bend", "state": "OR",
         "dateTime": 5},
        {"kind": "person", "id": 2, "name": "C D", "city": "Kent", "state": "WA",
         "dateTime": 6},
        {"kind": "auction", "id": 10, "seller": 1, "category": 10, "dateTime": 7},
        {"kind": "auction", "id": 11, "seller": 2, "category": 10, "dateTime": 10_001},
        {"kind": "auction", "id": 12, "seller": 1, "category": 11, "dateTime": 8},
    ]
    assert list(rows("q3", [json.dumps(e) for e in ev])) == [["A B", "Bend", "OR", 10]]
    assert list(rows("q8", [json.dumps(e) for e in ev])) == [[1, "A B", 0]]
    bid = lambda b, t, p: {"kind": "bid", "auction": 10, "bidder": b, "price": p,
                           "dateTime": t, "extra": "cc"}
    bids = [bid(7, 0, 5), bid(7, 9_999, 9), bid(7, 19_999, 4), bid(8, 10_000, 9),
            bid(8, 20_000, 1)]
    lines = [json.dumps(e) for e in bids]
    # Window [0, 10000) max 9: bids at 9999 and at 10000 (= window_end, inclusive) match.
    # Window [10000, 20000) max 9: the bid at 10000. Window [20000, 30000) max 1.
    assert sorted(rows("q7", lines)) == sorted([
        [10, 9, 7, 9_999, "cc"], [10, 9, 8, 10_000, "cc"], [10, 9, 8, 10_000, "cc"],
        [10, 1, 8, 20_000, "cc"]])
    # Bidder 7: 0, 9999 (< 10 s), 19999 (10 s after 9999: a new session).
    assert list(rows("q11", lines)) == [[7, 2, 0, 19_999], [7, 1, 19_999, 29_999],
                                        [8, 1, 10_000, 20_000], [8, 1, 20_000, 30_000]]
    full = dict(ev[2], itemName="i", description="d", initialBid=1, reserve=2, expires=9,
                extra="x")
    q20_rows = list(rows("q20", lines + [json.dumps(full)]))
    assert len(q20_rows) == 5 and q20_rows[0][:3] == [10, 7, 5], q20_rows
    assert q20_rows[0][7:] == ["i", "d", 1, 2, 7, 9, 1, 10, "x"], q20_rows
    # q14: 1101322 * 0.908 = 1000000.376 passes, 1101321 * 0.908 = 999999.468 does not;
    # 2015-07-15T19:00Z is hour 19 (otherTime).
    t19 = 1_436_918_400_000 + 19 * 3_600_000
    q14_rows = list(rows("q14", [json.dumps(bid(1, t19, 1_101_322)),
                                 json.dumps(bid(1, t19, 1_101_321))]))
    assert q14_rows == [[10, 1, "1000000.376", "otherTime", t19, "cc", 2]], q14_rows


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends quietly
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("query", nargs="?", choices=QUERIES)
    ap.add_argument("events", nargs="?", default="-", help="JSON lines file, or - for stdin")
    ap.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    ap.add_argument("--out", help="output file (default: stdout)")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        self_test()
        return
    if args.query is None:
        ap.error(f"a query ({', '.join(QUERIES)}) is required")
    src = sys.stdin if args.events == "-" else open(args.events, encoding="utf-8")
    out = sys.stdout if args.out is None else open(args.out, "x", encoding="utf-8", newline="")
    with src, out:
        write(args.query, rows(args.query, src), out, args.format)


if __name__ == "__main__":
    main()
