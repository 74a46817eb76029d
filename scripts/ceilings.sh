#!/bin/sh
# ceilings.sh — the CPU ceilings of a run's roofline chart. bench/peak_flops
# measures them once per machine into results/ceilings/<cpu>.txt (the CPU
# model made a file name); each run gets a copy as RUN_DIR/ceilings.txt,
# where `cnnbench plotdata` reads them, so a published run keeps its own.
#
#   scripts/ceilings.sh --measure RUN_DIR   measure first if this machine has no cache
#   scripts/ceilings.sh RUN_DIR             copy the cache, if there is one
#
# peak_flops runs at 1 thread, at each power of two below the online CPUs
# and at all of them (OMP_PROC_BIND=close), a few seconds each; the file is
# its output, appended run after run (bench/engine/roofline.h reads it). A
# run made on another CPU (meta.json's host.cpu_model) is never given this
# machine's figures. peak_flops: $PEAK_FLOPS if set, else
# build/bench/peak_flops in the source tree. Exits 0 whether or not a copy
# was made (it says which), 1 on failure, 2 on bad usage.
set -eu

prog=ceilings.sh
die() {
    printf '%s: error: %s\n' "$prog" "$*" >&2
    exit 1
}
measure=0
if [ "${1:-}" = "--measure" ]; then
    measure=1
    shift
fi
if [ $# -ne 1 ] || [ "$1" = "--help" ] || [ "$1" = "-h" ]; then
    echo "usage: scripts/ceilings.sh [--measure] RUN_DIR" >&2
    exit 2
fi
run=${1%/}
repo=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
[ -f "$run/meta.json" ] || die "$run: no meta.json, not a cnnbench sweep directory"
if [ -s "$run/ceilings.txt" ]; then
    echo "ceilings: $run/ceilings.txt is there"
    exit 0
fi

# meta.json's host.cpu_model, and this machine's (/proc/cpuinfo, as meta.c reads it)
run_cpu=$(sed -n 's/^ *"cpu_model": "\(.*\)",\{0,1\}$/\1/p' "$run/meta.json" | head -1)
here_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)
case $run_cpu in
"" | unknown)
    echo "ceilings: $run/meta.json names no CPU model: no CPU ceilings"
    exit 0
    ;;
esac
slug=$(printf '%s' "$run_cpu" | tr 'A-Z' 'a-z' | tr -cs 'a-z0-9' '-' | sed 's/^-*//; s/-*$//')
cache=$repo/results/ceilings/$slug.txt

if [ ! -s "$cache" ] && [ "$measure" = 1 ]; then
    if [ "$run_cpu" != "$here_cpu" ]; then
        echo "ceilings: $run ran on '$run_cpu', this is '$here_cpu': not measured here"
        exit 0
    fi
    peak=${PEAK_FLOPS:-$repo/build/bench/peak_flops}
    [ -x "$peak" ] || die "$peak: no peak_flops (build the project, or set PEAK_FLOPS)"
    cpus=$(getconf _NPROCESSORS_ONLN)
    # a peak measured beside other work is too low, and stays cached
    load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
    if awk -v l="$load" -v c="$cpus" 'BEGIN { exit !(l > c / 2) }'; then
        echo "$prog: warning: 1-min load $load on $cpus CPUs: the peaks will read low;" \
            "delete $cache and measure again on an idle machine" >&2
    fi
    mkdir -p "$repo/results/ceilings"
    tmp=$cache.tmp.$$
    trap 'rm -f "$tmp"' EXIT
    t=1
    while :; do
        echo "ceilings: measuring this CPU's peaks at $t thread(s) (bench/peak_flops)"
        OMP_NUM_THREADS=$t OMP_PROC_BIND=close "$peak" >>"$tmp" || die "peak_flops failed"
        [ "$t" -lt "$cpus" ] || break
        t=$((t * 2))
        [ "$t" -le "$cpus" ] || t=$cpus
    done
    mv "$tmp" "$cache"
    trap - EXIT
fi
if [ -s "$cache" ]; then
    cp "$cache" "$run/ceilings.txt"
    echo "ceilings: $run/ceilings.txt from results/ceilings/$slug.txt"
else
    echo "ceilings: none for '$run_cpu' (scripts/ceilings.sh --measure $run on that machine)"
fi
