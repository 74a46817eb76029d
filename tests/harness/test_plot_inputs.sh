#!/bin/sh
# test_plot_inputs.sh — a results directory is untrusted input to the chart
# path: `cnnbench plotdata`, `cnnbench report` and plots/render.sh must
# refuse what cnnbench itself cannot write, with a message naming the file
# (and line and column) and a non-zero exit, and must never run code from
# it. Starting from a small real sweep, each case edits one file of a copy:
#   - injection: shell and gnuplot code in a backend name, in meta.json's
#     text, a crafted name in plotinfo.gp; a marker file must not appear;
#   - garbage: empty, binary, header-only and column-missing summary.csv,
#     inf, nan, negative and overflowing times, quartiles out of order, rows
#     cut short, non-JSON meta.json, bad steps.csv;
#   - oversize: batch and filters beyond CNN_MAX_BATCH and CNN_MAX_FILTERS
#     (filters=99999999999 once asked plotdata for 865 GB);
#   - scale: plotdata on a 20,000-row summary.csv within 60 s (a bound for
#     a loaded 2-core machine: it catches quadratic work, not slowness).
# plotdata and report run without gnuplot; the render.sh cases need it and
# the test exits 77 (skip) after the others when it is missing.
#
# Usage: test_plot_inputs.sh CNNBENCH MAKE_IDX RENDER_SH
set -u
cnnbench=$1
make_idx=$2
render=$3
. "$(dirname "$0")/../common/check.sh"
marker=$scratch/injected

mkdir -p "$scratch/data" && "$make_idx" "$scratch/data" 200 50 || exit 99
base=$scratch/base
"$cnnbench" sweep --data "$scratch/data" --impl seq,omp --threads 1,2 --batch 8,16 --filters 2,4 \
    --steps 4 --eval-every 2 --out "$base" >"$scratch/out" 2>&1 ||
    { echo "sweep failed: $(cat "$scratch/out")"; exit 99; }
have_gnuplot=0
command -v gnuplot >/dev/null 2>&1 && have_gnuplot=1

# fresh NAME: a copy of the base run in $scratch/NAME, printed.
fresh() {
    rm -rf "${scratch:?}/$1"
    cp -r "$base" "$scratch/$1" && echo "$scratch/$1"
}

# edit_field RUN LINE COLUMN VALUE: sets one field of RUN/summary.csv.
edit_field() {
    awk -F, -v OFS=, -v l="$2" -v c="$3" -v v="$4" 'NR == l { $c = v } { print }' \
        "$1/summary.csv" >"$1/summary.tmp" && mv "$1/summary.tmp" "$1/summary.csv"
}

# col NAME: the position of a column of summary.csv.
col() {
    head -1 "$base/summary.csv" | tr ',' '\n' | grep -n -x "$1" | cut -d: -f1
}

# refused WHAT RUN TEXT [TOOLS]: plotdata, report and render.sh (with
# gnuplot), or the TOOLS named, all exit non-zero on RUN, and each says TEXT
# (a fixed string) on stderr.
refused() {
    for tool in ${4:-plotdata report render}; do
        if [ "$tool" = render ]; then
            [ "$have_gnuplot" -eq 1 ] || continue
            CNNBENCH=$cnnbench sh "$render" "$2" >"$scratch/out" 2>"$scratch/err"
        else
            "$cnnbench" "$tool" "$2" >"$scratch/out" 2>"$scratch/err"
        fi
        rc=$?
        ok=1
        [ "$rc" -ne 0 ] && grep -qF -- "$3" "$scratch/err" && ok=0
        check $ok "$1: $tool exits non-zero ($rc) saying '$3'"
        [ $ok -eq 0 ] || sed 's/^/    | /' "$scratch/err" | head -n 5
    done
}

# the base run itself is accepted
"$cnnbench" plotdata "$base" >/dev/null 2>"$scratch/err"
check $? "plotdata accepts a real sweep"
"$cnnbench" report "$base" >/dev/null 2>"$scratch/err"
check $? "report accepts a real sweep"

