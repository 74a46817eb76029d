/*
 * batch_share.h — how n items split over N ranks: rank r takes a contiguous
 * share, n / N items, and the first n % N ranks one more, so n need not
 * divide by N and no two shares differ by more than one. The split depends
 * only on (n, N, r), which is what makes a data-parallel run reproducible.
 * One definition for the images of a batch over data-parallel ranks and
 * for the elements of a buffer over the ranks that sum it; pure, no MPI.
 */
#ifndef CNN_BATCH_SHARE_H
#define CNN_BATCH_SHARE_H

#include <stddef.h>

/* Rank r's share of n items: items [offset, offset + count). */
struct cnn_share {
    size_t offset;
    size_t count;
};

/* Needs ranks >= 1 and 0 <= rank < ranks; count is 0 for the ranks beyond n. */
static inline struct cnn_share cnn_share_of(size_t n, int ranks, int rank)
{
    size_t N = (size_t)ranks, r = (size_t)rank;
    size_t base = n / N, extra = n % N;
    struct cnn_share s = {r * base + (r < extra ? r : extra), base + (r < extra)};
    return s;
}

#endif
