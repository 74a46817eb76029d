#!/bin/sh
# scripts/gpu-check-v5.sh — the device checks of cuda v5 (m and dm never
# stored) and v6 (v5's step replayed as one CUDA graph), for a GPU machine;
# a developer script (issue 18), every log under OUT_DIR:
#
#   tests     meson tests backend-cuda (every variant against seq),
#             cuda-graph (v6 bitwise equal to v5), gpu-clock (regions tile
#             the span), verify-mutants (the sweep's verification, every
#             variant at B=1000 F=256) and multi-gpu (v6 with gpus 1 = v5);
#   sanitize  compute-sanitizer memcheck and racecheck on short v5 and v6
#             training runs at odd sizes (B=37 F=12: a partial forward
#             filter group, a single image in the last pair);
#   timing    cnnbench sweep of v3 against v5 at B 100,1000,4000 x F 32,256
#             (300 steps, 10 warm-up), v5 against v6 at (100,32) and
#             (1000,256), and v5 against v6 through `cnnbench train`, the
#             final parameters compared byte for byte;
#   ncu       where ncu runs: the v5 kernels' speed-of-light and occupancy
#             at (1000,256), for the notes' bounds.
#
#   scripts/gpu-check-v5.sh BUILD_DIR [STAGE...]     (default: all four)
#   OUT_DIR=dir scripts/gpu-check-v5.sh build tests   (default OUT_DIR: $OUT,
#                                                      else ./gpu-check-v5)
#
# BUILD_DIR is configured (-Dgpu_arch=90, release) and built first if it
# does not exist. Every stage runs even if an earlier one failed; the last
# lines of OUT_DIR/summary.txt say which passed. Exit status: 0 if all did.
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [tests|sanitize|timing|ncu ...]" >&2
    exit 2
fi
top=$(cd "$(dirname "$0")/.." && pwd)
build=$1
shift
stages=${*:-tests sanitize timing ncu}
out=${OUT_DIR:-${OUT:-"$PWD/gpu-check-v5"}}
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
        step tests meson test -C "$build" backend-cuda cuda-graph gpu-clock verify-mutants \
            multi-gpu --print-errorlogs
        cp "$build/meson-logs/testlog.txt" "$out/testlog.txt"
        ;;
    sanitize)
        for v in 5 6; do
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
        step sweep-v3-v5 "$cnnbench" sweep --impl cuda --variant 3,5 --batch 100,1000,4000 \
            --filters 32,256 --steps 300 --warmup 10 --out "$out/sweep-v3-v5"
        step sweep-v5-v6 "$cnnbench" sweep --impl cuda --variant 3,5,6 --batch 100,1000 \
            --filters 32,256 --steps 300 --warmup 10 --out "$out/sweep-v5-v6"
        for v in 5 6; do
            step "train-v$v" "$cnnbench" train --impl cuda --variant "$v" --batch 100 \
                --filters 32 --steps 200 --save-params "$out/params-v$v"
        done
        step graph-bitwise sh -c "for f in conv_w conv_b fc_w fc_b; do \
            cmp '$out/params-v5/'\$f.npy '$out/params-v6/'\$f.npy || exit 1; done"
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
        note "unknown stage $stage (tests, sanitize, timing, ncu)"
        failed=1
        ;;
    esac
done
note "overall: $([ $failed -eq 0 ] && echo pass || echo FAIL)"
exit $failed