# ---- injection ----
impl=$(col impl)
for payload in "seq';system('touch $marker');'" "seq\`touch $marker\`" "../../x" "Seq"; do
    r=$(fresh inject)
    edit_field "$r" 2 "$impl" "$payload"
    refused "impl '$payload'" "$r" "summary.csv: line 2, column $impl (impl)"
    [ ! -e "$marker" ]
    check $? "impl '$payload': no command ran"
done
# meta.json text reaches every chart's footer: a line break would end the
# gnuplot string and start a command, so it is refused
r=$(fresh meta_newline)
sed "s|\"cpu_model\": \"[^\"]*\"|\"cpu_model\": \"x\\\\nsystem('touch $marker')\\\\n\"|" \
    "$base/meta.json" >"$r/meta.json"
refused "cpu_model with a line break" "$r" "\"host.cpu_model\" is not printable text" "plotdata render"
[ ! -e "$marker" ]
check $? "cpu_model with a line break: no command ran"
if [ "$have_gnuplot" -eq 1 ]; then
    # backquotes and quotes are printable: drawn as text, never run
    r=$(fresh meta_quotes)
    sed "s|\"cpu_model\": \"[^\"]*\"|\"cpu_model\": \"it's \`touch $marker\` \\\\\"x\\\\\"\"|" \
        "$base/meta.json" >"$r/meta.json"
    CNNBENCH=$cnnbench sh "$render" "$r" >"$scratch/out" 2>&1
    check $? "cpu_model with quotes and backquotes: render.sh draws the charts"
    [ ! -e "$marker" ]
    check $? "cpu_model with quotes and backquotes: no command ran"
    grep -qF "touch $marker" "$r/plots/time_vs_params.svg"
    check $? "cpu_model with quotes and backquotes: shown as text in the footer"
fi

# ---- garbage ----
r=$(fresh empty) && : >"$r/summary.csv"
refused "0-byte summary.csv" "$r" "summary.csv: the file is empty"
r=$(fresh binary) && head -c 3000 "$make_idx" >"$r/summary.csv"
refused "binary summary.csv" "$r" "binary data"
r=$(fresh header) && head -1 "$base/summary.csv" >"$r/summary.csv"
refused "header-only summary.csv" "$r" "summary.csv: no configuration, only a header"
r=$(fresh missing) && cut -d, -f"$(col median_step_ms)" --complement "$base/summary.csv" >"$r/summary.csv"
refused "summary.csv without median_step_ms" "$r" "line 1: no column 'median_step_ms'"
r=$(fresh short) && sed '3s/,[^,]*$//' "$base/summary.csv" >"$r/summary.csv"
refused "a row cut short" "$r" "summary.csv: line 3:"
median=$(col median_step_ms)
for bad in inf nan -1 1e999 0x10 "1.5ms"; do
    r=$(fresh "time$bad")
    edit_field "$r" 3 "$median" "$bad"
    refused "median_step_ms $bad" "$r" "line 3, column $median (median_step_ms)"
done
r=$(fresh order) && edit_field "$r" 3 "$(col q1_step_ms)" 1e9
refused "q1 above the median" "$r" "line 3, column $median (median_step_ms): "
r=$(fresh status) && edit_field "$r" 2 "$(col status)" "great"
refused "an unknown status" "$r" "column $(col status) (status)"
r=$(fresh key) && edit_field "$r" 2 1 "seq:v0:t0:b8:f2:s4:r9"
refused "a key that is not its row's" "$r" "column 1 (config_key)"
r=$(fresh meta) && printf '{"run_id": "x", oops}\n' >"$r/meta.json"
refused "non-JSON meta.json" "$r" "meta.json: line 1, column "
r=$(fresh meta_array) && printf '[{"run_id": "x"}]\n' >"$r/meta.json"
refused "meta.json holding an array" "$r" "meta.json: not a JSON object"
r=$(fresh meta_empty) && : >"$r/meta.json"
refused "0-byte meta.json" "$r" "meta.json: the file is empty"
r=$(fresh steps)
awk -F, -v OFS=, 'NR > 1 && $9 == "step" { $10 = "nan" } { print }' "$base/steps.csv" >"$r/steps.csv"
refused "nan step times in steps.csv" "$r" "(time_ms): 'nan' is not a decimal number" "plotdata render"

