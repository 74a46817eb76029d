#!/bin/sh
# tests/perf/test_compare.sh — `cnnbench compare` end to end on synthetic
# runs written here with awk: step times drawn around a center with Gaussian
# noise (Box-Muller over a Park-Miller generator, so every file is the same
# on every machine) plus 5% slow outliers, as real timings have.
#
# A synthetic +10% regression must fail (exit 1, SLOWER) for every seed; an
# A/A pair (same distribution, other samples) must never say SLOWER or
# FASTER; a clear improvement says FASTER; tiny, noisy or microsecond
# samples say UNCLEAR; malformed inputs, repeated rows and damaged meta.json
# get a clear error and no verdict (exit 2); runs whose meta.json name
# another machine or build are refused (exit 3) unless --force; gzipped runs
# read like plain ones. The exit status is never 77.
#
#   test_compare.sh CNNBENCH
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 CNNBENCH" >&2
    exit 2
fi
cnnbench=$1
. "$(dirname "$0")/../common/check.sh"

# cmp ARGS...: runs cnnbench compare; sets $rc; output in $scratch/out, $scratch/err.
cmp() {
    rc=0
    "$cnnbench" compare "$@" > "$scratch/out" 2> "$scratch/err" || rc=$?
    if [ "$rc" -eq 77 ] || [ "$rc" -gt 3 ]; then
        check 1 "compare exited $rc (only 0, 1, 2 and 3 are allowed)"
    fi
}

show() {
    echo "    exit status $rc; stdout, stderr:"
    sed 's/^/    | /' "$scratch/out" "$scratch/err" | tail -n 20
}

# verdicts: the verdict column of every table row, space-separated.
verdicts() {
    awk 'f && NF { for (i = 1; i <= NF; i++) if ($i ~ /^(SAME|FASTER|SLOWER|UNCLEAR)$/) { printf "%s ", $i; break } }
         /^configuration / { f = 1 } /^$/ { f = 0 }' "$scratch/out"
}

# gen FILE IMPL THREADS CENTER_MS SCALE NOISE STEPS REPS SEED [TIMER]:
# appends one configuration's rows to a steps.csv (header first if new):
# a "step" row and a "conv_fwd" row (40% of it) per step.
gen() {
    [ -f "$1" ] || echo "config_key,impl,variant,threads,batch,filters,rep,step,region,time_ms,loss,batch_accuracy_pct,timer" > "$1"
    awk -v impl="$2" -v thr="$3" -v center="$4" -v scale="$5" -v noise="$6" -v steps="$7" \
        -v reps="$8" -v seed="$9" -v timer="${10:-wall}" '
        function uniform() { x = (16807 * x) % 2147483647; return x / 2147483647 }
        function gauss(  u, v) {
            u = uniform(); v = uniform()
            return sqrt(-2 * log(u)) * cos(6.283185307179586 * v)
        }
        BEGIN {
            x = 1000 + 7919 * seed
            for (r = 1; r <= reps; r++)
                for (s = 1; s <= steps; s++) {
                    t = center * scale * (1 + noise * gauss())
                    if (uniform() < 0.05) t *= 1.3
                    if (t < center * 0.01) t = center * 0.01
                    key = sprintf("%s:v0:t%d:b20:f4:s%d:r%d", impl, thr, steps, r)
                    id = sprintf("%s,%s,0,%d,20,4,%d,%d", key, impl, thr, r, s)
                    printf "%s,step,%.9g,2.30258509,10,%s\n", id, t, timer
                    printf "%s,conv_fwd,%.9g,2.30258509,10,%s\n", id, 0.4 * t, timer
                }
        }' >> "$1"
}

