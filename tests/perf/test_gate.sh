#!/bin/sh
# tests/perf/test_gate.sh — proof that the callgrind gate (scripts/perf-gate.sh)
# can fail. It records a private baseline, then feeds the gate doctored
# copies of it, and a doctored copy of the code:
#
#   - the same baseline: counts are identical run to run, so it passes;
#   - a deliberate regression: one row's batch raised from 20 to 21 while
#     its recorded count and name stay, so the gate measures ~5% more work
#     than the baseline says and must fail (exit 1) naming that row;
#   - the band's edges: recorded counts lowered so the measurement sits
#     1% above (passes) and 3% above (fails) the baseline;
#   - a deliberate serialisation: a copy of the source tree with
#     num_threads(1) planted in two parallel regions of impl/omp/omp.c,
#     conv_forward (the largest) and loss_forward (the smallest of a step,
#     under 0.1% of the parallel work). Against the unmodified code's
#     baseline the gate must fail (exit 1) naming exactly those two regions,
#     while every instruction count still passes; --update must refuse to
#     record it. The shipped omp.c is never touched;
#   - the share band's edges: an uneven split (fc_backward's at B=20)
#     recorded as even, judged with a share band 0.1 point wider (passes)
#     and 0.1 point narrower (fails) than the gap; a baseline region the run
#     no longer has fails;
#   - a baseline from another valgrind, malformed ones and a missing one:
#     the gate refuses (exit 3) and names the update command.
#
#   test_gate.sh PERF_GATE_SH GATE_BUILD_DIR
#
# Exits 77 (skip) where a tool the gate needs is missing.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 PERF_GATE_SH GATE_BUILD_DIR" >&2
    exit 2
fi
gate=$1
build=$2

# The gate counts with valgrind and builds its own tree with meson, ninja
# and python3 (meson's introspection); tar copies the tree for the plant.
for tool in valgrind meson ninja python3 tar; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "test_gate: SKIP: $tool is not installed, and the perf gate needs it (Debian: scripts/setup.sh installs it)"
        exit 77
    }
done

. "$(dirname "$0")/../common/check.sh"

# gate_run BASELINE [ARGS...]: runs the gate; sets $rc, output in $scratch/out.
gate_run() {
    dir=$1
    shift
    rc=0
    "$gate" --build "$build" --baseline "$dir" "$@" > "$scratch/out" 2>&1 || rc=$?
}

show() {
    echo "    exit status $rc; output:"
    sed 's/^/    | /' "$scratch/out" | tail -n 45
}

# doctor NAME COUNTS [SPLITS]: a copy of the private baseline whose
# callgrind.csv rows pass through the awk program COUNTS and whose
# callgrind-threads.csv rows through SPLITS (default: the small split
# configuration only); headers are kept. The gate measures the rows a
# baseline holds, so each doctored copy keeps only what its check needs.
small_split='$1 == "omp-t2-b20-f8-s3" { print }'
doctor() {
    rm -rf "${scratch:?}/$1"
    mkdir -p "$scratch/$1"
    cp "$scratch/base/callgrind.env" "$scratch/$1/"
    awk -F, -v OFS=, "NR == 1 { print; next } $2" "$scratch/base/callgrind.csv" \
        > "$scratch/$1/callgrind.csv"
    awk -F, -v OFS=, "NR == 1 { print; next } ${3:-$small_split}" \
        "$scratch/base/callgrind-threads.csv" > "$scratch/$1/callgrind-threads.csv"
}

# verdict CONFIG REGION: the verdict column of that row of the split table.
verdict() {
    awk -v c="$1" -v r="$2" '$1 == c && $2 == r { sub(/.*%  /, ""); print }' "$scratch/out"
}

gate_run "$scratch/base" --update
[ "$rc" -eq 0 ] && [ "$(wc -l < "$scratch/base/callgrind.csv")" -eq 5 ] &&
    [ "$(wc -l < "$scratch/base/callgrind-threads.csv")" -gt 8 ] &&
    grep -q '^valgrind=valgrind-' "$scratch/base/callgrind.env"
check $? "--update records 4 counted configurations, the thread split and the toolchain"
[ "$rc" -eq 0 ] || { show; check 1 "the gate ran on its own baseline"; finish; }
sed 's/^/    /' "$scratch/base/callgrind.csv"

