#!/usr/bin/env bash
# Crash test of weir's exactly-once checkpoints, with the real binary and kill -9.
#
#   scripts/crash_test.sh [--cycles N] [--seeds S] [--events E] [--workers W] [--keys K]
#                         [--pipeline count|sum|filter|join|two_stage|window|session|interval_join
#                                     |window_late|nexmark_q20|nexmark_q3|nexmark_q7]
#                         [--first-seed F]
#                         [--corrupt PCT]
#                         [--state-backend heap|mmap]
#                         [--keep]
#
# Generates input with `weir gen`, runs a clean reference (no checkpoints), then for every
# seed: starts weir with --checkpoint-dir and --checkpoint-interval 100ms (fresh the first
# time, `--restore latest` after), kills it with SIGKILL after a random delay (bash RANDOM
# seeded with the seed; delays spread over the run: very early, anywhere, very late) until a
# run exits 0 on its own or N kills were made (then one last run without a kill). The
# committed output (`sort DIR/part-*`) must equal the reference's exactly: lines missing
# from it are "lost", extra lines "duplicated" (by `comm`). Odd seeds rescale between
# restarts (W → 1 → W → ...). Also checks that a finished run leaves no hidden
# `.part-*` file and that its newest checkpoint is `finished`. With --corrupt PCT, after a
# kill the newest complete checkpoint is damaged (a byte of a state file or of the MANIFEST
# flipped) with probability PCT%, so that the restart must fall back to an older one.
# --state-backend mmap runs the checkpointed runs with keyed state in memory-mapped files (the
# reference run always uses the heap backend).
#
# Prints per seed a line and at the end
#   cycles=…, kills=…, lost=…, duplicated=…
# Exits 1 on any difference (after printing the first one), 2 on usage errors.
#
# --pipeline window: 10 ms tumbling windows in event time (fixtures/crash/window.toml); its
# bound covers the input's whole span, so at most 10 million events (10 s of event time), and
# the windows fire at the end of the input. With --workers 1 (one split, in order, never
# rescaled) the bound is set to 1 ms instead, so that windows fire all through the run.
# --pipeline session: the same with session windows (gap 20 ms, fixtures/crash/session.toml);
# use many keys (e.g. --keys 20000) so that a key's sessions close, and merge, during the run.
# --pipeline interval_join: the join pipeline's inputs, joined in event time (+-2 ms,
# fixtures/crash/interval_join.toml), bounds as large, the same limit; 1 ms with --workers 1
# (rows are freed by the watermark during the run).
# --pipeline window_late: 10 ms tumbling windows (fixtures/crash/window_late.toml) over the
# generated input with every 1000th record moved 500 ms back in event time: those are late,
# have no consumer and go to the dead-letter file, which must then equal the reference's
# (sorted; lost and duplicated lines counted like output lines). Always one worker (with two
# splits, which records are late depends on the other split's progress).
#
# --pipeline nexmark_qN: the Nexmark query file fixtures/nexmark/qN.toml over E generated
# events (its own nexmark sources; --keys unused): nexmark_q20 or nexmark_q3, regular joins
# of two sources; nexmark_q7, a max_rows over tumbling 10 s event-time windows (the bids tied
# at each window's highest price), at an event-time rate of 1000/s so that its windows fire all through the run (400K
# events: 400 s of event time, 40 windows). Append queries: the output is compared line for
# line. (The nexmark splits are in event-time order and a restore hands each its remaining
# ranges in order, so a rescale makes no record late even with out-of-orderness 0.)
#
# Environment: WEIR=path/to/weir uses that binary (default target/release/weir, built with
# `cargo build --release` when missing or older than the sources). CRASH_TMP=dir sets the
# work directory (default: a new mktemp -d, deleted at the end unless --keep or failure).
set -euo pipefail
export LC_ALL=C

cycles=10
seeds=20
events=2000000
workers=2
keys=2000
pipeline=count
first_seed=1
corrupt=0
state_backend=heap
keep=0