# gen_summary FILE IMPL CENTER_MS SCALE NOISE REPS SEED [STATUS]: a minimal
# summary.csv with one row per repetition.
gen_summary() {
    [ -f "$1" ] || echo "config_key,impl,variant,threads,batch,filters,rep,steps,n_steps,median_step_ms,median_conv_fwd_ms,median_h2d_ms,status,timer" > "$1"
    awk -v impl="$2" -v center="$3" -v scale="$4" -v noise="$5" -v reps="$6" -v seed="$7" \
        -v status="${8:-ok}" '
        function uniform() { x = (16807 * x) % 2147483647; return x / 2147483647 }
        BEGIN {
            x = 4242 + 7919 * seed
            for (r = 1; r <= reps; r++) {
                t = center * scale * (1 + noise * (uniform() - 0.5))
                printf "%s:v0:t0:b20:f4:s20:r%d,%s,0,0,20,4,%d,20,20,%.9g,%.9g,,%s,wall\n",
                    impl, r, impl, r, t, 0.4 * t, (r == 2 ? status : "ok")
            }
        }' >> "$1"
}

d=$scratch

echo "A/A pairs (same distribution, different samples) and +10% regressions, 10 seeds each:"
aa_bad=0
aa=""
reg_bad=0
s=1
while [ $s -le 10 ]; do
    rm -f "$d/a.csv" "$d/b.csv" "$d/c.csv"
    gen "$d/a.csv" seq 0 0.5 1.00 0.03 30 3 $s
    gen "$d/b.csv" seq 0 0.5 1.00 0.03 30 3 $((s + 100))
    gen "$d/c.csv" seq 0 0.5 1.10 0.03 30 3 $((s + 100))
    cmp "$d/a.csv" "$d/b.csv"
    v=$(verdicts)
    if [ "$rc" -ne 0 ] || [ "$v" = "SLOWER " ] || [ "$v" = "FASTER " ]; then
        aa_bad=$((aa_bad + 1))
        show
    fi
    aa="$aa$v"
    cmp "$d/a.csv" "$d/c.csv"
    v=$(verdicts)
    if [ "$rc" -ne 1 ] || [ "$v" != "SLOWER " ] || ! grep -q 'regression' "$d/err"; then
        reg_bad=$((reg_bad + 1))
        show
    fi
    s=$((s + 1))
done
check $aa_bad "A/A: exit 0 and SAME or UNCLEAR for all 10 seeds ($aa)"
check $reg_bad "+10%: exit 1 and SLOWER for all 10 seeds"

echo "one table, several configurations:"
rm -f "$d/a.csv" "$d/b.csv"
gen "$d/a.csv" seq 0 0.5 1.00 0.02 20 2 1
gen "$d/a.csv" omp 1 0.3 1.00 0.02 20 2 2
gen "$d/a.csv" omp 2 0.2 1.00 0.02 20 2 3
gen "$d/b.csv" seq 0 0.5 1.00 0.02 20 2 11
gen "$d/b.csv" omp 1 0.3 1.10 0.02 20 2 12
gen "$d/b.csv" omp 2 0.2 0.80 0.02 20 2 13
cmp "$d/a.csv" "$d/b.csv"
[ "$rc" -eq 1 ] && [ "$(verdicts)" = "SAME SLOWER FASTER " ] &&
    grep -q 'regression: 1 configuration SLOWER by more than 5% (omp:v0:t1:b20:f4:s20)' "$d/err"
check $? "seq same, omp t1 +10%, omp t2 -20%: SAME SLOWER FASTER, exit 1 naming omp t1"
[ "$rc" -eq 1 ] || show
cp "$d/out" "$d/first"
cmp "$d/a.csv" "$d/b.csv"
cmp_out=0
diff -q "$d/first" "$d/out" > /dev/null || cmp_out=1
check $cmp_out "the same inputs give the same table (seeded bootstrap)"
cmp --seed 7 "$d/a.csv" "$d/b.csv"
[ "$(verdicts)" = "SAME SLOWER FASTER " ]
check $? "another bootstrap seed, the same verdicts"
cmp --threshold 20 "$d/a.csv" "$d/b.csv"
[ "$rc" -eq 0 ] && ! verdicts | grep -q SLOWER
check $? "--threshold 20: +10% is no regression (exit 0, $(verdicts))"
cmp --threshold 20% --region conv_fwd "$d/a.csv" "$d/b.csv"
[ "$rc" -eq 0 ] && grep -q "region 'conv_fwd'" "$d/out"
check $? "--threshold 20% --region conv_fwd compares that region"
cmp "$d/b.csv" "$d/a.csv"
[ "$rc" -eq 1 ] && [ "$(verdicts)" = "SAME FASTER SLOWER " ]
check $? "swapped: the +10% reads as FASTER, the -20% as SLOWER ($(verdicts))"

