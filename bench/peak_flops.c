/*
 * peak_flops.c — measures the floors a CPU kernel is judged against: the
 * FP32 arithmetic peak (fused multiply-add, and separate multiply + add,
 * which is what code built with -ffp-contract=off gets) and the streaming
 * memory bandwidth (read, write), with the thread count OpenMP is given.
 *
 * Built by meson with OpenMP (build/bench/peak_flops):
 *   OMP_NUM_THREADS=2 OMP_PROC_BIND=close build/bench/peak_flops
 * It prints one line per probe: name, threads, the best of several repeats
 * (GFLOP/s or GB/s). Best, not median, because a peak is a ceiling.
 *
 * The arithmetic probes keep 16 independent vector accumulators per thread,
 * enough to cover the FMA latency (4 cycles) times two FMA ports; each step
 * computes acc = acc * a + b, which converges to b / (1 - a) and so never
 * overflows or goes subnormal. The vector width follows the build's ISA.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__AVX512F__)
#include <immintrin.h>
typedef __m512 peak_vec;
enum { PEAK_LANES = 16 };
#define PEAK_SET1(x) _mm512_set1_ps(x)
#define PEAK_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define PEAK_MUL(a, b) _mm512_mul_ps(a, b)
#define PEAK_ADD(a, b) _mm512_add_ps(a, b)
#define PEAK_ISA "avx512"
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
typedef __m256 peak_vec;
enum { PEAK_LANES = 8 };
#define PEAK_SET1(x) _mm256_set1_ps(x)
#define PEAK_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define PEAK_MUL(a, b) _mm256_mul_ps(a, b)
#define PEAK_ADD(a, b) _mm256_add_ps(a, b)
#define PEAK_ISA "avx2+fma"
#else
#include <emmintrin.h>
typedef __m128 peak_vec;
enum { PEAK_LANES = 4 };
#define PEAK_SET1(x) _mm_set1_ps(x)
#define PEAK_FMA(a, b, c) _mm_add_ps(_mm_mul_ps(a, b), c)
#define PEAK_MUL(a, b) _mm_mul_ps(a, b)
#define PEAK_ADD(a, b) _mm_add_ps(a, b)
#define PEAK_ISA "sse2 (no fma: the fma probe runs mul+add)"
#endif

enum {
    PEAK_ACCS = 16,          /* independent accumulators per thread */
    PEAK_REPEATS = 7,        /* best of */
    PEAK_ITERS = 1 << 22,    /* arithmetic steps per accumulator per repeat */
};

static double peak_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Runs PEAK_ITERS steps of acc = acc * a + b on PEAK_ACCS vectors, fused or
 * not; returns a checksum so that the work cannot be optimised away. */
static float peak_arith(int fused)
{
    peak_vec acc[PEAK_ACCS];
    for (int i = 0; i < PEAK_ACCS; i++)
        acc[i] = PEAK_SET1((float)i);
    peak_vec a = PEAK_SET1(0.999f), b = PEAK_SET1(0.001f);
    /* fully unrolled, so that the accumulators live in registers */
    if (fused) {
        for (long it = 0; it < PEAK_ITERS; it++)
#pragma GCC unroll 16
            for (int i = 0; i < PEAK_ACCS; i++)
                acc[i] = PEAK_FMA(acc[i], a, b);
    } else {
        for (long it = 0; it < PEAK_ITERS; it++)
#pragma GCC unroll 16
            for (int i = 0; i < PEAK_ACCS; i++)
                acc[i] = PEAK_ADD(PEAK_MUL(acc[i], a), b);
    }
    float lanes[PEAK_LANES], sum = 0.0f;
    for (int i = 0; i < PEAK_ACCS; i++) {
        memcpy(lanes, &acc[i], sizeof lanes);
        for (int l = 0; l < PEAK_LANES; l++)
            sum += lanes[l];
    }
    return sum;
}

