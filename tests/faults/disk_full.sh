#!/bin/sh
# tests/faults/disk_full.sh — a write that fails for lack of space gives a
# clear error, and no partial file replaces a good one (docs/DESIGN.md §5).
#
# Two ways to make writes fail without privileges:
#  - /dev/full, which fails every write with ENOSPC, reached through a
#    symbolic link in the scratch directory. Never name /dev/full itself:
#    a write-then-rename writer run as root would replace the device node.
#  - RLIMIT_FSIZE (ulimit -f, 512-byte blocks in POSIX sh) with SIGXFSZ
#    ignored: writes past the limit fail with EFBIG. That fails the
#    temporary file of an atomic writer, where /dev/full cannot reach.
. "$(dirname "$0")/lib.sh"

# run_fsize BLOCKS ARGS...: run, with files limited to BLOCKS * 512 bytes.
run_fsize() {
    blocks=$1
    shift
    rc=0
    (
        trap '' XFSZ
        ulimit -f "$blocks"
        exec timeout 120 "$cnnbench" "$@"
    ) > "$scratch/out" 2> "$scratch/err" || rc=$?
}

make_data
tiny="--impl seq --batch 20 --filters 4 --data $scratch/data"

echo "train --csv into a full disk:"
ln -s /dev/full "$scratch/full.csv"
run train $tiny --steps 3 --csv "$scratch/full.csv"
expect_error "train --csv FULL" 1 "No space left on device"
[ -L "$scratch/full.csv" ]
check $? "the link to /dev/full was written through, not replaced"

# Parameter files: a good set from seed 1, the set seed 2 would write, then
# seed 2 again with a 4 KiB limit. conv_w, conv_b and fc_b fit, fc_w.npy
# (27 KiB at F=4) does not.
echo "train --save-params when the disk fills:"
run train $tiny --steps 3 --seed 1 --save-params "$scratch/good"
cp -r "$scratch/good" "$scratch/params"
run train $tiny --steps 3 --seed 2 --save-params "$scratch/new"
run_fsize 8 train $tiny --steps 3 --seed 2 --save-params "$scratch/params"
expect_error "train --save-params LIMITED" 1 "$scratch/params/fc_w.npy"
grep -qF 'File too large' "$scratch/err"
check $? "the error gives the cause"
whole=0
for f in conv_w conv_b fc_w fc_b; do
    cmp -s "$scratch/params/$f.npy" "$scratch/good/$f.npy" ||
        cmp -s "$scratch/params/$f.npy" "$scratch/new/$f.npy" || whole=1
done
check $whole "every .npy file is whole: the good one or a complete new one"
cmp -s "$scratch/params/fc_w.npy" "$scratch/good/fc_w.npy"
check $? "fc_w.npy, whose write failed, is still the good one"
[ -z "$(find "$scratch/params" -name '*.tmp*')" ]
check $? "no temporary file is left behind"
same=0
for f in conv_w conv_b fc_w fc_b; do
    cmp -s "$scratch/params/$f.npy" "$scratch/good/$f.npy" || same=1
done
check $same "the directory still holds the good set, not a mix of two runs"

# A sweep whose steps.csv hits the limit during its second configuration:
# each configuration writes about 24 KiB of step rows, the limit is 30 KiB.
echo "sweep when the disk fills mid-way:"
run_fsize 60 sweep --impl seq --filters 4 --data "$scratch/data" --batch 20,40 --steps 30 \
    --out "$scratch/run"
expect_error "sweep LIMITED" 1 "steps.csv"
grep -qF 'File too large' "$scratch/err"
check $? "the error gives the cause"
awk -F, 'NR == 1 { n = NF } NF != n { bad = 1 } END { exit bad || NR < 2 }' \
    "$scratch/run/summary.csv"
check $? "summary.csv is whole: a header and complete rows"
[ "$(csv_field "$scratch/run/summary.csv" seq:v0:t0:b20:f4:s30:r1 status)" = ok ]
check $? "the finished configuration is in summary.csv, ok"
[ -z "$(find "$scratch/run" -name '*.tmp*')" ]
check $? "no temporary file is left behind"

finish
