#!/bin/sh
# scripts/perf-gate.sh — the CI performance gate. Shared CI machines are too
# noisy for wall time, so the gate counts instructions instead, with
# valgrind's callgrind, on a tiny synthetic data set (tests/perf/gate_data.sh).
# It checks two things:
#
#   work    instructions inside cnn_step() (every training step, nothing
#           else) for a few small configurations of seq and of omp at 1
#           thread. Single-threaded counts are identical run to run, so a 2%
#           band is generous.
#   split   omp at 2 threads, counted per thread inside the bodies of the
#           OpenMP parallel regions only (gcc's outlined *._omp_fn.*
#           functions; serial code is not counted): each region's
#           least-loaded thread must keep its share of the region's
#           instructions within 5 points of the baseline's. A region
#           serialised by mistake (num_threads(1), say) drops that share
#           from 40-50% to 0 while the work check's count stays the same;
#           run to run the shares repeat to within 0.001 points. A region
#           the baseline lacks needs at least half the fair share 100/T %,
#           and --update records no region below that.
#
#   scripts/perf-gate.sh            measure, compare with results/baseline/
#   scripts/perf-gate.sh --update   measure and record a new baseline there
#
# Options: --build DIR (default build-gate/), --baseline DIR (default
# results/baseline), --band PCT (default 2: the work check), --share-band
# POINTS (default 5: the split check).
#
# The gate builds its own tree: valgrind 3.19 cannot decode AVX-512 and the
# default build uses -march=native, so DIR is configured with -Dnative=false
# and without CUDA or Google Benchmark. Such a build carries omp's hot
# kernels at three ISA levels and picks one at run time (impl/omp/meson.build);
# the gate forces the avx2 level with CNNBENCH_ISA=avx2: the level an AVX2
# CPU without AVX-512 runs, the same bits as avx512, and the highest that
# valgrind decodes. So the gate needs a CPU with AVX2 and FMA (exit 3
# without). The baseline records the compiler, the compile flags (of the
# avx2 kernels too), valgrind, glibc and the CPU's AVX2 support (glibc picks
# its memcpy and libm variants by CPU), and the gate refuses to judge
# against a baseline recorded with different ones.
#
# Exit status: 0 every configuration within its band; 1 a configuration's
# count rose more than the band above the baseline, or a parallel region's
# least-loaded thread lost more than the share band (with --update: a
# region's least-loaded thread has under half its fair share, and nothing is
# recorded); 2 bad command line; 3 cannot judge (valgrind missing, build
# failed, baseline missing or recorded with another toolchain). Never 77: CI
# must not read a broken gate as a skip.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build-gate
baseline=$top/results/baseline
band=2
share_band=5
update=0

# The gated configurations: name impl threads batch filters steps.
configs="seq-b20-f8-s3 seq 0 20 8 3
seq-b100-f32-s2 seq 0 100 32 2
omp-t1-b20-f8-s3 omp 1 20 8 3
omp-t1-b100-f32-s2 omp 1 100 32 2"

# The split configurations, in the same form. B=20 leaves conv_backward's 5
# chunks of 4 images split 3:2, B=100 splits nearly evenly.
split_configs="omp-t2-b20-f8-s3 omp 2 20 8 3
omp-t2-b100-f32-s2 omp 2 100 32 2"

# What the counts depend on besides the code: compared with the baseline's.
key_names="compiler flags valgrind glibc arch cpu_avx2 tool split_tool data"
tool_opts="--tool=callgrind --collect-atstart=no --toggle-collect=cnn_step"
# Collection switches per thread, and only the main thread ever enters
# cnn_step, so the split counts inside the region bodies instead, which every
# thread of a team runs. Serial code is never counted.
split_opts="--tool=callgrind --collect-atstart=no --separate-threads=yes"
region_pattern='*._omp_fn.*'
# omp's kernel level, forced in every counted run (see the top of the file).
gate_isa=avx2

usage() {
    sed -n '2,/^set -eu/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

cannot() {
    echo "perf-gate: cannot judge: $*" >&2
    exit 3
}

while [ $# -gt 0 ]; do
    case $1 in
        --update) update=1 ;;
        --build) [ $# -ge 2 ] || { echo "perf-gate: --build needs a directory" >&2; exit 2; }
            build=$2; shift ;;
        --baseline) [ $# -ge 2 ] || { echo "perf-gate: --baseline needs a directory" >&2; exit 2; }
            baseline=$2; shift ;;
        --band) [ $# -ge 2 ] || { echo "perf-gate: --band needs a percentage" >&2; exit 2; }
            band=$2; shift ;;
        --share-band) [ $# -ge 2 ] || { echo "perf-gate: --share-band needs percentage points" >&2; exit 2; }
            share_band=$2; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "perf-gate: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
case $band in
    ''|*[!0-9.]*|*.*.*) echo "perf-gate: --band wants a percentage such as 2 or 2.5" >&2; exit 2 ;;
