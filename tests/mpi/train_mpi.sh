#!/bin/sh
# tests/mpi/train_mpi.sh — cnnbench train as the processes of mpirun
# (docs/MPI.md), for seq and omp at B=100 on the real digits: -np 2 and -np 3
# (shares 50+50 and 34+33+33; --oversubscribe, the CI machine has 2 cores)
# must agree with one process within docs/DESIGN.md §4 (final parameters per
# element, the loss curve per step), two runs with the same N must be
# bitwise equal, the CSV must time the allreduce region on every step and
# say ranks N; one process keeps ranks 1 and no allreduce. A job whose
# second process has a missing data directory must end non-zero within
# seconds with one error line naming that rank. Exits 77 (SKIP) without
# mpirun, or when a backend named on the command line cannot run here.
# $1 is cnnbench, $2 the params_agree tool, then the backends (default: seq omp).
set -u
if [ $# -lt 2 ]; then
    echo "usage: $0 CNNBENCH PARAMS_AGREE" >&2
    exit 2
fi
cnnbench=$1
agree=$2
shift 2
# the backends to train, seq and omp unless named; a named one that cannot
# run here (a GPU backend without a GPU) skips the whole test
impls=${*:-seq omp}
. "$(dirname "$0")/../common/check.sh"

. "$(dirname "$0")/mpirun_env.sh"
# A fault must end the job within this many seconds; the watchdog is longer.
fault_limit=30
steps=20
filters=32
args="--batch 100 --filters $filters --steps $steps --seed 3"

# train NAME NP IMPL_ARGS: NP 0 runs one process without mpirun; writes
# $scratch/NAME.csv and $scratch/NAME/*.npy, sets $rc.
train() {
    name=$1
    np=$2
    shift 2
    rc=0
    if [ "$np" -eq 0 ]; then
        timeout 120 "$cnnbench" train $args --data mnist "$@" --csv "$scratch/$name.csv" \
            --save-params "$scratch/$name" > "$scratch/out" 2> "$scratch/err" || rc=$?
    else
        timeout -k 10 120 mpirun --oversubscribe -np "$np" "$cnnbench" train $args \
            --data mnist "$@" \
            --csv "$scratch/$name.csv" --save-params "$scratch/$name" \
            > "$scratch/out" 2> "$scratch/err" || rc=$?
    fi
    [ "$rc" -eq 0 ] || sed 's/^/    | /' "$scratch/out" "$scratch/err" | tail -n 20
}

# The loss of every step of a CSV, one per line.
losses() {
    awk -F, 'NR > 1 && $9 == "step" { print $11 }' "$1"
}

for impl in $impls; do
    if ! "$cnnbench" list 2>/dev/null | grep -A1 "^$impl " | grep -q 'runs here: yes'; then
        [ $# -eq 0 ] || { echo "SKIP: $impl cannot run here"; exit 77; }
        echo "$impl: not in this build or cannot run here, skipped"
        continue
    fi
    extra="--impl $impl"
    [ "$impl" = omp ] && extra="$extra --threads 1"
    echo "$impl, one process:"
    train "$impl-1" 0 $extra
    check "$rc" "trains (exit $rc)"
    [ "$(awk -F, 'NR > 1 && $15 != 1' "$scratch/$impl-1.csv" | wc -l)" -eq 0 ]
    check $? "every row says ranks 1"
    ! grep -q ',allreduce,' "$scratch/$impl-1.csv"
    check $? "no allreduce region"
    for np in 2 3; do
        echo "$impl, mpirun -np $np:"
        train "$impl-$np" "$np" $extra
        check "$rc" "trains (exit $rc)"
        train "$impl-${np}again" "$np" $extra
        check "$rc" "trains again (exit $rc)"
        [ "$(grep -c "^[^,]*,$impl,.*,step,.*,$np\$" "$scratch/$impl-$np.csv")" -eq "$steps" ]
        check $? "$steps step rows, each with ranks $np"
        [ "$(awk -F, 'NR > 1 && $15 != '"$np" "$scratch/$impl-$np.csv" | wc -l)" -eq 0 ]
        check $? "every row says ranks $np"
        [ "$(grep -c ',allreduce,' "$scratch/$impl-$np.csv")" -eq "$steps" ]
        check $? "the allreduce region timed on every step"
        seen=$("$agree" "$filters" "$scratch/$impl-$np" "$scratch/$impl-1")
        check $? "final parameters agree with one process" "$seen"
        losses "$scratch/$impl-1.csv" > "$scratch/one"
        losses "$scratch/$impl-$np.csv" | paste -d' ' - "$scratch/one" > "$scratch/pairs"
        [ "$(wc -l < "$scratch/pairs")" -eq "$steps" ] &&
            awk '{ d = $1 - $2; if (d < 0) d = -d; if (!(d <= 1e-3 * $2)) bad++ }
                 END { exit bad > 0 }' "$scratch/pairs"
        check $? "the loss of every step within 1e-3 relative of one process" \
            "$(head -n 5 "$scratch/pairs")"
        seen=$("$agree" --bitwise "$filters" "$scratch/$impl-${np}again" "$scratch/$impl-$np")
        check $? "a second run: bitwise equal parameters" "$seen"
        [ "$(losses "$scratch/$impl-$np.csv")" = "$(losses "$scratch/$impl-${np}again.csv")" ]
        check $? "a second run: the same loss on every step"
    done
done

echo "mpirun -np 2, the second process's data directory is missing:"
rc=0
start=$(date +%s)
timeout -k 10 120 mpirun --oversubscribe -np 1 "$cnnbench" train $args --data mnist \
    --csv "$scratch/fault.csv" : -np 1 "$cnnbench" train $args --data "$scratch/missing" \
    > "$scratch/out" 2> "$scratch/err" || rc=$?
elapsed=$(($(date +%s) - start))
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$elapsed" -le "$fault_limit" ]
check $? "the job ends non-zero within ${fault_limit}s (exit $rc after ${elapsed}s)"
errors=$(grep 'cnnbench: error' "$scratch/err")
[ "$(printf '%s\n' "$errors" | grep -c .)" -eq 1 ] &&
    printf '%s\n' "$errors" | grep -q "^cnnbench: error: rank 1 of 2 (.*): .*missing"
check $? "one error line, naming rank 1 and the missing directory" "$errors"
[ ! -e "$scratch/fault.csv" ]
check $? "no CSV written"

finish
