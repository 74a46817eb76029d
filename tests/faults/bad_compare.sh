#!/bin/sh
# tests/faults/bad_compare.sh — `cnnbench compare BASE NEW` given a corrupt
# run gives a clear error and no verdict (docs/DESIGN.md §5, §6).
#
# Two small good runs are made, then each case damages one file in a copy
# of NEW: steps.csv (the samples), summary.csv or meta.json.
# A clear error: one "cnnbench: error:" line naming the damaged run, an exit
# status that is neither success nor a crash, and no SAME / FASTER / SLOWER
# / UNCLEAR verdict that a CI gate could mistake for a result.
. "$(dirname "$0")/lib.sh"

run compare --help
if [ "$rc" -ne 0 ]; then
    check 1 "cnnbench has a compare command"
    finish
fi

make_data
sweep="--impl seq --batch 20 --filters 4 --steps 20 --reps 3 --data $scratch/data"

run sweep $sweep --out "$scratch/base"
made=$rc
run sweep $sweep --out "$scratch/new"
[ "$made" -eq 0 ] && [ "$rc" -eq 0 ]
check $? "two good runs to compare"
run compare "$scratch/base" "$scratch/new"
[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]
check $? "compare accepts the good runs (exit $rc)"
[ "$rc" -le 1 ] || show_run

# bad_case: compare BASE against the damaged copy in $scratch/bad, the case
# named by $case_name.
bad_case() {
    run compare "$scratch/base" "$scratch/bad"
    ok=0
    [ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] && [ "$rc" -ne 124 ] || ok=1
    grep -q "^cnnbench: error: .*$scratch/bad" "$scratch/err" || ok=1
    ! grep -qE 'SAME|FASTER|SLOWER|UNCLEAR' "$scratch/out" || ok=1
    ! grep -qE 'Sanitizer|runtime error:' "$scratch/err" || ok=1
    check $ok "$case_name: a clear error naming the run, no verdict"
    [ $ok -eq 0 ] || show_run
}

# damage NAME FILTER: for steps.csv, then for summary.csv, copies NEW to
# bad/ and passes that one file through FILTER (a shell command, stdin to
# stdout), then runs the case: damage in either file must be caught.
damage() {
    for csv in steps.csv summary.csv; do
        case_name="$1 in $csv"
        rm -rf "$scratch/bad"
        cp -r "$scratch/new" "$scratch/bad"
        eval "$2" < "$scratch/new/$csv" > "$scratch/bad/$csv"
        bad_case
    done
}

number=',[0-9][0-9.e+-]*,'
echo "damaged runs:"
case_name="missing run"
rm -rf "$scratch/bad"
bad_case
for csv in steps.csv summary.csv; do
    case_name="no $csv"
    rm -rf "$scratch/bad"
    cp -r "$scratch/new" "$scratch/bad"
    rm "$scratch/bad/$csv"
    bad_case
done
damage "empty file" 'true'
damage "header only" 'head -n 1'
damage "renamed columns" 'sed "1s/[a-z]/X/g"'
damage "binary junk" 'cat "$corpus/ok-images-3.idx"'
damage "last row cut mid-field" 'head -c -7'
damage "a row with missing fields" 'sed "2s/,[^,]*,[^,]*\$//"'
damage "a row with extra fields" 'sed "2s/\$/,1,2,3/"'
damage "text for numbers" 'sed "2,\$s/$number/,abc,/g"'
damage "NaN for numbers" 'sed "2,\$s/$number/,nan,/g"'
damage "negative numbers" 'sed "2,\$s/,\([0-9][0-9.e+-]*\),/,-\1,/g"'
damage "NUL bytes in a row" 'sed "2s/^/\x00\x00\x00/"'
damage "one 1 MiB line" '{ cat; head -c 1048576 /dev/zero | tr "\000" 7; }'
damage "every row twice (a botched copy)" 'sed "1!p"'

# damage_meta NAME FILTER: the same for meta.json, which holds what the
# machine and build check reads.
damage_meta() {
    case_name="$1 in meta.json"
    rm -rf "$scratch/bad"
    cp -r "$scratch/new" "$scratch/bad"
    eval "$2" < "$scratch/new/meta.json" > "$scratch/bad/meta.json"
    bad_case
}
damage_meta "empty file" 'true'
damage_meta "cut in half" 'head -c 600'
damage_meta "binary junk" 'cat "$corpus/ok-images-3.idx"'
damage_meta "a fact that is no string" 'sed "s/\"cpu_model\": \"[^\"]*\"/\"cpu_model\": null/"'
damage_meta "a key twice" 'sed "s/\"tool\": /\"tool\": 1, \"tool\": /"'

finish