echo "evidence too weak for a verdict:"
rm -f "$d/a.csv" "$d/b.csv"
gen "$d/a.csv" seq 0 0.5 1.00 0.03 3 1 1
gen "$d/b.csv" seq 0 0.5 1.50 0.03 3 1 2
cmp "$d/a.csv" "$d/b.csv"
[ "$rc" -eq 0 ] && [ "$(verdicts)" = "UNCLEAR " ] && grep -q 'too few samples' "$d/out"
check $? "3 samples a side, +50%: UNCLEAR (too few samples), exit 0"
[ "$rc" -eq 0 ] || show
rm -f "$d/a.csv" "$d/b.csv"
gen "$d/a.csv" seq 0 0.5 1.00 0.50 15 2 1
gen "$d/b.csv" seq 0 0.5 1.10 0.50 15 2 2
cmp "$d/a.csv" "$d/b.csv"
[ "$rc" -eq 0 ] && [ "$(verdicts)" = "UNCLEAR " ]
check $? "50% noise, +10%: UNCLEAR, exit 0"
[ "$rc" -eq 0 ] || show
rm -f "$d/a.csv" "$d/b.csv"
gen "$d/a.csv" seq 0 0.002 1.00 0.01 30 1 1
gen "$d/b.csv" seq 0 0.002 2.00 0.01 30 1 2
cmp "$d/a.csv" "$d/b.csv"
[ "$rc" -eq 0 ] && [ "$(verdicts)" = "UNCLEAR " ] && grep -q 'floor' "$d/out"
check $? "2 us steps, doubled: UNCLEAR below the 0.005 ms floor, exit 0"
[ "$rc" -eq 0 ] || show
rm -f "$d/a.csv" "$d/b.csv"
gen "$d/a.csv" cuda 0 0.5 1.00 0.02 30 1 1 wall
gen "$d/b.csv" cuda 0 0.5 1.50 0.02 30 1 2 cuda_event
cmp "$d/a.csv" "$d/b.csv"
[ "$rc" -eq 0 ] && [ "$(verdicts)" = "UNCLEAR " ] && grep -q 'timers differ' "$d/out"
check $? "different timers, +50%: UNCLEAR, exit 0"

echo "summary.csv and run directories:"
gen_summary "$d/s1.csv" seq 0.5 1.00 0.02 12 1
gen_summary "$d/s2.csv" seq 0.5 1.10 0.02 12 2
cmp "$d/s1.csv" "$d/s2.csv"
[ "$rc" -eq 1 ] && [ "$(verdicts)" = "SLOWER " ] && grep -q 'per-repetition medians' "$d/out"
check $? "summary.csv, 12 repetitions a side, +10%: SLOWER, exit 1"
[ "$rc" -eq 1 ] || show
cmp --region h2d "$d/s1.csv" "$d/s2.csv"
[ "$rc" -eq 2 ] && grep -q 'no configuration in common' "$d/err"
check $? "a region no configuration has: an error, not a verdict"
gen_summary "$d/s3.csv" seq 0.5 1.10 0.02 12 2 failed:oom
cmp "$d/s1.csv" "$d/s3.csv"
[ "$rc" -eq 0 ] && [ "$(verdicts)" = "UNCLEAR " ] && grep -q 'did not finish: failed:oom' "$d/out"
check $? "a repetition failed:oom in NEW: UNCLEAR, exit 0"
mkdir -p "$d/run1" "$d/run2"
gen "$d/run1/steps.csv" seq 0 0.5 1.00 0.02 20 1 1
gen "$d/run2/steps.csv" seq 0 0.5 1.10 0.02 20 1 2
gen_summary "$d/run1/summary.csv" seq 0.5 1.00 0.02 1 1
gen_summary "$d/run2/summary.csv" seq 0.5 1.10 0.02 1 2
cmp "$d/run1" "$d/run2"
[ "$rc" -eq 1 ] && [ "$(verdicts)" = "SLOWER " ] && grep -q 'every timed step' "$d/out"
check $? "run directories: steps.csv samples, +10%: SLOWER, exit 1"
[ "$rc" -eq 1 ] || show
sed 's/,ok,wall$/,interrupted,wall/' "$d/run2/summary.csv" > "$d/x" && mv "$d/x" "$d/run2/summary.csv"
cmp "$d/run1" "$d/run2"
[ "$rc" -eq 0 ] && grep -q 'did not finish: interrupted' "$d/out"
check $? "NEW's configuration interrupted: UNCLEAR, exit 0"

