#!/bin/sh
# tests/fuzz/make_corpus.sh — writes the fuzz seed corpus for the IDX
# reader, byte by byte, with no help from the code under test:
#
#   make_corpus.sh [DIR]    (default: the corpus/ directory beside it)
#
# The corpus holds valid files (the fuzzer learns the format from them) and
# one file per way the reader must reject input (docs/DESIGN.md §5); the fault tests
# plant some of them in data sets. It is committed: rerun this script after
# changing it. Files named crash-* in corpus/ are inputs a fuzzer once
# crashed on: they are kept by hand, never regenerated, and replayed by the
# fuzz-idx-corpus test.
set -eu

# The 4 bytes of $1 in big-endian order, as IDX stores every size.
be32() {
    for shift in 24 16 8 0; do
        printf "\\$(printf '%03o' $(( ($1 >> shift) & 255 )))"
    done
}

# One byte of value $1.
byte() {
    printf "\\$(printf '%03o' $(( $1 & 255 )))"
}

# $1 bytes, all of value $2.
fill() {
    head -c "$1" /dev/zero | tr '\000' "\\$(printf '%03o' $(( $2 & 255 )))"
}

# Images header: magic 2051 (unsigned bytes, 3 dims), then N, rows, cols.
images_header() {
    printf '\000\000\010\003'; be32 "$1"; be32 "$2"; be32 "$3"
}

# Labels header: magic 2049 (unsigned bytes, 1 dim), then N.
labels_header() {
    printf '\000\000\010\001'; be32 "$1"
}

# N 28x28 images, image i filled with (37 i + 11) mod 256 so they differ.
images() {
    images_header "$1" 28 28
    i=0
    while [ "$i" -lt "$1" ]; do
        fill 784 $(( 37 * i + 11 ))
        i=$(( i + 1 ))
    done
}

# N labels cycling through 0..9.
labels() {
    labels_header "$1"
    i=0
    while [ "$i" -lt "$1" ]; do
        byte $(( i % 10 ))
        i=$(( i + 1 ))
    done
}

make_corpus() {
    d=$1
    mkdir -p "$d"
    # regenerate only what this script owns: crash-* files stay
    find "$d" -maxdepth 1 -type f \( -name 'ok-*' -o -name 'bad-*' \) -delete

    # valid files, raw and gzip (gzip -n: no name or time, so reruns match)
    images 1 > "$d/ok-images-1.idx"
    images 3 > "$d/ok-images-3.idx"
    labels 1 > "$d/ok-labels-1.idx"
    labels 10 > "$d/ok-labels-10.idx"
    images 2 | gzip -9n > "$d/ok-images-2.idx.gz"
    labels 10 | gzip -9n > "$d/ok-labels-10.idx.gz"
    # two gzip members in a row are one stream to zlib
    { images_header 2 28 28; fill 784 1; } | gzip -9n > "$d/ok-images-2-members.gz"
    fill 784 2 | gzip -9n >> "$d/ok-images-2-members.gz"

    # the magic number and element type
    : > "$d/bad-empty.idx"
    printf '\000\000\010' > "$d/bad-short-magic.idx"
    { printf '\001\000\010\003'; be32 1; be32 28; be32 28; fill 784 0; } > "$d/bad-magic.idx"
    printf '\037\213' > "$d/bad-gzip-magic-only.gz"
    { printf '\000\000\011\003'; be32 1; be32 28; be32 28; fill 784 0; } > "$d/bad-type-signed.idx"
    { printf '\000\000\010\000'; } > "$d/bad-ndim-0.idx"
    { printf '\000\000\010\377'; be32 1; } > "$d/bad-ndim-255.idx"
    { printf '\000\000\010\002'; be32 1; be32 784; fill 784 0; } > "$d/bad-ndim-2.idx"

    # dimensions against the data length
    { printf '\000\000\010\003'; be32 1; be32 28; } > "$d/bad-truncated-header.idx"
    { images_header 2 28 28; fill 784 5; } > "$d/bad-truncated-payload.idx"
    { images 1; printf 'extra'; } > "$d/bad-trailing-bytes.idx"
    { labels 3; printf '\000'; } > "$d/bad-labels-trailing.idx"
    labels_header 5 > "$d/bad-labels-no-payload.idx"
    images_header 0 28 28 > "$d/bad-images-zero.idx"
    labels_header 0 > "$d/bad-labels-zero.idx"
    { images_header 1 32 28; fill 896 0; } > "$d/bad-rows-32.idx"
    { images_header 1 28 27; fill 756 0; } > "$d/bad-cols-27.idx"
    { images_header 3 0 28; } > "$d/bad-rows-0.idx"

    # headers that claim huge sizes must fail before any allocation
    images_header 4294967295 4294967295 4294967295 > "$d/bad-overflow-3x4G.idx"
    { images_header 4294967295 28 28; fill 784 9; } > "$d/bad-huge-count-images.idx"
    { labels_header 4294967295; labels 10; } > "$d/bad-huge-count-labels.idx"
    { images_header 65536 65536 65536; fill 784 9; } > "$d/bad-huge-product.idx"

    # labels outside 0..9
    { labels_header 4; printf '\000\001\012\002'; } > "$d/bad-label-10.idx"
    { labels_header 1; printf '\377'; } > "$d/bad-label-255.idx"

    # gzip streams: truncated, corrupt, with junk after, wrapping bad IDX,
    # and one that inflates to 3 MiB (the read buffer must grow)
    images 2 | gzip -9n > "$d/.whole.gz"
    head -c $(( $(wc -c < "$d/.whole.gz") / 2 )) "$d/.whole.gz" > "$d/bad-gzip-truncated.gz"
    cp "$d/.whole.gz" "$d/bad-gzip-corrupt.gz"
    printf '\377\377\377' | dd of="$d/bad-gzip-corrupt.gz" bs=1 seek=20 conv=notrunc 2>/dev/null
    { cat "$d/.whole.gz"; printf 'junk'; } > "$d/bad-gzip-trailing-junk.gz"
    rm -f "$d/.whole.gz"
    gzip -9n < "$d/bad-magic.idx" > "$d/bad-gzip-of-bad-magic.gz"
    gzip -9n < "$d/bad-label-10.idx" > "$d/bad-gzip-of-bad-label.gz"
    head -c 3145728 /dev/zero | gzip -9n > "$d/bad-gzip-3MiB-zeros.gz"
}

make_corpus "${1:-$(dirname "$0")/corpus}"
