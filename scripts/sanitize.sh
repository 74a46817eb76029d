#!/bin/sh
# scripts/sanitize.sh — the hardening checks of docs/DESIGN.md §5, as measured facts
# (tests/HARDENING.md explains each one):
#
#   asan      the unit and cpu suites (faults included) with ASan + UBSan
#             (gcc, build-asan/), every sanitizer report fatal (the MPI
#             jobs without the leak check: Open MPI's own leaks);
#   fuzz      libFuzzer on the IDX reader (clang, build-fuzz/) for
#             FUZZ_SECONDS (default 60), seeded with tests/fuzz/corpus;
#   valgrind  memcheck on short seq and omp training runs and a sweep
#             (build-nonative/, no -march=native: valgrind 3.19 cannot
#             decode AVX-512).
#
#   scripts/sanitize.sh                 all three
#   scripts/sanitize.sh fuzz valgrind   only those
#   BUILD_ROOT=dir FUZZ_SECONDS=600 scripts/sanitize.sh fuzz
#
# Installs what it lacks (clang, libFuzzer, valgrind) as root via apt-get.
# Exits non-zero on the first failing check.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
root=${BUILD_ROOT:-"$top"}
fuzz_seconds=${FUZZ_SECONDS:-60}
checks=${*:-asan fuzz valgrind}

say() { printf '\n== sanitize: %s\n' "$*"; }

# libclang-rt-14-dev holds libFuzzer and clang's sanitizer runtimes; gcc's
# libasan/libubsan come with gcc itself.
need_packages() {
    command -v dpkg-query >/dev/null 2>&1 || return 0
    missing=""
    for p in "$@"; do
        case "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" in
            *"install ok installed"*) ;;
            *) missing="$missing $p" ;;
        esac
    done
    [ -z "$missing" ] && return 0
    say "installing Debian packages:$missing"
    if [ "$(id -u)" != 0 ]; then
        echo "sanitize: cannot install packages without root. Run:" >&2
        echo "  sudo apt-get install -y$missing" >&2
        exit 1
    fi
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
}

# Configures $1 (unless it already is) with the remaining arguments.
configure() {
    dir=$1
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$top" "$@"
    fi
}

# ASan + UBSan over the whole test suite. -march=native stays on: ASan
# handles AVX-512, and the sanitized binaries then take the same code paths
# as the release tests. meson 1.0.1 sets no sanitizer options, so they are
# set here: every report halts the test, protect_shadow_gap=0 lets
# cudaMalloc work in a CUDA build, and the only leaks forgiven are the CUDA
# driver's own.
run_asan() {
    dir="$root/build-asan"
    say "ASan + UBSan build in $dir"
    configure "$dir" -Dbuildtype=debugoptimized \
        -Db_sanitize=address,undefined -Db_lundef=false \
        "-Dc_args=-fno-sanitize-recover=all -fsanitize=float-divide-by-zero"
    ninja -C "$dir"
    printf 'leak:libcuda\n' > "$dir/lsan.supp"
    ASAN_OPTIONS=protect_shadow_gap=0:halt_on_error=1:abort_on_error=1:detect_leaks=1 \
    UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1 \
    LSAN_OPTIONS="suppressions=$dir/lsan.supp" \
        meson test -C "$dir" --no-rebuild --print-errorlogs --timeout-multiplier 3 \
            --suite unit --suite cpu --no-suite data --no-suite mpi
    # Open MPI's components are dlopen'd and unloaded at MPI_Finalize, and
    # leave allocations that LSan can attribute to no module, so none can be
    # suppressed: the MPI jobs run under ASan and UBSan without the leak check.
    ASAN_OPTIONS=protect_shadow_gap=0:halt_on_error=1:abort_on_error=1:detect_leaks=0 \
    UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1 \
        meson test -C "$dir" --no-rebuild --print-errorlogs --timeout-multiplier 3 \
            --suite mpi --no-suite data
}

