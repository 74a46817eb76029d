/*
 * omp_vec.h — the SIMD boundary of the omp backend: a vector of 16 floats
 * (one filter block) and the few operations the kernels need. With
 * AVX-512 each operation is one intrinsic; otherwise the GNU vector
 * extension lowers the same code to whatever the target has (two AVX2
 * registers, four SSE registers), so -Dnative=false builds (valgrind, which
 * cannot decode AVX-512) compile and compute the same function.
 *
 * Rounding: ovec_add and ovec_mul round once each, exactly like scalar C
 * built with -ffp-contract=off, so code written with them reproduces seq's
 * bits. ovec_fma rounds once where the ISA has FMA and is a separate
 * multiply and add where it does not; either way one build gives the same
 * bits for every thread count.
 */
#ifndef CNN_OMP_VEC_H
#define CNN_OMP_VEC_H

#include <stdint.h>
#include <string.h>

enum { OVEC_LANES = 16 };

#define OVEC_INLINE static inline __attribute__((always_inline))

#if defined(__AVX512F__)
#include <immintrin.h>

typedef __m512 ovec;         /* 16 floats */
typedef __m512i ovec_i;      /* 16 int32 */
typedef __mmask16 ovec_mask; /* one bit per lane */

OVEC_INLINE ovec ovec_load(const float *p) { return _mm512_loadu_ps(p); }
OVEC_INLINE void ovec_store(float *p, ovec v) { _mm512_storeu_ps(p, v); }
OVEC_INLINE ovec ovec_set1(float x) { return _mm512_set1_ps(x); }
OVEC_INLINE ovec ovec_add(ovec a, ovec b) { return _mm512_add_ps(a, b); }
OVEC_INLINE ovec ovec_mul(ovec a, ovec b) { return _mm512_mul_ps(a, b); }
OVEC_INLINE ovec ovec_fma(ovec a, ovec b, ovec c) { return _mm512_fmadd_ps(a, b, c); }
/* fmaxf(a, 0): MAXPS returns its second operand for NaN and for +-0 */
OVEC_INLINE ovec ovec_max0(ovec a) { return _mm512_max_ps(a, _mm512_setzero_ps()); }
/* a > b, false where either is NaN */
OVEC_INLINE ovec_mask ovec_gt(ovec a, ovec b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
/* m ? b : a, lane by lane */
OVEC_INLINE ovec ovec_blend(ovec_mask m, ovec a, ovec b) { return _mm512_mask_blend_ps(m, a, b); }
/* m ? a : +0 */
OVEC_INLINE ovec ovec_keep(ovec_mask m, ovec a) { return _mm512_maskz_mov_ps(m, a); }
OVEC_INLINE float ovec_sum(ovec v) { return _mm512_reduce_add_ps(v); }

OVEC_INLINE ovec_i ovec_i_set1(int32_t x) { return _mm512_set1_epi32(x); }
OVEC_INLINE ovec_i ovec_i_load(const int32_t *p) { return _mm512_loadu_si512(p); }
OVEC_INLINE ovec_i ovec_i_blend(ovec_mask m, ovec_i a, ovec_i b)
{
    return _mm512_mask_blend_epi32(m, a, b);
}
OVEC_INLINE ovec_mask ovec_i_lt(ovec_i a, ovec_i b) { return _mm512_cmplt_epi32_mask(a, b); }
/* 16 bytes, zero-extended to 16 int32 */
OVEC_INLINE ovec_i ovec_i_load_u8(const uint8_t *p)
{
    return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
}
/* the low byte of each lane, 16 bytes */
OVEC_INLINE void ovec_i_store_u8(uint8_t *p, ovec_i v)
{
    _mm_storeu_si128((__m128i *)p, _mm512_cvtepi32_epi8(v));
}
/* r[l] = t[idx[l] mod 16] */
OVEC_INLINE ovec ovec_permute(ovec t, ovec_i idx) { return _mm512_permutexvar_ps(idx, t); }
/* a 4x4 block of a row-major image, rows at stride floats: lane 4r + c */
OVEC_INLINE ovec ovec_load4x4(const float *p, int stride)
{
    ovec v = _mm512_castps128_ps512(_mm_loadu_ps(p));
    v = _mm512_insertf32x4(v, _mm_loadu_ps(p + stride), 1);
    v = _mm512_insertf32x4(v, _mm_loadu_ps(p + 2 * stride), 2);
    return _mm512_insertf32x4(v, _mm_loadu_ps(p + 3 * stride), 3);
}

#else

/* gcc warns that 64-byte vectors passed by value without AVX-512 would have
 * another ABI; these functions are static and always inlined, so no value
 * ever crosses a call boundary */
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float ovec __attribute__((vector_size(64)));
typedef int32_t ovec_i __attribute__((vector_size(64)));
typedef ovec_i ovec_mask; /* all ones or zero per lane */

OVEC_INLINE ovec ovec_load(const float *p)
{
    ovec v;
    memcpy(&v, p, sizeof v);
    return v;
}
OVEC_INLINE void ovec_store(float *p, ovec v) { memcpy(p, &v, sizeof v); }
OVEC_INLINE ovec ovec_set1(float x) { return (ovec){0} + x; }
OVEC_INLINE ovec ovec_add(ovec a, ovec b) { return a + b; }
OVEC_INLINE ovec ovec_mul(ovec a, ovec b) { return a * b; }
OVEC_INLINE ovec ovec_fma(ovec a, ovec b, ovec c)
{
#if defined(__FMA__)
    ovec r;
    for (int l = 0; l < OVEC_LANES; l++)
        r[l] = __builtin_fmaf(a[l], b[l], c[l]);
    return r;
#else
    return a * b + c;
#endif
}
OVEC_INLINE ovec_mask ovec_gt(ovec a, ovec b) { return a > b; }
OVEC_INLINE ovec ovec_blend(ovec_mask m, ovec a, ovec b)
{
    return (ovec)(((ovec_i)a & ~m) | ((ovec_i)b & m));
}
OVEC_INLINE ovec ovec_keep(ovec_mask m, ovec a) { return (ovec)((ovec_i)a & m); }
/* fmaxf(a, 0) with the same NaN and -0 answers as the AVX-512 path: +0 */
OVEC_INLINE ovec ovec_max0(ovec a) { return ovec_keep(a > (ovec){0}, a); }
OVEC_INLINE float ovec_sum(ovec v)
{
    float s = 0.0f;
    for (int l = 0; l < OVEC_LANES; l++)
        s += v[l];
    return s;
}

OVEC_INLINE ovec_i ovec_i_set1(int32_t x) { return (ovec_i){0} + x; }
OVEC_INLINE ovec_i ovec_i_load(const int32_t *p)
{
    ovec_i v;
    memcpy(&v, p, sizeof v);
    return v;
}
OVEC_INLINE ovec_i ovec_i_blend(ovec_mask m, ovec_i a, ovec_i b) { return (a & ~m) | (b & m); }
OVEC_INLINE ovec_mask ovec_i_lt(ovec_i a, ovec_i b) { return a < b; }
OVEC_INLINE ovec_i ovec_i_load_u8(const uint8_t *p)
{
    ovec_i v;
    for (int l = 0; l < OVEC_LANES; l++)
        v[l] = p[l];
    return v;
}
OVEC_INLINE void ovec_i_store_u8(uint8_t *p, ovec_i v)
{
    for (int l = 0; l < OVEC_LANES; l++)
        p[l] = (uint8_t)v[l];
}
OVEC_INLINE ovec ovec_permute(ovec t, ovec_i idx)
{
    ovec r;
    for (int l = 0; l < OVEC_LANES; l++)
        r[l] = t[idx[l] & (OVEC_LANES - 1)];
    return r;
}
OVEC_INLINE ovec ovec_load4x4(const float *p, int stride)
{
    ovec v;
    for (int r = 0; r < 4; r++)
        memcpy((float *)&v + 4 * r, p + r * stride, 4 * sizeof(float));
    return v;
}

#endif

OVEC_INLINE ovec ovec_zero(void) { return ovec_set1(0.0f); }

#endif
