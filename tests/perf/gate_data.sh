#!/bin/sh
# tests/perf/gate_data.sh — writes the tiny synthetic MNIST-format data set
# the performance gates train on, so they need no network and no download:
#
#   gate_data.sh DIR NTRAIN NTEST
#
# Image i is a bright disc of radius sqrt(40 + 10 (i mod 7)) around the
# centre over sparse dim speckle, every pixel drawn from a Park-Miller
# generator (16807 x mod 2^31-1, exact in awk's doubles), so the conv,
# ReLU and pooling see varied values and ties. Labels cycle 0..9. The bytes
# depend only on the arguments: instruction counts measured on them are
# reproducible. GATE_DATA_VERSION names this recipe in the gate's baseline
# key; change it whenever the bytes change.
set -eu

GATE_DATA_VERSION=1

if [ $# -eq 1 ] && [ "$1" = "--version" ]; then
    echo "$GATE_DATA_VERSION"
    exit 0
fi
if [ $# -ne 3 ]; then
    echo "usage: $0 DIR NTRAIN NTEST   (or --version)" >&2
    exit 2
fi
dir=$1
mkdir -p "$dir"

# write FILE N KIND SALT: N images or labels in IDX format.
write() {
    LC_ALL=C awk -v n="$2" -v kind="$3" -v salt="$4" '
        function be32(v) {
            printf "%c%c%c%c", int(v / 16777216) % 256, int(v / 65536) % 256,
                int(v / 256) % 256, v % 256
        }
        BEGIN {
            if (kind == "images") {
                printf "%c%c%c%c", 0, 0, 8, 3
                be32(n); be32(28); be32(28)
                x = 12345 + salt
                for (i = 0; i < n; i++)
                    for (r = 0; r < 28; r++)
                        for (c = 0; c < 28; c++) {
                            x = (16807 * x) % 2147483647
                            d = (r - 14) * (r - 14) + (c - 14) * (c - 14)
                            if (d < 40 + 10 * (i % 7))
                                v = 128 + x % 128
                            else
                                v = (x % 4 == 0) ? x % 64 : 0
                            printf "%c", v
                        }
            } else {
                printf "%c%c%c%c", 0, 0, 8, 1
                be32(n)
                for (i = 0; i < n; i++)
                    printf "%c", (7 * i + salt) % 10
            }
        }' > "$1.tmp"
    mv "$1.tmp" "$1"
}

write "$dir/train-images-idx3-ubyte" "$2" images 0
write "$dir/train-labels-idx1-ubyte" "$2" labels 0
write "$dir/t10k-images-idx3-ubyte" "$3" images 1
write "$dir/t10k-labels-idx1-ubyte" "$3" labels 1
