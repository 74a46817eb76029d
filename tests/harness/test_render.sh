#!/bin/sh
# test_render.sh — a small real sweep renders every chart of plots/ to a
# non-empty PNG (with the PNG signature) and SVG, and REPORT.md embeds each;
# the GPU scaling chart is rendered from made-up rows added to that sweep.
# The charts draw without gnuplot warnings, put their ticks at the sizes
# run, draw every size of a thread sweep, mark unstable points, and give a
# one-step run's single points a real range. The roofline chart draws
# every region of every configuration under the CPU ceilings of the run's
# ceilings.txt (made-up peak_flops figures here: a real measurement is the
# machine's, scripts/ceilings.sh); the energy chart, without a meter on
# this machine, is skipped with a note and REPORT.md says why.
# Skips (77) only when gnuplot, or its pngcairo or svg terminal, is missing.
#
# Usage: test_render.sh CNNBENCH MAKE_IDX RENDER_SH
set -u
cnnbench=$1
make_idx=$2
render=$3
command -v gnuplot >/dev/null 2>&1 || { echo "SKIP: gnuplot not installed"; exit 77; }
for term in pngcairo svg; do
    gnuplot -e "set terminal $term" >/dev/null 2>&1 ||
        { echo "SKIP: gnuplot has no $term terminal (Debian's gnuplot-nox has both)"; exit 77; }
done
. "$(dirname "$0")/../common/check.sh"
mkdir -p "$scratch/data" && "$make_idx" "$scratch/data" 300 100 || exit 99

charts="time_vs_params breakdown_share breakdown_seq step_times learning filters feature_maps roofline"
impls=seq
if "$cnnbench" list | grep -q "^omp "; then
    impls=seq,omp
    charts="$charts speedup_threads speedup_filters speedup_batch breakdown_omp"
fi
run=$scratch/run
"$cnnbench" sweep --data "$scratch/data" --impl $impls --threads 1,2 --batch 8,16 --filters 2,4 \
    --steps 6 --eval-every 3 --out "$run" >"$scratch/out" 2>"$scratch/err" ||
    fatal "sweep: $(cat "$scratch/err")"
printf '%s\n' "isa test" "fma_gflops threads=1 100.0" "mul_add_gflops threads=1 50.0" \
    "read_gbs threads=1 20.0" "write_gbs threads=1 15.0" "fma_gflops threads=2 200.0" \
    "mul_add_gflops threads=2 100.0" "read_gbs threads=2 30.0" "write_gbs threads=2 20.0" \
    >"$run/ceilings.txt"
CNNBENCH=$cnnbench sh "$render" "$run" >"$scratch/render" 2>&1 ||
    fatal "render.sh: $(cat "$scratch/render")"
cat "$scratch/render"

for c in $charts; do
    png=$run/plots/$c.png
    [ -s "$png" ]
    check $? "$c.png written"
    [ -s "$png" ] || continue
    [ "$(head -c 4 "$png" | od -An -c | tr -d ' ')" = "211PNG" ]
    check $? "$c.png is a PNG"
    [ -s "$run/plots/$c.svg" ]
    check $? "$c.svg written"
    grep -q "](plots/$c.png)" "$run/REPORT.md"
    check $? "REPORT.md embeds $c.png"
done
grep -q "^## Machine and build" "$run/REPORT.md"
check $? "REPORT.md has a machine section"
grep -q "^| CPU |" "$run/REPORT.md"
check $? "REPORT.md names the CPU"
grep -q "^| \`seq:v0:t0:b8:f2:s6:r1\` |" "$run/REPORT.md"
check $? "REPORT.md's summary table has the row of seq B=8 F=2"
# every chart names the machine (from meta.json) in its footer
grep -q "CPU: " "$run/plots/time_vs_params.svg"
check $? "the charts name the CPU"