echo "bad input: a clear error and no verdict:"
# bad WHAT STATUS TEXT: the last compare exited STATUS with one
# "cnnbench: error:" line containing TEXT, and printed no verdict.
bad() {
    ok=0
    [ "$rc" -eq "$2" ] || ok=1
    grep -q "^cnnbench: error: .*$3" "$d/err" || ok=1
    grep -qE 'SAME|FASTER|SLOWER|UNCLEAR' "$d/out" && ok=1
    check $ok "$1: exit $2, error says '$3'"
    [ $ok -eq 0 ] || show
}
rm -f "$d/a.csv"
gen "$d/a.csv" seq 0 0.5 1.00 0.03 20 1 1
hdr=$(head -n 1 "$d/a.csv")
cmp "$d/a.csv"
bad "one run only" 2 "needs two runs"
cmp --threshold -5 "$d/a.csv" "$d/a.csv"
bad "negative threshold" 2 "threshold"
cmp --region 'x;y' "$d/a.csv" "$d/a.csv"
bad "bad region name" 2 "region"
cmp --bogus "$d/a.csv" "$d/a.csv"
bad "unknown option" 2 "bogus"
cmp "$d/a.csv" "$d/missing.csv"
bad "missing file" 2 "$d/missing.csv: No such file"
: > "$d/e.csv"
cmp "$d/a.csv" "$d/e.csv"
bad "empty file" 2 "e.csv: empty file"
echo "$hdr" > "$d/h.csv"
cmp "$d/a.csv" "$d/h.csv"
bad "header only" 2 "h.csv: no data rows"
sed '4s/,step,[0-9.e-]*,/,step,fast,/' "$d/a.csv" > "$d/t.csv"
cmp "$d/a.csv" "$d/t.csv"
bad "text for a time" 2 "t.csv: line 4: column 'time_ms'"
sed '2s/,step,\([0-9.e-]*\),/,step,-\1,/' "$d/a.csv" > "$d/t.csv"
cmp "$d/a.csv" "$d/t.csv"
bad "negative time" 2 "t.csv: line 2: column 'time_ms'"
sed '2s/,step,[0-9.e-]*,/,step,inf,/' "$d/a.csv" > "$d/t.csv"
cmp "$d/a.csv" "$d/t.csv"
bad "infinite time" 2 "t.csv: line 2: column 'time_ms'"
sed '5s/,conv_fwd,[0-9.e-]*,/,conv_fwd,nan,/' "$d/a.csv" > "$d/t.csv"
cmp "$d/a.csv" "$d/t.csv"
bad "NaN time in a region not compared" 2 "t.csv: line 5: column 'time_ms'"
sed '7s/,2.30258509,/,lots,/' "$d/a.csv" > "$d/t.csv"
cmp "$d/a.csv" "$d/t.csv"
bad "text for the loss" 2 "t.csv: line 7: column 'loss'"
sed '3s/:r1,seq,0,0,/:r1,seq,x,0,/' "$d/a.csv" > "$d/t.csv"
cmp "$d/a.csv" "$d/t.csv"
bad "text for the variant" 2 "t.csv: line 3: column 'variant'"
sed '4s/,wall$//' "$d/a.csv" > "$d/t.csv"
cmp "$d/a.csv" "$d/t.csv"
bad "a row one field short" 2 "t.csv: line 4 has 12 fields, the header has 13"
sed '4s/$/,extra/' "$d/a.csv" > "$d/t.csv"
cmp "$d/a.csv" "$d/t.csv"
bad "a row one field long" 2 "t.csv: line 4 has more than 13 fields"
sed '6s/^.*$//' "$d/a.csv" > "$d/t.csv"
cmp "$d/a.csv" "$d/t.csv"
bad "an empty line" 2 "t.csv: line 6 is empty"
sed '1s/time_ms/time_us/' "$d/a.csv" > "$d/t.csv"
cmp "$d/a.csv" "$d/t.csv"
bad "a renamed column" 2 "t.csv: no column 'time_ms'"
printf 'a,b\n1,2\n' > "$d/t.csv"
cmp "$d/a.csv" "$d/t.csv"
bad "some other CSV" 2 "t.csv: not a cnnbench steps.csv or summary.csv"
{ head -n 3 "$d/a.csv"; printf 'x\000y\n'; } > "$d/t.csv"
cmp "$d/a.csv" "$d/t.csv"
bad "NUL bytes" 2 "t.csv: contains NUL bytes"
head -c 300 "$d/s1.csv" > "$d/t.csv"
cmp "$d/s1.csv" "$d/t.csv"
bad "summary.csv cut mid-row" 2 "t.csv: line [0-9]* ends without a newline"
head -c 500 "$d/a.csv" > "$d/t.csv"
cmp "$d/a.csv" "$d/t.csv"
bad "steps.csv cut mid-row" 2 "t.csv: line [0-9]* ends without a newline"
cmp "$d/a.csv" "$d/s1.csv"
bad "steps.csv against summary.csv" 2 "cannot compare step samples"
sed 's/^seq:/omp:/' "$d/a.csv" > "$d/t.csv"
cmp "$d/a.csv" "$d/t.csv"
bad "no configuration in common" 2 "no configuration in common"
cmp "$d/a.csv" "$d"
bad "a directory that is no run" 2 "not a cnnbench run directory"
{ cat "$d/a.csv"; tail -n +2 "$d/a.csv"; } > "$d/t.csv"
cmp "$d/a.csv" "$d/t.csv"
n=$(wc -l < "$d/a.csv")
bad "steps.csv appended twice" 2 "t.csv: line $((n + 1)) repeats configuration seq:v0:t0:b20:f4:s20:r1, step 1, region step of line 2"
{ cat "$d/a.csv"; sed -n '9p' "$d/a.csv"; } > "$d/t.csv"
cmp "$d/a.csv" "$d/t.csv"
bad "one row copied to the end" 2 "t.csv: line $((n + 1)) repeats .* of line 9"
{ cat "$d/s1.csv"; sed -n '3p' "$d/s1.csv"; } > "$d/t.csv"
cmp "$d/s1.csv" "$d/t.csv"
bad "a summary.csv row twice" 2 "t.csv: line 14 repeats configuration seq:v0:t0:b20:f4:s20:r2 of line 3"
sed '3s/,seq,0,0,/,s"e"q,0,0,/' "$d/a.csv" > "$d/t.csv"
cmp "$d/a.csv" "$d/t.csv"
bad "quotes inside an unquoted field" 2 "t.csv: line 3: broken quoting"
sed '3s/,seq,0,0,/,"seq,0,0,/' "$d/a.csv" > "$d/t.csv"
cmp "$d/a.csv" "$d/t.csv"
bad "a quote never closed" 2 "t.csv: line 3 opens a quote that never closes"