gate_run "$scratch/base"
ok=0
[ "$rc" -eq 0 ] || ok=1
[ "$(grep -c '+0.00%' "$scratch/out")" -eq 4 ] || ok=1
# Rows of the two threads of each region, after the header.
regions=$((($(wc -l < "$scratch/base/callgrind-threads.csv") - 1) / 2))
[ "$(grep -c '^omp-t2-.*_omp_fn.* ok$' "$scratch/out")" -eq "$regions" ] || ok=1
check $ok "the same build against its own baseline passes: +0.00% everywhere, all $regions region splits ok"
[ $ok -eq 0 ] || show
sed -n '/^config  *parallel region/,/^perf-gate: pass/p' "$scratch/out" | sed 's/^/    /'

doctor regression '$1 == "seq-b20-f8-s3" { $4 = 21; print }'
gate_run "$scratch/regression"
ok=0
[ "$rc" -eq 1 ] || ok=1
grep -q '^seq-b20-f8-s3 .*FAIL' "$scratch/out" || ok=1
grep -q 'scripts/perf-gate.sh --update' "$scratch/out" || ok=1
check $ok "deliberate regression (B=21 measured as B=20's row): exit 1, the row FAILs, update command shown"
[ $ok -eq 0 ] || show
grep '^seq-b20-f8-s3 ' "$scratch/out" | sed 's/^/    /'

doctor edge-in '$1 == "omp-t1-b20-f8-s3" { $7 = int($7 / 1.01); print }'
gate_run "$scratch/edge-in"
[ "$rc" -eq 0 ]
check $? "1% above the baseline: within the 2% band, passes"
[ "$rc" -eq 0 ] || show

doctor edge-out '$1 == "omp-t1-b20-f8-s3" { $7 = int($7 / 1.03); print }'
gate_run "$scratch/edge-out"
[ "$rc" -eq 1 ] && grep -q '^omp-t1-b20-f8-s3 .*FAIL' "$scratch/out"
check $? "3% above the baseline: outside the band, exit 1"
[ "$rc" -eq 1 ] || show

# The serialisation, planted in a copy of the source tree (without its
# builds, git data, results and digits) and measured by that copy's gate.
src=$(cd "$(dirname "$gate")/.." && pwd)
planted=$scratch/planted
mkdir -p "$planted"
tar -C "$src" --exclude=./.git --exclude='./build*' --exclude=./results \
    --exclude=./datasets/mnist -cf - . | tar -C "$planted" -xf -
awk '
    /^static cnn_status ompb_(conv|loss)_forward\(/ { plant = 1 }
    /^}/ { plant = 0 }
    plant && /^#pragma omp parallel/ { n += sub(/num_threads\(s->threads\)/, "num_threads(1)") }
    { print }
    END { exit n != 2 }' "$src/impl/omp/omp.c" > "$planted/impl/omp/omp.c"
check $? "num_threads(1) planted in the copy's conv_forward and loss_forward regions"
rc=0
"$planted/scripts/perf-gate.sh" --build "$planted/build-gate" --baseline "$scratch/base" \
    > "$scratch/out" 2>&1 || rc=$?
ok=0
[ "$rc" -eq 1 ] || ok=1
[ "$(grep -c '^omp-t2-.*FAIL' "$scratch/out")" -eq 4 ] || ok=1
for c in omp-t2-b20-f8-s3 omp-t2-b100-f32-s2; do
    for r in conv_forward loss_forward; do
        case $(verdict "$c" "ompb_$r._omp_fn.0") in FAIL*) ;; *) ok=1 ;; esac
    done
done
[ "$(grep -c '^omp-t2-.*_omp_fn.* ok$' "$scratch/out")" -eq $((regions - 4)) ] || ok=1
grep -q '^[a-z0-9-]* .*FAIL: more than' "$scratch/out" && ok=1
grep -q 'scripts/perf-gate.sh --update' "$scratch/out" || ok=1
check $ok "planted serialisation: exit 1, conv_forward and loss_forward FAIL in both split configurations, every other region and every count passes"
[ $ok -eq 0 ] || show
grep '^omp-t2-.*_\(conv\|loss\)_forward' "$scratch/out" | sed 's/^/    /'

rc=0
"$planted/scripts/perf-gate.sh" --build "$planted/build-gate" --baseline "$scratch/planted-base" \
    --update > "$scratch/out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && [ ! -e "$scratch/planted-base/callgrind.csv" ] &&
    grep -q 'nothing recorded' "$scratch/out"
check $? "--update refuses to record the serialised split (exit 1, nothing written)"
[ "$rc" -eq 1 ] || show