usage() { sed -n '2,55p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --cycles) cycles=$2; shift 2 ;;
        --seeds) seeds=$2; shift 2 ;;
        --events) events=$2; shift 2 ;;
        --workers) workers=$2; shift 2 ;;
        --keys) keys=$2; shift 2 ;;
        --pipeline) pipeline=$2; shift 2 ;;
        --first-seed) first_seed=$2; shift 2 ;;
        --corrupt) corrupt=$2; shift 2 ;;
        --state-backend) state_backend=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) usage ;;
        *) echo "crash_test: unknown argument $1" >&2; usage ;;
    esac
done
for n in "$cycles" "$seeds" "$events" "$workers" "$keys" "$first_seed" "$corrupt"; do
    case "$n" in ''|*[!0-9]*) echo "crash_test: not a number: $n" >&2; exit 2 ;; esac
done
[ "$workers" -ge 1 ] || { echo "crash_test: --workers must be at least 1" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
case $pipeline in
    nexmark_*) pipe_file="$root/fixtures/nexmark/${pipeline#nexmark_}.toml" ;;
    *) pipe_file="$root/fixtures/crash/$pipeline.toml" ;;
esac
[ -f "$pipe_file" ] || { echo "crash_test: no pipeline $pipe_file" >&2; exit 2; }
if [ "$pipeline" = sum ] && [ "$workers" -ne 1 ]; then
    # A running sum's intermediate outputs depend on the per-key order of records, which is
    # defined only with one worker (one split).
    echo "crash_test: --pipeline sum compares exactly only with --workers 1; using 1" >&2
    workers=1
fi
if [ "$pipeline" = window_late ] && [ "$workers" -ne 1 ]; then
    echo "crash_test: --pipeline window_late compares exactly only with --workers 1; using 1" >&2
    workers=1
fi

if [[ $pipeline == window || $pipeline == session || $pipeline == interval_join ]] \
    && [ "$events" -gt 10000000 ]; then
    # More event time than the window pipeline's 10 s bound: records could be late after a
    # rescale, and the output would rightly differ from the reference.
    echo "crash_test: --pipeline $pipeline takes at most 10000000 events" >&2
    exit 2
fi

weir=${WEIR:-$root/target/release/weir}
if [ -z "${WEIR:-}" ]; then
    stale=""
    [ -x "$weir" ] && stale=$(find "$root/src" "$root/Cargo.toml" -newer "$weir" -print -quit)
    if [ ! -x "$weir" ] || [ -n "$stale" ]; then
        echo "crash_test: building $weir" >&2
        (cd "$root" && cargo build --release --quiet)
    fi
fi
[ -x "$weir" ] || { echo "crash_test: no binary $weir" >&2; exit 2; }

work=${CRASH_TMP:-$(mktemp -d /tmp/weir-crash.XXXXXX)}
mkdir -p "$work"
failed=0
cleanup() {
    if [ "$keep" = 0 ] && [ "$failed" = 0 ] && [ -z "${CRASH_TMP:-}" ]; then
        rm -rf "$work"
    else
        echo "crash_test: work directory kept: $work" >&2
    fi
}
trap cleanup EXIT

now_ms() { date +%s%3N; }

input="$work/events.csv"
case $pipeline in
    nexmark_*) ;;  # the pipeline generates its events
    *) "$weir" gen --events "$events" --keys "$keys" --out "$input" ;;
esac
if [ "$pipeline" = window_late ]; then
    # Every 1000th record 500 ms back in event time: far behind the 5 ms bound, so late.
    awk -F, -v OFS=, 'NR > 1 && NR % 1000 == 0 { $3 -= 500 } { print }' "$input" >"$input.late"
    mv "$input.late" "$input"
fi