esac
case $share_band in
    ''|*[!0-9.]*|*.*.*) echo "perf-gate: --share-band wants percentage points such as 5 or 2.5" >&2; exit 2 ;;
esac
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
case $baseline in /*) ;; *) baseline=$(pwd)/$baseline ;; esac

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
t_start=$(now)

command -v valgrind >/dev/null 2>&1 ||
    cannot "valgrind is not installed, and the gate counts instructions with valgrind's callgrind.
Install it (Debian: apt-get install valgrind; scripts/setup.sh does it), then run the gate again"
command -v meson >/dev/null 2>&1 || cannot "meson is not installed"
command -v python3 >/dev/null 2>&1 || cannot "python3 is not installed"

# The gate's own build: portable code generation, CPU backends only.
build_opts="-Dbuildtype=release -Dnative=false -Dopenmp=enabled -Dcuda=disabled -Dcupti=disabled -Dgbench=disabled"
t0=$(now)
mkdir -p "$build"
log=$build/perf-gate-build.log
# A tree the gate configured with these options is left to ninja, which
# regenerates it when a meson.build changes: meson configure would
# regenerate it on every run, a second of CPU each time.
stamp=$build/perf-gate-options
# shellcheck disable=SC2086
if [ -f "$build/build.ninja" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$build_opts" ]; then
    : > "$log"
elif [ -f "$build/build.ninja" ]; then
    meson configure "$build" $build_opts > "$log" 2>&1 || { cat "$log" >&2; cannot "meson configure $build failed"; }
else
    meson setup "$build" "$top" $build_opts > "$log" 2>&1 || { cat "$log" >&2; cannot "meson setup $build failed"; }
fi
echo "$build_opts" > "$stamp"
ninja -C "$build" bench/cnnbench >> "$log" 2>&1 || { tail -n 30 "$log" >&2; cannot "building cnnbench in $build failed"; }
cnnbench=$build/bench/cnnbench
echo "perf-gate: built $cnnbench ($(since "$t0"))"

# The baseline key of this machine and build.
work=$build/perf-gate
rm -rf "$work"
mkdir -p "$work"
python3 - "$build/meson-info/intro-targets.json" > "$work/flags" <<'EOF' || cannot "cannot read the compile flags from $build/meson-info"
import json, sys
# The flags of the compute libraries, without include paths, warnings and
# colour: the ones that shape the generated code.
targets = {t["name"]: t for t in json.load(open(sys.argv[1]))}
out = []
for name in ("cnnseq", "cnnomp", "cnnomp_avx2", "cnncommon"):
    t = targets.get(name)
    if not t:
        continue
    src = t["target_sources"][0]
    kept = [p for p in src["parameters"]
            if not p.startswith(("-I", "-W", "-fdiagnostics"))]
    out.append("%s: %s %s" % (name[3:], " ".join(src["compiler"]), " ".join(kept)))
print("; ".join(out))
EOF
compiler_cmd=$(python3 - "$build/meson-info/intro-targets.json" <<'EOF'
import json, sys
for t in json.load(open(sys.argv[1])):
    if t["name"] == "cnnseq":
        print(" ".join(t["target_sources"][0]["compiler"]))
EOF
)
[ -n "$compiler_cmd" ] || cannot "no cnnseq target in $build"
# The compiler's name and upstream version: a distribution's patch releases
# of one version generate the same code.
banner=$($compiler_cmd --version 2>/dev/null | head -n 1)
case $banner in
    *clang*) compiler="clang $(echo "$banner" | sed 's/.*clang version \([0-9.]*\).*/\1/')" ;;
    *) compiler="gcc $($compiler_cmd -dumpfullversion 2>/dev/null) ($($compiler_cmd -dumpmachine 2>/dev/null))" ;;
esac
cpu_avx2=no
grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo && cpu_avx2=yes
[ "$cpu_avx2" = yes ] ||
    cannot "this CPU lacks AVX2 or FMA, and the gate counts omp's avx2 kernels (CNNBENCH_ISA=$gate_isa)"
