# tests/common/check.sh — the shell tests' counterpart of check.h, sourced by
# each test script: a scratch directory removed at exit, named checks
# counted into a closing "NAME: N passed, N failed" line, and the exit
# status that follows from it. Runs under any POSIX sh.
test_name=$(basename "$0" .sh)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/cnnbench-$test_name.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
passed=0
failed=0

# check STATUS DESCRIPTION: STATUS is a shell status, 0 for a pass.
check() {
    if [ "$1" -eq 0 ]; then
        passed=$((passed + 1))
        echo "  ok    $2"
    else
        failed=$((failed + 1))
        echo "  FAIL  $2"
    fi
}

finish() {
    echo "$test_name: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}
