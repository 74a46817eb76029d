#!/bin/sh
# tests/harness/test_isa.sh — omp's ISA levels (docs/DESIGN.md §4), through
# cnnbench train on a tiny synthetic data set:
#   - every level the build carries and this CPU runs trains, and the step
#     verification against seq passes;
#   - each level gives the same parameters at 1 and 2 threads, bit for bit;
#   - avx2 and avx512, where both run, give the same parameters bit for bit;
#     so does the level picked without the variable as the one it names;
#   - a name the build lacks is refused, naming the variable and the levels.
#
#   test_isa.sh CNNBENCH MAKE_IDX
set -u
cnnbench=$1
make_idx=$2
. "$(dirname "$0")/../common/check.sh"

"$cnnbench" list 2>/dev/null | grep -qw omp || {
    echo "test_isa: SKIP: this build has no omp backend"
    exit 77
}
data=$scratch/data
mkdir -p "$data" && "$make_idx" "$data" 300 100 || exit 99

# train DIR THREADS [VAR=VALUE]: 3 verified steps, parameters saved in DIR
train() {
    dir=$1
    threads=$2
    shift 2
    env -u CNNBENCH_ISA "$@" "$cnnbench" train --impl omp --threads "$threads" --batch 20 \
        --filters 24 --steps 3 --warmup 0 --seed 3 --data "$data" --print-every 1000 \
        --save-params "$dir" > "$dir.log" 2>&1
}

same() {
    for f in conv_w conv_b fc_w fc_b; do
        cmp -s "$1/$f.npy" "$2/$f.npy" || return 1
    done
}

rc=0
env CNNBENCH_ISA=no-such-level "$cnnbench" train --impl omp --steps 1 --data "$data" \
    > "$scratch/bad.log" 2>&1 || rc=$?
levels=$(sed -n 's/.*(it has: \(.*\)).*/\1/p' "$scratch/bad.log" | tr -d ,)
[ "$rc" -ne 0 ] && grep -q 'CNNBENCH_ISA=no-such-level' "$scratch/bad.log" && [ -n "$levels" ]
check $? "an unknown level is refused, naming the variable and this build's levels ($levels)"

ran=""
for level in $levels; do
    if ! train "$scratch/$level-1" 1 CNNBENCH_ISA="$level"; then
        if grep -q 'this CPU cannot run' "$scratch/$level-1.log"; then
            echo "  note  this CPU cannot run $level: $(tail -n 1 "$scratch/$level-1.log")"
            continue
        fi
        check 1 "$level trains"
        sed 's/^/    | /' "$scratch/$level-1.log"
        continue
    fi
    grep -q 'verified: *one step agrees with seq' "$scratch/$level-1.log"
    check $? "$level trains and agrees with seq"
    train "$scratch/$level-2" 2 CNNBENCH_ISA="$level" && same "$scratch/$level-1" "$scratch/$level-2"
    check $? "$level: the same bits at 1 and 2 threads"
    ran="$ran $level"
done
[ -n "$ran" ]
check $? "at least one level ran"

ran_level() { case "$ran " in *" $1 "*) return 0 ;; esac; return 1; }
if ran_level avx2 && ran_level avx512; then
    same "$scratch/avx2-1" "$scratch/avx512-1"
    check $? "avx2 and avx512: the same bits"
fi

best=${ran# }
best=${best%% *}
train "$scratch/auto" 1 && same "$scratch/auto" "$scratch/$best-1"
check $? "without CNNBENCH_ISA the best level this CPU runs ($best) is picked"

finish
