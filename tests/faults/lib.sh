# tests/faults/lib.sh — what every fault test shares, sourced by each one.
# Its caller gets $1 = the cnnbench binary, $2 = the make_idx data set
# writer (tests/harness), $3 = the IDX corpus (tests/fuzz/corpus), a
# scratch directory removed at exit, named checks counted into a closing
# "N passed, N failed" line, and helpers that run cnnbench and judge how it
# failed. Runs under any POSIX sh.
set -u

if [ $# -lt 3 ]; then
    echo "usage: $0 CNNBENCH MAKE_IDX CORPUS" >&2
    exit 2
fi
cnnbench=$1
make_idx=$2
corpus=$3
. "$(dirname "$0")/../common/check.sh"

# run ARGS...: runs cnnbench with ARGS; sets $rc, and leaves its output in
# $scratch/out and $scratch/err. A watchdog stops a run that hangs.
run() {
    rc=0
    timeout 120 "$cnnbench" "$@" > "$scratch/out" 2> "$scratch/err" || rc=$?
}

# Prints what the last run said, so a failing check can be understood.
show_run() {
    echo "    exit status $rc; stderr:"
    sed 's/^/    | /' "$scratch/err" | head -n 20
}

# expect_error WHAT STATUS TEXT: the last run exited with STATUS, printed one
# "cnnbench: error: " line that contains TEXT (fixed string), and no
# sanitizer or crash report.
expect_error() {
    ok=0
    [ "$rc" -eq "$2" ] || ok=1
    grep -q '^cnnbench: error: ' "$scratch/err" || ok=1
    grep -qF -- "$3" "$scratch/err" || ok=1
    if grep -qE 'Sanitizer|runtime error:|Segmentation fault|core dumped' "$scratch/err"; then
        ok=1
    fi
    check $ok "$1: exit $2, error names '$3'"
    [ $ok -eq 0 ] || show_run
}

# A tiny synthetic data set (200 train, 50 test images) in $scratch/data.
make_data() {
    mkdir -p "$scratch/data" && "$make_idx" "$scratch/data" 200 50 || exit 99
}

# csv_field FILE KEY COLUMN: the COLUMN (a header name) of the row whose
# first field is KEY; nothing if either is missing.
csv_field() {
    awk -F, -v key="$2" -v col="$3" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
        c && $1 == key { print $c; exit }' "$1"
}

# backend_runs NAME: true if `cnnbench list` says backend NAME runs here.
backend_runs() {
    "$cnnbench" list 2>/dev/null | awk -v name="$1" '
        /^[a-z]/ { c = ($1 == name) }
        c && /runs here: yes/ { ok = 1 }
        END { exit !ok }'
}

# config_key FILE PATTERN: the first key (first field) in FILE, a CSV with
# a header, that matches the awk pattern PATTERN.
config_key() {
    awk -F, -v pat="$2" 'NR > 1 && $1 ~ pat { print $1; exit }' "$1"
}
