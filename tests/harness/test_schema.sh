#!/bin/sh
# test_schema.sh — a small real sweep writes the run directory of docs/DESIGN.md §6:
# tidy CSV with a header and units in the column names, one steps.csv row
# per configuration x step x region (no more, no fewer), one summary row per
# configuration, meta.json with its keys, and every column documented in
# results/README.md. A second sweep into the same directory is refused and
# changes nothing.
#
# Usage: test_schema.sh CNNBENCH MAKE_IDX SOURCE_ROOT
set -u
cnnbench=$1
make_idx=$2
root=$3
. "$(dirname "$0")/../common/check.sh"
mkdir -p "$scratch/data" && "$make_idx" "$scratch/data" 300 100 || exit 99

# the CPU backends of this build (each has 7 regions + the whole step = 8 rows)
impls=seq
if "$cnnbench" list | grep -q "^omp "; then
    impls=seq,omp
fi
run=$scratch/results/run
"$cnnbench" sweep --data "$scratch/data" --impl $impls --batch 8,16 --filters 2,4 --steps 5 \
    --threads 1,2 --eval --out "$run" >"$scratch/out" 2>"$scratch/err" ||
    fatal "sweep failed: $(cat "$scratch/err")"
configs=$(sed -n 's/^sweep: \([0-9]*\) configuration.*/\1/p' "$scratch/out")
expected=4
[ "$impls" = seq,omp ] && expected=12
[ "$configs" = "$expected" ]
check $? "sweep announces $expected configurations" "sweep announced '$configs'"

want_steps="config_key,impl,variant,threads,batch,filters,rep,step,region,time_ms,loss,batch_accuracy_pct,timer,gpus,ranks"
[ "$(head -1 "$run/steps.csv")" = "$want_steps" ]
check $? "steps.csv header" "$(head -1 "$run/steps.csv")"
want_evals="config_key,impl,variant,threads,batch,filters,rep,step,test_accuracy_pct,test_images,eval_ms,gpus,ranks"
[ "$(head -1 "$run/evals.csv")" = "$want_evals" ]
check $? "evals.csv header" "$(head -1 "$run/evals.csv")"
head -1 "$run/summary.csv" | grep -q "^config_key,impl,"
check $? "summary.csv starts with its header"

rows=$(($(wc -l <"$run/steps.csv") - 1))
[ "$rows" -eq $((expected * 5 * 8)) ]
check $? "steps.csv has $expected x 5 steps x 8 regions rows" "$rows rows"
dups=$(awk -F, 'NR > 1 { print $1, $8, $9 }' "$run/steps.csv" | sort | uniq -d | wc -l)
[ "$dups" -eq 0 ]
check $? "steps.csv has each (configuration, step, region) once" "$dups repeated"
awk -F, 'NR > 1 && !($10 > 0) { bad = 1 } END { exit bad }' "$run/steps.csv"
check $? "every time_ms of steps.csv is positive"
[ $(($(wc -l <"$run/summary.csv") - 1)) -eq "$expected" ]
check $? "summary.csv has one row per configuration"
[ $(($(wc -l <"$run/evals.csv") - 1)) -eq "$expected" ]
check $? "evals.csv has one final evaluation per configuration"

# summary columns by name: statuses, timers, the baseline speedup of seq is 1
col() { head -1 "$run/summary.csv" | tr ',' '\n' | grep -n -x "$1" | cut -d: -f1; }
for c in median_step_ms q1_step_ms q3_step_ms iqr_step_ms n_steps images_per_s gflop_per_s \
    final_loss test_accuracy_pct speedup_vs_seq speedup_vs_omp_t1 status timer verified ranks; do
    [ -n "$(col $c)" ]
    check $? "summary.csv has column $c"
done
s=$(col status)
t=$(col timer)
sp=$(col speedup_vs_seq)
n=$(col n_steps)
awk -F, -v s="$s" -v t="$t" -v sp="$sp" -v n="$n" 'NR > 1 {
    if ($s != "ok") { print "status " $s; bad = 1 }
    if ($t != "wall") { print "timer " $t; bad = 1 }
    if ($n != 5) { print "n_steps " $n; bad = 1 }
    if ($2 == "seq" && $sp != 1) { print "seq speedup " $sp; bad = 1 }
} END { exit bad }' "$run/summary.csv" >"$scratch/bad"
check $? "summary.csv: every status ok, timer wall, 5 steps, seq's speedup 1" "$(cat "$scratch/bad")"
if [ "$impls" = seq,omp ]; then
    v=$(col verified)
    awk -F, -v v="$v" 'NR > 1 && $2 == "omp" && $v != "yes" { bad = 1 } END { exit bad }' \
        "$run/summary.csv"
    check $? "omp configurations are verified against seq"
fi

for k in schema_version run_id argv started_utc finished_utc git sha dirty buildtype c_compiler \
    cpu_model online_cpus governor gpu_name cuda_version env seed lr spec train_images test_images; do
    grep -q "\"$k\":" "$run/meta.json"
    check $? "meta.json has key $k"
done
grep -q '"state": "complete"' "$run/meta.json"
check $? "meta.json state is complete"
for f in conv_w.npy conv_b.npy fc_w.npy fc_b.npy filters.csv feature_maps.csv digit.csv; do
    [ -s "$run/showcase/$f" ]
    check $? "showcase/$f written"
done

# every column of every CSV and every top-level meta.json key is documented
readme=$root/results/README.md
for csv in steps summary evals; do
    for c in $(head -1 "$run/$csv.csv" | tr ',' ' '); do
        grep -q "\`$c\`" "$readme"
        check $? "results/README.md documents $csv.csv column $c"
    done
done
for c in $(head -1 "$run/showcase/filters.csv" "$run/showcase/feature_maps.csv" "$run/showcase/digit.csv" | grep -v '^==>' | tr ',' ' '); do
    grep -q "\`$c\`" "$readme"
    check $? "results/README.md documents showcase column $c"
done
for k in $(grep -o '^  "[a-z_0-9]*":' "$run/meta.json" | tr -d ' ":'); do
    grep -q "\`$k\`" "$readme"
    check $? "results/README.md documents meta.json key $k"
done

# never clobber: the same --out again fails before work and changes nothing
sum_before=$(cat "$run"/*.csv "$run/meta.json" | cksum)
! "$cnnbench" sweep --data "$scratch/data" --impl seq --steps 2 --out "$run" >"$scratch/out2" 2>"$scratch/err2"
check $? "a second sweep into an existing run directory fails"
grep -q "already exists" "$scratch/err2"
check $? "saying the directory already exists" "$(cat "$scratch/err2")"
[ "$(cat "$run"/*.csv "$run/meta.json" | cksum)" = "$sum_before" ]
check $? "the refused sweep leaves the run as it was"

finish