echo "free text quoted as RFC 4180 says:"
# A failed repetition's message with commas, quotes and a line break, in a
# message column placed before the columns compare reads.
awk -F, -v OFS=, 'NR == 1 { $13 = "message," $13; print; next }
    $13 == "ok" { $13 = "," $13; print; next }
    { $13 = "\"cuda: \"\"conv\"\" failed, twice,\nthen again\"," $13; print }' \
    "$d/s3.csv" > "$d/q.csv"
cmp "$d/s1.csv" "$d/q.csv"
[ "$rc" -eq 0 ] && [ "$(verdicts)" = "UNCLEAR " ] && grep -q 'did not finish: failed:oom' "$d/out"
check $? "a quoted message with commas, quotes and a line break: the row reads whole"
[ "$rc" -eq 0 ] || show

echo "machine and build (meta.json):"
# meta DIR [CPU] [DRIVER] [COMPILER]: a meta.json with the facts compare checks.
meta() {
    cat > "$1/meta.json" <<EOF
{
  "schema_version": 1,
  "tool": "cnnbench",
  "build": {"buildtype": "release", "c_compiler": "${4:-gcc 12.2.0}",
            "flags": "optimization=3 debug=false native=true c_args=", "nccl_version": "none"},
  "host": {"hostname": "vm", "cpu_model": "${2:-Intel(R) Xeon(R) Processor}", "online_cpus": 2},
  "gpu_name": "NVIDIA H100 80GB HBM3",
  "gpus": [{"name": "NVIDIA H100 80GB HBM3", "driver": "${3:-580.159.04}"},
           {"name": "NVIDIA H100 80GB HBM3", "driver": "${3:-580.159.04}"}]
}
EOF
}
# No verdict and the refusal: exit 3, each differing fact with both values.
refused() {
    ok=0
    [ "$rc" -eq 3 ] || ok=1
    grep -q "^cnnbench: error: not comparable: BASE and NEW differ in $2" "$d/err" || ok=1
    grep -qE 'SAME|FASTER|SLOWER|UNCLEAR' "$d/out" && ok=1
    check $ok "$1: exit 3, no verdict, error names $2"
    [ $ok -eq 0 ] || show
}
meta "$d/run1"
meta "$d/run2"
sed 's/,interrupted,wall$/,ok,wall/' "$d/run2/summary.csv" > "$d/x" && mv "$d/x" "$d/run2/summary.csv"
cmp "$d/run1" "$d/run2"
[ "$rc" -eq 1 ] && [ "$(verdicts)" = "SLOWER " ] &&
    grep -q 'machine and build: the same CPU model, GPU model, GPU driver, C compiler, build type, build flags, NCCL version' "$d/out"
