#!/usr/bin/env python3
"""The test oracle: computes each fixture pipeline's expected output without the engine.

For every `fixtures/*.toml` it reads the pipeline (tomllib), reads the source input in file
order, applies the ops in plain Python and writes

  fixtures/expected/<name>.csv | .jsonl   the sink's lines, in the order a single worker emits
                                          them (file order)
  fixtures/expected/<name>.dead.jsonl     the expected dead letters, in line order:
                                          {"line": N, "reason_prefix": "..."}
  fixtures/expected/dedup.w2-candidates.csv
                                          for `--workers 2`: per key, the first record of each
                                          of the file source's two byte splits (either may win)

The semantics follow the documentation of the pipeline format (src/pipeline/mod.rs), the
codecs (src/record/{csv,json,format}.rs) and the operators (src/operator/*.rs); nothing is
imported from the engine. f64 values are written as `ryu` writes them (shortest round trip,
`1.0`, `1e16`, `5e-7`), built here from Python's shortest repr digits.

Usage: scripts/oracle.py [FIXTURES_DIR]   (default: fixtures/ next to scripts/)
Run from anywhere; source paths in the pipelines are relative to the repository root.
"""

import csv
import decimal
import json
import math
import sys
import tomllib
from pathlib import Path

from oracle_ops import apply_keyed, apply_stateless, parse_field

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MAX_LINE_BYTES = 1 << 20

# ---------------------------------------------------------------- decoding sources


def read_lines(path, header, max_line):
    """(line number, bytes, start offset, reason or None) of the data lines, as the engine's
    line reader splits them: `\\n`-terminated, one `\\r` stripped, blank lines skipped."""
    data = path.read_bytes()
    pos, number = 0, 0
    while pos < len(data):
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        line, start, pos = data[pos:end], pos, end + 1
        number += 1
        if line.endswith(b"\r"):
            line = line[:-1]
        if header and number == 1:
            continue
        if len(line) > max_line:
            yield number, line, start, f"line longer than {max_line} bytes"
        elif line:
            yield number, line, start, None


def utf8(line):
    try:
        return line.decode("utf-8"), None
    except UnicodeDecodeError as e:
        return None, f"invalid UTF-8 at byte {e.start}"


def decode_csv(line, schema):
    text, err = utf8(line)
    if err:
        return None, err
    if text.count('"') % 2:
        return None, "unbalanced quotes"
    fields = next(csv.reader([text], strict=True))
    if len(fields) != len(schema):
        word = "field" if len(schema) == 1 else "fields"
        return None, f"expected {len(schema)} {word}, found {len(fields)}"
    row = []
    for f, t in zip(schema, fields):
        v, err = parse_field(f, t)
        if err:
            return None, err
        row.append(v)
    return row, None


JSON_KINDS = {list: "array", str: "string", bool: "boolean", type(None): "null", dict: "object"}


def json_kind(v):
    if isinstance(v, bool) or v is None:
        return JSON_KINDS[type(v)]
    if isinstance(v, (int, float)):
        return "number"
    return JSON_KINDS[type(v)]


def decode_json(line, schema):
    """JSON lines decoding; reasons of serde_json's own parse errors are kept as a prefix."""
    text, err = utf8(line)
    if err:
        return None, err

    def no_dups(pairs):
        keys = [k for k, _ in pairs]
        for f in schema:
            if keys.count(f["name"]) > 1:
                raise KeyError(f["name"])
        return dict(pairs)

    try:
        obj = json.loads(text, object_pairs_hook=no_dups)
    except KeyError as e:
        return None, f"duplicate field {json.dumps(e.args[0])}"
    except ValueError:
        return None, "invalid JSON: "
    if not isinstance(obj, dict):
        return None, f"expected a JSON object, found {json_kind(obj)}"
    row = []
    for f in schema:
        name, ty = f["name"], f["type"]
        if name not in obj:
            return None, f"missing field {json.dumps(name)}"
        v = obj[name]
        ok = {
            "string": isinstance(v, str),
            "f64": isinstance(v, (int, float)) and not isinstance(v, bool),
            "i64": isinstance(v, int) and not isinstance(v, bool),
            "timestamp": (isinstance(v, int) and not isinstance(v, bool)) or isinstance(v, str),
        }[ty]
        if not ok:
            return None, f"field {json.dumps(name)}: expected {ty}, found {json_kind(v)}"
        if ty == "timestamp" and isinstance(v, str):
            v, err = parse_field(f, v)
            if err:
                return None, err
        row.append(float(v) if ty == "f64" else v)
    return row, None


def splitmix64(x):
    m = (1 << 64) - 1
    z = (x + 0x9E3779B97F4A7C15) & m
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    return z ^ (z >> 31)


