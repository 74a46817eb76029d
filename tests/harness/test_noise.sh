#!/bin/sh
# test_noise.sh — noise shown, and sampling until the numbers are quiet, end
# to end on a tiny synthetic data set:
#   - sweep --max-noise: a loose target converges (stop converged, noise under
#     it, fewer steps than the cap), an unreachable one stops at --max-time or
#     at the cap and is marked unstable, --min-steps outlasts --max-time, and
#     without --max-noise every planned step runs and the noise is still given;
#     steps.csv holds exactly the steps taken;
#   - meta.json records the 1-min load at the start and end of the run;
#   - the options are refused where they make no sense;
#   - cnnbench train marks an unstable timing and says why;
#   - REPORT.md marks the figures of configurations whose summary says
#     unstable (crafted rows), explains each, and marks nothing in a quiet run.
#
# Usage: test_noise.sh CNNBENCH MAKE_IDX
set -u
cnnbench=$1
make_idx=$2
. "$(dirname "$0")/../common/check.sh"
data=$scratch/data
mkdir -p "$data" && "$make_idx" "$data" 300 100 || exit 99

# holds COMMAND...: check's status for the command, 0 if it succeeds.
holds() { if "$@"; then echo 0; else echo 1; fi; }
# lacks PATTERN FILE: no line of FILE matches PATTERN.
lacks() { ! grep -q "$1" "$2"; }
# le A B: A <= B as decimal numbers, false when either is empty.
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 <= b + 0) }'; }
# field RUN COLUMN: the cell of the run's first summary.csv row, by column name.
field() {
    awk -F, -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        { print $c[col]; exit }' "$1/summary.csv"
}
# step_rows RUN: the steps.csv rows of region `step`, one per timed step.
step_rows() { awk -F, '$9 == "step"' "$1/steps.csv" | wc -l; }
# sweep RUN ARGS...: a seq sweep into RUN; stdout in RUN.out, stderr in RUN.err.
sweep() {
    out=$1
    shift
    "$cnnbench" sweep --data "$data" --impl seq --filters 4 --out "$out" "$@" \
        >"$out.out" 2>"$out.err"
}

echo "sweep --max-noise 25: converges"
run=$scratch/converge
sweep "$run" --batch 16 --max-noise 25 --min-steps 12 --max-time 60 --steps 5000
check $? "the sweep succeeds"
n=$(field "$run" n_steps)
stop=$(field "$run" stop)
noise=$(field "$run" noise_pct)
check "$(holds [ "$stop" = converged ])" "stop = converged ($stop)"
check "$(holds [ "$(field "$run" max_noise_pct)" = 25 ])" "max_noise_pct = 25"
check "$(holds le "$noise" 25)" "noise_pct $noise <= 25"
check "$(holds [ "$n" -ge 12 -a "$n" -lt 5000 ])" "n_steps $n within --min-steps 12 .. cap 5000"
check "$(holds [ "$(field "$run" steps)" = 5000 ])" "steps (the cap) = 5000"
check "$(holds [ "$(step_rows "$run")" -eq "$n" ])" "steps.csv holds the $n steps taken"
check "$(holds grep -q "$n steps, converged" "$run.err")" "the result line says converged"
for k in load_1min_start load_1min_end; do
    check "$(holds grep -q "\"$k\": [0-9]" "$run/meta.json")" "meta.json records $k as a number"
done

echo "sweep --max-noise 0.001 --max-time 0.5: stops at max_time"
run=$scratch/timeout
sweep "$run" --batch 64 --max-noise 0.001 --max-time 0.5 --steps 1000000
check $? "the sweep succeeds"
n=$(field "$run" n_steps)
stop=$(field "$run" stop)
noise=$(field "$run" noise_pct)
wall=$(field "$run" wall_s)
check "$(holds [ "$stop" = max_time ])" "stop = max_time ($stop)"
check "$(holds [ "$(field "$run" unstable)" = 1 ])" "a missed target is unstable"
check "$(holds le 0.001 "$noise")" "noise_pct $noise is above the target"
check "$(holds le 0.5 "$wall")" "the configuration took at least --max-time ($wall s)"
check "$(holds [ "$n" -ge 10 -a "$n" -lt 1000000 ])" "n_steps $n between --min-steps 10 and the cap"
check "$(holds [ "$(step_rows "$run")" -eq "$n" ])" "steps.csv holds the $n steps taken"
check "$(holds grep -q "UNSTABLE.*$n steps, max_time" "$run.err")" "the result line marks it UNSTABLE"
check "$(holds grep -q "unstable: cv .*IQR .*over the --max-noise target 0.001%; 1-min load" \
    "$run.err")" "and says why"

echo "sweep --max-noise 0.001 --steps 15: stops at the cap"
run=$scratch/cap
sweep "$run" --batch 16 --max-noise 0.001 --steps 15
check $? "the sweep succeeds"
check "$(holds [ "$(field "$run" stop)" = cap -a "$(field "$run" n_steps)" = 15 ])" \
    "stop = cap after all 15 steps"
check "$(holds [ "$(field "$run" unstable)" = 1 ])" "a missed target is unstable"

echo "sweep --min-steps 40 --max-time 0.001: the floor outlasts the time"
run=$scratch/floor
sweep "$run" --batch 16 --max-noise 50 --min-steps 40 --max-time 0.001 --steps 100
check $? "the sweep succeeds"
n=$(field "$run" n_steps)
check "$(holds [ "$n" = 40 ])" "exactly --min-steps 40 steps ($n)"

