#!/bin/sh
# scripts/perf-gate.sh — the CI performance gate. Shared CI machines are too
# noisy for wall time, so the gate counts instructions instead: valgrind's
# callgrind, collecting only inside cnn_step() (every training step, nothing
# else), for a few small configurations of seq and of omp at 1 thread, on a
# tiny synthetic data set (tests/perf/gate_data.sh). Single-threaded counts
# are identical run to run, so a 2% band is generous.
#
#   scripts/perf-gate.sh            measure, compare with results/baseline/
#   scripts/perf-gate.sh --update   measure and record a new baseline there
#
# Options: --build DIR (default build-gate/), --baseline DIR (default
# results/baseline), --band PCT (default 2).
#
# The gate builds its own tree: valgrind 3.19 cannot decode AVX-512 and the
# default build uses -march=native, so DIR is configured with -Dnative=false
# and without CUDA or Google Benchmark. The baseline records the compiler,
# the compile flags, valgrind, glibc and the CPU's AVX2 support (glibc picks
# its memcpy and libm variants by CPU), and the gate refuses to judge
# against a baseline recorded with different ones.
#
# Exit status: 0 every configuration within the band; 1 a configuration's
# count rose more than the band above the baseline; 2 bad command line;
# 3 cannot judge (valgrind missing, build failed, baseline missing or
# recorded with another toolchain). Never 77: CI must not read a broken
# gate as a skip.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build-gate
baseline=$top/results/baseline
band=2
update=0

# The gated configurations: name impl threads batch filters steps.
configs="seq-b20-f8-s3 seq 0 20 8 3
seq-b100-f32-s2 seq 0 100 32 2
omp-t1-b20-f8-s3 omp 1 20 8 3
omp-t1-b100-f32-s2 omp 1 100 32 2"

# What the counts depend on besides the code: compared with the baseline's.
key_names="compiler flags valgrind glibc arch cpu_avx2 tool data"
tool_opts="--tool=callgrind --collect-atstart=no --toggle-collect=cnn_step"

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
        -h|--help) usage; exit 0 ;;
        *) echo "perf-gate: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
case $band in
    ''|*[!0-9.]*|*.*.*) echo "perf-gate: --band wants a percentage such as 2 or 2.5" >&2; exit 2 ;;
