#!/bin/sh
# tests/mpi/sweep_ranks.sh — cnnbench sweep --ranks (sweep_ranks.c): strong
# scaling over 1, 2 and 3 ranks (--oversubscribe: the CI machine has 2
# cores) for seq and omp at B=100 must give an ok row per rank count, each
# key with :npN and the ranks column N in summary.csv and steps.csv, the
# allreduce region where N > 1, and no child files left behind; weak scaling
# must multiply the batch by N; plotdata must write the strong table with
# the ideal N x the 1-rank throughput, report the efficiency, and render.sh
# draw the chart (that part is skipped without gnuplot, and the test then
# exits 77). A missing launcher and --scaling without --ranks are refused
# before a run directory exists. Exits 77 (SKIP) without mpirun.
# $1 is cnnbench, $2 plots/render.sh.
set -u
if [ $# -lt 2 ]; then
    echo "usage: $0 CNNBENCH RENDER_SH" >&2
    exit 2
fi
cnnbench=$1
render=$2
. "$(dirname "$0")/../common/check.sh"

. "$(dirname "$0")/mpirun_env.sh"
common="--batch 100 --filters 8 --steps 3 --warmup 1 --data mnist"
launcher="--oversubscribe --bind-to none"

# The value of column NAME in the rows of a CSV whose first field is KEY.
column_of() {
    awk -F, -v name="$2" -v key="$3" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i }
        NR > 1 && $1 == key { print $c }' "$1" | sort -u
}

echo "strong scaling, seq and omp over 1, 2, 3 ranks:"
rc=0
timeout 300 "$cnnbench" sweep --impl seq,omp --threads 1 --ranks 1,2,3 --scaling strong \
    $common --mpirun-args "$launcher" --out "$scratch/strong" > "$scratch/out" 2>&1 || rc=$?
check "$rc" "the sweep succeeds (exit $rc)" "$(tail -n 20 "$scratch/out")"
summary=$scratch/strong/summary.csv
steps=$scratch/strong/steps.csv
for impl in seq omp; do
    t=1
    [ "$impl" = seq ] && t=0
    for np in 1 2 3; do
        key="$impl:v0:t$t:np$np:b100:f8:s3:r1"
        [ "$(column_of "$summary" status "$key")" = ok ] &&
            [ "$(column_of "$summary" ranks "$key")" = "$np" ] &&
            [ "$(column_of "$summary" batch "$key")" = 100 ]
        check $? "$key: ok in summary.csv, ranks $np, B=100"
        [ "$(column_of "$steps" ranks "$key")" = "$np" ] &&
            [ "$(awk -F, -v k="$key" '$1 == k && $9 == "step"' "$steps" | wc -l)" -eq 3 ]
        check $? "$key: its 3 steps in steps.csv with ranks $np"
        n=$(awk -F, -v k="$key" '$1 == k && $9 == "allreduce"' "$steps" | wc -l)
        if [ "$np" -eq 1 ]; then
            [ "$n" -eq 0 ]
        else
            [ "$n" -eq 3 ]
        fi
        check $? "$key: $n allreduce rows (one per step where N > 1)"
        e=""
        for col in joules_per_step_cpu joules_per_step_gpu energy_window_s gpu_sampled_w; do
            e="$e$(column_of "$summary" $col "$key")"
        done
        [ -z "$e" ]
        check $? "$key: no energy figure (the job's processes meter nothing the sweep reads)" "$e"
    done
done
[ -z "$(find "$scratch/strong" -name '.np-*')" ]
check $? "no file of the child jobs is left in the run directory"
grep -q '"scaling": "strong"' "$scratch/strong/meta.json"
check $? "meta.json records the scaling mode"

echo "weak scaling, omp over 1 and 2 ranks at 50 images per rank:"
rc=0
timeout 300 "$cnnbench" sweep --impl omp --threads 1 --ranks 1,2 --scaling weak \
    --batch 50 --filters 8 --steps 3 --warmup 1 --data mnist --mpirun-args "$launcher" \
    --out "$scratch/weak" > "$scratch/out" 2>&1 || rc=$?
check "$rc" "the sweep succeeds (exit $rc)" "$(tail -n 20 "$scratch/out")"
[ "$(column_of "$scratch/weak/summary.csv" batch omp:v0:t1:np1:b50:f8:s3:r1)" = 50 ] &&
    [ "$(column_of "$scratch/weak/summary.csv" batch omp:v0:t1:np2:b100:f8:s3:r1)" = 100 ]
check $? "B = N x 50: 50 at 1 rank, 100 at 2"

echo "refusals, before anything is created:"
rc=0
"$cnnbench" sweep --impl omp --ranks 1,2 $common --mpirun "$scratch/no-such-mpirun" \
    --out "$scratch/refused" > "$scratch/out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q 'no-such-mpirun' "$scratch/out" && [ ! -e "$scratch/refused" ]
check $? "a launcher that is not there: exit 1, named, no run directory (exit $rc)" \
    "$(cat "$scratch/out")"
rc=0
"$cnnbench" sweep --impl omp --scaling weak $common --out "$scratch/refused" \
    > "$scratch/out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q 'need --ranks' "$scratch/out" && [ ! -e "$scratch/refused" ]
check $? "--scaling without --ranks: a usage error (exit $rc)" "$(cat "$scratch/out")"

echo "the scaling table and the report:"
rc=0
"$cnnbench" plotdata "$scratch/strong" > "$scratch/out" 2>&1 || rc=$?
table=$scratch/strong/plots/data/scaling_ranks_strong.csv
check "$rc" "plotdata succeeds (exit $rc)" "$(cat "$scratch/out")"
# per curve: x 1, 2, 3, the ideal N times the images/s at N = 1
awk -F, '/^x,/ { curves++; base = 0; next } NF == 7 {
        if ($1 == 1) base = $2
        if (base <= 0 || $5 < $1 * base * 0.9999 || $5 > $1 * base * 1.0001) bad = 1
        xs = xs $1 }
    END { exit !(curves == 2 && xs == "123123" && !bad) }' "$table"
check $? "two curves over ranks 1, 2, 3, each ideal N x its 1-rank images/s" "$(cat "$table")"
[ ! -e "$scratch/strong/plots/data/scaling_ranks_weak.csv" ]
check $? "no weak table for a strong sweep"
rc=0
"$cnnbench" report "$scratch/strong" > "$scratch/out" 2>&1 || rc=$?
grep -q '^| omp t1 over ranks B=100 F=8 | strong | 3 | 100 |' "$scratch/strong/REPORT.md"
check $? "REPORT.md has the scaling table (exit $rc)"

if ! command -v gnuplot >/dev/null 2>&1; then
    echo "SKIP: the chart: gnuplot not found (Debian: apt-get install gnuplot-nox)"
    [ "$failed" -eq 0 ] && exit 77
    finish
fi
rc=0
CNNBENCH=$cnnbench sh "$render" "$scratch/strong" > "$scratch/out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] && [ -s "$scratch/strong/plots/scaling_ranks_strong.png" ] &&
    [ -s "$scratch/strong/plots/scaling_ranks_strong.svg" ]
check $? "render.sh draws scaling_ranks_strong (exit $rc)" "$(tail -n 20 "$scratch/out")"
grep -q 'plots/scaling_ranks_strong.png' "$scratch/strong/REPORT.md"
check $? "REPORT.md shows the chart"
finish