check $? "the same machine and build: checked, said, and compared (SLOWER, exit 1)"
[ "$rc" -eq 1 ] || show
meta "$d/run2" "AMD EPYC 7B13 64-Core Processor"
cmp "$d/run1" "$d/run2"
refused "another CPU" "CPU model"
grep -q '^    CPU model     BASE Intel(R) Xeon(R) Processor$' "$d/out" &&
    grep -q '^                  NEW  AMD EPYC 7B13 64-Core Processor$' "$d/out"
check $? "the CPU model is shown with both values"
cmp --force "$d/run1" "$d/run2"
[ "$rc" -eq 1 ] && [ "$(verdicts)" = "SLOWER " ] && grep -q 'WARNING: --force' "$d/out" &&
    grep -q 'NEW  AMD EPYC 7B13' "$d/out"
check $? "--force: compared (SLOWER, exit 1), under a warning that lists the difference"
[ "$rc" -eq 1 ] || show
meta "$d/run2" "" 590.48.01
cmp "$d/run1" "$d/run2"
refused "another GPU driver" "GPU driver"
grep -q '580.159.04' "$d/out" && grep -q '590.48.01' "$d/out"
check $? "both drivers shown"
meta "$d/run2" "AMD EPYC 7B13" 590.48.01 "gcc 13.3.0"
cmp "$d/run1" "$d/run2"
refused "another CPU, driver and compiler" "CPU model, GPU driver, C compiler"
sed 's/, "nccl_version": "none"//' "$d/run1/meta.json" > "$d/run2/meta.json"
cmp "$d/run1" "$d/run2"
[ "$rc" -eq 1 ] && grep -q 'NCCL version not recorded for NEW' "$d/out"
check $? "a fact NEW's meta.json does not record: named, not refused"
rm "$d/run2/meta.json"
cmp "$d/run1" "$d/run2"
[ "$rc" -eq 1 ] && grep -q "machine and build: not checked: no $d/run2/meta.json" "$d/out"
check $? "no meta.json in NEW: compared, and the table says the check was skipped"
meta "$d/run2"
head -c 200 "$d/run1/meta.json" > "$d/run2/meta.json"
cmp "$d/run1" "$d/run2"
bad "meta.json cut off" 2 "run2/meta.json: line [0-9]*, column [0-9]*: .*not valid JSON"
meta "$d/run2"
sed 's/"cpu_model": "[^"]*"/"cpu_model": 7/' "$d/run1/meta.json" > "$d/run2/meta.json"
cmp "$d/run1" "$d/run2"
bad "a CPU model that is a number" 2 "run2/meta.json: \"host\".\"cpu_model\" is not a string"
sed 's/"tool": "cnnbench"/"tool": "other", "tool": "cnnbench"/' "$d/run1/meta.json" > "$d/run2/meta.json"
cmp "$d/run1" "$d/run2"
bad "a duplicate key in meta.json" 2 "run2/meta.json: line 3"
echo '[1, 2]' > "$d/run2/meta.json"
cmp "$d/run1" "$d/run2"
bad "JSON that is no meta.json" 2 "not a cnnbench meta.json"
meta "$d/run2"