# Runs the pipeline; extra arguments follow. Output directory $1. (`exec`: when run in the
# background, $! is weir's own pid, so that kill -9 hits weir and not a subshell.)
# Graph pipelines (join, two_stage) name their sources and sinks.
run_weir() {
    local out=$1; shift
    local paths
    case $pipeline in
        join|interval_join) paths=(--set "sources.left.path=$input" --set "sources.right.path=$input"
                     --set "sinks.out.path=$out") ;;
        two_stage) paths=(--set "sources.events.path=$input" --set "sinks.out.path=$out") ;;
        nexmark_*) paths=(--set "source.events=$events" --set "sink.path=$out") ;;
        *) paths=(--set "source.path=$input" --set "sink.path=$out") ;;
    esac
    # q7's windows fire all through the run at 1000 events per second of event time.
    if [ "$pipeline" = nexmark_q7 ]; then paths+=(--set "source.rate=1000"); fi
    # One worker: splits in order, never rescaled, so a small bound makes no record late.
    if [ "$workers" = 1 ]; then
        case $pipeline in
            window|session) paths+=(--set "source.event_time.max_out_of_orderness=1ms") ;;
            interval_join)
                paths+=(--set "sources.left.event_time.max_out_of_orderness=1ms"
                        --set "sources.right.event_time.max_out_of_orderness=1ms") ;;
        esac
    fi
    # Dead letters next to the output directory (kept across the restarts of one seed).
    exec "$weir" run "$pipe_file" "${paths[@]}" --no-pin --dead-letter "$out.dead.jsonl" \
        --state-backend "${STATE_BACKEND:-$state_backend}" "$@"
}

# The clean reference: no checkpoints (the non-transactional sink path).
ref="$work/reference.sorted"
(STATE_BACKEND=heap run_weir "$work/ref-out" --workers "$workers" 2>"$work/ref.log") \
    || { failed=1; echo "crash_test: reference run failed:"; cat "$work/ref.log"; exit 1; }
sort "$work"/ref-out/part-* >"$ref"
ref_lines=$(wc -l <"$ref")
# The reference's dead letters (late records of window_late; none elsewhere).
ref_dead="$work/reference.dead.sorted"
sort "$work/ref-out.dead.jsonl" >"$ref_dead" 2>/dev/null || : >"$ref_dead"
ref_dead_lines=$(wc -l <"$ref_dead")
if [ "$pipeline" = window_late ] && [ "$ref_dead_lines" -eq 0 ]; then
    failed=1; echo "crash_test: window_late: the reference run dead-lettered no late record"; exit 1
fi

# A timing run with checkpoints, uninterrupted: its duration spreads the kill delays. Its
# output must equal the reference too.
t0=$(now_ms)
(run_weir "$work/timing-out" --workers "$workers" --checkpoint-dir "$work/timing-ckpt" \
    --checkpoint-interval 100ms 2>"$work/timing.log") \
    || { failed=1; echo "crash_test: uninterrupted checkpointed run failed:"; cat "$work/timing.log"; exit 1; }
run_ms=$(( $(now_ms) - t0 ))
[ "$run_ms" -ge 20 ] || run_ms=20

# Compares sorted dead letters with the reference's, like compare.
compare_dead() {
    local got=$1 label=$2
    lost=$(comm -23 "$ref_dead" "$got" | wc -l)
    dup=$(comm -13 "$ref_dead" "$got" | wc -l)
    if [ "$lost" -ne 0 ] || [ "$dup" -ne 0 ]; then
        echo "crash_test: $label: dead letters differ from the reference (lost=$lost duplicated=$dup);" \
             "first difference (< reference, > crash run):"
        diff "$ref_dead" "$got" | head -n 8 || true
        return 1
    fi
}

# Compares a sorted output with the reference; sets lost/dup; prints the first difference.
compare() {
    local got=$1 label=$2
    lost=$(comm -23 "$ref" "$got" | wc -l)
    dup=$(comm -13 "$ref" "$got" | wc -l)
    if [ "$lost" -ne 0 ] || [ "$dup" -ne 0 ]; then
        echo "crash_test: $label: output differs from the reference (lost=$lost duplicated=$dup);" \
             "first difference (< reference, > crash run):"
        diff "$ref" "$got" | head -n 8 || true
        return 1
    fi
}
sort "$work"/timing-out/part-* >"$work/timing.sorted"
compare "$work/timing.sorted" "uninterrupted run" || { failed=1; exit 1; }
sort "$work/timing-out.dead.jsonl" >"$work/timing.dead.sorted" 2>/dev/null || : >"$work/timing.dead.sorted"
compare_dead "$work/timing.dead.sorted" "uninterrupted run" || { failed=1; exit 1; }

