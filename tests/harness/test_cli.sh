#!/bin/sh
# test_cli.sh — the command line refuses bad values with a usage message and
# exit status 2, reports runtime failures as "cnnbench: error: ..." with
# status 1, and a good `train` run works, writes its CSV and .npy files, and
# trains the same with and without warm-up steps.
#
# Usage: test_cli.sh CNNBENCH MAKE_IDX
set -u
cnnbench=$1
make_idx=$2
. "$(dirname "$0")/../common/check.sh"
mkdir -p "$scratch/data" && "$make_idx" "$scratch/data" 300 100 || exit 99

# expect STATUS PATTERN ARGS...: cnnbench exits with STATUS and its stderr
# matches the grep pattern.
expect() {
    want=$1
    pattern=$2
    shift 2
    "$cnnbench" "$@" >"$scratch/out" 2>"$scratch/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        fail "cnnbench $* exited $got, expected $want; stderr: $(head -c 300 "$scratch/err")"
    elif ! grep -q -- "$pattern" "$scratch/err"; then
        fail "cnnbench $*: stderr lacks '$pattern': $(head -c 300 "$scratch/err")"
    else
        pass "cnnbench $* -> $got"
    fi
}

d="--data $scratch/data"
# train: zero, negative, non-numbers, absurd sizes, unknown names, conflicts
expect 2 "cnnbench: error: --batch" train $d --batch 0
expect 2 "cnnbench: error: --batch" train $d --batch -5
expect 2 "cnnbench: error: --batch" train $d --batch abc
expect 2 "cnnbench: error: --batch" train $d --batch 65537
expect 2 "cnnbench: error: --batch" train $d --batch 10x
expect 2 "cnnbench: error: --filters" train $d --filters 0
expect 2 "cnnbench: error: --filters" train $d --filters 4097
expect 2 "cnnbench: error: --steps" train $d --steps 0
expect 2 "cnnbench: error: --steps" train $d --steps 1.5
expect 2 "cnnbench: error: --epochs" train $d --epochs -1
expect 2 "mutually exclusive" train $d --steps 5 --epochs 1
expect 2 "cnnbench: error: --lr" train $d --lr 0
expect 2 "cnnbench: error: --lr" train $d --lr -0.1
expect 2 "cnnbench: error: --lr" train $d --lr nan
expect 2 "cnnbench: error: --lr" train $d --lr fast
expect 2 "cnnbench: error: --seed" train $d --seed -1
expect 2 "cnnbench: error: --warmup" train $d --warmup -1
expect 2 "cnnbench: error: --threads" train $d --threads 0
expect 2 "cnnbench: error: --shuffle" train $d --shuffle maybe
expect 2 "unknown backend 'nope'" train $d --impl nope
expect 2 "does not take a thread count" train $d --impl seq --threads 2
# --gpus: bad counts, a CPU backend; cuda where it cannot run several GPUs (a
# build without NCCL, no GPU, too few GPUs) says why instead of crashing
expect 2 "cnnbench: error: --gpus" train $d --gpus -1
expect 2 "cnnbench: error: --gpus" train $d --gpus two
expect 2 "only cuda trains over several GPUs" train $d --impl seq --gpus 2
expect 2 "only cuda trains over several GPUs" sweep $d --impl seq --gpus 0,2 --dry-run
if "$cnnbench" list | grep -q "^cuda "; then
    "$cnnbench" train $d --impl cuda --gpus 2 --steps 1 >"$scratch/out" 2>"$scratch/err"
    got=$?
    if [ "$got" -eq 0 ]; then
        pass "cnnbench train --impl cuda --gpus 2 ran (two GPUs here)"
    elif [ "$got" -le 2 ] && grep -q "cnnbench: error: .*\(NCCL\|GPU\)" "$scratch/err"; then
        pass "cnnbench train --impl cuda --gpus 2 -> $got: $(head -c 200 "$scratch/err")"
    else
        fail "cnnbench train --impl cuda --gpus 2 exited $got; stderr: $(head -c 300 "$scratch/err")"
    fi