# ---- oversize ----
for case in "filters:99999999999:[1, 4096]" "filters:4097:[1, 4096]" "batch:65537:[1, 65536]" \
    "threads:-1:non-negative integer"; do
    column=${case%%:*}
    rest=${case#*:}
    value=${rest%%:*}
    range=${rest#*:}
    r=$(fresh "big$column")
    edit_field "$r" 2 "$(col "$column")" "$value"
    refused "$column = $value" "$r" "column $(col "$column") ($column)"
    grep -qF -- "$range" "$scratch/err"
    check $? "$column = $value: the message gives the allowed range ($range)"
done

# ---- scale: 20,000 rows (4 curves x 50 batch sizes x 100 filter counts) ----
r=$(fresh big)
awk -F, -v OFS=, '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print; next }
    NR == 2 {
        n = split("seq:0 omp:1 omp:2 omp:4", labels, " ")
        for (l = 1; l <= n; l++) {
            split(labels[l], lt, ":")
            for (b = 10; b <= 500; b += 10)
                for (f = 1; f <= 100; f++) {
                    $c["config_key"] = lt[1] ":v0:t" lt[2] ":b" b ":f" f ":s4:r1"
                    $c["impl"] = lt[1]; $c["threads"] = lt[2]; $c["batch"] = b; $c["filters"] = f
                    ms = 1e-6 * b * f * f / (lt[2] > 0 ? lt[2] : 0.5)
                    $c["median_step_ms"] = ms; $c["q1_step_ms"] = 0.9 * ms; $c["q3_step_ms"] = 1.1 * ms
                    $c["min_step_ms"] = 0.8 * ms; $c["max_step_ms"] = 1.2 * ms
                    print
                }
        }
    }' "$base/summary.csv" >"$r/summary.csv"
rows=$(($(wc -l <"$r/summary.csv") - 1))
[ "$rows" -eq 20000 ]
check $? "the scale case has 20,000 rows (has $rows)"
start=$(date +%s)
timeout 300 "$cnnbench" plotdata "$r" >"$scratch/out" 2>"$scratch/err"
rc=$?
took=$(($(date +%s) - start))
check $rc "plotdata on 20,000 rows succeeds"
[ "$took" -le 60 ]
check $? "plotdata on 20,000 rows takes at most 60 s (took $took s)"
grep -q "^filters_fixed = 500$" "$r/plots/data/plotinfo.gp"
check $? "20,000 rows: speedup vs filters at the largest batch with all 100 filter counts"
# times from 2.5e-6 to 1e3 ms: ticks must be plain decimals, the only form
# gnuplot's string arithmetic reads ("1e-06" + 0 is an error)
! grep "_ticks = .*[0-9]e" "$r/plots/data/plotinfo.gp"
check $? "20,000 rows: tick positions are plain decimals"
if [ "$have_gnuplot" -eq 1 ]; then
    CNNBENCH=$cnnbench timeout 300 sh "$render" "$r" >"$scratch/out" 2>&1
    rc=$?
    check $rc "20,000 rows: render.sh draws the charts"
    [ "$rc" -eq 0 ] || sed 's/^/    | /' "$scratch/out" | tail -n 5
    [ ! -e "$r/plots/gnuplot.log" ]
    check $? "20,000 rows: gnuplot printed nothing"
fi

if [ "$have_gnuplot" -eq 0 ]; then
    echo "SKIP: gnuplot not installed: the render.sh cases did not run"
    [ "$failed" -eq 0 ] || finish
    exit 77
fi
finish
