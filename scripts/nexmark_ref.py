#!/usr/bin/env python3
"""Reference results of Nexmark q0, q1 and q2 (NEXMARK.md §6), computed without the engine.

Reads the JSON lines of `weir nexmark gen` (one object per event, with `kind` and the fields of
NEXMARK.md §5) and writes one query's result rows, in input order:

  q0  pass-through   every bid: auction, bidder, price, dateTime, extra
  q1  currency       as q0 with price := price * 0.908 as an exact DECIMAL(23,3)
                     (price * 908 / 1000, always 3 decimals: 32530001 -> 29537240.908)
  q2  selection      bids with auction mod 123 = 0: auction, price

Only the bid fields are used; persons and auctions are skipped. Output is CSV with a header
line (the §6 column names), or JSON lines with `--format jsonl` (q1's price then stays a
string so that its 3 decimals are exact).

Usage:
  scripts/nexmark_ref.py q0|q1|q2 [EVENTS.jsonl|-] [--format csv|jsonl] [--out FILE]
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
}


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


QUERIES = {"q0": q0, "q1": q1, "q2": q2}


def bids(lines):
    """The bid objects of JSON lines, in order (blank lines are skipped)."""
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError as e:
            sys.exit(f"nexmark_ref: line {number}: not JSON: {e}")
        if event.get("kind") == "bid":
            yield event


def rows(query, lines):
    """Result rows of `query` over the events of `lines`."""
    fn = QUERIES[query]
    for bid in bids(lines):
        yield from fn(bid)


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
    print("nexmark_ref: self-test ok")


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends quietly
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("query", nargs="?", choices=sorted(QUERIES))
    ap.add_argument("events", nargs="?", default="-", help="JSON lines file, or - for stdin")
    ap.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    ap.add_argument("--out", help="output file (default: stdout)")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        self_test()
        return
    if args.query is None:
        ap.error("a query (q0, q1, q2) is required")
    src = sys.stdin if args.events == "-" else open(args.events, encoding="utf-8")
    out = sys.stdout if args.out is None else open(args.out, "x", encoding="utf-8", newline="")
    with src, out:
        write(args.query, rows(args.query, src), out, args.format)


if __name__ == "__main__":
    main()
