#!/usr/bin/env python3
"""Reference results of Nexmark's updating queries (NEXMARK.md §6), computed without the engine.

Reads the JSON lines of `weir nexmark gen` (one object per event, with `kind` and the fields of
NEXMARK.md §5; times are integer ms) and writes one query's *final* rows: for an updating query
the current value of every group key after the whole stream (the engine writes one upsert row
per change; its last row per key must equal this). Columns are §6's, in order:

  q4   category, avg                     avg over auctions of max(bid price) of the bids with
                                         A.dateTime <= B.dateTime <= A.expires (BIGINT avg:
                                         truncated toward zero)
  q5   auction, num                      HOP(10 s, 2 s): bids per (auction, window); the
                                         auctions with num >= the window's max (append rows)
  q15  day, total_bids, rank1_bids, rank2_bids, rank3_bids, total_bidders, rank1_bidders,
       rank2_bidders, rank3_bidders, total_auctions, rank1_auctions, rank2_auctions,
       rank3_auctions                    per UTC day (yyyy-MM-dd); rank1: price < 10,000,
                                         rank2: 10,000 <= price < 1,000,000, rank3: >= 1,000,000
  q16  channel, day, minute, then q15's 12 aggregates; minute = max('HH:mm') of the group
  q17  auction, day, total_bids, rank1_bids, rank2_bids, rank3_bids, min_price, max_price,
       avg_price, sum_price
  q18  auction, bidder, price, channel, url, dateTime, extra
                                         per (bidder, auction) the bid with the greatest dateTime;
                                         a later bid wins ties
  q19  auction, bidder, price, channel, url, dateTime, extra, rank_number
                                         per auction the 10 highest prices, ties by arrival
                                         (the earlier bid ranks first)

Output is CSV with a header line, rows sorted.

Usage:
  scripts/nexmark_ref_updating.py q15 EVENTS.jsonl [--out FILE]
  scripts/nexmark_ref_updating.py --self-test     # checks the queries on hand-worked events
"""

import argparse
import csv
import datetime
import json
import sys

RANKS = [lambda p: p < 10_000, lambda p: 10_000 <= p < 1_000_000, lambda p: p >= 1_000_000]
BID = ["auction", "bidder", "price", "channel", "url", "dateTime", "extra"]
STATS = ["total_bids", "rank1_bids", "rank2_bids", "rank3_bids",
         "total_bidders", "rank1_bidders", "rank2_bidders", "rank3_bidders",
         "total_auctions", "rank1_auctions", "rank2_auctions", "rank3_auctions"]
COLUMNS = {
    "q4": ["category", "avg"],
    "q5": ["auction", "num"],
    "q15": ["day"] + STATS,
    "q16": ["channel", "day", "minute"] + STATS,
    "q17": ["auction", "day", "total_bids", "rank1_bids", "rank2_bids", "rank3_bids",
            "min_price", "max_price", "avg_price", "sum_price"],
    "q18": BID,
    "q19": BID + ["rank_number"],
}


def utc(ms):
    return datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)


def day(ms):
    return utc(ms).strftime("%Y-%m-%d")


def minute(ms):
    return utc(ms).strftime("%H:%M")


def trunc_div(a, b):
    """Integer division truncating toward zero (Java's long division)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def bid_stats(bids):
    """q15's 12 aggregates over a list of bids."""
    out = [len(bids)] + [sum(1 for b in bids if r(b["price"])) for r in RANKS]
    for field in ("bidder", "auction"):
        out.append(len({b[field] for b in bids}))
        out += [len({b[field] for b in bids if r(b["price"])}) for r in RANKS]
    return out


def group(bids, key):
    groups = {}
    for b in bids:
        groups.setdefault(key(b), []).append(b)
    return groups


def q15(events):
    bids = [e for e in events if e["kind"] == "bid"]
    return [[d] + bid_stats(bs) for d, bs in group(bids, lambda b: day(b["dateTime"])).items()]


def q16(events):
    bids = [e for e in events if e["kind"] == "bid"]
    groups = group(bids, lambda b: (b["channel"], day(b["dateTime"])))
    return [[c, d, max(minute(b["dateTime"]) for b in bs)] + bid_stats(bs)
            for (c, d), bs in groups.items()]


def q17(events):
    bids = [e for e in events if e["kind"] == "bid"]
    rows = []
    for (a, d), bs in group(bids, lambda b: (b["auction"], day(b["dateTime"]))).items():
        prices = [b["price"] for b in bs]
        counts = [sum(1 for p in prices if r(p)) for r in RANKS]
        rows.append([a, d, len(bs)] + counts + [min(prices), max(prices),
                                                trunc_div(sum(prices), len(prices)), sum(prices)])
    return rows


