#!/usr/bin/env python3
"""Writes the anomaly-detection fixture and its expected output, computed here with a plain
windowed z-score (no engine code):

  fixtures/anomaly/events.csv    key,value,ts: 6 sensors, a reading every 250 ms each (+ up to
                                 249 ms of jitter, so timestamps are unique per key) for 5
                                 minutes; Gaussian noise (sd 2) around a level that drifts up
                                 (+0.05 per reading) and a slow sine. File order is event time
                                 plus a random delay of up to 400 ms: out of order, within the
                                 pipeline's 500 ms bound, so no record is late.
  fixtures/anomaly/planted.csv   key,ts of the planted anomalies: three per key, more than a
                                 window apart, each a reading 25-40 away from its level (up or
                                 down)
  fixtures/anomaly/expected.csv  what fixtures/anomaly/anomaly.toml outputs, sorted:
                                 key,value,ts,z for every reading whose |z| >= THRESHOLD

The z-score (src/operator/zscore_window/mod.rs's documented semantics): a reading at ts is
scored against the mean and sample standard deviation of the *other* readings of its key with
timestamps in (ts - WINDOW, ts], when there are at least MIN_COUNT of them. Mean and squared
deviations are summed in timestamp order, as the engine does, so that the f64 bits agree.

The script fails unless the flagged readings are exactly the planted ones (every planted
anomaly found, no false alarm).
"""
import math
import os
import random
import sys

sys.path.insert(0, os.path.dirname(__file__))
from oracle import ryu  # noqa: E402  (f64 as the engine's CSV writer prints it)

ROOT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "anomaly")
T0 = 1714564800000
KEYS = [f"sensor-{i}" for i in range(6)]
READINGS = 1200  # per key: 5 minutes at 4 per second
WINDOW, THRESHOLD, MIN_COUNT = 30_000, 6.0, 10
MAX_DELAY = 400


def generate(rng):
    """Readings (key, value text, ts) in event-time order per key, and the planted (key, ts)."""
    # Three per key, more than a window apart (an anomaly in a window inflates its standard
    # deviation and could mask a second one).
    segments = [(60, 400), (550, 850), (1000, READINGS)]
    planted_at = {(k, rng.randrange(a, b)) for k in KEYS for a, b in segments}
    readings, planted = [], []
    for ki, k in enumerate(KEYS):
        for i in range(READINGS):
            ts = T0 + i * 250 + rng.randrange(250)
            level = 100 + 20 * ki + 0.05 * i + 5 * math.sin(i / 150)
            x = level + rng.gauss(0, 2)
            if (k, i) in planted_at:
                x = level + rng.choice([-1, 1]) * rng.uniform(25, 40)
                planted.append((k, ts))
            readings.append((k, f"{x:.2f}", ts))
    return readings, sorted(planted)


def zscores(readings):
    """Rows key,value,ts,z of the readings with |z| >= THRESHOLD."""
    by_key = {}
    for k, v, ts in readings:
        by_key.setdefault(k, []).append((ts, float(v), v))
    out = []
    for k, rs in by_key.items():
        rs.sort()
        for i, (ts, x, text) in enumerate(rs):
            others = [y for j, (t, y, _) in enumerate(rs) if j != i and ts - WINDOW < t <= ts]
            n = len(others)
            if n < MIN_COUNT:
                continue
            mean = sum(others) / n
            m2 = sum((y - mean) * (y - mean) for y in others)
            std = math.sqrt(m2 / (n - 1))
            if std > 0:
                z = (x - mean) / std
                if abs(z) >= THRESHOLD:
                    out.append((k, text, ts, z))
    return out


def main():
    rng = random.Random(20240501)
    readings, planted = generate(rng)
    arrival = sorted(readings, key=lambda r: r[2] + rng.randrange(MAX_DELAY + 1))
    flagged = zscores(readings)
    found = sorted((k, ts) for k, _, ts, _ in flagged)
    assert found == planted, f"flagged {found} != planted {planted}"
    os.makedirs(ROOT, exist_ok=True)
    with open(os.path.join(ROOT, "events.csv"), "w") as f:
        f.write("key,value,ts\n")
        f.writelines(f"{k},{v},{ts}\n" for k, v, ts in arrival)
    with open(os.path.join(ROOT, "planted.csv"), "w") as f:
        f.write("key,ts\n")
        f.writelines(f"{k},{ts}\n" for k, ts in planted)
    with open(os.path.join(ROOT, "expected.csv"), "w") as f:
        f.writelines(sorted(f"{k},{ryu(float(v))},{ts},{ryu(z)}\n" for k, v, ts, z in flagged))
    print(f"{len(readings)} readings, {len(planted)} planted anomalies, all flagged")


if __name__ == "__main__":
    main()
