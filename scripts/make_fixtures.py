#!/usr/bin/env python3
"""Writes the committed input fixtures: fixtures/events.csv and fixtures/events.jsonl.

Deterministic (a seeded PRNG, no clock): running it again rewrites the same bytes, so
`git diff --exit-code fixtures/` after a run proves the committed files are its output.

events.csv: header `key,value,ts`, ~400 records over 12 keys (`user-00` .. `user-11`, with
uneven frequencies), value an i64 in -50..150, ts integer milliseconds, mostly increasing (a
few steps back). Edge cases that must decode: a quoted key, a `+` sign, an RFC 3339
timestamp, a CRLF line ending, and a blank line (skipped, not dead-lettered). Malformed lines
sit at the fixed line numbers of MALFORMED_CSV (line 1 is the header).

events.jsonl: the records of events.csv that are valid under the i64 schema, one JSON object
per line, with the malformed lines of MALFORMED_JSONL at fixed line numbers.

Usage: scripts/make_fixtures.py [FIXTURES_DIR]   (default: fixtures/ next to scripts/)
"""

import json
import random
import sys
from pathlib import Path

SEED = 20240501
KEYS = [f"user-{i:02d}" for i in range(12)]
# Uneven key frequencies: user-00 is the most frequent, user-11 the rarest.
WEIGHTS = [6, 5, 5, 4, 4, 3, 3, 3, 2, 2, 2, 2]
RECORDS = 400
BASE_TS = 1_714_564_800_000  # 2024-05-01T12:00:00Z
MAX_LINE_BYTES = 256  # the file-source pipelines' max_line_bytes

# CSV line number -> the raw line (without its newline). `{ts}` is filled with a plausible ts.
MALFORMED_CSV = {
    15: b"user-03,17",  # expected 3 fields, found 2
    42: b"user-05,abc,{ts}",  # field "value": invalid i64 "abc"
    77: b"user-0\xff,10,{ts}",  # invalid UTF-8 at byte 6
    123: b"user-01,5,yesterday",  # field "ts": invalid timestamp "yesterday"
    190: b"user-02,1," + b"9" * 300,  # line longer than 256 bytes
    250: b"user-07,12.5,{ts}",  # invalid i64 "12.5" (valid where value is f64)
    300: b"user-08,,{ts}",  # field "value": invalid i64 ""
    330: b"user-09,1,{ts},x",  # expected 3 fields, found 4
    380: b'"user-10,4,{ts}',  # unbalanced quotes
}
BLANK_CSV_LINE = 360

# Special but valid CSV lines: line number -> how the record is written.
QUOTED_KEY_LINE = 50  # "user-04" in quotes
PLUS_SIGN_LINE = 60  # value written as +NN
RFC3339_LINE = 100  # ts as RFC 3339 with milliseconds
CRLF_LINE = 140  # line ends in \r\n

MALFORMED_JSONL = {
    30: b'{"key": "user-01", "value": 3,',  # invalid JSON
    90: b'{"key": "user-02", "value": 7}',  # missing field "ts"
    150: b'{"key": "user-03", "value": "12", "ts": 1714564801000}',  # expected i64, found string
    200: b"[1, 2, 3]",  # expected a JSON object, found array
}


def rfc3339(ms):
    """`2024-05-01T12:00:07.250Z` for a millisecond timestamp after the epoch."""
    import datetime

    dt = datetime.datetime.fromtimestamp(ms // 1000, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def records(rng):
    """The valid records (key, value, ts) in file order."""
    ts = BASE_TS
    out = []
    for i in range(RECORDS):
        ts += rng.randint(0, 40)
        # Every 25th record steps back in time a little (mostly increasing, not sorted).
        rec_ts = ts - rng.randint(1, 200) if i % 25 == 24 else ts
        key = rng.choices(KEYS, weights=WEIGHTS)[0]
        value = rng.randint(-50, 149)
        out.append((key, value, rec_ts))
    # user-11's first six values are equal: its standard deviation stays 0 for a while
    # (z-score null), then one different value follows.
    firsts = [i for i, r in enumerate(out) if r[0] == "user-11"][:7]
    for n, i in enumerate(firsts):
        key, _, t = out[i]
        out[i] = (key, 42 if n < 6 else 120, t)
    return out


def csv_lines(recs):
    """The lines of events.csv (bytes, each with its terminator)."""
    lines = [b"key,value,ts\n"]
    it = iter(recs)
    last_ts = BASE_TS
    while True:
        n = len(lines) + 1
        if n in MALFORMED_CSV:
            lines.append(MALFORMED_CSV[n].replace(b"{ts}", str(last_ts).encode()) + b"\n")
            continue
        if n == BLANK_CSV_LINE:
            lines.append(b"\n")
            continue
        rec = next(it, None)
        if rec is None:
            return lines
        key, value, ts = rec
        last_ts = ts
        k = f'"{key}"' if n == QUOTED_KEY_LINE else key
        v = f"+{value}" if n == PLUS_SIGN_LINE else str(value)
        t = rfc3339(ts) if n == RFC3339_LINE else str(ts)
        end = "\r\n" if n == CRLF_LINE else "\n"
        lines.append(f"{k},{v},{t}{end}".encode())


def jsonl_lines(recs):
    """The lines of events.jsonl: every i64-valid record, plus MALFORMED_JSONL."""
    lines = []
    it = iter(recs)
    while True:
        n = len(lines) + 1
        if n in MALFORMED_JSONL:
            lines.append(MALFORMED_JSONL[n] + b"\n")
            continue
        rec = next(it, None)
        if rec is None:
            return lines
        key, value, ts = rec
        obj = {"key": key, "value": value, "ts": ts}
        lines.append(json.dumps(obj).encode() + b"\n")


def main():
    here = Path(__file__).resolve().parent
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else here.parent / "fixtures"
    out.mkdir(parents=True, exist_ok=True)
    recs = records(random.Random(SEED))
    # Line 250 (12.5) is a record only under an f64 schema, so it is not in the JSON file;
    # every other malformed line replaces no record.
    (out / "events.csv").write_bytes(b"".join(csv_lines(recs)))
    (out / "events.jsonl").write_bytes(b"".join(jsonl_lines(recs)))
    long_line = MALFORMED_CSV[190]
    assert len(long_line) > MAX_LINE_BYTES, "the long line must exceed max_line_bytes"


if __name__ == "__main__":
    main()