data_version=$("$top/tests/perf/gate_data.sh" --version)
{
    echo "compiler=$compiler"
    echo "flags=$(cat "$work/flags")"
    echo "valgrind=$(valgrind --version)"
    echo "glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null || echo unknown)"
    echo "arch=$(uname -m)"
    echo "cpu_avx2=$cpu_avx2"
    echo "tool=valgrind $tool_opts; CNNBENCH_ISA=$gate_isa OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive; train --warmup 0 --no-verify --seed 1"
    echo "split_tool=valgrind $split_opts --toggle-collect=$region_pattern; CNNBENCH_ISA=$gate_isa OMP_NUM_THREADS=THREADS OMP_WAIT_POLICY=passive LD_BIND_NOW=1; train --warmup 0 --no-verify --seed 1"
    echo "data=tests/perf/gate_data.sh version $data_version, 200 train / 20 test images"
} > "$work/key"

# Refuse a baseline from another toolchain before spending time measuring.
if [ "$update" -eq 0 ]; then
    for f in callgrind.csv callgrind-threads.csv callgrind.env; do
        [ -f "$baseline/$f" ] || cannot "no baseline in $baseline (callgrind.csv, callgrind-threads.csv, callgrind.env; $f is missing). Record one with:
  scripts/perf-gate.sh --update"
    done
    differ=0
    for k in $key_names; do
        want=$(sed -n "s/^$k=//p" "$baseline/callgrind.env" | head -n 1)
        have=$(sed -n "s/^$k=//p" "$work/key")
        if [ "$want" != "$have" ]; then
            [ "$differ" -eq 1 ] || echo "perf-gate: the baseline was recorded with another toolchain:" >&2
            differ=1
            printf '  %s\n    baseline: %s\n    here:     %s\n' "$k" "${want:-(missing)}" "$have" >&2
        fi
    done
    if [ "$differ" -eq 1 ]; then
        cannot "instruction counts from another toolchain say nothing about this one.
Re-record the baseline on this toolchain (then review and commit results/baseline/):
  scripts/perf-gate.sh --update"
    fi
fi

# The configurations to measure: the baseline's rows when gating, so a
# baseline always meets the configurations it was recorded for. Each plan
# line is: name impl threads batch filters steps.
if [ "$update" -eq 1 ]; then
    printf '%s\n' "$configs" > "$work/plan"
    printf '%s\n' "$split_configs" > "$work/split-plan"
else
    awk -F, '
        NR == 1 {
            if ($0 != "config,impl,threads,batch,filters,steps,instructions") bad = 1
            next
        }
        NF != 7 || $1 == "" || $2 !~ /^[a-z]+$/ || $3 !~ /^[0-9]+$/ || $4 !~ /^[0-9]+$/ ||
        $5 !~ /^[0-9]+$/ || $6 !~ /^[0-9]+$/ || $7 !~ /^[0-9]+$/ { bad = 1; exit }
        { print $1, $2, $3, $4, $5, $6; n++ }
        END { exit bad || n == 0 }' "$baseline/callgrind.csv" > "$work/plan" ||
        cannot "$baseline/callgrind.csv is malformed (want the header config,impl,threads,batch,filters,steps,instructions and whole-number rows). Re-record it with:
  scripts/perf-gate.sh --update"
    # One plan line per configuration; every thread of it needs a row.
    awk -F, '
        NR == 1 {
            if ($0 != "config,impl,threads,batch,filters,steps,region,thread,instructions") bad = 1
            next
        }
        NF != 9 || $1 == "" || $2 !~ /^[a-z]+$/ || $3 !~ /^[0-9]+$/ || $3 < 2 ||
        $4 !~ /^[0-9]+$/ || $5 !~ /^[0-9]+$/ || $6 !~ /^[0-9]+$/ || $7 !~ /^[A-Za-z0-9_.]+$/ ||
        $8 !~ /^[0-9]+$/ || $8 < 1 || $8 > $3 || $9 !~ /^[0-9]+$/ { bad = 1; exit }
        !($1 in seen) { seen[$1] = 1; n++; print $1, $2, $3, $4, $5, $6 }
        { rows[$1 SUBSEP $7]++; threads[$1] = $3 }
        END {
            for (k in rows) {
                split(k, part, SUBSEP)
                if (rows[k] != threads[part[1]]) bad = 1
            }
            exit bad || n == 0
        }' "$baseline/callgrind-threads.csv" > "$work/split-plan" ||
        cannot "$baseline/callgrind-threads.csv is malformed (want the header config,impl,threads,batch,filters,steps,region,thread,instructions, at least 2 threads, and one whole-number row per thread of each region). Re-record it with:
  scripts/perf-gate.sh --update"
    for plan in plan split-plan; do
        case $plan in plan) want=$configs ;; *) want=$split_configs ;; esac
        printf '%s\n' "$want" | while read -r name rest; do
            grep -q "^$name " "$work/$plan" ||
                echo "perf-gate: note: the baseline has no row for $name; scripts/perf-gate.sh --update adds it"
        done
    done