echo "gzipped runs (results/published keeps steps.csv.gz):"
cmp "$d/run1" "$d/run2"
cp "$d/out" "$d/plain"
gzip "$d/run1/steps.csv" "$d/run2/steps.csv" "$d/run2/summary.csv"
cmp "$d/run1" "$d/run2"
[ "$rc" -eq 1 ] && grep -q "BASE $d/run1/steps.csv.gz" "$d/out" &&
    sed "s/steps.csv.gz/steps.csv/" "$d/out" | diff -q - "$d/plain" > /dev/null
check $? "run directories with steps.csv.gz and summary.csv.gz: the same table as plain"
[ "$rc" -eq 1 ] || show
cmp "$d/run1/steps.csv.gz" "$d/run2/steps.csv.gz"
[ "$rc" -eq 1 ] && [ "$(verdicts)" = "SLOWER " ]
check $? "two steps.csv.gz files: SLOWER, exit 1"
head -c 300 "$d/run2/steps.csv.gz" > "$d/t.csv.gz"
cmp "$d/run1/steps.csv.gz" "$d/t.csv.gz"
bad "a gzip file cut off" 2 "t.csv.gz: read error"

echo "--json:"
cmp --json "$d/v.json" "$d/run1" "$d/run2"
[ "$rc" -eq 1 ] && [ "$(verdicts)" = "SLOWER " ] && grep -q '"result": "regression"' "$d/v.json"
check $? "--json FILE: the table as before, and the file written"
cmp --json - "$d/run1" "$d/run2"
[ "$rc" -eq 1 ] && head -n 1 "$d/out" | grep -qx '{' && grep -q '"verdict": "SLOWER"' "$d/out" &&
    grep -q 'SLOWER' "$d/err" && ! grep -q '^configuration' "$d/out"
check $? "--json -: JSON alone on standard output, the table on standard error"
meta "$d/run2" "AMD EPYC 7B13 64-Core Processor"
cmp --json "$d/v.json" "$d/run1" "$d/run2"
[ "$rc" -eq 3 ] && grep -q '"result": "incomparable"' "$d/v.json" &&
    grep -q '"new": "AMD EPYC 7B13 64-Core Processor"' "$d/v.json"
check $? "--json on a refused comparison: result incomparable, the fact with both values"

finish
