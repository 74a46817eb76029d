/* hash.c — 64-bit FNV-1a (hash.h). */
#include "hash.h"

#include <string.h>

uint64_t hash_fnv1a64(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

uint64_t hash_fnv1a64_str(const char *s)
{
    return hash_fnv1a64(HASH_FNV1A64_BASIS, s, strlen(s));
}