esac
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
case $baseline in /*) ;; *) baseline=$(pwd)/$baseline ;; esac

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
t_start=$(now)

command -v valgrind >/dev/null 2>&1 ||
    cannot "valgrind is not installed (Debian: apt-get install valgrind; scripts/setup.sh does it)"
command -v meson >/dev/null 2>&1 || cannot "meson is not installed"
command -v python3 >/dev/null 2>&1 || cannot "python3 is not installed"

# The gate's own build: portable code generation, CPU backends only.
build_opts="-Dbuildtype=release -Dnative=false -Dopenmp=enabled -Dcuda=disabled -Dcupti=disabled -Dgbench=disabled"
t0=$(now)
mkdir -p "$build"
log=$build/perf-gate-build.log
# shellcheck disable=SC2086
if [ -f "$build/build.ninja" ]; then
    meson configure "$build" $build_opts > "$log" 2>&1 || { cat "$log" >&2; cannot "meson configure $build failed"; }
else
    meson setup "$build" "$top" $build_opts > "$log" 2>&1 || { cat "$log" >&2; cannot "meson setup $build failed"; }
fi
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
for name in ("cnnseq", "cnnomp", "cnncommon"):
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
grep -qw avx2 /proc/cpuinfo 2>/dev/null && cpu_avx2=yes
data_version=$("$top/tests/perf/gate_data.sh" --version)
{
    echo "compiler=$compiler"
    echo "flags=$(cat "$work/flags")"
    echo "valgrind=$(valgrind --version)"
    echo "glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null || echo unknown)"
    echo "arch=$(uname -m)"
    echo "cpu_avx2=$cpu_avx2"
    echo "tool=valgrind $tool_opts; OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive; train --warmup 0 --no-verify --seed 1"
    echo "data=tests/perf/gate_data.sh version $data_version, 200 train / 20 test images"
} > "$work/key"

# Refuse a baseline from another toolchain before spending time measuring.
if [ "$update" -eq 0 ]; then
    if [ ! -f "$baseline/callgrind.csv" ] || [ ! -f "$baseline/callgrind.env" ]; then
        cannot "no baseline in $baseline (callgrind.csv, callgrind.env). Record one with:
  scripts/perf-gate.sh --update"
    fi
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
# baseline always meets the configurations it was recorded for.
if [ "$update" -eq 1 ]; then
    printf '%s\n' "$configs" > "$work/plan"
else
    awk -F, '
        NR == 1 {
            if ($0 != "config,impl,threads,batch,filters,steps,instructions") bad = 1
            next
        }
        NF != 7 || $1 == "" || $2 !~ /^[a-z]+$/ || $3 !~ /^[0-9]+$/ || $4 !~ /^[0-9]+$/ ||
        $5 !~ /^[0-9]+$/ || $6 !~ /^[0-9]+$/ || $7 !~ /^[0-9]+$/ { bad = 1; exit }
        { print $1, $2, $3, $4, $5, $6, $7; n++ }
        END { exit bad || n == 0 }' "$baseline/callgrind.csv" > "$work/plan" ||
        cannot "$baseline/callgrind.csv is malformed (want the header config,impl,threads,batch,filters,steps,instructions and whole-number rows). Re-record it with:
  scripts/perf-gate.sh --update"
    printf '%s\n' "$configs" | while read -r name rest; do
        grep -q "^$name " "$work/plan" ||
            echo "perf-gate: note: the baseline has no row for $name; scripts/perf-gate.sh --update adds it"
    done
fi

t0=$(now)
"$top/tests/perf/gate_data.sh" "$work/data" 200 20

# Runs see an empty environment but for PATH and the OpenMP settings: other
# variables change what a run executes (malloc perturbation from meson test,
# OpenMP spinning, preloads) or, by their size, the stack's alignment.
echo "config,impl,threads,batch,filters,steps,instructions" > "$work/measured.csv"
while read -r name impl threads batch filters steps _; do
    t1=$(now)
    set -- --impl "$impl" --batch "$batch" --filters "$filters" --steps "$steps" \
        --warmup 0 --no-verify --seed 1 --data "$work/data" --print-every 1000
    [ "$threads" -eq 0 ] || set -- "$@" --threads "$threads"
    out=$work/$name.callgrind
    # shellcheck disable=SC2086
    if ! env -i PATH="$PATH" OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive \
        valgrind $tool_opts --callgrind-out-file="$out" "$cnnbench" train "$@" \
        < /dev/null > "$work/$name.log" 2>&1; then
        tail -n 20 "$work/$name.log" >&2
        cannot "cnnbench train $* failed under valgrind (log: $work/$name.log)"
    fi
    count=$(awk '$1 == "totals:" { print $2; exit }' "$out")
    case $count in
        ''|0|*[!0-9]*) cannot "no instructions counted in cnn_step for $name: was cnn_step renamed or inlined? ($out)" ;;
    esac
    echo "$name,$impl,$threads,$batch,$filters,$steps,$count" >> "$work/measured.csv"
    echo "perf-gate: $name: $count instructions ($(since "$t1") under callgrind)"
done < "$work/plan"
echo "perf-gate: measured $(($(wc -l < "$work/measured.csv") - 1)) configurations ($(since "$t0"))"

if [ "$update" -eq 1 ]; then
    mkdir -p "$baseline"
    {
        cat "$work/key"
        echo "compiler_banner=$banner"
        echo "cpu_model=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
        echo "recorded_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "git=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    } > "$baseline/callgrind.env.tmp"
    cp "$work/measured.csv" "$baseline/callgrind.csv.tmp"
    mv "$baseline/callgrind.env.tmp" "$baseline/callgrind.env"
    mv "$baseline/callgrind.csv.tmp" "$baseline/callgrind.csv"
    echo "perf-gate: recorded the baseline in $baseline (callgrind.csv, callgrind.env; $(since "$t_start") in all)"
    exit 0
fi

# The verdict: measured against the baseline, per configuration.
rc=0
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
        printf "%-20s %14d %14d %+8.2f%% %14d  %s\n", $1, base[$1], $7, change, $7 / $6, verdict
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
    }' "$baseline/callgrind.csv" "$work/measured.csv" || rc=$?
[ "$rc" -eq 0 ] && echo "perf-gate: pass: every configuration within +$band% of the baseline ($(since "$t_start") in all)"
[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] || cannot "comparing with the baseline failed (awk exit $rc)"
exit "$rc"