fi

t0=$(now)
"$top/tests/perf/gate_data.sh" "$work/data" 200 20

# run_train NAME IMPL THREADS BATCH FILTERS STEPS ENV-AND-VALGRIND...: runs
# cnnbench train on the gate's data under the command ENV-AND-VALGRIND
# (variables, then valgrind and its options), log in $work/NAME.log. Runs see
# an empty environment but for PATH, CNNBENCH_ISA and those variables: others
# change what a run executes (malloc perturbation from meson test, OpenMP
# spinning, preloads) or, by their size, the stack's alignment.
run_train() {
    run_name=$1
    set -- "$@" "$cnnbench" train --impl "$2" --batch "$4" --filters "$5" --steps "$6" \
        --warmup 0 --no-verify --seed 1 --data "$work/data" --print-every 1000
    [ "$3" -eq 0 ] || set -- "$@" --threads "$3"
    shift 6
    if ! env -i PATH="$PATH" CNNBENCH_ISA="$gate_isa" "$@" < /dev/null > "$work/$run_name.log" 2>&1; then
        tail -n 20 "$work/$run_name.log" >&2
        cannot "cnnbench train failed under valgrind for $run_name (log: $work/$run_name.log)"
    fi
}

# The work check: one count per configuration, the totals: line.
echo "config,impl,threads,batch,filters,steps,instructions" > "$work/measured.csv"
while read -r name impl threads batch filters steps; do
    t1=$(now)
    out=$work/$name.callgrind
    # shellcheck disable=SC2086
    run_train "$name" "$impl" "$threads" "$batch" "$filters" "$steps" \
        OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive valgrind $tool_opts --callgrind-out-file="$out"
    count=$(awk '$1 == "totals:" { print $2; exit }' "$out")
    case $count in
        ''|0|*[!0-9]*) cannot "no instructions counted in cnn_step for $name: was cnn_step renamed or inlined? ($out)" ;;
    esac
    echo "$name,$impl,$threads,$batch,$filters,$steps,$count" >> "$work/measured.csv"
    echo "perf-gate: $name: $count instructions ($(since "$t1") under callgrind)"
done < "$work/plan"

