#!/usr/bin/env bash
# Instructions per record of the sink side of a pipeline (issue 10, step 5; PERF.md).
#
#   scripts/sink_callgrind.sh BINARY PIPELINE INPUT [RECORDS]
#   scripts/sink_callgrind.sh target/release/weir fixtures/rolling_sum.toml /tmp/s7/k1m.csv
#
# Runs BINARY under callgrind on INPUT with one worker (part files into a scratch directory,
# deleted afterwards) and prints, per record (RECORDS, default 1000000), the program total,
# SinkEmit::push and the encoder's batch function (inclusive), and the md5 of the sorted
# output (to compare with another binary's).
set -euo pipefail
bin=$1 pipeline=$2 input=$3 records=${4:-1000000}
out=$(mktemp -d /tmp/sink-cg.XXXXXX)
trap 'rm -rf "$out"' EXIT
valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$out/cg.%p" \
    "$bin" run "$pipeline" --set source.path="$input" --set sink.path="$out/sink" \
    --workers 1 >/dev/null 2>&1
callgrind_annotate --inclusive=yes "$out"/cg.* 2>/dev/null |
    grep -E 'PROGRAM TOTALS|SinkEmit<T> as .*::push \[|Encoder<.*>>::encode_(all|many) \[' |
    sed -E 's/^ *([0-9,]+) \( *[0-9.]+%\) +/\1 /' |
    awk -v n="$records" '{ c = $1; gsub(",", "", c); $1 = "";
        printf "%8.1f per record %s\n", c / n, substr($0, 1, 150) }'
echo "output md5 (sorted): $(cat "$out"/sink/* | sort | md5sum | cut -d' ' -f1)"
