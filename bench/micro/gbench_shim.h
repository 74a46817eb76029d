/*
 * gbench_shim.h — a C interface to Google Benchmark, which has no C API of
 * its own (google/benchmark#592). Opaque handles stand for the library's
 * Benchmark (one registered case) and State (one run of a case); the shim
 * forwards each call to the C++ method of the same meaning.
 *
 * Written against the calls that Google Benchmark 1.7.1 (Debian 12) and
 * 1.8.3 (the GPU machine's Ubuntu) share: names cross as C strings (1.7.1
 * takes const char *, 1.8 const std::string &), the loop is KeepRunning(),
 * errors use SkipWithError(), and the minimum time is set per case with
 * MinTime() because the --benchmark_min_time flag changed syntax between
 * the two. Google Benchmark then writes it into the case name
 * ("/min_time:0.050").
 *
 * Typical use from C:
 *   static void bench_fn(gb_state *st, void *ctx)
 *   {
 *       if (setup_failed) { gb_skip_with_error(st, "why"); return; }
 *       while (gb_keep_running(st))
 *           work(ctx);
 *       gb_counter(st, "items_per_s", items, GB_COUNTER_ITERATION_RATE);
 *   }
 *   gb_initialize(&argc, argv);
 *   gb_bench *b = gb_register("name", bench_fn, ctx);
 *   gb_bench_use_real_time(b);
 *   gb_run();
 *   gb_shutdown();
 *   return gb_error_count() ? 1 : 0;
 *
 * Functions that allocate report failure (NULL or -1; gb_counter through
 * gb_error_count) instead of letting a C++ exception cross into C.
 */
#ifndef GBENCH_SHIM_H
#define GBENCH_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_bench gb_bench; /* a registered case (benchmark::internal::Benchmark) */
typedef struct gb_state gb_state; /* one run of a case (benchmark::State) */

/* The body of a case: called several times per case while the library
 * settles the iteration count; ctx is the pointer given at registration. */
typedef void (*gb_fn)(gb_state *st, void *ctx);

enum gb_unit { GB_NANOSECOND, GB_MICROSECOND, GB_MILLISECOND, GB_SECOND };

enum gb_counter_kind {
    GB_COUNTER_PLAIN,          /* reported as set */
    GB_COUNTER_RATE,           /* value / seconds measured */
    GB_COUNTER_ITERATION_RATE, /* value per iteration: value * iterations / seconds */
};

/* ---- the whole run ---- */

/* Parses and removes the --benchmark_* flags from argv. */
void gb_initialize(int *argc, char **argv);
/* 1 (after printing them) if argv[1..argc) still holds arguments. */
int gb_unrecognized_args(int argc, char **argv);
/* A key and value for the "context" block of the JSON output; 0 or -1. */
int gb_add_context(const char *key, const char *value);
/* Runs the cases that --benchmark_filter selects; returns how many ran. */
size_t gb_run(void);
/* Cases that called gb_skip_with_error, plus shim failures (out of memory). */
size_t gb_error_count(void);
void gb_shutdown(void);

/* ---- registering a case ---- */

/* NULL if out of memory. The name is copied. */
gb_bench *gb_register(const char *name, gb_fn fn, void *ctx);
/* One set of integer arguments, read back with gb_range(); the names label
 * them in the case name ("name/B:100/F:32"). 0 or -1. */
int gb_bench_args(gb_bench *b, const int64_t *args, size_t n);
int gb_bench_arg_names(gb_bench *b, const char *const *names, size_t n);
void gb_bench_unit(gb_bench *b, enum gb_unit unit);
/* Run at least this long (seconds), unless gb_bench_iterations fixes a count. */
void gb_bench_min_time(gb_bench *b, double seconds);
void gb_bench_iterations(gb_bench *b, int64_t iterations);
/* Wall-clock time instead of the main thread's CPU time: for OpenMP. */
void gb_bench_use_real_time(gb_bench *b);
/* Each iteration reports its own time with gb_set_iteration_time: for CUDA
 * events. */
void gb_bench_use_manual_time(gb_bench *b);

/* ---- inside a case ---- */

/* Nonzero while the library wants another iteration. */
int gb_keep_running(gb_state *st);
/* The same for a batch of n iterations timed as one (n calls between one
 * pair of CUDA events): gb_set_iteration_time then gives the batch's time. */
int gb_keep_running_batch(gb_state *st, int64_t n);
/* The i-th integer argument of this instance. */
int64_t gb_range(const gb_state *st, size_t i);
void gb_set_iteration_time(gb_state *st, double seconds);
void gb_counter(gb_state *st, const char *name, double value, enum gb_counter_kind kind);
/* Marks the case failed with msg; call it before the loop, or leave the
 * loop right after it. */
void gb_skip_with_error(gb_state *st, const char *msg);

#ifdef __cplusplus
}
#endif

#endif
