/*
 * trace.c — the ranges of trace.h as NVTX ranges, or nothing in a build
 * without NVTX. Kept apart from the kernel trace (trace_kernels.c), so that
 * a program that drives steps but not the harness links no GPU code, and
 * so that tests/test_trace.c can take the place of this file alone with a
 * recorder of its own.
 */
#include "trace.h"

#include "cnnbench_config.h"

#if CNN_HAVE_NVTX

#include <nvtx3/nvToolsExt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/*
 * The range names of each backend, made once: a region's range then costs
 * a lookup among a few backends and the push, never formatting. NVTX copies
 * the name only when a tool is attached; without one the push is a call
 * that returns. Slot TRACE_STEP holds "<backend> step".
 */
enum { TRACE_MAX_BACKENDS = 16, TRACE_STEP = CNN_REGION_COUNT, TRACE_NAME = 48 };

struct trace_names {
    char backend[TRACE_NAME]; /* a copy: the caller's string may not outlive the cache */
    char name[CNN_REGION_COUNT + 1][TRACE_NAME];
};

static struct trace_names names[TRACE_MAX_BACKENDS];
/* Slots [0, filled) are complete; a slot is written whole, under the lock,
 * before filled (release) makes it visible to lock-free readers. */
static atomic_int filled;
static pthread_mutex_t filling = PTHREAD_MUTEX_INITIALIZER;

static const struct trace_names *find(const char *backend, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i].backend, backend) == 0)
            return &names[i];
    return NULL;
}

/* The names of backend; NULL only past TRACE_MAX_BACKENDS distinct names
 * (the registry has a handful). */
static const struct trace_names *names_of(const char *backend)
{
    const struct trace_names *t =
        find(backend, atomic_load_explicit(&filled, memory_order_acquire));
    if (t)
        return t;
    pthread_mutex_lock(&filling);
    int n = atomic_load_explicit(&filled, memory_order_relaxed);
    t = find(backend, n);
    if (!t && n < TRACE_MAX_BACKENDS) {
        struct trace_names *w = &names[n];
        snprintf(w->backend, TRACE_NAME, "%s", backend);
        for (int r = 0; r < CNN_REGION_COUNT; r++)
            snprintf(w->name[r], TRACE_NAME, "%s %s", backend,
                     cnn_region_name((enum cnn_region)r));
        snprintf(w->name[TRACE_STEP], TRACE_NAME, "%s step", backend);
        atomic_store_explicit(&filled, n + 1, memory_order_release);
        t = w;
    }
    pthread_mutex_unlock(&filling);
    return t;
}

/* Pushes range `slot` of backend. Always a push, so that every pop has its
 * range: one past the cache is named for the program alone. */
static void push(const char *backend, int slot)
{
    const struct trace_names *t = names_of(backend);
    nvtxRangePushA(t ? t->name[slot] : "cnnbench");
}

void cnn_trace_step_begin(const char *backend) { push(backend, TRACE_STEP); }

void cnn_trace_step_end(const char *backend)
{
    (void)backend;
    nvtxRangePop();
}

void cnn_trace_region_begin(const char *backend, enum cnn_region r) { push(backend, (int)r); }

void cnn_trace_region_end(const char *backend, enum cnn_region r)
{
    (void)backend;
    (void)r;
    nvtxRangePop();
}

#else /* no NVTX in this build */

void cnn_trace_step_begin(const char *backend) { (void)backend; }

void cnn_trace_step_end(const char *backend) { (void)backend; }

void cnn_trace_region_begin(const char *backend, enum cnn_region r)
{
    (void)backend;
    (void)r;
}

void cnn_trace_region_end(const char *backend, enum cnn_region r)
{
    (void)backend;
    (void)r;
}

#endif
