#!/bin/sh
# test_interrupt.sh — Ctrl-C in the middle of a sweep keeps every finished
# row and exits 130; `--resume` then finishes the run without duplicating
# or losing a row: afterwards every configuration has exactly steps x 8
# rows, each (configuration, step, region) once, and every summary row ok.
#
# Usage: test_interrupt.sh CNNBENCH MAKE_IDX
set -u
cnnbench=$1
make_idx=$2
tmp=$(mktemp -d)
pid=
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; fi; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/data" && "$make_idx" "$tmp/data" 400 100 || exit 99
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

run=$tmp/run
steps=40
# 8 seq configurations of a few tenths of a second each
"$cnnbench" sweep --data "$tmp/data" --impl seq --batch 50,100 --filters 8,16,24,32 \
    --steps $steps --warmup 1 --out "$run" >"$tmp/out1" 2>"$tmp/err1" &
pid=$!

# wait until two configurations have finished, then interrupt the third
i=0
while [ "$i" -lt 600 ]; do
    if [ -f "$run/summary.csv" ] && [ "$(wc -l <"$run/summary.csv")" -ge 3 ]; then
        break
    fi
    sleep 0.05
    i=$((i + 1))
done
kill -INT "$pid"
wait "$pid"
status=$?
pid=
[ "$status" -eq 130 ] || fail "the interrupted sweep exited $status, expected 130"
grep -q "resume" "$tmp/err1" || fail "no hint to resume: $(cat "$tmp/err1")"
grep -q '"state": "interrupted"' "$run/meta.json" || fail "meta.json does not say interrupted"
done_before=$(grep -c ',ok,' "$run/summary.csv")
[ "$done_before" -ge 2 ] && [ "$done_before" -lt 8 ] ||
    fail "$done_before configurations finished before the interrupt, expected 2..7"
# every finished configuration's rows are all there
for key in $(awk -F, 'NR > 1 && /,ok,/ { print $1 }' "$run/summary.csv"); do
    n=$(grep -c "^$key," "$run/steps.csv")
    [ "$n" -eq $((steps * 8)) ] || fail "after the interrupt $key has $n rows, expected $((steps * 8))"
done

"$cnnbench" sweep --resume "$run" >"$tmp/out2" 2>"$tmp/err2" ||
    fail "resume failed: $(cat "$tmp/err2")"
grep -q '"state": "complete"' "$run/meta.json" || fail "meta.json is not complete after resume"
grep -q '"resumed_utc": \[$' "$run/meta.json" || fail "meta.json does not record the resume"
[ $(($(wc -l <"$run/summary.csv") - 1)) -eq 8 ] || fail "summary.csv does not have 8 rows"
[ "$(grep -c ',ok,' "$run/summary.csv")" -eq 8 ] || fail "not every configuration is ok after resume"
rows=$(($(wc -l <"$run/steps.csv") - 1))
[ "$rows" -eq $((8 * steps * 8)) ] || fail "steps.csv has $rows rows, expected $((8 * steps * 8))"
dups=$(awk -F, 'NR > 1 { print $1, $8, $9 }' "$run/steps.csv" | sort | uniq -d | wc -l)
[ "$dups" -eq 0 ] || fail "steps.csv repeats $dups (configuration, step, region) keys"
for key in $(awk -F, 'NR > 1 { print $1 }' "$run/summary.csv"); do
    n=$(grep -c "^$key," "$run/steps.csv")
    [ "$n" -eq $((steps * 8)) ] || fail "$key has $n rows, expected $((steps * 8))"
done
# finished rows were kept, not rerun: the resumed session ran the rest only
ran=$(grep -c '^\[' "$tmp/err2")
[ "$ran" -eq $((8 - done_before)) ] || fail "resume ran $ran configurations, expected $((8 - done_before))"

# resuming a complete run does nothing
"$cnnbench" sweep --resume "$run" >"$tmp/out3" 2>&1 || fail "resuming a complete run failed"
grep -q "0 configurations left" "$tmp/out3" || fail "a complete run was not left alone: $(cat "$tmp/out3")"
# --resume takes no other options
"$cnnbench" sweep --resume "$run" --steps 3 >/dev/null 2>&1
[ $? -eq 2 ] || fail "--resume with other options was not a usage error"

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all passed"
