"""The oracle's operators over plain Python rows (lists; None is null), with schema tracking.

A schema is a list of {"name": ..., "type": "i64" | "f64" | "string" | "timestamp"}.
Semantics from the pipeline format's documentation (src/pipeline/mod.rs) and the operators
(src/operator/{rolling,dedup,zscore}.rs).
"""

import datetime
import json
import math
import operator
import re

I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1

# ---------------------------------------------------------------- typed field parsing


def parse_i64(text):
    if re.fullmatch(r"[+-]?[0-9]+", text):
        v = int(text)
        if I64_MIN <= v <= I64_MAX:
            return v
    return None


F64_RE = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)", re.IGNORECASE
)


def parse_f64(text):
    return float(text) if F64_RE.fullmatch(text) else None


RFC3339_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def parse_timestamp(text):
    """Integer milliseconds, or RFC 3339 with an offset (sub-millisecond digits floored)."""
    v = parse_i64(text)
    if v is not None:
        return v
    m = RFC3339_RE.fullmatch(text)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    frac, off = m.group(7), m.group(8)
    try:
        dt = datetime.datetime(y, mo, d, h, mi, s, tzinfo=datetime.timezone.utc)
    except ValueError:
        return None
    ms = int(dt.timestamp()) * 1000 + (int((frac[1:] + "000")[:3]) if frac else 0)
    if off not in ("Z", "z"):
        sign = 1 if off[0] == "+" else -1
        ms -= sign * (int(off[1:3]) * 60 + int(off[4:6])) * 60_000
    return ms


PARSERS = {"i64": parse_i64, "f64": parse_f64, "timestamp": parse_timestamp, "string": str}


def parse_field(field, text):
    """(value, None) or (None, reason), reasons as the CSV decoder words them."""
    name, ty = field["name"], field["type"]
    v = PARSERS[ty](text)
    if v is None:
        return None, f"field {json.dumps(name)}: invalid {ty} {json.dumps(text)}"
    return v, None



CMPS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def index_of(schema, name):
    return next(i for i, f in enumerate(schema) if f["name"] == name)


def constant(ty, value):
    """A filter constant converted to the field's type (timestamps: ms or RFC 3339)."""
    if ty == "f64":
        return float(value)
    if ty == "timestamp" and isinstance(value, str):
        return parse_timestamp(value)
    return value


def keep(row, i, cmp, c):
    v = row[i]
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return False
    return CMPS[cmp](v, c)


def apply_stateless(ops, rows, schema):
    """Applies filter / select ops in order; returns (rows, schema)."""
    for op in ops:
        if op["type"] == "filter":
            i = index_of(schema, op["field"])
            c = constant(schema[i]["type"], op["value"])
            rows = [r for r in rows if keep(r, i, op["op"], c)]
        elif op["type"] == "select":
            picks = [(f, f) if isinstance(f, str) else (f["field"], f.get("as", f["field"])) for f in op["fields"]]
            idx = [index_of(schema, src) for src, _ in picks]
            schema = [{"name": out, "type": schema[i]["type"]} for (_, out), i in zip(picks, idx)]
            rows = [[r[i] for i in idx] for r in rows]
        else:
            raise ValueError(f"not a stateless op: {op['type']}")
    return rows, schema


def rolling(aggs, key_idx, rows, schema):
    """Per key running aggregates, one output row per input row."""
    out_schema = [schema[i] for i in key_idx]
    specs = []
    for a in aggs:
        fn, field = a["fn"], a.get("field")
        i = index_of(schema, field) if field is not None else None
        ty = schema[i]["type"] if i is not None else None
        out_ty = {"count": "i64", "avg": "f64"}.get(fn, ty)
        default = "count" if fn == "count" and field is None else f"{fn}_{field}"
        out_schema.append({"name": a.get("as", default), "type": out_ty})
        specs.append((fn, i))
    state = {}
    out = []
    for r in rows:
        key = tuple(r[i] for i in key_idx)
        accs = state.setdefault(key, [None] * len(specs))
        row = list(key)
        for j, (fn, i) in enumerate(specs):
            cur, x = accs[j], (r[i] if i is not None else None)
            if fn == "count":
                cur = (cur or 0) + 1
            elif fn == "avg":
                s, n = cur or (0.0, 0)
                cur = (s + float(x), n + 1)
            elif fn == "sum":
                cur = x if cur is None else cur + x
            elif fn == "min":
                cur = x if cur is None else min(cur, x)
            elif fn == "max":
                cur = x if cur is None else max(cur, x)
            accs[j] = cur
            row.append(cur[0] / cur[1] if fn == "avg" else cur)
        out.append(row)
    return out, out_schema


def zscore(op, key_idx, rows, schema):
    """Scores `field` against the key's earlier values (sample std). Welford's update as in
    zscore.rs, so that the f64 bits agree; each score is also checked against a two-pass
    computation over the earlier values."""
    i = index_of(schema, op["field"])
    min_count = max(op.get("min_count", 2), 2)
    threshold = op.get("threshold")
    out_schema = schema + [{"name": op.get("as", "score"), "type": "f64"}]
    moments, history, out = {}, {}, []
    for r in rows:
        if r[i] is None:
            continue
        x = float(r[i])
        key = tuple(r[k] for k in key_idx)
        n, mean, m2 = moments.get(key, (0, 0.0, 0.0))
        score = None
        if n >= min_count:
            std = math.sqrt(m2 / (n - 1))
            if std > 0:
                score = (x - mean) / std
        check_two_pass(history.setdefault(key, []), x, min_count, score)
        n += 1
        delta = x - mean
        mean += delta / n
        m2 += delta * (x - mean)
        moments[key] = (n, mean, m2)
        history[key].append(x)
        if threshold is None or (score is not None and abs(score) >= threshold):
            out.append(list(r) + [score])
    return out, out_schema


def check_two_pass(earlier, x, min_count, score):
    if len(earlier) < min_count:
        assert score is None
        return
    mean = math.fsum(earlier) / len(earlier)
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in earlier) / (len(earlier) - 1))
    if std < 1e-9:
        assert score is None, (earlier, x, score)
        return
    expected = (x - mean) / std
    assert score is not None and abs(score - expected) <= 1e-9 * max(1.0, abs(expected)), (score, expected)


def apply_keyed(key_op, op, rows, schema):
    """`key_by` followed by its keyed op; returns (rows, schema) in input order."""
    names = key_op["key"] if isinstance(key_op["key"], list) else [key_op["key"]]
    key_idx = [index_of(schema, n) for n in names]
    if op["type"] == "rolling":
        return rolling(op["aggregates"], key_idx, rows, schema)
    fn = op["function"]
    if fn == "dedup":
        # The TTL counts processing time; a fixture run is far shorter than any TTL used here.
        seen, out = set(), []
        for r in rows:
            key = tuple(r[k] for k in key_idx)
            if key not in seen:
                seen.add(key)
                out.append(r)
        return out, schema
    if fn == "zscore":
        return zscore(op, key_idx, rows, schema)
    raise ValueError(f"unknown keyed op {fn}")
