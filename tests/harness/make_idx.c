/*
 * make_idx.c — writes a tiny synthetic data set in the four standard IDX
 * files, so the harness tests never need the network or the real digits.
 *
 * Usage: make_idx DIR TRAIN_COUNT TEST_COUNT
 * Pixels are pseudo-random but depend on the label (a bright bar whose row
 * is the label), so a few steps of training already lower the loss.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { IMG = 28 };

static uint32_t lcg_state = 12345u;

static uint32_t lcg_next(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state >> 8;
}

static void put_be32(FILE *fp, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    fwrite(b, 1, 4, fp);
}

static int write_split(const char *dir, const char *prefix, uint32_t n)
{
    char ipath[4096], lpath[4096];
    snprintf(ipath, sizeof ipath, "%s/%s-images-idx3-ubyte", dir, prefix);
    snprintf(lpath, sizeof lpath, "%s/%s-labels-idx1-ubyte", dir, prefix);
    FILE *fi = fopen(ipath, "wb"), *fl = fopen(lpath, "wb");
    if (!fi || !fl) {
        perror(fi ? lpath : ipath);
        return 1;
    }
    put_be32(fi, 0x00000803);
    put_be32(fi, n);
    put_be32(fi, IMG);
    put_be32(fi, IMG);
    put_be32(fl, 0x00000801);
    put_be32(fl, n);
    for (uint32_t k = 0; k < n; k++) {
        unsigned char label = (unsigned char)(lcg_next() % 10);
        fputc(label, fl);
        for (int i = 0; i < IMG; i++)
            for (int j = 0; j < IMG; j++) {
                int bar = i >= 3 + 2 * label && i < 5 + 2 * label && j > 4 && j < 24;
                fputc(bar ? 200 + (int)(lcg_next() % 56) : (int)(lcg_next() % 40), fi);
            }
    }
    int bad = ferror(fi) || ferror(fl);
    bad |= fclose(fi) != 0;
    bad |= fclose(fl) != 0;
    if (bad)
        fprintf(stderr, "make_idx: write failed in %s\n", dir);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: make_idx DIR TRAIN_COUNT TEST_COUNT\n");
        return 2;
    }
    long train = atol(argv[2]), test = atol(argv[3]);
    if (train < 1 || test < 1) {
        fprintf(stderr, "make_idx: counts must be positive\n");
        return 2;
    }
    return write_split(argv[1], "train", (uint32_t)train) ||
           write_split(argv[1], "t10k", (uint32_t)test);
}