# libFuzzer needs clang: the target is built in its own clang build dir, CPU
# backends only. New inputs go to a scratch corpus, never into the source
# tree; a crash leaves its input in $dir/fuzz-artifacts/ (add it to
# tests/fuzz/corpus as crash-<what> once fixed). -error_exitcode and
# -timeout_exitcode: libFuzzer's defaults (77, 70) would read as SKIP or
# hard error to meson and CI.
run_fuzz() {
    need_packages clang libclang-rt-14-dev
    dir="$root/build-fuzz"
    say "libFuzzer on the IDX reader for ${fuzz_seconds}s in $dir"
    CC=clang CXX=clang++ configure "$dir" -Dbuildtype=debugoptimized \
        -Dcuda=disabled -Dopenmp=disabled -Dgbench=disabled
    ninja -C "$dir" tests/fuzz/fuzz_idx
    mkdir -p "$dir/fuzz-corpus" "$dir/fuzz-artifacts"
    nice -n 19 "$dir/tests/fuzz/fuzz_idx" \
        -error_exitcode=1 -timeout_exitcode=1 \
        -rss_limit_mb=2048 -malloc_limit_mb=64 -max_len=8192 -timeout=10 \
        -max_total_time="$fuzz_seconds" -print_final_stats=1 \
        -artifact_prefix="$dir/fuzz-artifacts/" \
        "$dir/fuzz-corpus" "$top/tests/fuzz/corpus" > "$dir/fuzz.log" 2>&1 || {
        tail -n 40 "$dir/fuzz.log"
        echo "sanitize: the fuzzer failed; the input is in $dir/fuzz-artifacts/" >&2
        exit 1
    }
    grep -E '^#[0-9]+[[:space:]]+DONE|^stat::' "$dir/fuzz.log"
}

# memcheck on short runs over a tiny synthetic data set: one training run
# per CPU backend (`cnnbench list`: device: no) that runs here, then a sweep
# over them, which adds the run directory's writers. The onednn baseline is
# left out: its JIT kernels load whole vectors past the end of oneDNN's own
# scratch buffers, which memcheck reports inside libdnnl, not in our code.
# Still-reachable blocks are not errors (libgomp and the dynamic loader keep
# some to the end); every other leak kind is. libgomp keeps its thread pool
# alive past main(): the suppression file forgives only the TLS blocks of
# threads that libgomp itself started.
run_valgrind() {
    need_packages valgrind
    dir="$root/build-nonative"
    say "valgrind memcheck in $dir"
    configure "$dir" -Dbuildtype=debugoptimized -Dnative=false -Dcuda=disabled
    ninja -C "$dir" bench/cnnbench tests/harness/make_idx
    data="$dir/valgrind-data"
    mkdir -p "$data"
    "$dir/tests/harness/make_idx" "$data" 200 50
    impls=$("$dir/bench/cnnbench" list | awk '
        /^[a-z]/ { name = $1 }
        /device: no;/ && /runs here: yes/ && name != "onednn" { print name }')
    for impl in $impls; do
        memcheck train --impl "$impl" --batch 20 --filters 4 --steps 3 --eval --data "$data"
    done
    rm -rf "$dir/valgrind-sweep"
    memcheck sweep --impl "$(echo $impls | tr ' ' ',')" --batch 20 --filters 4 --steps 3 \
        --eval --data "$data" --out "$dir/valgrind-sweep"
}

memcheck() {
    say "valgrind: cnnbench $*"
    OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive \
        valgrind --error-exitcode=1 --leak-check=full \
        --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible \
        --suppressions="$top/scripts/sanitize-libgomp.supp" \
        "$dir/bench/cnnbench" "$@"
}

for check in $checks; do
    case "$check" in
        asan) run_asan ;;
        fuzz) run_fuzz ;;
        valgrind) run_valgrind ;;
        *) echo "usage: $0 [asan] [fuzz] [valgrind]" >&2; exit 2 ;;
    esac
done
say "all clean: $checks"
