#!/bin/sh
# scripts/gpu-check-speed.sh — the device checks of the speed-at-the-limit
# variants, cuda v5 (m and dm never stored), v6 (v3's step replayed as one
# CUDA graph) and v7 (each step one persistent kernel), for a GPU machine;
# a developer script (issue 18), every log under OUT_DIR:
#
#   tests     meson's gpu suite (backend-cuda: every variant against seq;
#             cuda-graph: v6 bitwise equal to v3; gpu-clock: the regions
#             tile the span; cuda-persistent: v7's timed steps bitwise equal
#             to its phases slot by slot; multi-gpu; the learning and micro
#             tests) and verify-mutants (the sweep's verification);
#   sanitize  compute-sanitizer memcheck and racecheck on short v5, v6 and
#             v7 training runs at odd sizes (B=37 F=12: a partial forward
#             filter group, a single image in the last pair);
#   timing    cnnbench sweep of v3, v5, v6 and v7 at B 100,1000,4000 x F 32,256
#             (300 steps, 10 warm-up), every configuration verified first;
#             v3 against v6 through `cnnbench train`, the final parameters
#             compared byte for byte;
#   small     where the (100,32) step goes: v3 with --cupti (every kernel's
#             own GPU time), and v6's and v7's steps.csv (step wall time
#             against the GPU span), 2000 steps each;
#   ncu       where ncu runs: the v5 kernels' speed-of-light and occupancy
#             at (1000,256), for the notes' bounds.
#
#   scripts/gpu-check-speed.sh BUILD_DIR [STAGE...]     (default: all five)
#   OUT_DIR=dir scripts/gpu-check-speed.sh build tests   (default OUT_DIR:
#                                                         $OUT, else ./gpu-check)
#
# BUILD_DIR is configured (-Dgpu_arch=90, release) and built first if it
# does not exist. Every stage runs even if an earlier one failed; the last
# lines of OUT_DIR/summary.txt say which passed. Exit status: 0 if all did.
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [tests|sanitize|timing|small|ncu ...]" >&2
    exit 2
fi
top=$(cd "$(dirname "$0")/.." && pwd)
build=$1
shift
stages=${*:-tests sanitize timing small ncu}
out=${OUT_DIR:-${OUT:-"$PWD/gpu-check"}}
mkdir -p "$out"
summary="$out/summary.txt"
: >"$summary"
failed=0

note() { printf '%s\n' "$*" | tee -a "$summary"; }
# step NAME CMD...: runs CMD with its output in OUT_DIR/NAME.log
step() {
    name=$1
    shift
    start=$(date +%s)
    "$@" >"$out/$name.log" 2>&1
    rc=$?
    note "$name: exit $rc ($(($(date +%s) - start)) s)"
    [ $rc -eq 0 ] || failed=1
}

cd "$top" || exit 1
if [ ! -d "$build" ]; then
    step build sh -c "meson setup '$build' -Dgpu_arch=90 -Dbuildtype=release && ninja -C '$build'"
fi
cnnbench="$build/bench/cnnbench"
nvidia-smi >"$out/nvidia-smi.txt" 2>&1
git -C "$top" log -1 --format='tree %h %s' >>"$summary" 2>&1

for stage in $stages; do
    case $stage in
    tests)
        step tests meson test -C "$build" --suite gpu verify-mutants --print-errorlogs
        cp "$build/meson-logs/testlog.txt" "$out/testlog.txt"
        ;;
    sanitize)
        for v in 5 6 7; do
            for tool in memcheck racecheck; do
                step "$tool-v$v" compute-sanitizer --tool "$tool" --error-exitcode 1 \
                    "$cnnbench" train --impl cuda --variant "$v" --batch 37 --filters 12 \
                    --steps 3
            done
        done
        step memcheck-v5-wide compute-sanitizer --tool memcheck --error-exitcode 1 \
            "$cnnbench" train --impl cuda --variant 5 --batch 200 --filters 64 --steps 2
        ;;
    timing)
        step sweep-v3-v7 "$cnnbench" sweep --impl cuda --variant 3,5,6,7 \
            --batch 100,1000,4000 --filters 32,256 --steps 300 --warmup 10 \
            --out "$out/sweep-v3-v7"
        for v in 3 6; do
            step "train-v$v" "$cnnbench" train --impl cuda --variant "$v" --batch 100 \
                --filters 32 --steps 200 --save-params "$out/params-v$v"
        done
        step graph-bitwise sh -c "for f in conv_w conv_b fc_w fc_b; do \
            cmp '$out/params-v3/'\$f.npy '$out/params-v6/'\$f.npy || exit 1; done"
        ;;
    small)
        step small-v3-cupti "$cnnbench" sweep --impl cuda --variant 3 --batch 100 \
            --filters 32 --steps 2000 --warmup 50 --cupti --out "$out/small-v3-cupti"
        for v in 6 7; do
            step "small-v$v" "$cnnbench" train --impl cuda --variant "$v" --batch 100 \
                --filters 32 --steps 2000 --csv "$out/small-v$v-steps.csv"
        done
        ;;
    ncu)
        if command -v ncu >/dev/null 2>&1; then
            step ncu-v5 ncu --kernel-name regex:'fused_|finish' --launch-skip 12 \
                --launch-count 8 --section SpeedOfLight --section Occupancy \
                --section LaunchStats --section ComputeWorkloadAnalysis \
                --section MemoryWorkloadAnalysis "$cnnbench" train --impl cuda --variant 5 \
                --batch 1000 --filters 256 --steps 4
        else
            note "ncu: not found, skipped"
        fi
        ;;
    *)
        note "unknown stage $stage (tests, sanitize, timing, small, ncu)"
        failed=1
        ;;
    esac
done
note "overall: $([ $failed -eq 0 ] && echo pass || echo FAIL)"
exit $failed
