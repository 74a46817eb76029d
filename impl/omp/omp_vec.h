/*
 * omp_vec.h — the SIMD boundary of the omp backend: a vector of 16 floats
 * (one filter block) and the few operations the kernels need. Three
 * implementations, chosen by the target flags of the file including it
 * (impl/omp/meson.build compiles the kernels once per level):
 *   AVX-512       each operation one intrinsic on a zmm register;
 *   AVX2 + FMA    a pair of ymm registers, lanes 0-7 and 8-15;
 *   otherwise     the GNU vector extension, lowered to whatever the target
 *                 has (four SSE registers on baseline x86-64).
 *
 * Rounding: ovec_add and ovec_mul round once each, exactly like scalar C
 * built with -ffp-contract=off, so code written with them reproduces seq's
 * bits. ovec_fma rounds once where the ISA has FMA and is a separate
 * multiply and add where it does not. ovec_sum adds the lanes as one fixed
 * tree in every implementation. So the AVX-512 and AVX2 paths compute the
 * same bits, the FMA-less path differs from them in the last bits of what
 * went through ovec_fma, and any one of them gives the same bits for every
 * thread count.
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
/* the tree of every path: lanes l + (l + 8), then + 4, + 2, + 1 */
OVEC_INLINE float ovec_sum(ovec v)
{
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), hi);
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

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

#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

typedef struct { __m256 lo, hi; } ovec;      /* lanes 0-7, 8-15 */
typedef struct { __m256i lo, hi; } ovec_i;
typedef struct { __m256 lo, hi; } ovec_mask; /* all ones or zero per lane */

OVEC_INLINE ovec ovec_load(const float *p)
{
    return (ovec){_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)};
}
OVEC_INLINE void ovec_store(float *p, ovec v)
{
    _mm256_storeu_ps(p, v.lo);
    _mm256_storeu_ps(p + 8, v.hi);
}
OVEC_INLINE ovec ovec_set1(float x) { return (ovec){_mm256_set1_ps(x), _mm256_set1_ps(x)}; }
OVEC_INLINE ovec ovec_add(ovec a, ovec b)
{
    return (ovec){_mm256_add_ps(a.lo, b.lo), _mm256_add_ps(a.hi, b.hi)};
}
OVEC_INLINE ovec ovec_mul(ovec a, ovec b)
{
    return (ovec){_mm256_mul_ps(a.lo, b.lo), _mm256_mul_ps(a.hi, b.hi)};
}
OVEC_INLINE ovec ovec_fma(ovec a, ovec b, ovec c)
{
    return (ovec){_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)};
}
/* MAXPS returns its second operand for NaN and +-0: +0, as with AVX-512 */
OVEC_INLINE ovec ovec_max0(ovec a)
{
    __m256 z = _mm256_setzero_ps();
    return (ovec){_mm256_max_ps(a.lo, z), _mm256_max_ps(a.hi, z)};
}
OVEC_INLINE ovec_mask ovec_gt(ovec a, ovec b)
{
    return (ovec_mask){_mm256_cmp_ps(a.lo, b.lo, _CMP_GT_OQ),
                       _mm256_cmp_ps(a.hi, b.hi, _CMP_GT_OQ)};
}
OVEC_INLINE ovec ovec_blend(ovec_mask m, ovec a, ovec b)
{
    return (ovec){_mm256_blendv_ps(a.lo, b.lo, m.lo), _mm256_blendv_ps(a.hi, b.hi, m.hi)};
}
OVEC_INLINE ovec ovec_keep(ovec_mask m, ovec a)
{
    return (ovec){_mm256_and_ps(m.lo, a.lo), _mm256_and_ps(m.hi, a.hi)};
}
OVEC_INLINE float ovec_sum(ovec v)
{
    __m256 h = _mm256_add_ps(v.lo, v.hi);
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

OVEC_INLINE ovec_i ovec_i_set1(int32_t x)
{
    return (ovec_i){_mm256_set1_epi32(x), _mm256_set1_epi32(x)};
}
OVEC_INLINE ovec_i ovec_i_load(const int32_t *p)
{
    return (ovec_i){_mm256_loadu_si256((const __m256i *)p),
                    _mm256_loadu_si256((const __m256i *)(p + 8))};
}
OVEC_INLINE ovec_i ovec_i_blend(ovec_mask m, ovec_i a, ovec_i b)
{
    return (ovec_i){_mm256_blendv_epi8(a.lo, b.lo, _mm256_castps_si256(m.lo)),
                    _mm256_blendv_epi8(a.hi, b.hi, _mm256_castps_si256(m.hi))};
}
OVEC_INLINE ovec_mask ovec_i_lt(ovec_i a, ovec_i b)
{
    return (ovec_mask){_mm256_castsi256_ps(_mm256_cmpgt_epi32(b.lo, a.lo)),
                       _mm256_castsi256_ps(_mm256_cmpgt_epi32(b.hi, a.hi))};
}
OVEC_INLINE ovec_i ovec_i_load_u8(const uint8_t *p)
{
    return (ovec_i){_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)),
                    _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + 8)))};
}
/* the lanes hold 0..255, so the saturating packs keep each value */
OVEC_INLINE void ovec_i_store_u8(uint8_t *p, ovec_i v)
{
    __m128i lo =
        _mm_packus_epi32(_mm256_castsi256_si128(v.lo), _mm256_extracti128_si256(v.lo, 1));
    __m128i hi =
        _mm_packus_epi32(_mm256_castsi256_si128(v.hi), _mm256_extracti128_si256(v.hi, 1));
    _mm_storeu_si128((__m128i *)p, _mm_packus_epi16(lo, hi));
}
/* r[l] = t[idx[l] mod 16]: both halves permuted by the low 3 bits, bit 3
 * (moved to the sign, which BLENDVPS reads) picks the half */
OVEC_INLINE __m256 ovec_permute_half(ovec t, __m256i idx)
{
    return _mm256_blendv_ps(_mm256_permutevar8x32_ps(t.lo, idx),
                            _mm256_permutevar8x32_ps(t.hi, idx),
                            _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28)));
}
OVEC_INLINE ovec ovec_permute(ovec t, ovec_i idx)
{
    return (ovec){ovec_permute_half(t, idx.lo), ovec_permute_half(t, idx.hi)};
}
OVEC_INLINE ovec ovec_load4x4(const float *p, int stride)
{
    __m256 r01 = _mm256_castps128_ps256(_mm_loadu_ps(p));
    __m256 r23 = _mm256_castps128_ps256(_mm_loadu_ps(p + 2 * stride));
    return (ovec){_mm256_insertf128_ps(r01, _mm_loadu_ps(p + stride), 1),
                  _mm256_insertf128_ps(r23, _mm_loadu_ps(p + 3 * stride), 1)};
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
/* two roundings: this path serves targets without vector FMA */
OVEC_INLINE ovec ovec_fma(ovec a, ovec b, ovec c) { return a * b + c; }
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
    for (int half = OVEC_LANES / 2; half >= 1; half /= 2)
        for (int l = 0; l < half; l++)
            v[l] += v[l + half];
    return v[0];
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
