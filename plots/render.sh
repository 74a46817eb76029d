#!/bin/sh
# render.sh — renders every chart of a cnnbench run as PNG (pngcairo) and
# SVG into RUN_DIR/plots/, then writes RUN_DIR/REPORT.md.
#
# Usage: plots/render.sh RUN_DIR
#
# Steps: `cnnbench plotdata RUN_DIR` reshapes the run's CSV into plot-ready
# tables (RUN_DIR/plots/data/), one gnuplot script per chart draws them, and
# `cnnbench report RUN_DIR` writes the report embedding every chart. A chart
# whose data the run does not have (no thread sweep, say) is skipped with a
# note. Needs gnuplot 5.4 or newer with the pngcairo and svg terminals, and
# cnnbench: $CNNBENCH if set, else cnnbench on the PATH, else
# build/bench/cnnbench in the source tree. Exits 0 on success, 1 on failure
# (a run's file cnnbench refuses, a chart gnuplot cannot draw), 2 on bad
# usage.
set -eu

prog=render.sh
die() {
    printf '%s: error: %s\n' "$prog" "$*" >&2
    exit 1
}

if [ $# -ne 1 ] || [ "$1" = "--help" ] || [ "$1" = "-h" ]; then
    echo "usage: plots/render.sh RUN_DIR" >&2
    exit 2
fi
run=${1%/}
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
repo=$(dirname -- "$here")

command -v gnuplot >/dev/null 2>&1 || die "gnuplot not found (Debian: apt-get install gnuplot-nox)"
if [ -n "${CNNBENCH:-}" ]; then
    cnnbench=$CNNBENCH
elif command -v cnnbench >/dev/null 2>&1; then
    cnnbench=cnnbench
elif [ -x "$repo/build/bench/cnnbench" ]; then
    cnnbench=$repo/build/bench/cnnbench
else
    die "cnnbench not found: build it, or set CNNBENCH=/path/to/cnnbench"
fi
[ -f "$run/summary.csv" ] || die "$run: no summary.csv, not a cnnbench sweep directory"
# Paths reach gnuplot inside single-quoted strings, one command per line.
nl='
'
case "$run$here" in
*\'* | *"$nl"*) die "paths with a single quote or a line break cannot be passed to gnuplot" ;;
esac

# The roofline's CPU ceilings: the machine's cached peak_flops figures, when
# the run has none of its own and ran on this CPU (run-benchmarks measures them).
"$repo/scripts/ceilings.sh" "$run" || die "scripts/ceilings.sh failed on $run"
# plotdata checks every file of the run and says what is wrong with it.
"$cnnbench" plotdata "$run" >/dev/null || die "cnnbench plotdata failed on $run"
data=$run/plots/data
rm -f "$run"/plots/*.png "$run"/plots/*.svg "$run/plots/gnuplot.log"
errors=$(mktemp) || die "cannot create a temporary file"
trap 'rm -f "$errors"' EXIT

# draw NAME SCRIPT [GNUPLOT-ASSIGNMENTS]: one chart in both formats. What
# gnuplot prints goes to plots/gnuplot.log: a chart that draws cleanly prints
# nothing, so anything there is worth a look (render.sh says so at the end).
draw() {
    for fmt in png svg; do
        if ! gnuplot -e "datadir='$data'; plotdir='$here'; out='$run/plots/$1'; fmt='$fmt'; ${3:-}" \
            "$here/$2.gp" 2>"$errors"; then
            cat "$errors" >&2
            die "gnuplot failed drawing $1.$fmt"
        fi
        if [ -s "$errors" ]; then
            echo "== $1.$fmt" >>"$run/plots/gnuplot.log"
            cat "$errors" >>"$run/plots/gnuplot.log"
        fi
        [ -s "$run/plots/$1.$fmt" ] || die "gnuplot wrote no $run/plots/$1.$fmt"
    done
    echo "  $run/plots/$1.png, .svg"
}

# chart NAME TABLE WHY-SKIPPED
chart() {
    if [ -s "$data/$2" ]; then
        draw "$1" "$1"
    else
        echo "  skipped $1: $3"
    fi
}

echo "charts of $run:"
chart speedup_threads speedup_threads.csv "no thread sweep (a backend with --threads run at 1 and more threads)"
chart scaling_gpus scaling_gpus.csv "no GPU sweep (cuda with --gpus at two or more counts)"
# the mode is one of these two words, never text read from the run
for mode in strong weak; do
    if [ -s "$data/scaling_ranks_$mode.csv" ]; then
        draw "scaling_ranks_$mode" scaling_ranks "mode='$mode'"
    else
        echo "  skipped scaling_ranks_$mode: no $mode scaling over ranks (sweep --ranks with 1 rank and more)"
    fi
done
chart speedup_filters speedup_filters.csv "no filter sweep with seq and another backend at one batch size"
chart speedup_batch speedup_batch.csv "no batch sweep with seq and another backend at one filter count"
chart time_vs_params time_vs_params.csv "no finished configuration"
chart breakdown_share breakdown_share.csv "no finished configuration"
impls=$(sed -n "s/^breakdown_impls = '\(.*\)'\$/\1/p" "$data/plotinfo.gp")
set -f # split the list into words, never expand them as file patterns
for impl in $impls; do
    # a backend name becomes a file name and a gnuplot string: plotdata
    # accepts only these characters, and so does this script
    case $impl in
    *[!a-z0-9_]*) die "$data/plotinfo.gp: '$impl' is not a backend name" ;;
    esac
    draw "breakdown_$impl" breakdown_impl "impl='$impl'"
done
set +f
chart step_times step_times.csv "no finished configuration"
chart roofline roofline.csv "no region with a work model and ceilings (bench/engine/roofline.h)"
chart energy energy.csv "no readable energy meter (meta.json, \"energy\", says why)"
chart learning loss.csv "no finished configuration"
chart filters filters_grid.csv "no exported parameters (showcase/)"
chart feature_maps maps_grid.csv "no exported parameters (showcase/)"

"$cnnbench" report "$run" >/dev/null || die "cnnbench report failed on $run"
echo "report: $run/REPORT.md"
if [ -s "$run/plots/gnuplot.log" ]; then
    echo "$prog: warning: gnuplot printed warnings; see $run/plots/gnuplot.log" >&2
fi