echo "crash_test: $pipeline, $events events, $keys keys, $workers worker(s), reference" \
     "$ref_lines lines ($ref_dead_lines dead letters), uninterrupted checkpointed run ${run_ms} ms," \
     "binary $weir"

# Milliseconds of work left after a restore of the newest complete checkpoint in $1: the
# uninterrupted run's time scaled by the unread share of the input (from `weir inspect`:
# per range "next/end"; a split's ranges together cover the file), plus a little startup.
remaining_ms() {
    local size left
    case $pipeline in
        nexmark_*) size=$(( events * 2 )) ;;  # event counts of (about) two sources
        *) size=$(wc -c <"$input") ;;
    esac
    left=$("$weir" inspect "$1" 2>/dev/null | awk '
        $3 == "complete" { line = $0 }
        END {
            n = split(line, f, /[ ,]+/); left = -1
            for (i = 1; i <= n; i++) if (f[i] ~ /^[0-9]+\/[0-9]+$/) {
                split(f[i], p, "/"); if (left < 0) left = 0
                if (p[2] > p[1]) left += p[2] - p[1]
            }
            print left
        }')
    if [ "${left:--1}" -lt 0 ]; then echo "$run_ms"; else echo $(( run_ms * left / size + 10 )); fi
}

# A kill delay in ms (uses RANDOM) for a run with about $1 ms of work: a quarter very early
# (start-up, restore, first checkpoint), a quarter near or after the end (last barrier,
# final checkpoint), half anywhere.
kill_delay() {
    local ms=$1 r=$(( RANDOM % 4 ))
    case $r in
        0) echo $(( RANDOM % (ms / 10 + 5) )) ;;
        1) echo $(( ms * 3 / 4 + RANDOM % (ms / 3 + 1) )) ;;
        *) echo $(( RANDOM % (ms + 1) )) ;;
    esac
}

# Flips one byte in the middle of a file (bash RANDOM picks nothing here: deterministic).
flip_byte() {
    local file=$1 size at byte
    size=$(wc -c <"$file")
    at=$(( size / 2 ))
    byte=$(od -An -tu1 -j "$at" -N1 "$file" | tr -d ' ')
    printf "$(printf '\\%03o' $(( byte ^ 255 )))" |
        dd of="$file" bs=1 seek="$at" count=1 conv=notrunc 2>/dev/null
}

# Damages the newest complete checkpoint of $1, if another complete one is left undamaged (one
# to fall back to: retention may have deleted older good ones while keeping damaged ones) and
# it is not damaged already (a second flip of the same byte would repair it). Prints what it
# damaged.
corrupt_newest() {
    local complete newest target m good=0
    complete=$(ls -d "$1"/chk-*/MANIFEST 2>/dev/null | sort)
    [ -n "$complete" ] || return 0
    newest=$(dirname "$(printf '%s\n' "$complete" | tail -n 1)")
    [ -e "$newest/.damaged" ] && return 0
    for m in $complete; do
        [ "$(dirname "$m")" != "$newest" ] && [ ! -e "$(dirname "$m")/.damaged" ] && good=$(( good + 1 ))
    done
    [ "$good" -ge 1 ] || return 0
    : >"$newest/.damaged"
    if [ $(( RANDOM % 2 )) -eq 0 ] && [ -f "$newest/w0.state" ]; then
        target=$newest/w0.state
    else
        target=$newest/MANIFEST
    fi
    flip_byte "$target"
    echo "$(basename "$newest")/$(basename "$target")"
}

