#!/bin/sh
# tests/hostile/test_rundir.sh — the run directory of `cnnbench sweep` under
# hostile conditions: a second writer beside a running one, a resume with
# other data, another plan or another build, a moved data set, damaged CSV
# files, two sweeps started in the same second, and a disk that fills while
# the run is created or later (tests/HARDENING.md, "The run directory").
#
# Every case asserts four things:
#   1. the exit status;
#   2. stderr: one "cnnbench: error:" line naming the file or option (none
#      when the command must succeed);
#   3. no hang: every command runs under a timeout;
#   4. every file that existed before is unchanged afterwards, and no file
#      is left behind: sha256sum of the watched directories before and after
#      (for a command that must succeed, the directories it must not touch).
# Some cases check more (every row once after the writer that won).
#
# Usage: test_rundir.sh CNNBENCH MAKE_IDX [main|disk-full]
# The disk-full group mounts small tmpfs file systems, so it needs root; it
# exits 77 (skip) and says why without root or where mount fails.
set -u
if [ $# -lt 2 ]; then
    echo "usage: $0 CNNBENCH MAKE_IDX [main|disk-full]" >&2
    exit 2
fi
cnnbench=$1
make_idx=$2
group=${3:-main}
# absolute: the default-id case runs cnnbench from another directory
case $cnnbench in /*) ;; *) cnnbench=$(pwd)/$cnnbench ;; esac
. "$(dirname "$0")/../common/check.sh"
test_name="$test_name-$group"

limit=60     # seconds a command may take before it counts as hung
bg_pids=     # background cnnbench processes, stopped or not, ended at exit
mnt=$scratch/mnt
cleanup() {
    for p in $bg_pids; do
        kill -CONT "$p" 2>/dev/null
        kill -KILL "$p" 2>/dev/null
    done
    if [ -d "$mnt" ]; then umount "$mnt" 2>/dev/null; fi
}
on_exit cleanup

host=$(uname -n)
data=$scratch/data
mkdir -p "$data" && "$make_idx" "$data" 200 50 >/dev/null || exit 99

# snapshot DIR...: every name under the directories, and the sha256 of each file.
snapshot() {
    find "$@" | sort
    find "$@" -type f -exec sha256sum {} + | sort -k 2
}

# run_cnn ARGS...: cnnbench ARGS under the timeout; $rc, $scratch/out, $scratch/err.
run_cnn() {
    rc=0
    timeout "$limit" "$cnnbench" "$@" >"$scratch/out" 2>"$scratch/err" || rc=$?
}

# judge NAME STATUS TEXT: the four assertions on the last command, whose
# snapshots are $scratch/before and $scratch/after. TEXT is a fixed string
# the error line must hold; with STATUS 0 there must be no error line.
judge() {
    [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ]
    check $? "$1: finished within ${limit} s"
    [ "$rc" -eq "$2" ]
    check $? "$1: exit status $2 (got $rc)"
    if [ "$2" -eq 0 ]; then
        ! grep -q '^cnnbench: error: ' "$scratch/err"
        check $? "$1: no error line"
    else
        grep '^cnnbench: error: ' "$scratch/err" | grep -qF -- "$3"
        check $? "$1: the error names '$3'"
    fi
    cmp -s "$scratch/before" "$scratch/after"
    check $? "$1: the files that were there are unchanged, nothing left behind"
    grep '^cnnbench: error: ' "$scratch/err" | head -n 1 | sed 's/^/    said: /'
    if [ "$failed" -gt "${failed_before:-0}" ]; then
        echo "    stderr:"
        sed 's/^/    | /' "$scratch/err" | head -n 12
        diff "$scratch/before" "$scratch/after" | head -n 8 | sed 's/^/    diff: /'
    fi
    failed_before=$failed
}

# expect NAME STATUS TEXT WATCH... -- ARGS...: one row of the case table:
# runs cnnbench ARGS between two snapshots of the WATCH directories.
expect() {
    name=$1 status=$2 text=$3
    shift 3
    watch=
    while [ "$1" != -- ]; do
        watch="$watch $1"
        shift
    done
    shift
    # shellcheck disable=SC2086 # the watched paths have no blanks (mktemp)
    snapshot $watch >"$scratch/before"
    run_cnn "$@"
    # shellcheck disable=SC2086
    snapshot $watch >"$scratch/after"
    judge "$name" "$status" "$text"
}

# wait_for CONDITION: polls a shell condition (evaluated) for up to 20 s.
wait_for() {
    i=0
    while [ $i -lt 2000 ]; do
        if eval "$1"; then return 0; fi
        sleep 0.01
        i=$((i + 1))
    done
    return 1
}

# whole_run DIR CONFIGS STEPS: every configuration ok in summary.csv, and
# steps.csv holds each (configuration, step, region) exactly once, STEPS x 8
# rows per configuration, each line complete.
whole_run() {
    ok=$(awk -F, 'NR > 1 && $0 ~ /,ok,/' "$1/summary.csv" | wc -l)
    rows=$(($(wc -l <"$1/steps.csv") - 1))
    dups=$(awk -F, 'NR > 1 { print $1, $8, $9 }' "$1/steps.csv" | sort | uniq -d | wc -l)
    short=$(awk -F, 'NR == 1 { n = NF } NF != n' "$1/steps.csv" | wc -l)
    [ "$ok" -eq "$2" ] && [ "$rows" -eq $(($2 * $3 * 8)) ] && [ "$dups" -eq 0 ] &&
        [ "$short" -eq 0 ] && [ -z "$(tail -c 1 "$1/steps.csv")" ]
}

# The sweeps of the main cases: four configurations of $1 steps each. The
# cases need a writer still at work when they act, so where a machine is
# fast enough to finish first they try again with ten times the steps.
configs=4
sweep_of() {
    echo "--impl seq --batch 40 --filters 4,8,12,16 --steps $1 --warmup 0 --data $data"
}

# make_base DIR: an interrupted run, Ctrl-C once one configuration is done;
# sets $base_steps.
make_base() {
    wdir=$1
    for base_steps in 200 2000 20000; do
        rm -rf "$wdir"
        # shellcheck disable=SC2046
        "$cnnbench" sweep $(sweep_of $base_steps) --out "$wdir" >/dev/null 2>&1 &
        pid=$!
        bg_pids="$bg_pids $pid"
        # shellcheck disable=SC2016
        wait_for '[ -f "$wdir/summary.csv" ] && [ "$(wc -l <"$wdir/summary.csv")" -ge 2 ]'
        kill -INT "$pid"
        wait "$pid"
        if grep -q '"state": "interrupted"' "$wdir/meta.json" 2>/dev/null; then return 0; fi
    done
    echo "no interrupted run could be made"
    exit 99
}

# start_writer DIR: a sweep writing DIR, stopped (SIGSTOP) while it holds
# the run's lock; sets $writer and $writer_steps.
start_writer() {
    wdir=$1
    for writer_steps in 200 2000 20000; do
        rm -rf "$wdir"
        # shellcheck disable=SC2046
        "$cnnbench" sweep $(sweep_of $writer_steps) --out "$wdir" >/dev/null 2>&1 &
        writer=$!
        bg_pids="$bg_pids $writer"
        # shellcheck disable=SC2016
        wait_for '[ -f "$wdir/meta.json" ]'
        kill -STOP "$writer"
        # the writer removes .lock as it ends: while the file is there, so is it
        if [ -f "$wdir/.lock" ]; then return 0; fi
        kill -KILL "$writer"
        kill -CONT "$writer"
        wait "$writer"
    done
    return 1
}

main_cases() {
    base=$scratch/base
    make_base "$base"
    key1=seq:v0:t0:b40:f4:s$base_steps:r1

    echo "concurrent writers:"
    run=$scratch/busy
    start_writer "$run"
    check $? "a sweep is caught at work, holding $run/.lock"
    # stopped, the writer keeps its lock, and its files stay still while
    # the second writer is judged
    expect "resume beside a running sweep" 1 "pid $writer on host $host" "$run" "$data" -- \
        sweep --resume "$run"
    # shellcheck disable=SC2046
    expect "sweep --out into a run being written" 1 "pid $writer on host $host" "$run" "$data" \
        -- sweep $(sweep_of "$writer_steps") --out "$run"
    kill -CONT "$writer"
    rc=0
    wait "$writer" || rc=$?
    [ "$rc" -eq 0 ]
    check $? "the first sweep ends ok (exit $rc)"
    whole_run "$run" $configs "$writer_steps"
    check $? "the first sweep kept every row: $configs x $writer_steps steps x 8 regions, each once"
    grep -q '"state": "complete"' "$run/meta.json"
    check $? "meta.json says complete"
    [ ! -e "$run/.lock" ]
    check $? "the lock file is gone once the writer ends"

    run=$scratch/resume2
    cp -R "$base" "$run"
    "$cnnbench" sweep --resume "$run" >/dev/null 2>"$scratch/first.err" &
    first=$!
    bg_pids="$bg_pids $first"
    # shellcheck disable=SC2016
    wait_for 'grep -q "pid $first" "$run/.lock" 2>/dev/null'
    kill -STOP "$first"
    grep -q "pid $first" "$run/.lock" 2>/dev/null
    check $? "two resumes: the first is caught at work, holding the lock"
    expect "two resumes: the second" 1 "pid $first on host $host" "$run" "$data" -- \
        sweep --resume "$run"
    kill -CONT "$first"
    rc=0
    wait "$first" || rc=$?
    [ "$rc" -eq 0 ]
    check $? "two resumes: the first ends ok (exit $rc)"
    whole_run "$run" $configs "$base_steps"
    check $? "two resumes: every row once after the first"

    # started together: one takes the lock, the other is refused at once.
    # Where the second starts only after the first has ended (a very busy
    # machine), it finds nothing left to run, which is right too.
    run=$scratch/race
    cp -R "$base" "$run"
    timeout "$limit" "$cnnbench" sweep --resume "$run" >"$scratch/race1.out" \
        2>"$scratch/race1.err" &
    a=$!
    timeout "$limit" "$cnnbench" sweep --resume "$run" >"$scratch/race2.out" \
        2>"$scratch/race2.err" &
    b=$!
    bg_pids="$bg_pids $a $b"
    ra=0
    wait "$a" || ra=$?
    rb=0
    wait "$b" || rb=$?
    if [ "$ra" -eq 0 ] && [ "$rb" -eq 0 ]; then
        cat "$scratch/race1.out" "$scratch/race2.out" | grep -q ": 0 configurations left"
        check $? "two resumes at once: ran one after the other, the second with nothing left"
    else
        [ $((ra + rb)) -eq 1 ]
        check $? "two resumes at once: one exits 0, the other 1 (got $ra and $rb)"
        cat "$scratch/race1.err" "$scratch/race2.err" | grep '^cnnbench: error: ' |
            grep -qF "is being written by another cnnbench (pid"
        check $? "two resumes at once: the one refused names the writer"
    fi
    whole_run "$run" $configs "$base_steps"
    check $? "two resumes at once: every row once"

    echo "resume with other data, plan or build:"
    run=$scratch/data-changed
    cp -R "$base" "$run"
    fp=$(sed -n 's/.*"fnv1a64": "\([0-9a-f]*\)".*/\1/p' "$run/meta.json")
    mv "$data" "$data.orig"
    mkdir "$data" && "$make_idx" "$data" 300 50 >/dev/null || exit 99
    expect "resume with another data set" 1 "fingerprint (fnv1a64) is $fp" "$run" "$data" -- \
        sweep --resume "$run"
    rm -rf "$data"
    mv "$data.orig" "$data"

    run=$scratch/plan-changed
    cp -R "$base" "$run"
    sed "s/^\\( *\\)\"$base_steps\",\$/\\1\"$((base_steps + 1))\",/" "$base/meta.json" \
        >"$run/meta.json"
    expect "resume with another plan (meta.json's --steps edited)" 1 \
        "the plan differs: the run planned 4 configurations" "$run" "$data" -- \
        sweep --resume "$run"

    run=$scratch/compiler-changed
    cp -R "$base" "$run"
    sed 's/"c_compiler": "[^"]*"/"c_compiler": "cc 0.1-other"/' "$base/meta.json" \
        >"$run/meta.json"
    expect "resume by another compiler" 1 "build.c_compiler is 'cc 0.1-other'" "$run" "$data" -- \
        sweep --resume "$run"

    run=$scratch/backends-changed
    cp -R "$base" "$run"
    sed -e 's/"openmp": true/"openmp": BUILT/' -e 's/"openmp": false/"openmp": true/' \
        -e 's/"openmp": BUILT/"openmp": false/' "$base/meta.json" >"$run/meta.json"
    expect "resume by a build with other backends" 1 "build.openmp" "$run" "$data" -- \
        sweep --resume "$run"

    run=$scratch/moved
    cp -R "$base" "$run"
    mv "$data" "$data.moved"
    expect "resume after the data directory moved" 1 "$data" "$run" "$data.moved" -- \
        sweep --resume "$run"
    mv "$data.moved" "$data"

    echo "damaged files:"
    run=$scratch/nul
    cp -R "$base" "$run"
    offset=$(($(wc -c <"$run/steps.csv") / 2))
    printf '\0' | dd of="$run/steps.csv" bs=1 seek=$offset conv=notrunc 2>/dev/null
    expect "a NUL byte in steps.csv" 1 "steps.csv: a NUL byte at byte offset $offset" \
        "$run" "$data" -- sweep --resume "$run"

    run=$scratch/bad-line
    cp -R "$base" "$run"
    offset=$(head -n 3 "$base/steps.csv" | wc -c)
    { head -n 3 "$base/steps.csv"; echo "$key1,seq,0"
      tail -n +4 "$base/steps.csv"; } >"$run/steps.csv"
    expect "a short line inside steps.csv" 1 "steps.csv: line 4 (byte offset $offset)" \
        "$run" "$data" -- sweep --resume "$run"

    run=$scratch/rows-missing
    cp -R "$base" "$run"
    key=$(awk -F, 'NR > 1 && /,ok,/ { print $1; exit }' "$base/summary.csv")
    grep -v "^$key," "$base/steps.csv" >"$run/steps.csv"
    expect "steps.csv lost the rows summary.csv counts" 1 "timed steps of $key" \
        "$run" "$data" -- sweep --resume "$run"

    run=$scratch/foreign
    cp -R "$base" "$run"
    foreign=omp:v0:t1:b40:f4:s$base_steps:r1
    sed -n 2p "$base/steps.csv" | sed "s/^$key1,/$foreign,/" >>"$run/steps.csv"
    expect "a row of a configuration the plan lacks" 1 \
        "'$foreign', which is not in this run's plan" "$run" "$data" -- sweep --resume "$run"

    # the documented exception: a last line cut off by a crash is dropped
    run=$scratch/torn
    cp -R "$base" "$run"
    printf '%s,seq,0,0,40' "$key1" >>"$run/steps.csv"
    expect "a last line without newline" 0 "" "$data" -- sweep --resume "$run"
    whole_run "$run" $configs "$base_steps"
    check $? "a last line without newline: dropped, every row once after the resume"

    echo "default run ids:"
    # two sweeps started together; tried again if they straddled a second
    ids=$scratch/ids
    try=0
    while [ $try -lt 3 ]; do
        rm -rf "$ids"
        mkdir -p "$ids"
        snapshot "$data" >"$scratch/before"
        (cd "$ids" && timeout "$limit" "$cnnbench" sweep --impl seq --batch 20 --filters 4 \
            --steps 20 --data "$data" >/dev/null 2>"$scratch/id1.err") &
        a=$!
        (cd "$ids" && timeout "$limit" "$cnnbench" sweep --impl seq --batch 20 --filters 4 \
            --steps 20 --data "$data" >/dev/null 2>"$scratch/id2.err") &
        b=$!
        ra=0
        wait "$a" || ra=$?
        rb=0
        wait "$b" || rb=$?
        snapshot "$data" >"$scratch/after"
        # shellcheck disable=SC2046 # run ids have no blanks
        set -- $(ls "$ids/results" 2>/dev/null)
        if [ $# -ne 2 ] || [ "$(echo "$1" | cut -c 1-15)" = "$(echo "$2" | cut -c 1-15)" ]; then
            break
        fi
        try=$((try + 1))
    done
    cat "$scratch/id1.err" "$scratch/id2.err" >"$scratch/err"
    rc=$((ra > rb ? ra : rb))
    judge "two sweeps in the same second with default ids" 0 ""
    [ $# -eq 2 ] && [ "$1" != "$2" ]
    check $? "two sweeps in the same second: two run directories ($*)"
    [ $# -eq 2 ] && whole_run "$ids/results/$1" 1 20 && whole_run "$ids/results/$2" 1 20
    check $? "two sweeps in the same second: each run whole"
}

disk_full_cases() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP: the disk-full cases mount tmpfs file systems, which needs root"
        exit 77
    fi
    mkdir -p "$mnt"
    if ! mount -t tmpfs -o size=16k tmpfs "$mnt" 2>"$scratch/mount.err"; then
        echo "SKIP: cannot mount a tmpfs: $(cat "$scratch/mount.err")"
        rmdir "$mnt"
        exit 77
    fi
    echo "some earlier result" >"$mnt/earlier.txt"
    small="--impl seq --batch 20 --filters 4 --warmup 0 --data $data"

    echo "disk full while the run directory is created:"
    # shellcheck disable=SC2086
    expect "sweep into a 16 KiB file system" 1 "No space left on device" "$mnt" -- \
        sweep $small --steps 20 --out "$mnt/run"
    grep '^cnnbench: error: ' "$scratch/err" | grep -qF "$mnt/run: not created"
    check $? "the error names the run directory that was not created"
    mount -o remount,size=4m "$mnt"
    # shellcheck disable=SC2086
    expect "the same command with room" 0 "" "$data" "$mnt/earlier.txt" -- \
        sweep $small --steps 20 --out "$mnt/run"
    rm -rf "$mnt/run"

    echo "disk full during the run:"
    # s20 fits with its showcase files; s2000 writes about 1.2 MB of rows
    mount -o remount,size=256k "$mnt"
    # shellcheck disable=SC2086
    expect "steps.csv fills the disk" 1 "steps.csv: write failed: No space left on device" \
        "$data" "$mnt/earlier.txt" -- sweep $small --steps 20,2000 --out "$mnt/run"
    first=$(grep '^cnnbench: error: ' "$scratch/err" | head -n 1 | sed 's/No space left.*//')
    case $first in
        *meta.json*) false ;;
        *steps.csv*) true ;;
        *) false ;;
    esac
    check $? "the first failure leads the error, not meta.json's"
    awk -F, 'NR == 1 { n = NF } NF != n { bad = 1 } END { exit bad || NR != 2 }' \
        "$mnt/run/summary.csv"
    check $? "summary.csv is whole and lists the configuration that finished"

    expect "resume on the full disk" 1 "No space left on device" "$mnt" -- \
        sweep --resume "$mnt/run"

    mount -o remount,size=8m "$mnt"
    expect "resume once there is room" 0 "" "$data" "$mnt/earlier.txt" -- \
        sweep --resume "$mnt/run"
    ok=$(awk -F, 'NR > 1 && /,ok,/' "$mnt/run/summary.csv" | wc -l)
    rows=$(($(wc -l <"$mnt/run/steps.csv") - 1))
    dups=$(awk -F, 'NR > 1 { print $1, $8, $9 }' "$mnt/run/steps.csv" | sort | uniq -d | wc -l)
    [ "$ok" -eq 2 ] && [ "$rows" -eq $(((20 + 2000) * 8)) ] && [ "$dups" -eq 0 ]
    check $? "after the resume: both configurations ok, every row once ($rows rows)"
}

case $group in
    main) main_cases ;;
    disk-full) disk_full_cases ;;
    *) echo "unknown group '$group' (main or disk-full)" >&2; exit 2 ;;
esac
finish