# The split check: callgrind writes one file per thread, NAME.callgrind-01
# for the main thread, -02 for the first worker, and so on; a thread that
# never existed (a team never formed) writes none and counts zero.
# LD_BIND_NOW=1: a library function's first call through the PLT runs the
# dynamic linker's symbol lookup (about 1,700 instructions) in whichever
# thread gets there first, and the threads race for it; binding at start-up
# takes that out of the regions.
echo "config,impl,threads,batch,filters,steps,region,thread,instructions" > "$work/measured-threads.csv"
while read -r name impl threads batch filters steps; do
    t1=$(now)
    out=$work/$name.callgrind
    # shellcheck disable=SC2086
    run_train "$name" "$impl" "$threads" "$batch" "$filters" "$steps" \
        OMP_NUM_THREADS="$threads" OMP_WAIT_POLICY=passive LD_BIND_NOW=1 \
        valgrind $split_opts "--toggle-collect=$region_pattern" --callgrind-out-file="$out"
    : > "$work/$name.regions"
    t=1
    while [ "$t" -le "$threads" ]; do
        file=$out-$(printf '%02d' "$t")
        # Each region's inclusive count: its own cost lines plus those of
        # its calls (a calls= line's next line). Function names are
        # compressed: "fn=(id) name" the first time, "fn=(id)" after.
        [ ! -f "$file" ] || awk -v thread="$t" '
            function named(s,    id) {
                if (!match(s, /^\([0-9]+\)/)) return s
                id = substr(s, 1, RLENGTH)
                if (length(s) > RLENGTH) names[id] = substr(s, RLENGTH + 2)
                return names[id]
            }
            /^fn=/ { fn = named(substr($0, 4)); next }
            /^cfn=/ { named(substr($0, 5)); next }
            /^totals:/ { totals = $2; next }
            /^[0-9+*-]/ && NF >= 2 && fn ~ /\._omp_fn\./ { region[fn] += $NF; sum += $NF }
            END {
                for (r in region) printf "%d %s %.0f\n", thread, r, region[r]
                if (sum != totals + 0) {
                    printf "%s: regions hold %.0f of the %.0f instructions counted\n",
                        FILENAME, sum, totals > "/dev/stderr"
                    exit 1
                }
            }' "$file" >> "$work/$name.regions" ||
            cannot "cannot attribute the counts of $file to parallel regions"
        t=$((t + 1))
    done
    [ -s "$work/$name.regions" ] ||
        cannot "no parallel region counted for $name: are the outlined regions named otherwise than $region_pattern (gcc's names)? ($out-01)"
    # One row per region and thread, zero where the thread ran none of it.
    sort -k2,2 -k1,1n "$work/$name.regions" | awk -v threads="$threads" \
        -v head="$name,$impl,$threads,$batch,$filters,$steps" '
        { n[$2 SUBSEP $1] = $3; if (!($2 in seen)) { seen[$2] = 1; order[++regions] = $2 } }
        END {
            for (i = 1; i <= regions; i++)
                for (t = 1; t <= threads; t++)
                    printf "%s,%s,%d,%.0f\n", head, order[i], t, n[order[i] SUBSEP t]
        }' >> "$work/measured-threads.csv"
    echo "perf-gate: $name: $(awk '{ n[$1] += $3 } END { for (t = 1; t in n; t++) printf("%s%.0f", (t > 1 ? " + " : ""), n[t]) }' "$work/$name.regions") instructions in parallel regions by thread ($(since "$t1") under callgrind)"
done < "$work/split-plan"
echo "perf-gate: measured $(($(wc -l < "$work/measured.csv") - 1)) + $(wc -l < "$work/split-plan") configurations ($(since "$t0"))"

# share_table BASELINE MEASURED: per configuration and parallel region, the
# instructions of each thread and the least-loaded thread's share of the
# region's total, beside the baseline's; then the verdict. A region the
# baseline holds fails when that share fell more than the share band below
# the baseline's. A region it lacks (BASELINE is /dev/null for --update)
# fails when that share is under half the fair share 100/T percent: the
# floor under which no split is recorded as the norm. Exit 1 on a FAIL.
share_table() {
    awk -F, -v band="$share_band" -v work="$work" -v update="$update" '
        FNR == 1 { next }
        FILENAME == ARGV[1] {
            key = $1 SUBSEP $7
            btotal[key] += $9
            if (!(key in bleast) || $9 < bleast[key]) bleast[key] = $9
            next
        }
        {
            key = $1 SUBSEP $7
            if (!(key in total)) { order[++keys] = key; threads[key] = $3 }
            total[key] += $9
            if (!(key in least) || $9 < least[key]) least[key] = $9
            by[key] = by[key] ($8 == 1 ? "" : "/") $9
        }
        function share(n, d) { return d > 0 ? 100 * n / d : 0 }
        END {
            printf "%-20s %-30s %-24s %9s %9s  %s\n", "config", "parallel region",
                "instructions by thread", "baseline", "measured", "verdict"
            printf "%-20s %-30s %-24s %19s\n", "", "", "", "least share"
            for (i = 1; i <= keys; i++) {
                key = order[i]
                split(key, part, SUBSEP)
                m = share(least[key], total[key])
                floor = 50 / threads[key]
                if (key in bleast) {
                    b = share(bleast[key], btotal[key])
                    base = sprintf("%8.2f%%", b)
                    verdict = "ok"
                    if (m < b - band)
                        verdict = sprintf("FAIL: %.2f points below", b - m)
                    else if (m > b + band)
                        verdict = "ok, better balanced: lock in with --update"
                } else {
                    base = "-"
                    verdict = update ? "ok: over half the fair share" : "ok: new, over half the fair share (--update adds it)"
                    if (m < floor)
                        verdict = sprintf("FAIL: under half the fair share (%.0f%%)", floor)
                }
                if (verdict ~ /^FAIL/) failed = failed " " part[1] ":" part[2]
                printf "%-20s %-30s %-24s %9s %8.2f%%  %s\n", part[1], part[2], by[key], base, m, verdict
            }
            for (key in bleast)
                if (!(key in total)) {
                    split(key, part, SUBSEP)
                    printf "%-20s %-30s %-24s %8.2f%% %9s  FAIL: ran on no thread\n", part[1], part[2],
                        "-", share(bleast[key], btotal[key]), "-"
                    failed = failed " " part[1] ":" part[2]
                }
            if (failed) {
                printf "perf-gate: FAIL:%s: the least-loaded thread of a parallel region lost its share of the work (or the region is gone).\n", failed
                printf "  Serialised by num_threads(1), an if() clause, or a schedule that hands one thread everything?\n"
                printf "  Per-thread counts: callgrind_annotate %s/<config>.callgrind-01 (main thread), -02, ...\n", work
                if (!update) {
                    printf "  If the new split is intended, record a new baseline and commit it (it records no\n"
                    printf "  region under half its fair share):\n"
                    printf "    scripts/perf-gate.sh --update\n"
                }
                exit 1
            }
        }' "$1" "$2"
}

