#!/usr/bin/env bash
# Issue 10: `weir bench --pipeline` for every bundled file → file pipeline, CSV and JSON lines,
# printed as a markdown table (records/s and MB/s of input, medians of --runs).
#
#   scripts/bench_pipelines.sh                       # 10M events, 100k keys, 1 and 2 workers, 3 runs
#   EVENTS=1000000 WORKERS="1" RUNS=1 scripts/bench_pipelines.sh     # a quick pass
#   WEIR=/path/to/weir DIR=/tmp/pipebench scripts/bench_pipelines.sh
#
# Inputs are generated with `weir gen` into $DIR (default: a new temporary directory, removed at
# the end; a given $DIR is kept and its inputs reused). A pipeline is benched when its source is
# a file; the JSON-lines form of a CSV pipeline is a copy of the file in $DIR whose [source] and
# [sink] say `format = "jsonl"` (their `format` and CSV-only `header` lines dropped) (same schema: key, value,
# ts). The JSON input has string keys, as the bundled pipelines' schemas declare them
# ("key":"17", not "key":17).
set -euo pipefail

cd "$(dirname "$0")/.."
WEIR=${WEIR:-target/release/weir}
EVENTS=${EVENTS:-10000000}
KEYS=${KEYS:-100000}
WORKERS=${WORKERS:-"1 2"}
RUNS=${RUNS:-3}
PIPELINES=${PIPELINES:-$(ls fixtures/*.toml benches/pipelines/*.toml)}

if [[ ! -x $WEIR ]]; then
    echo "no weir binary at $WEIR (cargo build --release, or WEIR=...)" >&2
    exit 2
fi
if [[ -n ${DIR:-} ]]; then
    mkdir -p "$DIR"
else
    DIR=$(mktemp -d -t weir-bench-pipelines.XXXXXX)
    # Only the directory made above is removed.
    trap 'rm -rf -- "$DIR"' EXIT
fi

csv=$DIR/events-$EVENTS-$KEYS.csv
jsonl=$DIR/events-$EVENTS-$KEYS.jsonl
if [[ ! -s $csv ]]; then
    "$WEIR" gen --events "$EVENTS" --keys "$KEYS" --out "$csv" >&2
fi
if [[ ! -s $jsonl ]]; then
    "$WEIR" gen --events "$EVENTS" --keys "$KEYS" --format jsonl --out "$jsonl.num" >&2
    sed 's/"key":\([0-9]*\)/"key":"\1"/' "$jsonl.num" >"$jsonl"
    rm -f -- "$jsonl.num"
fi

# Field `key` of the first [source] table's `format`, or "csv".
source_format() {
    awk '/^\[source\]/{s=1;next} /^\[/{s=0} s && $1=="format"{gsub(/"/,"",$3); print $3; exit}' "$1"
}

# The median records/s and MB/s of one bench, as "rate mbps" (empty on failure).
bench() {
    local pipeline=$1 input=$2 workers=$3
    shift 3
    local line
    if ! line=$("$WEIR" bench --pipeline "$pipeline" --input "$input" --workers "$workers" \
        --runs "$RUNS" "$@" 2>/dev/null | grep '^pipeline='); then
        return 0
    fi
    local rate mbps
    rate=$(sed -n 's/.*records_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
    mbps=$(sed -n 's/.*mb_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
    echo "$rate $mbps"
}

cells() {
    if [[ -z $1 ]]; then
        echo "| failed | |"
    else
        read -r rate mbps <<<"$1"
        awk -v r="$rate" -v m="$mbps" 'BEGIN { printf "| %.2f M | %.1f |", r / 1e6, m }'
    fi
}

echo "weir bench --pipeline, $EVENTS events, $KEYS keys, median of $RUNS runs;" \
    "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start, $(date -u +%FT%TZ)"
echo
echo "| pipeline | input | workers | records/s | MB/s |"
echo "|---|---|---|---|---|"
for p in $PIPELINES; do
    if ! awk '/^\[source\]/{s=1;next} /^\[/{s=0} s' "$p" | grep -Eq '^type *= *"file"'; then
        continue # a generator source: not a file pipeline
    fi
    fmt=$(source_format "$p")
    for w in $WORKERS; do
        if [[ ${fmt:-csv} == csv ]]; then
            echo "| $(basename "$p" .toml) | CSV | $w $(cells "$(bench "$p" "$csv" "$w")")"
            j=$DIR/$(basename "$p" .toml).jsonl-form.toml
            awk '/^\[/{s=($0=="[source]"||$0=="[sink]"); print; if (s) print "format = \"jsonl\""; next}
                 s && /^(format|header) *=/ {next} {print}' "$p" >"$j"
            echo "| $(basename "$p" .toml) | JSON lines | $w $(cells "$(bench "$j" "$jsonl" "$w")")"
        else
            echo "| $(basename "$p" .toml) | JSON lines | $w $(cells "$(bench "$p" "$jsonl" "$w")")"
        fi
    done
done
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "load average at the end: $load"