total_cycles=0
total_corrupted=0
total_kills=0
total_lost=0
total_dup=0
for (( seed = first_seed; seed < first_seed + seeds; seed++ )); do
    RANDOM=$seed
    dir="$work/seed-$seed"
    rm -rf "$dir"
    mkdir -p "$dir"
    out="$dir/out"
    ckpt="$dir/ckpt"
    rescale=0
    if [ $(( seed % 2 )) -eq 1 ] && [ "$workers" -ge 2 ] && [ "$pipeline" != sum ]; then
        rescale=1
    fi
    kills=0
    delay=0
    runs=0
    trail=""
    while :; do
        runs=$(( runs + 1 ))
        w=$workers
        if [ "$rescale" = 1 ] && [ $(( runs % 2 )) -eq 0 ]; then w=1; fi
        args=(--workers "$w" --checkpoint-dir "$ckpt" --checkpoint-interval 100ms)
        [ "$runs" -gt 1 ] && args+=(--restore latest)
        log="$dir/run-$runs.log"
        final=0
        [ "$kills" -ge "$cycles" ] && final=1
        (run_weir "$out" "${args[@]}" 2>"$log") &
        pid=$!
        if [ "$final" = 0 ]; then
            if [ "$runs" -gt 1 ]; then left=$(remaining_ms "$ckpt"); else left=$run_ms; fi
            delay=$(kill_delay "$left")
            sleep "$(printf '%d.%03d' $(( delay / 1000 )) $(( delay % 1000 )))"
            kill -9 "$pid" 2>/dev/null || true
        fi
        rc=0
        wait "$pid" 2>/dev/null || rc=$?
        if [ "$rc" = 0 ]; then
            trail+=" w$w:done"
            break
        elif [ "$rc" = 137 ]; then
            kills=$(( kills + 1 ))
            trail+=" w$w:kill@${delay}ms"
            if [ "$corrupt" -gt 0 ] && [ $(( RANDOM % 100 )) -lt "$corrupt" ]; then
                damaged=$(corrupt_newest "$ckpt")
                if [ -n "$damaged" ]; then
                    trail+=" corrupt:$damaged"
                    total_corrupted=$(( total_corrupted + 1 ))
                fi
            fi
        else
            failed=1
            echo "crash_test: seed $seed run $runs (workers $w) exited $rc on its own:"
            tail -n 20 "$log"
            exit 1
        fi
    done
    if ! ls "$out"/part-* >/dev/null 2>&1; then
        : >"$dir/got.sorted"
    else
        sort "$out"/part-* >"$dir/got.sorted"
    fi
    total_cycles=$(( total_cycles + runs ))
    total_kills=$(( total_kills + kills ))
    if ! compare "$dir/got.sorted" "seed $seed (runs:$trail)"; then
        total_lost=$(( total_lost + lost ))
        total_dup=$(( total_dup + dup ))
        failed=1
        [ "$corrupt" -gt 0 ] && echo "crash_test: $total_corrupted checkpoint(s) damaged on purpose"
echo "cycles=$total_cycles, kills=$total_kills, lost=$total_lost, duplicated=$total_dup"
        exit 1
    fi
    sort "$out.dead.jsonl" >"$dir/dead.sorted" 2>/dev/null || : >"$dir/dead.sorted"
    if ! compare_dead "$dir/dead.sorted" "seed $seed (runs:$trail)"; then
        total_lost=$(( total_lost + lost ))
        total_dup=$(( total_dup + dup ))
        failed=1
        echo "cycles=$total_cycles, kills=$total_kills, lost=$total_lost, duplicated=$total_dup"
        exit 1
    fi
    hidden=$(find "$out" -name '.part-*' | head -n 3)
    if [ -n "$hidden" ]; then
        failed=1
        echo "crash_test: seed $seed: hidden files left after a finished run: $hidden"
        exit 1
    fi
    if ! "$weir" inspect "$ckpt" | grep -q ' yes '; then
        failed=1
        echo "crash_test: seed $seed: no finished checkpoint after the run:"
        "$weir" inspect "$ckpt"
        exit 1
    fi
    echo "seed $seed: runs=$runs kills=$kills rescale=$rescale ok;$trail"
    rm -rf "$out"
done
[ "$corrupt" -gt 0 ] && echo "crash_test: $total_corrupted checkpoint(s) damaged on purpose"
echo "cycles=$total_cycles, kills=$total_kills, lost=$total_lost, duplicated=$total_dup"
