# tests/common/check.sh — the shell tests' counterpart of check.h, sourced by
# each test script: a scratch directory removed at exit, named checks
# counted into a closing "NAME: N passed, N failed" line, and the exit
# status that follows from it. Runs under any POSIX sh.
test_name=$(basename "$0" .sh)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/cnnbench-$test_name.XXXXXX")
exit_commands=
trap 'eval "$exit_commands"; rm -rf "$scratch"' EXIT
passed=0
failed=0

# on_exit COMMAND: runs COMMAND (shell text) at exit, before the scratch
# directory is removed: to stop a background process that writes there,
# say. Commands run in the order given.
on_exit() {
    exit_commands="$exit_commands $1;"
}

# check STATUS DESCRIPTION [SEEN]: STATUS is a shell status, 0 for a pass.
# SEEN, what the test saw instead, is printed under a failure.
check() {
    if [ "$1" -eq 0 ]; then
        passed=$((passed + 1))
        echo "  ok    $2"
    else
        failed=$((failed + 1))
        echo "  FAIL  $2"
        if [ -n "${3:-}" ]; then
            printf '%s\n' "$3" | head -n 20 | sed 's/^/    | /'
        fi
    fi
}

# pass DESCRIPTION, fail DESCRIPTION: a check the caller has judged itself.
pass() {
    check 0 "$*"
}

fail() {
    check 1 "$*"
}

finish() {
    echo "$test_name: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

# fatal DESCRIPTION: a failed check after which the test cannot go on (its
# input could not be made, say): counted, then finish.
fatal() {
    fail "$*"
    finish
}
