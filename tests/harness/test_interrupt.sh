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
. "$(dirname "$0")/../common/check.sh"
pid=
on_exit 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; fi'
mkdir -p "$scratch/data" && "$make_idx" "$scratch/data" 400 100 || exit 99

run=$scratch/run
steps=40

# all_rows WHEN FILTER: every configuration of summary.csv that the awk
# pattern FILTER selects has its steps x 8 rows in steps.csv.
all_rows() {
    for key in $(awk -F, "NR > 1 && $2 { print \$1 }" "$run/summary.csv"); do
        n=$(grep -c "^$key," "$run/steps.csv")
        [ "$n" -eq $((steps * 8)) ]
        check $? "$1$key has its $((steps * 8)) rows" "$n rows"
    done
}
# 8 seq configurations of a few tenths of a second each
"$cnnbench" sweep --data "$scratch/data" --impl seq --batch 50,100 --filters 8,16,24,32 \
    --steps $steps --warmup 1 --out "$run" >"$scratch/out1" 2>"$scratch/err1" &
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
[ "$status" -eq 130 ]
check $? "the interrupted sweep exits 130" "exit status $status"
grep -q "resume" "$scratch/err1"
check $? "and hints at --resume" "$(cat "$scratch/err1")"
grep -q '"state": "interrupted"' "$run/meta.json"
check $? "meta.json says interrupted"
done_before=$(grep -c ',ok,' "$run/summary.csv")
[ "$done_before" -ge 2 ] && [ "$done_before" -lt 8 ]
check $? "2..7 configurations finished before the interrupt" "$done_before finished"
# every finished configuration's rows are all there
all_rows "after the interrupt " /,ok,/

"$cnnbench" sweep --resume "$run" >"$scratch/out2" 2>"$scratch/err2"
check $? "the resume succeeds" "$(cat "$scratch/err2")"
grep -q '"state": "complete"' "$run/meta.json"
check $? "meta.json is complete after the resume"
grep -q '"resumed_utc": \[$' "$run/meta.json"
check $? "meta.json records the resume"
[ $(($(wc -l <"$run/summary.csv") - 1)) -eq 8 ]
check $? "summary.csv has 8 rows"
[ "$(grep -c ',ok,' "$run/summary.csv")" -eq 8 ]
check $? "every configuration is ok after the resume"
rows=$(($(wc -l <"$run/steps.csv") - 1))
[ "$rows" -eq $((8 * steps * 8)) ]
check $? "steps.csv has $((8 * steps * 8)) rows" "$rows rows"
dups=$(awk -F, 'NR > 1 { print $1, $8, $9 }' "$run/steps.csv" | sort | uniq -d | wc -l)
[ "$dups" -eq 0 ]
check $? "steps.csv has each (configuration, step, region) once" "$dups repeated"
all_rows "" 1
# finished rows were kept, not rerun: the resumed session ran the rest only
ran=$(grep -c '^\[' "$scratch/err2")
[ "$ran" -eq $((8 - done_before)) ]
check $? "the resume ran the $((8 - done_before)) configurations left" "it ran $ran"

# resuming a complete run does nothing
"$cnnbench" sweep --resume "$run" >"$scratch/out3" 2>&1
check $? "resuming a complete run succeeds"
grep -q "0 configurations left" "$scratch/out3"
check $? "and leaves it alone" "$(cat "$scratch/out3")"
# --resume takes no other options
"$cnnbench" sweep --resume "$run" --steps 3 >/dev/null 2>&1
[ $? -eq 2 ]
check $? "--resume with other options is a usage error"

finish
