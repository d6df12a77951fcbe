#!/usr/bin/env bash
# Issue 10: does a pipeline file scale from 1 to 2 workers as far as the machine lets it?
#
#   scripts/scaling.sh                              # rolling_sum.toml, 10M events, 100k keys, 5 rounds
#   ROUNDS=9 PIPELINE=fixtures/dedup.toml INPUT=big.csv scripts/scaling.sh
#
# A shared or virtual machine may not give two cores' worth of work to two threads: its two
# vCPUs can be hyperthreads of one core, or a neighbour can take the memory bandwidth. So each
# round measures, back to back (`weir bench --pipeline`, one run each):
#   solo  one 1-worker process alone;
#   pair  two 1-worker processes side by side, each on its own input copy: their summed rate is
#         what the machine allows two independent workers at that moment (the ceiling);
#   two   one 2-worker process.
# and prints per round and as medians: ceiling = pair/solo, ours = two/solo, and
# efficiency = two/pair (1.0: the 2-worker job scales as far as two independent processes do).
set -euo pipefail

cd "$(dirname "$0")/.."
WEIR=${WEIR:-target/release/weir}
PIPELINE=${PIPELINE:-fixtures/rolling_sum.toml}
ROUNDS=${ROUNDS:-5}
EVENTS=${EVENTS:-10000000}
KEYS=${KEYS:-100000}

if [[ ! -x $WEIR ]]; then
    echo "no weir binary at $WEIR (cargo build --release, or WEIR=...)" >&2
    exit 2
fi
DIR=$(mktemp -d -t weir-scaling.XXXXXX)
# Only the directory made above is removed.
trap 'rm -rf -- "$DIR"' EXIT
if [[ -z ${INPUT:-} ]]; then
    INPUT=$DIR/events.csv
    "$WEIR" gen --events "$EVENTS" --keys "$KEYS" --out "$INPUT" >&2
fi
# The second process of a pair reads its own copy, so neither reads the other's page-cache
# pages (the same pages would flatter the pair).
cp -- "$INPUT" "$DIR/copy"

# rate INPUT WORKERS [CPU]: records/s of one run (on CPU only, when given: a 1-worker process
# pins its worker to the first CPU it may use, so the two of a pair are given one CPU each).
rate() {
    local on=()
    [[ -n ${3:-} ]] && on=(taskset -c "$3")
    "${on[@]}" "$WEIR" bench --pipeline "$PIPELINE" --input "$1" --workers "$2" --runs 1 2>/dev/null |
        grep -o 'records_per_s=[0-9]*' | cut -d= -f2
}

printf '| round | solo | pair (sum) | two workers | ceiling | ours | efficiency |\n'
printf '|---|---|---|---|---|---|---|\n'
rows=$DIR/rows
for r in $(seq 1 "$ROUNDS"); do
    solo=$(rate "$INPUT" 1)
    rate "$DIR/copy" 1 1 >"$DIR/other" &
    mine=$(rate "$INPUT" 1 0)
    wait
    pair=$((mine + $(cat "$DIR/other")))
    two=$(rate "$INPUT" 2)
    awk -v r="$r" -v s="$solo" -v p="$pair" -v t="$two" 'BEGIN {
        printf "| %d | %.2f M | %.2f M | %.2f M | %.2fx | %.2fx | %.2f |\n",
            r, s / 1e6, p / 1e6, t / 1e6, p / s, t / s, t / p }'
    echo "$solo $pair $two" >>"$rows"
done
# Medians of each column and of each round's ratios.
awk '
    { s[NR] = $1; p[NR] = $2; t[NR] = $3; c[NR] = $2 / $1; o[NR] = $3 / $1; e[NR] = $3 / $2 }
    function median(a, n,   i, j, x) {
        for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    END {
        printf "| median | %.2f M | %.2f M | %.2f M | %.2fx | %.2fx | %.2f |\n",
            median(s, NR) / 1e6, median(p, NR) / 1e6, median(t, NR) / 1e6,
            median(c, NR), median(o, NR), median(e, NR)
    }' "$rows"
