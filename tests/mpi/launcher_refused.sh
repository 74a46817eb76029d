#!/bin/sh
# tests/mpi/launcher_refused.sh — cnnbench started as one of several copies
# by a launcher it cannot join must stop, never train N times alone: srun's
# variables without Slurm (the process sees a job of 1 where the launcher
# says 2) are refused by train in every build (a build without MPI reads
# the variable; an MPI build finds MPI's job smaller), and by the commands
# that always run as one process. Needs no MPI; runs in every build.
# $1 is cnnbench.
set -u
if [ $# -lt 1 ]; then
    echo "usage: $0 CNNBENCH" >&2
    exit 2
fi
cnnbench=$1
. "$(dirname "$0")/../common/check.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

rc=0
SLURM_STEP_NUM_TASKS=2 timeout 60 "$cnnbench" train --steps 1 --data mnist \
    > "$scratch/out" 2> "$scratch/err" || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q 'cnnbench: error: .*launcher' "$scratch/err" &&
    ! grep -q 'summary:' "$scratch/out"
check $? "train refuses to run as one of 2 (exit $rc)" "$(cat "$scratch/err")"
for cmd in list sweep; do
    rc=0
    SLURM_STEP_NUM_TASKS=2 timeout 60 "$cnnbench" $cmd > "$scratch/out" 2> "$scratch/err" ||
        rc=$?
    [ "$rc" -ne 0 ] && grep -q 'only train runs as the processes' "$scratch/err"
    check $? "$cmd refuses to run as one of 2 copies (exit $rc)" "$(cat "$scratch/err")"
done
finish