fi
expect 2 "has no kernel variants" train $d --impl seq --variant 1
expect 2 "unknown option '--bogus'" train $d --bogus
expect 2 "needs a value" train $d --batch
expect 2 "Try 'cnnbench train --help'" train $d --batch 0
# sweep: the same checks on axis lists, and bad list syntax
expect 2 "cnnbench: error: --batch" sweep $d --batch 0 --dry-run
expect 2 "cnnbench: error: --batch" sweep $d --batch 10,-4 --dry-run
expect 2 "empty item" sweep $d --batch 10,,20 --dry-run
expect 2 "runs backwards" sweep $d --filters 32:16 --dry-run
expect 2 "cnnbench: error: --filters" sweep $d --filters 8:64:x1 --dry-run
expect 2 "cnnbench: error: --filters" sweep $d --filters 8:64:y2 --dry-run
expect 2 "too many ':'" sweep $d --filters 8:16:+2:4 --dry-run
expect 2 "cnnbench: error: --filters" sweep $d --filters 8: --dry-run
expect 2 "unknown backend 'nope'" sweep $d --impl seq,nope --dry-run
expect 2 "unknown preset" sweep $d --preset huge --dry-run
expect 2 "cnnbench: error: --reps" sweep $d --reps 0 --dry-run
expect 2 "cnnbench: error: --variant" sweep $d --variant one --dry-run
expect 2 "mutually exclusive" sweep $d --steps 5 --epochs 1 --dry-run
expect 2 "unknown option '--bogus'" sweep $d --bogus 3
expect 2 "unknown command" frobnicate
# runtime failures: status 1 and the one error line
expect 1 "cnnbench: error: .*nonexistent" train --data "$scratch/nonexistent" --steps 1
expect 1 "cnnbench: error: .*cannot create" sweep $d --steps 2 --out /proc/cnnbench-denied/run

# a plan's size is printed before anything runs
"$cnnbench" sweep $d --impl seq --batch 10,20 --filters 2:8:x2 --steps 3 --dry-run >"$scratch/out" 2>&1
grep -q "^sweep: 6 configurations" "$scratch/out" || fail "dry run did not count 6 configurations: $(cat "$scratch/out")"

# help teaches: steps, epochs, regions, examples
"$cnnbench" train --help >"$scratch/out" || fail "train --help exited non-zero"
for w in "A step is" "An epoch is" conv_fwd Examples; do
    grep -q "$w" "$scratch/out" || fail "train --help lacks '$w'"
done

# a good run: CSV with header and rows, .npy files, test accuracy
if "$cnnbench" train $d --batch 16 --filters 4 --steps 12 --warmup 0 --eval \
    --csv "$scratch/w0.csv" --save-params "$scratch/p" >"$scratch/out" 2>"$scratch/err"; then
    head -1 "$scratch/w0.csv" | grep -q "^config_key,impl,variant,threads,batch,filters,rep,step,region,time_ms," ||
        fail "train CSV header: $(head -1 "$scratch/w0.csv")"
    # seq has 7 regions + the whole step: 8 rows per step
    rows=$(($(wc -l <"$scratch/w0.csv") - 1))
    [ "$rows" -eq 96 ] || fail "train CSV has $rows rows, expected 12 steps x 8 = 96"
    for f in conv_w conv_b fc_w fc_b; do
        [ -s "$scratch/p/$f.npy" ] || fail "no $f.npy saved"
    done
    grep -q "test accuracy after step 12" "$scratch/out" || fail "no test accuracy printed"
    grep -q "12 steps (--steps)" "$scratch/out" || fail "the output does not say --steps was used"
else
    fail "train run failed: $(cat "$scratch/err")"
fi

# warm-up steps must not change what is trained: same losses with 3 of them
if "$cnnbench" train $d --batch 16 --filters 4 --steps 12 --warmup 3 --csv "$scratch/w3.csv" >/dev/null 2>"$scratch/err"; then
    loss() { awk -F, 'NR > 1 && $9 == "step" { print $8, $11 }' "$1"; }
    loss "$scratch/w0.csv" >"$scratch/l0"
    loss "$scratch/w3.csv" >"$scratch/l3"
    cmp -s "$scratch/l0" "$scratch/l3" || fail "warm-up changed the trained losses"
else
    fail "train --warmup 3 failed: $(cat "$scratch/err")"
fi

# --epochs: an epoch of 300 images at B=16 is ceil(300/16) = 19 steps
"$cnnbench" train $d --batch 16 --filters 2 --epochs 2 >"$scratch/out" 2>&1 || fail "train --epochs failed"
grep -q "38 steps (--epochs 2: an epoch is ceil(300/16) = 19 steps)" "$scratch/out" ||
    fail "epochs not explained: $(grep steps "$scratch/out" | head -2)"

# --load-params: continuing from saved parameters starts where they left off
"$cnnbench" train $d --batch 16 --filters 4 --steps 1 --load-params "$scratch/p" --warmup 0 >/dev/null 2>"$scratch/err" ||
    fail "train --load-params failed: $(cat "$scratch/err")"
"$cnnbench" train $d --batch 16 --filters 8 --steps 1 --load-params "$scratch/p" >/dev/null 2>"$scratch/err" &&
    fail "loading 4-filter parameters into an 8-filter model succeeded"

finish