def source_records(src, dead):
    """(row, start offset) of the source's valid records in order; bad lines go to `dead`."""
    if src["type"] == "generator":
        n, k, per_ms = src.get("events", 1_000_000), src.get("keys", 10_000), src.get("events_per_ms", 1000)
        for i in range(n):
            yield [splitmix64(i) % k, i % 100, i // per_ms], i
        return
    assert src["type"] == "file", "the oracle reads file and generator sources"
    fmt = src.get("format", "csv")
    header = fmt == "csv" and src.get("header", True)
    decode = decode_csv if fmt == "csv" else decode_json
    path = ROOT / src["path"]
    for number, line, start, reason in read_lines(path, header, src.get("max_line_bytes", DEFAULT_MAX_LINE_BYTES)):
        row = None
        if reason is None:
            row, reason = decode(line, src["schema"])
        if reason is not None:
            dead.append({"line": number, "reason_prefix": reason})
        else:
            yield row, start


# ---------------------------------------------------------------- encoding


def ryu(x):
    """`x` as ryu's `format_finite` writes it: the shortest round-trip digits (Python's repr
    has the same digits), decimal notation for 1e-5 <= |x| < 1e16, else `d.ddde-x` / `de16`
    (no `+`, no exponent padding)."""
    if x == 0:
        return "-0.0" if math.copysign(1, x) < 0 else "0.0"
    sign = "-" if x < 0 else ""
    _, digit_tuple, e = decimal.Decimal(repr(abs(x))).as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    while len(digits) > 1 and digits.endswith("0"):
        digits, e = digits[:-1], e + 1
    kk = len(digits) + e  # 10^(kk-1) <= |x| < 10^kk
    if e >= 0 and kk <= 16:
        return f"{sign}{digits}{'0' * e}.0"
    if 0 < kk <= 16:
        return f"{sign}{digits[:kk]}.{digits[kk:]}"
    if -5 < kk <= 0:
        return f"{sign}0.{'0' * -kk}{digits}"
    rest = f".{digits[1:]}" if len(digits) > 1 else ""
    return f"{sign}{digits[0]}{rest}e{kk - 1}"


def csv_value(v):
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        return ryu(v) if math.isfinite(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, str):
        return f'"{v.replace(chr(34), chr(34) * 2)}"' if any(c in v for c in ',"\r\n') else v
    return str(v)


def json_value(v):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "null"
    if isinstance(v, float):
        return ryu(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def encode(row, names, fmt):
    if fmt == "jsonl":
        return "{" + ",".join(f"{json.dumps(n)}:{json_value(v)}" for n, v in zip(names, row)) + "}"
    if len(row) == 1 and row[0] == "":
        return '""'
    return ",".join(csv_value(v) for v in row)


# ---------------------------------------------------------------- pipelines


GENERATOR_SCHEMA = [
    {"name": "key", "type": "i64"},
    {"name": "value", "type": "i64"},
    {"name": "ts", "type": "timestamp"},
]


def run_pipeline(spec):
    """(output lines, output format, dead letters, dedup split candidates or None)."""
    src = spec["source"]
    schema = src.get("schema") or GENERATOR_SCHEMA
    dead = []
    records = list(source_records(src, dead))
    ops = spec.get("ops", [])
    kb = next((i for i, op in enumerate(ops) if op["type"] == "key_by"), None)
    pre, post = (ops, []) if kb is None else (ops[:kb], ops[kb + 2 :])
    rows, schema = apply_stateless(pre, [r for r, _ in records], schema)
    candidates = None
    if kb is not None:
        keyed, key_op = ops[kb + 1], ops[kb]
        if keyed.get("function") == "dedup":
            assert not post and src["type"] == "file", "candidates are computed for file → dedup → sink"
            candidates = dedup_split_candidates(spec, records, pre, schema, key_op)
        rows, schema = apply_keyed(key_op, keyed, rows, schema)
        rows, schema = apply_stateless(post, rows, schema)
    fmt = spec["sink"].get("format", "csv")
    names = [f["name"] for f in schema]
    return [encode(r, names, fmt) for r in rows], fmt, dead, candidates


def dedup_split_candidates(spec, records, pre, schema, key_op):
    """Per key, the first record in each of the two byte splits of the file source: a line
    belongs to worker 1 of 2 when it starts at or after byte size/2 (src/source/file.rs)."""
    size = (ROOT / spec["source"]["path"]).stat().st_size
    cut = size // 2
    firsts = {}
    key_names = key_op["key"] if isinstance(key_op["key"], list) else [key_op["key"]]
    idx = [next(i for i, f in enumerate(schema) if f["name"] == k) for k in key_names]
    for row, start in records:
        out, _ = apply_stateless(pre, [row], spec["source"]["schema"])
        if not out:
            continue
        key = tuple(out[0][i] for i in idx)
        firsts.setdefault((start >= cut, key), out[0])
    names = [f["name"] for f in schema]
    return sorted(encode(r, names, "csv") for r in firsts.values())


def main():
    fixtures = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "fixtures"
    expected = fixtures / "expected"
    expected.mkdir(exist_ok=True)
    for path in sorted(fixtures.glob("*.toml")):
        spec = tomllib.loads(path.read_text())
        name = spec.get("name", path.stem)
        lines, fmt, dead, candidates = run_pipeline(spec)
        (expected / f"{name}.{fmt}").write_text("".join(line + "\n" for line in lines))
        dead_text = "".join(json.dumps(d) + "\n" for d in dead)
        (expected / f"{name}.dead.jsonl").write_text(dead_text)
        if candidates is not None:
            (expected / f"{name}.w2-candidates.csv").write_text("".join(c + "\n" for c in candidates))
        print(f"{name}: {len(lines)} output lines, {len(dead)} dead letters")


if __name__ == "__main__":
    main()
