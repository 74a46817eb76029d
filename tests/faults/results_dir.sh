#!/bin/sh
# tests/faults/results_dir.sh — an unwritable results location is reported
# before any work starts (docs/DESIGN.md §5), and a missing one is created.
#
# The tests run as root in CI, and chmod does not stop root, so "unwritable"
# is a path whose parent is a regular file: no user can create anything
# there. A long --steps makes "before any work" visible: a run that started
# training would print progress or hit the watchdog.
. "$(dirname "$0")/lib.sh"

make_data
touch "$scratch/file"
tiny="--impl seq --batch 20 --filters 4 --data $scratch/data"

echo "sweep --out under a regular file:"
run sweep $tiny --steps 1000000 --out "$scratch/file/run"
expect_error "sweep --out FILE/run" 1 "$scratch/file/run"
! grep -q '^\[1/' "$scratch/out" "$scratch/err"
check $? "no configuration started"

echo "sweep --out an existing run:"
mkdir "$scratch/old-run"
echo "keep me" > "$scratch/old-run/steps.csv"
run sweep $tiny --steps 1000000 --out "$scratch/old-run"
expect_error "sweep --out EXISTING" 1 "already exists"
[ "$(cat "$scratch/old-run/steps.csv")" = "keep me" ]
check $? "the existing run is untouched"

echo "sweep --resume a run that does not exist:"
run sweep --resume "$scratch/no-such-run"
expect_error "sweep --resume MISSING" 1 "$scratch/no-such-run"

echo "sweep --out whose parents are missing:"
run sweep $tiny --steps 2 --out "$scratch/a/b/c/run"
[ "$rc" -eq 0 ] && [ -s "$scratch/a/b/c/run/summary.csv" ] && [ -s "$scratch/a/b/c/run/meta.json" ]
check $? "the parents are created and the sweep runs"
[ "$rc" -eq 0 ] || show_run

if [ "$(id -u)" != 0 ]; then
    echo "sweep --out in a read-only directory:"
    mkdir "$scratch/ro"
    chmod 555 "$scratch/ro"
    run sweep $tiny --steps 1000000 --out "$scratch/ro/run"
    expect_error "sweep --out READONLY/run" 1 "Permission denied"
    chmod 755 "$scratch/ro"
fi

# train writes its files after the last step; a destination it cannot write
# must still be refused before the first one
for opt in --csv --save-params; do
    echo "train $opt under a regular file:"
    run train $tiny --steps 200 "$opt" "$scratch/file/out"
    expect_error "train $opt FILE/out" 1 "$scratch/file/out"
    ! grep -q 'step_ms' "$scratch/out"
    check $? "train $opt: refused before the first step"
done

finish
