// gbench_shim.cc — the C interface of gbench_shim.h over Google Benchmark.
// This is the only C++ in cnnbench; it holds no benchmark logic, only
// forwarding. Every call used here exists with the same meaning in Google
// Benchmark 1.7.1 and 1.8.3 (see the header for the differences avoided).
//
// Handles: gb_bench * is the library's Benchmark *, gb_state * its State *,
// both cast to an incomplete C type and back. Exceptions (std::bad_alloc
// from names, argument vectors and counter maps) are caught here: they must
// not unwind through C frames.
#include "gbench_shim.h"

#include <benchmark/benchmark.h>

#include <atomic>
#include <new>
#include <string>
#include <vector>

namespace {

// Failures the C side must see in its exit status: cases skipped with an
// error, and allocations that failed inside the shim.
std::atomic<size_t> shim_errors{0};

benchmark::internal::Benchmark *unwrap(gb_bench *b)
{
    return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}

benchmark::State *unwrap(gb_state *st) { return reinterpret_cast<benchmark::State *>(st); }

const benchmark::State *unwrap(const gb_state *st)
{
    return reinterpret_cast<const benchmark::State *>(st);
}

benchmark::TimeUnit to_time_unit(enum gb_unit unit)
{
    switch (unit) {
    case GB_NANOSECOND: return benchmark::kNanosecond;
    case GB_MICROSECOND: return benchmark::kMicrosecond;
    case GB_MILLISECOND: return benchmark::kMillisecond;
    case GB_SECOND: return benchmark::kSecond;
    }
    return benchmark::kNanosecond;
}

benchmark::Counter::Flags to_counter_flags(enum gb_counter_kind kind)
{
    switch (kind) {
    case GB_COUNTER_PLAIN: return benchmark::Counter::kDefaults;
    case GB_COUNTER_RATE: return benchmark::Counter::kIsRate;
    case GB_COUNTER_ITERATION_RATE: return benchmark::Counter::kIsIterationInvariantRate;
    }
    return benchmark::Counter::kDefaults;
}

} // namespace

extern "C" {

void gb_initialize(int *argc, char **argv) { benchmark::Initialize(argc, argv); }

int gb_unrecognized_args(int argc, char **argv)
{
    return benchmark::ReportUnrecognizedArguments(argc, argv) ? 1 : 0;
}

int gb_add_context(const char *key, const char *value)
{
    try {
        benchmark::AddCustomContext(key, value);
        return 0;
    } catch (const std::bad_alloc &) {
        return -1;
    }
}

size_t gb_run(void) { return benchmark::RunSpecifiedBenchmarks(); }

size_t gb_error_count(void) { return shim_errors.load(); }

void gb_shutdown(void) { benchmark::Shutdown(); }

gb_bench *gb_register(const char *name, gb_fn fn, void *ctx)
{
    try {
        // The lambda form of RegisterBenchmark exists in both versions; the
        // name converts to std::string in 1.8 and is taken as is in 1.7.1.
        benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(
            name, [fn, ctx](benchmark::State &st) { fn(reinterpret_cast<gb_state *>(&st), ctx); });
        return reinterpret_cast<gb_bench *>(b);
    } catch (const std::bad_alloc &) {
        return nullptr;
    }
}

int gb_bench_args(gb_bench *b, const int64_t *args, size_t n)
{
    try {
        unwrap(b)->Args(std::vector<int64_t>(args, args + n));
        return 0;
    } catch (const std::bad_alloc &) {
        return -1;
    }
}

int gb_bench_arg_names(gb_bench *b, const char *const *names, size_t n)
{
    try {
        unwrap(b)->ArgNames(std::vector<std::string>(names, names + n));
        return 0;
    } catch (const std::bad_alloc &) {
        return -1;
    }
}

void gb_bench_unit(gb_bench *b, enum gb_unit unit) { unwrap(b)->Unit(to_time_unit(unit)); }

void gb_bench_min_time(gb_bench *b, double seconds) { unwrap(b)->MinTime(seconds); }

void gb_bench_iterations(gb_bench *b, int64_t iterations)
{
    unwrap(b)->Iterations(static_cast<benchmark::IterationCount>(iterations));
}

void gb_bench_use_real_time(gb_bench *b) { unwrap(b)->UseRealTime(); }

void gb_bench_use_manual_time(gb_bench *b) { unwrap(b)->UseManualTime(); }

int gb_keep_running(gb_state *st) { return unwrap(st)->KeepRunning() ? 1 : 0; }

int gb_keep_running_batch(gb_state *st, int64_t n)
{
    return unwrap(st)->KeepRunningBatch(static_cast<benchmark::IterationCount>(n)) ? 1 : 0;
}

int64_t gb_range(const gb_state *st, size_t i) { return unwrap(st)->range(i); }

void gb_set_iteration_time(gb_state *st, double seconds) { unwrap(st)->SetIterationTime(seconds); }

void gb_counter(gb_state *st, const char *name, double value, enum gb_counter_kind kind)
{
    try {
        unwrap(st)->counters[name] = benchmark::Counter(value, to_counter_flags(kind));
    } catch (const std::bad_alloc &) {
        // A missing counter would go unnoticed in the output: fail the run.
        shim_errors++;
    }
}

void gb_skip_with_error(gb_state *st, const char *msg)
{
    shim_errors++;
    try {
        unwrap(st)->SkipWithError(msg); // const char * in 1.7.1, std::string in 1.8
    } catch (const std::bad_alloc &) {
        // Already counted; the library could not record the message.
    }
}

} // extern "C"
