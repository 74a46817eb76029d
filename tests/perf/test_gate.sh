#!/bin/sh
# tests/perf/test_gate.sh — proof that the callgrind gate (scripts/perf-gate.sh)
# can fail. It records a private baseline, then feeds the gate doctored
# copies of it:
#
#   - the same baseline: counts are identical run to run, so it passes;
#   - a deliberate regression: one row's batch raised from 20 to 21 while
#     its recorded count and name stay, so the gate measures ~5% more work
#     than the baseline says and must fail (exit 1) naming that row;
#   - the band's edges: recorded counts lowered so the measurement sits
#     1% above (passes) and 3% above (fails) the baseline;
#   - a baseline from another valgrind, a malformed one and a missing one:
#     the gate refuses (exit 3) and names the update command.
#
#   test_gate.sh PERF_GATE_SH GATE_BUILD_DIR
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 PERF_GATE_SH GATE_BUILD_DIR" >&2
    exit 2
fi
gate=$1
build=$2
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
    sed 's/^/    | /' "$scratch/out" | tail -n 25
}

# doctor NAME AWK: a copy of the private baseline whose callgrind.csv rows
# pass through the awk program AWK (the header is kept).
doctor() {
    rm -rf "${scratch:?}/$1"
    mkdir -p "$scratch/$1"
    cp "$scratch/base/callgrind.env" "$scratch/$1/"
    awk -F, -v OFS=, "NR == 1 { print; next } $2" "$scratch/base/callgrind.csv" \
        > "$scratch/$1/callgrind.csv"
}

command -v valgrind >/dev/null 2>&1 || {
    echo "test_gate: valgrind is not installed; the perf gate needs it (apt-get install valgrind)"
    exit 1
}

gate_run "$scratch/base" --update
[ "$rc" -eq 0 ] && [ "$(wc -l < "$scratch/base/callgrind.csv")" -eq 5 ] &&
    grep -q '^valgrind=valgrind-' "$scratch/base/callgrind.env"
check $? "--update records 4 configurations and the toolchain"
[ "$rc" -eq 0 ] || { show; check 1 "the gate ran on its own baseline"; finish; }
sed 's/^/    /' "$scratch/base/callgrind.csv"

gate_run "$scratch/base"
ok=0
[ "$rc" -eq 0 ] || ok=1
[ "$(grep -c '+0.00%' "$scratch/out")" -eq 4 ] || ok=1
check $ok "the same build against its own baseline passes with +0.00% everywhere"
[ $ok -eq 0 ] || show

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

doctor other-valgrind '{ print }'
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
[ "$rc" -eq 3 ] && grep -q 'malformed' "$scratch/out"
check $? "malformed baseline row: refused with exit 3"
[ "$rc" -eq 3 ] || show

gate_run "$scratch/nowhere"
[ "$rc" -eq 3 ] && grep -q 'no baseline' "$scratch/out"
check $? "missing baseline: refused with exit 3"
[ "$rc" -eq 3 ] || show

finish