/* GFLOP/s of all threads running peak_arith at once, best of the repeats. */
static double peak_gflops(int fused, float *checksum)
{
    double best = 0.0;
    for (int r = 0; r < PEAK_REPEATS; r++) {
        float sum = 0.0f;
        double t0 = peak_now();
#pragma omp parallel reduction(+ : sum)
        sum += peak_arith(fused);
        double dt = peak_now() - t0;
        double flops = 2.0 * PEAK_LANES * PEAK_ACCS * (double)PEAK_ITERS * omp_get_max_threads();
        if (flops / dt > best)
            best = flops / dt;
        *checksum += sum;
    }
    return best * 1e-9;
}

/* Sum of n floats (a multiple of PEAK_LANES * PEAK_ACCS) in PEAK_ACCS
 * independent vector partial sums. */
static float peak_read(const float *p, size_t n)
{
    peak_vec acc[PEAK_ACCS];
    for (int i = 0; i < PEAK_ACCS; i++)
        acc[i] = PEAK_SET1(0.0f);
    for (size_t k = 0; k < n; k += PEAK_LANES * PEAK_ACCS)
#pragma GCC unroll 16
        for (int i = 0; i < PEAK_ACCS; i++) {
            peak_vec v;
            memcpy(&v, p + k + (size_t)i * PEAK_LANES, sizeof v);
            acc[i] = PEAK_ADD(acc[i], v);
        }
    float lanes[PEAK_LANES], sum = 0.0f;
    for (int i = 0; i < PEAK_ACCS; i++) {
        memcpy(lanes, &acc[i], sizeof lanes);
        for (int l = 0; l < PEAK_LANES; l++)
            sum += lanes[l];
    }
    return sum;
}

/* Streaming bandwidth over n floats split statically between the threads
 * (each thread first-touches the part it later streams): read sums the
 * array, write fills it. Best of the repeats, in GB/s. */
static double peak_bandwidth(float *buf, size_t n, int write, float *checksum)
{
    double best = 0.0;
    for (int r = 0; r < PEAK_REPEATS; r++) {
        float sum = 0.0f;
        double t0 = peak_now();
        if (write) {
#pragma omp parallel for schedule(static)
            for (size_t i = 0; i < n; i++)
                buf[i] = (float)r;
        } else {
            /* PEAK_ACCS vector partial sums: a single float sum would be
             * bound by the add latency, not by memory */
#pragma omp parallel reduction(+ : sum)
            {
                int t = omp_get_thread_num(), nt = omp_get_num_threads();
                size_t chunk = n / PEAK_LANES / PEAK_ACCS / (size_t)nt * PEAK_LANES * PEAK_ACCS;
                sum += peak_read(buf + (size_t)t * chunk, chunk);
            }
        }
        double dt = peak_now() - t0;
        if ((double)n * sizeof *buf / dt > best)
            best = (double)n * sizeof *buf / dt;
        *checksum += sum;
    }
    return best * 1e-9;
}

int main(void)
{
    const size_t n = (size_t)1 << 28; /* 1 GiB of floats: far beyond any cache */
    float checksum = 0.0f;
    float *buf = malloc(n * sizeof *buf);
    if (!buf) {
        fprintf(stderr, "peak_flops: error: cannot allocate %zu bytes\n", n * sizeof *buf);
        return 1;
    }
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++)
        buf[i] = 1.0f;

    int threads = omp_get_max_threads();
    printf("isa %s\n", PEAK_ISA);
    printf("fma_gflops threads=%d %.1f\n", threads, peak_gflops(1, &checksum));
    printf("mul_add_gflops threads=%d %.1f\n", threads, peak_gflops(0, &checksum));
    printf("read_gbs threads=%d %.1f\n", threads, peak_bandwidth(buf, n, 0, &checksum));
    printf("write_gbs threads=%d %.1f\n", threads, peak_bandwidth(buf, n, 1, &checksum));
    printf("checksum %g\n", (double)checksum);
    free(buf);
    return 0;
}
