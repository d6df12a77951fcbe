#!/usr/bin/env python3
"""Random 4 KiB reads per second from a file, bypassing the page cache (O_DIRECT), one at a
time (queue depth 1, as page faults of one thread are): the disk's rate that bounds lookups
of state larger than the page cache.

    scripts/randread.py FILE [SECONDS]   (FILE: e.g. 1 GiB, written beforehand with dd)
"""
import mmap, os, random, sys, time

path = sys.argv[1]
secs = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
blocks = os.fstat(fd).st_size // 4096
buf = mmap.mmap(-1, 4096)  # page-aligned, as O_DIRECT needs
rng = random.Random(1)
n, t0 = 0, time.monotonic()
while time.monotonic() - t0 < secs:
    os.preadv(fd, [buf], rng.randrange(blocks) * 4096)
    n += 1
dt = time.monotonic() - t0
print(f"random_4k_reads_per_s={n / dt:.0f} reads={n} seconds={dt:.1f} mean_us={dt / n * 1e6:.0f}")
