/*
 * hash.h — the harness's one non-cryptographic hash, 64-bit FNV-1a: the
 * data set's fingerprint (meta.json data.fnv1a64), the plan's key set, and
 * compare's per-configuration bootstrap seed. Chained calls hash the
 * concatenation, so a value can be built from several buffers.
 */
#ifndef BENCH_HASH_H
#define BENCH_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV1A64_BASIS 0xcbf29ce484222325ull

/* h continued over p[0..n). */
uint64_t hash_fnv1a64(uint64_t h, const void *p, size_t n);
/* FNV-1a of a NUL-terminated string, from the basis. */
uint64_t hash_fnv1a64_str(const char *s);

#endif