# the GPU scaling chart, from made-up data-parallel rows (no machine here has
# several GPUs): cuda at gpus 1, 2 and 4 for two batch sizes, copied from
# seq's rows at F=4 with the step times divided by 0.85 N
gpus_run=$scratch/gpus
cp -r "$run" "$gpus_run" && rm -rf "$gpus_run/plots" "$gpus_run/REPORT.md"
awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print; next }
    { print }
    $c["impl"] == "seq" && $c["filters"] == 4 {
        for (n = 1; n <= 4; n *= 2) {
            split($0, f, ",")
            f[c["config_key"]] = "cuda:v0:t0:g" n ":b" f[c["batch"]] ":f4:s6:r1"
            f[c["impl"]] = "cuda"
            f[c["gpus"]] = n
            s = n == 1 ? 1 : 0.85 * n
            f[c["median_step_ms"]] /= s; f[c["q1_step_ms"]] /= s; f[c["q3_step_ms"]] /= s
            f[c["min_step_ms"]] /= s; f[c["max_step_ms"]] /= s
            line = f[1]
            for (i = 2; i <= NF; i++) line = line OFS f[i]
            print line
        }
    }' "$run/summary.csv" >"$gpus_run/summary.csv"
CNNBENCH=$cnnbench sh "$render" "$gpus_run" >"$scratch/render_gpus" 2>&1
check $? "render.sh draws the GPU sweep" "$(cat "$scratch/render_gpus")"
[ "$(grep -c '^gpus,cuda B=' "$gpus_run/plots/data/scaling_gpus.csv")" -eq 2 ]
check $? "scaling_gpus.csv holds two batch sizes" "$(cat "$gpus_run/plots/data/scaling_gpus.csv")"
png=$gpus_run/plots/scaling_gpus.png
[ -s "$png" ] && [ "$(head -c 4 "$png" | od -An -c | tr -d ' ')" = "211PNG" ]
check $? "scaling_gpus.png is a PNG"
[ -s "$gpus_run/plots/scaling_gpus.svg" ]
check $? "scaling_gpus.svg written"
grep -q "](plots/scaling_gpus.png)" "$gpus_run/REPORT.md"
check $? "REPORT.md embeds scaling_gpus.png"
# the roofline's table: a row for every region every configuration timed
# (summary.csv's median_<region>_ms), each with finite numbers
roof=$run/plots/data/roofline.csv
awk -F, -v roof="$roof" '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /^median_.*_ms$/ && $i != "median_step_ms") {
                  r = $i; sub(/^median_/, "", r); sub(/_ms$/, "", r); region[i] = r }
              for (i = 1; i <= NF; i++) if ($i == "status") s = i
              next }
    $s == "ok" { for (i in region) if ($i != "") { want[$1 " " region[i]] = 1; n++ } }
    END {
        while ((getline line < roof) > 0) {
            k = split(line, f, ",")
            if (k != 11 || f[1] == "intensity_flop_per_byte") continue
            for (j = 1; j <= 11; j++)
                if (j != 3 && j != 5 && j != 10 && f[j] !~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/) {
                    print "not finite: " line; bad = 1 }
            delete want[f[5] " " f[3]]
        }
        for (w in want) { print "missing: " w; bad = 1 }
        exit bad || n == 0
    }' "$run/summary.csv" >"$scratch/roof_check"
check $? "roofline.csv lists every region of every configuration, finite" \
    "$(head -5 "$scratch/roof_check")"
grep -q "^## Roofline" "$run/REPORT.md" && grep -q "| conv_fwd | .* | memory bandwidth\|| conv_fwd | .* | multiply-and-add peak" "$run/REPORT.md"
check $? "REPORT.md names the ceiling that bounds each region"
# no energy meter here (meta.json says why): the chart is skipped with a note
if grep -q '"cpu_meters": \[\]' "$run/meta.json"; then
    grep -q "skipped energy: no readable energy meter" "$scratch/render"
    check $? "render.sh skips the energy chart, saying why" "$(cat "$scratch/render")"
    [ ! -e "$run/plots/energy.png" ] && [ ! -e "$run/plots/data/energy.csv" ]
    check $? "no energy table or chart without a meter"
    grep -q "^- CPU: no meter: " "$run/REPORT.md" && grep -q "No configuration has an energy figure" "$run/REPORT.md"
    check $? "REPORT.md says why there is no energy figure"
