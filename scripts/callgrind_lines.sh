#!/usr/bin/env bash
# Instructions per input line of a pipeline file, whole process, all threads (callgrind):
#
#   scripts/callgrind_lines.sh BIN INPUT [PIPELINE] [WORKERS] [--set ...]
#   scripts/callgrind_lines.sh target/release/weir k1m100k.csv fixtures/rolling_sum.toml 2
#
# Runs `BIN run PIPELINE` on INPUT (part files and dead letters into a new temporary
# directory, whose path it prints and leaves for callgrind_annotate), then prints the
# instructions per line, the md5 of the sorted output (one worker's output is deterministic;
# two workers interleave a key's records in arrival order) and the top functions (TOP=25).
set -euo pipefail
BIN=$1; IN=$2; PIPE=${3:-fixtures/rolling_sum.toml}; W=${4:-1}; shift $(( $# < 4 ? $# : 4 )) || true
D=$(mktemp -d /tmp/cgout.XXXX)
LINES=$(wc -l < "$IN")
valgrind --tool=callgrind --callgrind-out-file=$D/cg.out "$BIN" run "$PIPE" --set source.path="$IN" \
  --set sink.path=$D/o --dead-letter $D/dead.jsonl --workers $W --no-pin "$@" > /dev/null 2> $D/err || { tail -5 $D/err; exit 1; }
TOTAL=$(cat $D/cg.out* | awk '/^totals:/ {s+=$2} END {printf "%.0f", s}')
echo "lines=$LINES instr_total=$TOTAL instr_per_line=$(awk -v t=$TOTAL -v l=$LINES 'BEGIN{printf "%.1f", t/l}')"
echo "sorted-output md5: $(cat $D/o/* | sort | md5sum | cut -c1-12)   files in $D"
callgrind_annotate --inclusive=no $D/cg.out* 2>/dev/null | grep -E "^ *[0-9,]+ " | head -${TOP:-25}
