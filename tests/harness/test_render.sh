#!/bin/sh
# test_render.sh — a small real sweep renders every chart of plots/ to a
# non-empty PNG (with the PNG signature) and SVG, and REPORT.md embeds each.
# Skips (77) only when gnuplot is missing.
#
# Usage: test_render.sh CNNBENCH MAKE_IDX RENDER_SH
set -u
cnnbench=$1
make_idx=$2
render=$3
command -v gnuplot >/dev/null 2>&1 || { echo "SKIP: gnuplot not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/data" && "$make_idx" "$tmp/data" 300 100 || exit 99
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

charts="time_vs_params breakdown_share breakdown_seq step_times learning filters feature_maps"
impls=seq
if "$cnnbench" list | grep -q "^omp "; then
    impls=seq,omp
    charts="$charts speedup_threads speedup_filters speedup_batch breakdown_omp"
fi
run=$tmp/run
"$cnnbench" sweep --data "$tmp/data" --impl $impls --threads 1,2 --batch 8,16 --filters 2,4 \
    --steps 6 --eval-every 3 --out "$run" >"$tmp/out" 2>"$tmp/err" ||
    { echo "FAIL: sweep: $(cat "$tmp/err")"; exit 1; }
CNNBENCH=$cnnbench sh "$render" "$run" >"$tmp/render" 2>&1 ||
    { echo "FAIL: render.sh: $(cat "$tmp/render")"; exit 1; }
cat "$tmp/render"

for c in $charts; do
    png=$run/plots/$c.png
    if [ ! -s "$png" ]; then
        fail "$c.png missing or empty"
        continue
    fi
    [ "$(head -c 4 "$png" | od -An -c | tr -d ' ')" = "211PNG" ] || fail "$c.png is not a PNG"
    [ -s "$run/plots/$c.svg" ] || fail "$c.svg missing or empty"
    grep -q "](plots/$c.png)" "$run/REPORT.md" || fail "REPORT.md does not embed $c.png"
done
grep -q "^## Machine and build" "$run/REPORT.md" || fail "REPORT.md has no machine section"
grep -q "^| CPU |" "$run/REPORT.md" || fail "REPORT.md does not name the CPU"
grep -q "^| \`seq:v0:t0:b8:f2:s6:r1\` |" "$run/REPORT.md" || fail "REPORT.md summary table lacks a row"
# every chart names the machine (from meta.json) in its footer
grep -q "CPU: " "$run/plots/time_vs_params.svg" || fail "the charts do not name the CPU"

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all passed"