echo "sweep without --max-noise: the planned steps, noise still given"
run=$scratch/fixed
sweep "$run" --batch 16 --steps 8
check $? "the sweep succeeds"
noise=$(field "$run" noise_pct)
check "$(holds [ "$(field "$run" stop)" = steps -a "$(field "$run" n_steps)" = 8 ])" \
    "stop = steps after all 8"
check "$(holds [ -z "$(field "$run" max_noise_pct)" ])" "max_noise_pct is empty"
check "$(holds le 0 "$noise")" "noise_pct is given ($noise)"

echo "options that make no sense are refused"
for args in "--min-steps 5" "--max-time 3" "--max-noise 0" "--max-noise -1" "--max-noise 101" \
    "--max-noise 1 --min-steps 0" "--max-noise 1 --max-time 0"; do
    for cmd in sweep train; do
        # the words of $args are separate options
        "$cnnbench" $cmd --data "$data" --steps 3 $args >/dev/null 2>"$scratch/err"
        rc=$?
        check "$(holds [ "$rc" -eq 2 -a -s "$scratch/err" ])" "$cmd $args: exit $rc with a message"
    done
done
"$cnnbench" sweep --help >"$scratch/help"
check "$(holds grep -q -- "--max-noise PCT" "$scratch/help")" "sweep --help teaches --max-noise"
"$cnnbench" train --help >"$scratch/help"
check "$(holds grep -q -- "--min-steps N" "$scratch/help")" "train --help teaches --min-steps"

echo "train marks an unstable timing and says why"
"$cnnbench" train --data "$data" --batch 16 --filters 4 --max-noise 0.001 --steps 20 \
    >"$scratch/train" 2>&1
check $? "train --max-noise 0.001 --steps 20 succeeds"
check "$(holds grep -q "step time:  median .* \[UNSTABLE\]" "$scratch/train")" \
    "the step time is marked"
check "$(holds grep -q "^  UNSTABLE:   cv .*IQR .*over the --max-noise target 0.001%; 1-min load .* at start, .* at end, [0-9]* CPUs" \
    "$scratch/train")" "the reason names cv, IQR, the target and the load"
check "$(holds grep -q "cap after 20 steps" "$scratch/train")" "sampling stopped at the cap"
"$cnnbench" train --data "$data" --batch 16 --filters 4 --max-noise 25 --steps 5000 \
    >"$scratch/train2" 2>&1
check $? "train --max-noise 25 succeeds"
check "$(holds grep -q "converged after [0-9]* steps" "$scratch/train2")" "and converges"

echo "REPORT.md marks unstable figures"
run=$scratch/report
sweep "$run" --batch 8,16,32 --steps 8
check $? "the sweep succeeds"
# b8: cv 300%; b16: quiet; b32: quiet, but its --max-noise target 0.5 missed
awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print; next }
    {
        $c["stddev_step_ms"] = 0.01 * $c["mean_step_ms"]; $c["unstable"] = 0
        $c["noise_pct"] = 3; $c["max_noise_pct"] = ""; $c["stop"] = "steps"
        if ($c["batch"] == 8) { $c["stddev_step_ms"] = 3 * $c["mean_step_ms"]; $c["unstable"] = 1 }
        if ($c["batch"] == 32) { $c["max_noise_pct"] = 0.5; $c["stop"] = "max_time"; $c["unstable"] = 1 }
        print
    }' "$run/summary.csv" >"$scratch/summary.csv" && mv "$scratch/summary.csv" "$run/summary.csv"
sed -e 's/"load_1min_start": [^,]*/"load_1min_start": 3.25/' \
    -e 's/"load_1min_end": [^,]*/"load_1min_end": 7.5/' "$run/meta.json" >"$scratch/meta.json" &&
    mv "$scratch/meta.json" "$run/meta.json"
cp -r "$run" "$scratch/quiet"
"$cnnbench" report "$run" >/dev/null
check $? "cnnbench report succeeds"
md=$run/REPORT.md
check "$(holds grep -q "^| \`seq:v0:t0:b8:.* ⚠ |" "$md")" "the cv-unstable configuration's figures are marked"
check "$(holds grep -q "^| \`seq:v0:t0:b32:.* ⚠ |" "$md")" "the one that missed --max-noise is marked"
check "$(holds lacks "^| \`seq:v0:t0:b16:.*⚠" "$md")" "the quiet one is not"
check "$(holds grep -q "^## Unstable figures" "$md")" "REPORT.md has the explanation section"
check "$(holds grep -q "^- ⚠ \`seq:v0:t0:b8:.*cv 300.0%.*IQR .*3.25 at start, 7.50 at end" "$md")" \
    "it gives the cv, IQR and load of the cv-unstable one"
check "$(holds grep -q "^- ⚠ \`seq:v0:t0:b32:.*over the --max-noise target 0.5%.*stopped: max_time" \
    "$md")" "and the missed target and the stop of the other"
check "$(holds lacks "^- ⚠ \`seq:v0:t0:b16:" "$md")" "the quiet one is not listed"
check "$(holds grep -q "^| load | 1-min load average 3.25 at the start, 7.50 at the end" "$md")" \
    "the machine table gives the load from meta.json"

# the same run with every configuration quiet: no marks, no section
awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print; next }
    { $c["stddev_step_ms"] = 0.01 * $c["mean_step_ms"]; $c["max_noise_pct"] = ""; print }' \
    "$scratch/quiet/summary.csv" >"$scratch/summary.csv" &&
    mv "$scratch/summary.csv" "$scratch/quiet/summary.csv"
"$cnnbench" report "$scratch/quiet" >/dev/null
check $? "cnnbench report on the quiet run succeeds"
check "$(holds lacks "⚠\|Unstable figures" "$scratch/quiet/REPORT.md")" \
    "a quiet run's REPORT.md marks nothing"

finish
