#!/bin/sh
# tests/mpi/mpirun_check.sh — runs tests/mpi/test_ranks_mpi alone, under
# mpirun -np 1, 2 and 3 (3 is more ranks than the 2-core CI machine has
# cores, so --oversubscribe), and under a launcher Open MPI cannot reach:
# the checks must pass, two runs must print the same digest, a job whose
# last rank fails (ranks_abort) or is killed must end non-zero well within
# the watchdog with the failing rank's one error, and N processes that MPI
# sees as N jobs of one must refuse. Exits 77 (SKIP) without mpirun.
# $1 is the test program.
set -u
if [ $# -lt 1 ]; then
    echo "usage: $0 TEST_RANKS_MPI" >&2
    exit 2
fi
prog=$1
. "$(dirname "$0")/../common/check.sh"

. "$(dirname "$0")/mpirun_env.sh"

# A fault must stop the job within this many seconds; the watchdog is longer,
# so that a hang shows as its own failure (status 124).
fault_limit=30

# launch NP MODE: mpirun -np NP test_ranks_mpi MODE under a watchdog; sets
# $rc and $elapsed (seconds) and leaves the output in $scratch/out, err.
launch() {
    rc=0
    start=$(date +%s)
    timeout -k 10 120 mpirun --oversubscribe -np "$1" "$prog" "$2" \
        > "$scratch/out" 2> "$scratch/err" || rc=$?
    elapsed=$(($(date +%s) - start))
}

show_run() {
    echo "    exit status $rc after ${elapsed}s; stdout, stderr:"
    sed 's/^/    | /' "$scratch/out" "$scratch/err" | head -n 40
}

echo "alone, then under mpirun -np 1:"
rc=0
env -u OMPI_COMM_WORLD_SIZE -u PMI_SIZE -u SLURM_STEP_NUM_TASKS -u PMIX_RANK \
    timeout 60 "$prog" alone > "$scratch/out" 2> "$scratch/err" || rc=$?
sed 's/^/    /' "$scratch/out"
check "$rc" "without a launcher: a job of one that never joins MPI (exit $rc)"
launch 1 alone
sed 's/^/    /' "$scratch/out"
check "$rc" "mpirun -np 1: the same (exit $rc)"

echo "srun's variables without Slurm, so each process is a singleton:"
rc=0
SLURM_STEP_NUM_TASKS=2 timeout 60 "$prog" sum > "$scratch/out" 2> "$scratch/err" || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q 'cannot talk to that launcher' "$scratch/err"
check $? "refused: a job of 1 where the launcher started 2 (exit $rc)"
[ "$rc" -ne 0 ] || show_run

for np in 2 3; do
    echo "mpirun -np $np, sum:"
    launch "$np" sum
    sed 's/^/    /' "$scratch/out"
    check "$rc" "the checks pass on every rank (exit $rc)"
    [ "$rc" -eq 0 ] || show_run
    first=$(grep '^digest' "$scratch/out")
    launch "$np" sum
    second=$(grep '^digest' "$scratch/out")
    [ -n "$first" ] && [ "$first" = "$second" ]
    check $? "a second run gives the same bits ($second)"

    echo "mpirun -np $np, the last rank fails:"
    launch "$np" abort
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$elapsed" -le "$fault_limit" ]
    check $? "the job ends non-zero within ${fault_limit}s (exit $rc after ${elapsed}s)"
    [ "$(grep -c 'rank [0-9]* of [0-9]*: a planted failure' "$scratch/err")" -eq 1 ]
    check $? "one error line, from the failing rank"
    ! grep -q 'the sum returned' "$scratch/err"
    check $? "no rank went on without the failed one"
    [ "$rc" -ne 0 ] || show_run

    # mpirun itself reports the killed rank as 137 (128 + SIGKILL)
    echo "mpirun -np $np, the last rank is killed:"
    launch "$np" kill
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$elapsed" -le "$fault_limit" ]
    check $? "the job ends non-zero within ${fault_limit}s (exit $rc after ${elapsed}s)"
    ! grep -q 'the sum returned' "$scratch/err"
    check $? "no rank went on without the killed one"
done
finish