if [ "$update" -eq 1 ]; then
    rc=0
    share_table /dev/null "$work/measured-threads.csv" || rc=$?
    if [ "$rc" -ne 0 ]; then
        [ "$rc" -eq 1 ] || cannot "judging the thread split failed (awk exit $rc)"
        echo "perf-gate: nothing recorded in $baseline: a baseline must not hold a serialised region"
        exit 1
    fi
    mkdir -p "$baseline"
    {
        cat "$work/key"
        echo "compiler_banner=$banner"
        echo "cpu_model=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
        echo "recorded_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "git=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    } > "$baseline/callgrind.env.tmp"
    cp "$work/measured.csv" "$baseline/callgrind.csv.tmp"
    cp "$work/measured-threads.csv" "$baseline/callgrind-threads.csv.tmp"
    mv "$baseline/callgrind.env.tmp" "$baseline/callgrind.env"
    mv "$baseline/callgrind.csv.tmp" "$baseline/callgrind.csv"
    mv "$baseline/callgrind-threads.csv.tmp" "$baseline/callgrind-threads.csv"
    echo "perf-gate: recorded the baseline in $baseline (callgrind.csv, callgrind-threads.csv, callgrind.env; $(since "$t_start") in all)"
    exit 0
fi

# The verdicts: measured against the baseline, per configuration.
work_rc=0
awk -F, -v band="$band" -v work="$work" '
    NR == FNR { if (FNR > 1) base[$1] = $7; next }
    FNR == 1 {
        printf "%-20s %14s %14s %9s %14s  %s\n", "config", "baseline", "measured",
            "change", "per step", "verdict"
        next
    }
    {
        change = 100 * ($7 - base[$1]) / base[$1]
        verdict = "ok"
        if ($7 > base[$1] * (1 + band / 100)) { verdict = "FAIL: more than " band "% above"; fail++ }
        else if (change < -band) { verdict = "ok, faster: lock in with --update"; gain++ }
        printf "%-20s %14.0f %14.0f %+8.2f%% %14.0f  %s\n", $1, base[$1], $7, change, $7 / $6, verdict
        if (verdict ~ /^FAIL/) failed = failed " " $1
    }
    END {
        if (fail) {
            printf "perf-gate: FAIL:%s: instructions in cnn_step rose more than %s%% above the baseline.\n", failed, band
            printf "  Where the instructions went: callgrind_annotate %s/<config>.callgrind\n", work
            printf "  If the extra work is intended, record a new baseline and commit it:\n"
            printf "    scripts/perf-gate.sh --update\n"
            exit 1
        }
    }' "$baseline/callgrind.csv" "$work/measured.csv" || work_rc=$?
[ "$work_rc" -eq 0 ] || [ "$work_rc" -eq 1 ] || cannot "comparing with the baseline failed (awk exit $work_rc)"
echo
split_rc=0
share_table "$baseline/callgrind-threads.csv" "$work/measured-threads.csv" || split_rc=$?
[ "$split_rc" -eq 0 ] || [ "$split_rc" -eq 1 ] ||
    cannot "comparing the thread split with the baseline failed (awk exit $split_rc)"
if [ "$work_rc" -eq 0 ] && [ "$split_rc" -eq 0 ]; then
    echo "perf-gate: pass: every configuration within +$band% of the baseline's instructions, every parallel region within $share_band points of its least share ($(since "$t_start") in all)"
    exit 0
fi
exit 1