# fc_backward is split unevenly at B=20: its 169 units go 85:84. Recorded
# as an even split (50%), it sits GAP points below the baseline: a share
# band 0.1 point wider than GAP passes it, one 0.1 point narrower fails it.
gap=$(awk -F, '$1 == "omp-t2-b20-f8-s3" && $7 == "ompb_fc_backward._omp_fn.0" {
        n[$8] = $9 }
    END { least = n[1] < n[2] ? n[1] : n[2]; printf "%.4f", 50 - 100 * least / (n[1] + n[2]) }' \
    "$scratch/base/callgrind-threads.csv")
awk -v g="$gap" 'BEGIN { exit !(g >= 0.15) }'
check $? "fc_backward's split at B=20 is uneven enough to test the share band (GAP $gap >= 0.15 points)"
doctor share-edges '$1 == "seq-b20-f8-s3" { print }' '
    $1 != "omp-t2-b20-f8-s3" { next }
    $7 == "ompb_fc_backward._omp_fn.0" { $9 = 500000 }
    { print }'
wide=$(awk -v g="$gap" 'BEGIN { printf "%.2f", g + 0.1 }')
narrow=$(awk -v g="$gap" 'BEGIN { printf "%.2f", g - 0.1 }')
gate_run "$scratch/share-edges" --share-band "$wide"
ok=0
[ "$rc" -eq 0 ] || ok=1
[ "$(verdict omp-t2-b20-f8-s3 ompb_fc_backward._omp_fn.0)" = ok ] || ok=1
check $ok "least share $gap points below the baseline's, band $wide: passes"
[ $ok -eq 0 ] || show
grep '^omp-t2-b20-f8-s3 .*_fc_backward' "$scratch/out" | sed 's/^/    /'
gate_run "$scratch/share-edges" --share-band "$narrow"
ok=0
[ "$rc" -eq 1 ] || ok=1
case $(verdict omp-t2-b20-f8-s3 ompb_fc_backward._omp_fn.0) in FAIL*) ;; *) ok=1 ;; esac
[ "$(grep -c '^omp-t2-.*FAIL' "$scratch/out")" -eq 1 ] || ok=1
check $ok "least share $gap points below the baseline's, band $narrow: fails (exit 1)"
[ $ok -eq 0 ] || show
grep '^omp-t2-b20-f8-s3 .*_fc_backward' "$scratch/out" | sed 's/^/    /'

doctor region-gone '$1 == "seq-b20-f8-s3" { print }' '
    $1 != "omp-t2-b20-f8-s3" { next }
    $7 == "ompb_update._omp_fn.0" { $7 = "ompb_gone._omp_fn.0" }
    { print }'
gate_run "$scratch/region-gone"
ok=0
[ "$rc" -eq 1 ] || ok=1
case $(awk '$1 == "omp-t2-b20-f8-s3" && $2 == "ompb_gone._omp_fn.0"' "$scratch/out") in
    *"FAIL: ran on no thread"*) ;; *) ok=1 ;; esac
case $(verdict omp-t2-b20-f8-s3 ompb_update._omp_fn.0) in "ok: new, over half"*) ;; *) ok=1 ;; esac
check $ok "a baseline region the run lacks fails; a region the baseline lacks is held to half the fair share"
[ $ok -eq 0 ] || show

doctor other-valgrind '{ print }' '{ print }'
sed 's/^valgrind=.*/valgrind=valgrind-3.99.0/' "$scratch/base/callgrind.env" \
    > "$scratch/other-valgrind/callgrind.env"
gate_run "$scratch/other-valgrind"
ok=0
[ "$rc" -eq 3 ] || ok=1
grep -q 'valgrind-3.99.0' "$scratch/out" && grep -q 'scripts/perf-gate.sh --update' "$scratch/out" ||
    ok=1
grep -q '+0.00%' "$scratch/out" && ok=1
check $ok "baseline from another valgrind: refused with exit 3, both versions and the update command, no verdict"
[ $ok -eq 0 ] || show

doctor malformed '$1 == "seq-b20-f8-s3" { $7 = "12x"; print; next } { print }'
gate_run "$scratch/malformed"
[ "$rc" -eq 3 ] && grep -q 'callgrind.csv is malformed' "$scratch/out"
check $? "malformed count row: refused with exit 3"
[ "$rc" -eq 3 ] || show

doctor malformed-split '{ print }' 'NR == 2 { next } { print }'
gate_run "$scratch/malformed-split"
[ "$rc" -eq 3 ] && grep -q 'callgrind-threads.csv is malformed' "$scratch/out"
check $? "a region's thread row missing: refused with exit 3"
[ "$rc" -eq 3 ] || show

gate_run "$scratch/nowhere"
[ "$rc" -eq 3 ] && grep -q 'no baseline' "$scratch/out"
check $? "missing baseline: refused with exit 3"
[ "$rc" -eq 3 ] || show

finish