fi
# without a GPU sweep the chart is skipped, with a note
grep -q "skipped scaling_gpus" "$scratch/render"
check $? "render.sh notes the missing GPU sweep"

# charts a reader can trust (issue 14): gnuplot has nothing to say, ticks
# sit at the values the sweep ran, every size of a thread sweep is drawn,
# and log axes are labelled 1-2-5 style (never 0.00390625)
[ ! -e "$run/plots/gnuplot.log" ]
check $? "gnuplot does not warn" "$(cat "$run/plots/gnuplot.log" 2>/dev/null)"
! grep -qi "warning" "$scratch/render"
check $? "render.sh prints no warning" "$(cat "$scratch/render")"
info=$run/plots/data/plotinfo.gp
if [ -s "$run/plots/data/speedup_batch.csv" ]; then
    grep -q "^batch_x_ticks = '8 16'$" "$info"
    check $? "speedup_batch ticks are at B=8 and 16"
    grep -q "^filters_x_ticks = '2 4'$" "$info"
    check $? "speedup_filters ticks are at F=2 and 4"
    [ "$(grep -c '^threads,B=' "$run/plots/data/speedup_threads.csv")" -eq 4 ]
    check $? "speedup_threads draws all 4 sizes" "$(cat "$run/plots/data/speedup_threads.csv")"
fi
grep -q "^params_x_filters = '2 4'$" "$info"
check $? "time_vs_params ticks are at F=2 and 4"
sed -n "s/^[a-z]*_y_ticks = '\(.*\)'$/\1/p" "$info" | tr ' ' '\n' | awk '
    NF { n++; t = $1; sub(/e.*/, "", t); gsub(/[.]/, "", t); sub(/^0+/, "", t); sub(/0+$/, "", t)
         if (length(t) > 2) { print "tick " $1; bad = 1 } }
    END { exit bad || n == 0 }' >"$scratch/ticks"
check $? "log-axis ticks are 1-2-5 style" "$(cat "$scratch/ticks")"

# unstable points are drawn hollow with a legend entry: omp t1 at B=16 F=4
# made unstable (stddev 50% of the mean)
noisy=$scratch/noisy
cp -r "$run" "$noisy" && rm -rf "$noisy/plots" "$noisy/REPORT.md"
awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print; next }
    $1 ~ /^omp:v0:t1:b16:f4:/ { $c["stddev_step_ms"] = 0.5 * $c["mean_step_ms"] } { print }' \
    "$run/summary.csv" >"$noisy/summary.csv"
CNNBENCH=$cnnbench sh "$render" "$noisy" >"$scratch/render_noisy" 2>&1
check $? "render.sh draws the noisy run" "$(cat "$scratch/render_noisy")"
awk -F, '/^params,omp t1,/ { on = 1; next } /^params/ { on = 0 } on && $5 == 4 { print $6 }' \
    "$noisy/plots/data/time_vs_params.csv" | grep -qx 1
check $? "time_vs_params.csv marks omp t1 at F=4 unstable"
grep -q "hollow: unstable" "$noisy/plots/time_vs_params.svg"
check $? "time_vs_params.svg has a legend entry for unstable points"

# a one-step run: every chart has a range around its one point, no warning
one=$scratch/one
"$cnnbench" sweep --data "$scratch/data" --impl seq --batch 8 --filters 2 --steps 1 --eval \
    --out "$one" >"$scratch/out" 2>"$scratch/err"
check $? "a one-step sweep runs" "$(cat "$scratch/err")"
CNNBENCH=$cnnbench sh "$render" "$one" >"$scratch/render_one" 2>&1
check $? "render.sh draws a one-step run" "$(cat "$scratch/render_one")"
[ ! -e "$one/plots/gnuplot.log" ]
check $? "one-step run: gnuplot does not warn" "$(cat "$one/plots/gnuplot.log" 2>/dev/null)"
! grep -qi "warning" "$scratch/render_one"
check $? "one-step run: render.sh prints no warning" "$(cat "$scratch/render_one")"
[ -s "$one/plots/learning.png" ]
check $? "one-step run: a learning chart"

finish
