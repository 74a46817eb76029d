#!/bin/sh
# tests/faults/missing_data.sh — a missing data set names the command that
# fetches it, and a broken one names the file and the problem (docs/DESIGN.md §5),
# end to end through the command line: exit 1, one error line, no crash.
. "$(dirname "$0")/lib.sh"

make_data
tiny="--impl seq --batch 20 --filters 4 --steps 1"

echo "missing MNIST:"
CNNBENCH_DATA="$scratch/nowhere" run train $tiny --data mnist
expect_error "train --data mnist, none fetched" 1 "datasets/fetch-mnist.sh"
CNNBENCH_DATA="$scratch/nowhere" run sweep $tiny --data mnist --out "$scratch/run"
expect_error "sweep --data mnist, none fetched" 1 "datasets/fetch-mnist.sh"
[ ! -e "$scratch/run" ]
check $? "the failed sweep left no run directory behind, so a rerun can use the same --out"

if [ -d /usr/share/datasets/fashion-mnist ]; then
    echo "missing Fashion-MNIST: not testable here, dataset-fashion-mnist is installed"
else
    echo "missing Fashion-MNIST:"
    run train $tiny --data fashion
    expect_error "train --data fashion, not installed" 1 "apt-get install dataset-fashion-mnist"
fi

echo "directories that are not data sets:"
run train $tiny --data "$scratch/no-such-dir"
expect_error "train --data MISSING_DIR" 1 "$scratch/no-such-dir"
mkdir "$scratch/empty"
run train $tiny --data "$scratch/empty"
expect_error "train --data EMPTY_DIR" 1 "$scratch/empty/train-images-idx3-ubyte: not found"
cp -r "$scratch/data" "$scratch/no-test-labels"
rm "$scratch/no-test-labels/t10k-labels-idx1-ubyte"
run train $tiny --data "$scratch/no-test-labels"
expect_error "train --data without the test labels" 1 "t10k-labels-idx1-ubyte: not found"

# broken_set NAME FILE SOURCE GZ TEXT: the tiny set with FILE replaced by
# SOURCE (stored as FILE.gz when GZ is not empty) must fail naming FILE and
# TEXT.
broken_set() {
    rm -rf "$scratch/broken"
    cp -r "$scratch/data" "$scratch/broken"
    rm -f "$scratch/broken/$2"
    cp "$3" "$scratch/broken/$2${4:+.gz}"
    run train $tiny --data "$scratch/broken"
    expect_error "$1" 1 "$5"
    grep -qF "$2" "$scratch/err"
    check $? "$1: the message names $2"
}

echo "broken data sets:"
broken_set "bad magic" train-images-idx3-ubyte "$corpus/bad-magic.idx" "" "bad magic number"
broken_set "labels as images" train-images-idx3-ubyte "$corpus/ok-labels-10.idx" "" \
    "wrong number of dimensions"
broken_set "truncated images" t10k-images-idx3-ubyte "$corpus/bad-truncated-payload.idx" "" \
    "truncated"
broken_set "huge count" train-images-idx3-ubyte "$corpus/bad-huge-count-images.idx" "" \
    "truncated"
broken_set "size overflow" train-images-idx3-ubyte "$corpus/bad-overflow-3x4G.idx" "" \
    "size overflow"
broken_set "label 10" train-labels-idx1-ubyte "$corpus/bad-label-10.idx" "" "out of range 0..9"
broken_set "count mismatch" t10k-labels-idx1-ubyte "$corpus/ok-labels-10.idx" "" \
    "counts disagree"
broken_set "corrupt gzip" train-images-idx3-ubyte "$corpus/bad-gzip-corrupt.gz" gz \
    "corrupt gzip stream"
broken_set "truncated gzip" train-labels-idx1-ubyte "$corpus/bad-gzip-truncated.gz" gz \
    "truncated gzip stream"

finish
