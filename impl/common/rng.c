/* rng.c — xoshiro256** (Blackman & Vigna), written from the published algorithm. */
#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void cnn_rng_seed(struct cnn_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t cnn_rng_next(struct cnn_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t cnn_rng_below(struct cnn_rng *r, uint64_t n)
{
    /* rejection sampling: draw until the value falls in the largest
     * multiple of n, so every residue is equally likely */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do {
        v = cnn_rng_next(r);
    } while (v >= limit);
    return v % n;
}

double cnn_rng_uniform(struct cnn_rng *r)
{
    return (double)(cnn_rng_next(r) >> 11) * 0x1.0p-53;
}

double cnn_rng_normal(struct cnn_rng *r)
{
    /* 1 - u lies in (0, 1], so the log is finite */
    double u1 = 1.0 - cnn_rng_uniform(r);
    double u2 = cnn_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void cnn_rng_shuffle(struct cnn_rng *r, uint32_t *idx, uint32_t n)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = (uint32_t)cnn_rng_below(r, i);
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