def q18(events):
    last = {}
    for b in (e for e in events if e["kind"] == "bid"):
        k = (b["bidder"], b["auction"])
        if k not in last or b["dateTime"] >= last[k]["dateTime"]:
            last[k] = b
    return [[b.get(f, "") for f in BID] for b in last.values()]


def q19(events):
    rows = []
    for a, bs in group([e for e in events if e["kind"] == "bid"], lambda b: b["auction"]).items():
        # Stable sort: equal prices keep their arrival order.
        top = sorted(bs, key=lambda b: -b["price"])[:10]
        rows += [[b.get(f, "") for f in BID] + [i + 1] for i, b in enumerate(top)]
    return rows


def q4(events):
    auctions = {e["id"]: e for e in events if e["kind"] == "auction"}
    best = {}
    for b in (e for e in events if e["kind"] == "bid"):
        a = auctions.get(b["auction"])
        if a and a["dateTime"] <= b["dateTime"] <= a["expires"]:
            best[a["id"]] = max(best.get(a["id"], b["price"]), b["price"])
    per_cat = {}
    for aid, price in best.items():
        per_cat.setdefault(auctions[aid]["category"], []).append(price)
    return [[c, trunc_div(sum(ps), len(ps))] for c, ps in per_cat.items()]


def q5(events, size=10_000, slide=2_000):
    counts = {}
    for b in (e for e in events if e["kind"] == "bid"):
        last_start = b["dateTime"] - b["dateTime"] % slide
        for start in range(last_start, b["dateTime"] - size, -slide):
            w = counts.setdefault(start, {})
            w[b["auction"]] = w.get(b["auction"], 0) + 1
    rows = []
    for w in counts.values():
        top = max(w.values())
        rows += [[a, n] for a, n in w.items() if n >= top]
    return rows


QUERIES = {"q4": q4, "q5": q5, "q15": q15, "q16": q16, "q17": q17, "q18": q18, "q19": q19}


def read(lines):
    return [json.loads(line) for line in lines if line.strip()]


def self_test():
    t0 = 1436918400000  # 2015-07-15 00:00:00 UTC
    bid = lambda a, who, p, t, ch="c": {"kind": "bid", "auction": a, "bidder": who, "price": p,
                                        "channel": ch, "url": "u", "dateTime": t, "extra": "x"}
    ev = [bid(1, 7, 5, t0), bid(1, 7, 50_000, t0 + 61_000), bid(2, 8, 2_000_000, t0 + 1),
          bid(2, 7, 5, 86_400_000 + t0)]
    assert sorted(q15(ev)) == [["2015-07-15", 3, 1, 1, 1, 2, 1, 1, 1, 2, 1, 1, 1],
                               ["2015-07-16", 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0]], q15(ev)
    assert sorted(q16(ev))[0][:4] == ["c", "2015-07-15", "00:01", 3]
    assert sorted(q17(ev))[0] == [1, "2015-07-15", 2, 1, 1, 0, 5, 50_000, 25_002, 50_005]
    assert trunc_div(-7, 2) == -3 and trunc_div(7, 2) == 3
    ties = [bid(1, 7, 9, t0, "first"), bid(1, 7, 3, t0, "second")]
    assert [r[3] for r in q18(ties)] == ["second"]
    assert [(r[3], r[7]) for r in q19(ties)] == [("first", 1), ("second", 2)]
    auction = lambda i, cat, t, exp: {"kind": "auction", "id": i, "category": cat,
                                      "dateTime": t, "expires": exp}
    ev4 = [auction(1, 10, 0, 100), auction(2, 10, 0, 100), auction(3, 11, 0, 100),
           bid(1, 1, 5, 10), bid(1, 1, 8, 100), bid(1, 1, 99, 101), bid(2, 1, 1, 50),
           bid(3, 1, 4, 0)]
    assert sorted(q4(ev4)) == [[10, 4], [11, 4]], q4(ev4)  # (8 + 1) / 2 truncates to 4
    ev5 = [bid(1, 1, 1, 0), bid(1, 1, 1, 1_000), bid(2, 1, 1, 3_000)]
    # Windows starting -8000..0 hold bids at 0 and 1000 (auction 1: 2); -6000..2000 also 3000.
    assert sorted(q5(ev5)) == sorted([[1, 2]] * 5 + [[2, 1]]), sorted(q5(ev5))
    print("self-test ok")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("query", nargs="?", choices=sorted(QUERIES))
    ap.add_argument("events", nargs="?")
    ap.add_argument("--out")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not args.query or not args.events:
        ap.error("give a query and an events file (or --self-test)")
    with open(args.events) as f:
        events = read(f)
    rows = sorted(QUERIES[args.query](events), key=lambda r: [str(v) for v in r])
    out = open(args.out, "w", newline="") if args.out else sys.stdout
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS[args.query])
    w.writerows(rows)


if __name__ == "__main__":
    main()
