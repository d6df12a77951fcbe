#!/usr/bin/env bash
# Runs a command inside a fresh cgroup-v1 memory cgroup with a hard limit, then reports the
# cgroup's peak usage, how often the limit was hit and whether the OOM killer ran.
#
#   scripts/cgroup_run.sh LIMIT -- CMD [ARGS...]
#
# LIMIT: bytes, or a number with K, M or G (powers of 1024), e.g. 128M.
# Needs root and the cgroup v1 memory hierarchy (CGROUP_MEMORY_ROOT, default
# /sys/fs/cgroup/memory). The cgroup is named weir-run-<pid of this script>; it is created
# with mkdir (which fails if it exists) and only that cgroup is removed at the end.
#
# Output (stderr, one line, after the command has finished):
#   cgroup_limit_bytes=... cgroup_peak_bytes=... cgroup_failcnt=... cgroup_oom_kills=... exit=...
# The peak counts everything the cgroup charges: anonymous memory *and* page cache (including
# the pages of memory-mapped files, which the kernel reclaims when the limit is reached).
# The exit status is the command's.
set -u

usage() {
    echo "usage: $0 LIMIT -- CMD [ARGS...]   (LIMIT: bytes or e.g. 128M, 2G)" >&2
    exit 2
}

[ $# -ge 3 ] || usage
limit_arg=$1
shift
[ "$1" = "--" ] || usage
shift

[[ "$limit_arg" =~ ^([0-9]+)([kKmMgG]?)$ ]] || usage
num=$((10#${BASH_REMATCH[1]}))
case "${BASH_REMATCH[2]}" in
    k | K) limit=$((num * 1024)) ;;
    m | M) limit=$((num * 1024 * 1024)) ;;
    g | G) limit=$((num * 1024 * 1024 * 1024)) ;;
    *) limit=$num ;;
esac
[ "$limit" -gt 0 ] || usage

root=${CGROUP_MEMORY_ROOT:-/sys/fs/cgroup/memory}
if [ ! -f "$root/cgroup.procs" ]; then
    echo "$0: no cgroup v1 memory hierarchy at $root" >&2
    exit 2
fi
cg="$root/weir-run-$$"
if ! mkdir "$cg"; then
    echo "$0: cannot create $cg (root needed; it must not exist)" >&2
    exit 2
fi

cleanup() {
    # Only the cgroup made above; it can be removed once no process is left in it.
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        rmdir "$cg" 2>/dev/null && return 0
        sleep 0.2
    done
    echo "$0: could not remove $cg (processes left: $(cat "$cg/cgroup.procs" 2>/dev/null | tr '\n' ' '))" >&2
}
trap cleanup EXIT

if ! echo "$limit" >"$cg/memory.limit_in_bytes"; then
    echo "$0: cannot set memory.limit_in_bytes of $cg" >&2
    exit 2
fi

# The child moves itself into the cgroup, then becomes the command. A TERM or INT sent to
# this script (e.g. by `timeout`) is passed on to it, so that the report still comes.
sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' cgroup_run "$cg" "$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
wait "$child"
status=$?
if kill -0 "$child" 2>/dev/null; then
    wait "$child"
    status=$?
fi

peak=$(cat "$cg/memory.max_usage_in_bytes")
failcnt=$(cat "$cg/memory.failcnt")
oom_kills=$(awk '$1 == "oom_kill" { print $2 }' "$cg/memory.oom_control")
echo "cgroup_limit_bytes=$limit cgroup_peak_bytes=$peak cgroup_failcnt=$failcnt cgroup_oom_kills=${oom_kills:-unknown} exit=$status" >&2
exit $status
