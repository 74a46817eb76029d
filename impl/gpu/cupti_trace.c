/*
 * cupti_trace.c — the CUPTI activity trace behind cupti_trace.h.
 *
 * CUPTI hands over filled record buffers on its own worker thread, so the
 * callback only copies the fields we keep into growable arrays under a
 * mutex; the CSV is written after a forced flush, on the caller's thread.
 * Kernels are CONCURRENT_KERNEL records (KIND_KERNEL would serialise every
 * kernel). Each timed region pushes an external correlation id that packs
 * (config, step, region); CUPTI emits an EXTERNAL_CORRELATION record pairing
 * that id with the correlation id of every launch or copy made meanwhile,
 * and the kernel and memcpy records carry the same correlation id. CUPTI
 * writes that pairing only next to a runtime API record, so RUNTIME records
 * are enabled too (and dropped here).
 */
#include "cupti_trace.h"

#include "cnnbench_config.h"
#include "error.h"

#if CNN_HAVE_CUPTI

#include <cuda_runtime_api.h>
#include <cupti.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"

enum {
    TRACE_BUFFER_BYTES = 4 << 20,
    TRACE_MAX_NAMES = 256,
    TRACE_MAX_CONFIGS = 1 << 20,
    TRACE_CONFIG_SHIFT = 40, /* id = config << 40 | step << 4 | (region + 1) */
    TRACE_STEP_SHIFT = 4,
};

enum trace_kind { TRACE_KERNEL, TRACE_HTOD, TRACE_DTOH, TRACE_COPY };
static const char *const trace_kind_names[] = {"kernel", "memcpy_htod", "memcpy_dtoh",
                                               "memcpy_other"};

struct trace_record {
    uint64_t start, end, bytes;
    uint32_t correlation;
    enum trace_kind kind;
    int grid[3], block[3];
    const char *name; /* interned */
};

struct trace_link {
    uint32_t correlation;
    uint64_t external;
};

static struct {
    pthread_mutex_t lock;
    int registered; /* buffer callbacks handed to CUPTI */
    int active;
    struct trace_record *records;
    size_t n_records, cap_records;
    struct trace_link *links;
    size_t n_links, cap_links;
    char *names[TRACE_MAX_NAMES];
    int n_names;
    char **configs; /* labels by config index; index 0 is "" */
    size_t n_configs, cap_configs;
    size_t dropped;
    int failed;        /* a callback could not keep a record */
    char failure[256];
} trace = {.lock = PTHREAD_MUTEX_INITIALIZER};

#define CUPTI_CHECK(call)                                                                   \
    do {                                                                                    \
        CUptiResult cupti_check_res_ = (call);                                              \
        if (cupti_check_res_ != CUPTI_SUCCESS) {                                            \
            const char *cupti_check_msg_ = NULL;                                            \
            cuptiGetResultString(cupti_check_res_, &cupti_check_msg_);                      \
            return cnn_fail(CNN_E_DEVICE, "%s:%d: %s: %s", __FILE__, __LINE__, #call,       \
                            cupti_check_msg_ ? cupti_check_msg_ : "unknown CUPTI error");   \
        }                                                                                   \
    } while (0)

/* Called with the lock held: remembers the first failure of a callback. */
static void trace_failed(const char *what)
{
    if (!trace.failed)
        snprintf(trace.failure, sizeof trace.failure, "cupti: %s", what);
    trace.failed = 1;
}

/* Grows *buf (elements of size `size`) to hold one more; 0 on failure. */
static int grow(void **buf, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 1;
    size_t cap2 = *cap ? 2 * *cap : 1024;
    void *p = realloc(*buf, cap2 * size);
    if (!p)
        return 0;
    *buf = p;
    *cap = cap2;
    return 1;
}

static const char *intern_name(const char *name)
{
    if (!name)
        name = "(unnamed)";
    for (int i = 0; i < trace.n_names; i++)
        if (strcmp(trace.names[i], name) == 0)
            return trace.names[i];
    if (trace.n_names == TRACE_MAX_NAMES) {
        trace_failed("more distinct kernel names than the trace keeps");
        return "(too many names)";
    }
    size_t len = strlen(name) + 1;
    char *copy = malloc(len);
    if (!copy) {
        trace_failed("out of memory for a kernel name");
        return "(out of memory)";
    }
    memcpy(copy, name, len);
    trace.names[trace.n_names++] = copy;
    return copy;
}

static void keep_record(const struct trace_record *r)
{
    if (!grow((void **)&trace.records, &trace.cap_records, trace.n_records, sizeof *r)) {
        trace_failed("out of memory for activity records");
        return;
    }
    trace.records[trace.n_records++] = *r;
}

static void keep_link(uint32_t correlation, uint64_t external)
{
    if (!grow((void **)&trace.links, &trace.cap_links, trace.n_links, sizeof *trace.links)) {
        trace_failed("out of memory for correlation records");
        return;
    }
    trace.links[trace.n_links++] = (struct trace_link){correlation, external};
}

static void CUPTIAPI buffer_requested(uint8_t **buffer, size_t *size, size_t *max_records)
{
    *buffer = aligned_alloc(8, TRACE_BUFFER_BYTES);
    *size = *buffer ? TRACE_BUFFER_BYTES : 0;
    *max_records = 0; /* as many as fit */
}

static void keep_activity(const CUpti_Activity *rec)
{
    struct trace_record r = {0};
    switch (rec->kind) {
    case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL: {
        const CUpti_ActivityKernel10 *k = (const CUpti_ActivityKernel10 *)rec;
        r.kind = TRACE_KERNEL;
        r.start = k->start;
        r.end = k->end;
        r.correlation = k->correlationId;
        r.grid[0] = k->gridX;
        r.grid[1] = k->gridY;
        r.grid[2] = k->gridZ;
        r.block[0] = k->blockX;
        r.block[1] = k->blockY;
        r.block[2] = k->blockZ;
        r.name = intern_name(k->name);
        keep_record(&r);
        break;
    }
    case CUPTI_ACTIVITY_KIND_MEMCPY: {
        const CUpti_ActivityMemcpy6 *m = (const CUpti_ActivityMemcpy6 *)rec;
        r.kind = m->copyKind == CUPTI_ACTIVITY_MEMCPY_KIND_HTOD   ? TRACE_HTOD
                 : m->copyKind == CUPTI_ACTIVITY_MEMCPY_KIND_DTOH ? TRACE_DTOH
                                                                  : TRACE_COPY;
        r.start = m->start;
        r.end = m->end;
        r.bytes = m->bytes;
        r.correlation = m->correlationId;
        r.name = trace_kind_names[r.kind];
        keep_record(&r);
        break;
    }
    case CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION: {
        const CUpti_ActivityExternalCorrelation *e =
            (const CUpti_ActivityExternalCorrelation *)rec;
        if (e->externalKind == CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0)
            keep_link(e->correlationId, e->externalId);
        break;
    }
    default:
        break;
    }
}

static void CUPTIAPI buffer_completed(CUcontext ctx, uint32_t stream, uint8_t *buffer,
                                      size_t size, size_t valid)
{
    (void)size;
    if (!buffer)
        return;
    pthread_mutex_lock(&trace.lock);
    CUpti_Activity *rec = NULL;
    CUptiResult res;
    while ((res = cuptiActivityGetNextRecord(buffer, valid, &rec)) == CUPTI_SUCCESS)
        keep_activity(rec);
    if (res != CUPTI_ERROR_MAX_LIMIT_REACHED)
        trace_failed("cuptiActivityGetNextRecord failed on a completed buffer");
    size_t dropped = 0;
    if (cuptiActivityGetNumDroppedRecords(ctx, stream, &dropped) != CUPTI_SUCCESS)
        trace_failed("cuptiActivityGetNumDroppedRecords failed");
    trace.dropped += dropped;
    pthread_mutex_unlock(&trace.lock);
    free(buffer);
}

/* RUNTIME records are not kept, but CUPTI emits an EXTERNAL_CORRELATION
 * record only alongside an API record, so that kind must be on. */
static const CUpti_ActivityKind traced_kinds[] = {
    CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL,
    CUPTI_ACTIVITY_KIND_MEMCPY,
    CUPTI_ACTIVITY_KIND_RUNTIME,
    CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION,
};
enum { TRACED_KINDS = sizeof traced_kinds / sizeof *traced_kinds };

/* Disables the first `count` traced kinds; the first failure, if any. */
static CUptiResult disable_kinds(int count)
{
    CUptiResult first = CUPTI_SUCCESS;
    for (int i = 0; i < count; i++) {
        CUptiResult res = cuptiActivityDisable(traced_kinds[i]);
        if (first == CUPTI_SUCCESS)
            first = res;
    }
    return first;
}

static void free_records(void)
{
    free(trace.records);
    free(trace.links);
    trace.records = NULL;
    trace.links = NULL;
    trace.n_records = trace.cap_records = trace.n_links = trace.cap_links = 0;
    for (size_t i = 0; i < trace.n_configs; i++)
        free(trace.configs[i]);
    free(trace.configs);
    trace.configs = NULL;
    trace.n_configs = trace.cap_configs = 0;
    trace.dropped = 0;
    trace.failed = 0;
}

cnn_status cnn_cupti_set_config(const char *key)
{
    if (!trace.active)
        return cnn_fail(CNN_E_ARG, "cupti: set_config before cnn_cupti_start");
    if (trace.n_configs == TRACE_MAX_CONFIGS)
        return cnn_fail(CNN_E_ARG, "cupti: more than %d configurations in one trace",
                        TRACE_MAX_CONFIGS);
    size_t len = strlen(key) + 1;
    char *copy = malloc(len);
    if (!copy || !grow((void **)&trace.configs, &trace.cap_configs, trace.n_configs,
                       sizeof *trace.configs)) {
        free(copy);
        return cnn_fail(CNN_E_NOMEM, "cupti: out of memory for a configuration label");
    }
    memcpy(copy, key, len);
    trace.configs[trace.n_configs++] = copy;
    return CNN_OK;
}

cnn_status cnn_cupti_start(void)
{
    if (trace.active)
        return cnn_fail(CNN_E_ARG, "cupti: tracing is already on");
    free_records();
    if (!trace.registered) {
        CUPTI_CHECK(cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed));
        trace.registered = 1;
    }
    for (int i = 0; i < TRACED_KINDS; i++) {
        CUptiResult res = cuptiActivityEnable(traced_kinds[i]);
        if (res != CUPTI_SUCCESS) {
            const char *msg = NULL;
            cuptiGetResultString(res, &msg);
            disable_kinds(i); /* best effort: the enable failure is the error */
            return cnn_fail(CNN_E_DEVICE, "%s:%d: cuptiActivityEnable(kind %d): %s", __FILE__,
                            __LINE__, (int)traced_kinds[i], msg ? msg : "unknown CUPTI error");
        }
    }
    trace.active = 1;
    /* config index 0: regions traced before any set_config */
    return cnn_cupti_set_config("");
}

cnn_status cnn_cupti_region_begin(enum cnn_region r, long step)
{
    if (!trace.active)
        return CNN_OK;
    uint64_t id = ((uint64_t)(trace.n_configs - 1) << TRACE_CONFIG_SHIFT) |
                  ((uint64_t)step << TRACE_STEP_SHIFT) | (uint64_t)(r + 1);
    CUPTI_CHECK(
        cuptiActivityPushExternalCorrelationId(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0, id));
    return CNN_OK;
}

cnn_status cnn_cupti_region_end(void)
{
    if (!trace.active)
        return CNN_OK;
    uint64_t id;
    CUPTI_CHECK(
        cuptiActivityPopExternalCorrelationId(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0, &id));
    return CNN_OK;
}

static int by_correlation(const void *a, const void *b)
{
    uint32_t x = ((const struct trace_link *)a)->correlation;
    uint32_t y = ((const struct trace_link *)b)->correlation;
    return (x > y) - (x < y);
}

static int by_start(const void *a, const void *b)
{
    uint64_t x = ((const struct trace_record *)a)->start;
    uint64_t y = ((const struct trace_record *)b)->start;
    return (x > y) - (x < y);
}

/* The external id of a correlation id, 0 if it ran outside every region. */
static uint64_t external_of(uint32_t correlation)
{
    struct trace_link key = {correlation, 0};
    const struct trace_link *hit =
        bsearch(&key, trace.links, trace.n_links, sizeof key, by_correlation);
    return hit ? hit->external : 0;
}

/* A CSV field, quoted when it holds a comma, quote or newline. */
static int put_field(FILE *fp, const char *s)
{
    if (!strpbrk(s, ",\"\n"))
        return fputs(s, fp) >= 0;
    if (fputc('"', fp) == EOF)
        return 0;
    for (; *s; s++)
        if ((*s == '"' && fputc('"', fp) == EOF) || fputc(*s, fp) == EOF)
            return 0;
    return fputc('"', fp) != EOF;
}

static int write_row(FILE *fp, const struct trace_record *r)
{
    uint64_t ext = external_of(r->correlation);
    unsigned region = (unsigned)(ext & ((1u << TRACE_STEP_SHIFT) - 1));
    uint64_t step_mask = (1ull << (TRACE_CONFIG_SHIFT - TRACE_STEP_SHIFT)) - 1;
    uint64_t step = (ext >> TRACE_STEP_SHIFT) & step_mask;
    size_t config = (size_t)(ext >> TRACE_CONFIG_SHIFT);
    const char *label = config < trace.n_configs ? trace.configs[config] : "";
    int ok = put_field(fp, label) && fputc(',', fp) != EOF;
    if (region >= 1 && region <= CNN_REGION_COUNT)
        ok = ok && fprintf(fp, "%s,%llu,", cnn_region_name((enum cnn_region)(region - 1)),
                           (unsigned long long)step) > 0;
    else
        ok = ok && fputs("none,,", fp) >= 0;
    ok = ok && fprintf(fp, "%s,", trace_kind_names[r->kind]) > 0 && put_field(fp, r->name);
    ok = ok && fprintf(fp, ",%llu,%llu,%.3f", (unsigned long long)r->start,
                       (unsigned long long)r->end, (double)(r->end - r->start) / 1e3) > 0;
    if (r->kind == TRACE_KERNEL)
        ok = ok && fprintf(fp, ",%d,%d,%d,%d,%d,%d,\n", r->grid[0], r->grid[1], r->grid[2],
                           r->block[0], r->block[1], r->block[2]) > 0;
    else
        ok = ok && fprintf(fp, ",,,,,,,%llu\n", (unsigned long long)r->bytes) > 0;
    return ok;
}

static cnn_status write_csv(const char *path)
{
    qsort(trace.links, trace.n_links, sizeof *trace.links, by_correlation);
    qsort(trace.records, trace.n_records, sizeof *trace.records, by_start);
    struct cnn_atomic_file f;
    CNN_TRY(cnn_atomic_open(&f, path));
    int ok = fputs("config,region,step,kind,name,start_ns,end_ns,duration_us,grid_x,grid_y,"
                   "grid_z,block_x,block_y,block_z,bytes\n",
                   f.fp) >= 0;
    for (size_t i = 0; ok && i < trace.n_records; i++)
        ok = write_row(f.fp, &trace.records[i]);
    if (!ok) {
        cnn_atomic_abort(&f);
        return cnn_fail(CNN_E_IO, "%s: cannot write the CUPTI trace", path);
    }
    return cnn_atomic_commit(&f);
}

cnn_status cnn_cupti_stop_and_write(const char *csv_path)
{
    if (!trace.active)
        return cnn_fail(CNN_E_ARG, "cupti: tracing is not on");
    cudaError_t err = cudaDeviceSynchronize();
    if (err != cudaSuccess)
        return cnn_fail(CNN_E_DEVICE, "%s:%d: cudaDeviceSynchronize(): %s", __FILE__, __LINE__,
                        cudaGetErrorString(err));
    /* flush never synchronises: FORCED also returns buffers still filling */
    CUPTI_CHECK(cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED));
    trace.active = 0;
    CUPTI_CHECK(disable_kinds(TRACED_KINDS));

    pthread_mutex_lock(&trace.lock);
    cnn_status st = write_csv(csv_path);
    if (st == CNN_OK && trace.failed)
        st = cnn_fail(CNN_E_DEVICE, "%s (the trace in %s is incomplete)", trace.failure,
                      csv_path);
    if (st == CNN_OK && trace.dropped)
        st = cnn_fail(CNN_E_DEVICE, "cupti: %zu records dropped (the trace in %s is incomplete)",
                      trace.dropped, csv_path);
    free_records();
    pthread_mutex_unlock(&trace.lock);
    return st;
}

#else /* no CUPTI in this build: trace_kernels.c refuses the trace, and the
       * region tags of the GPU clock do nothing */

cnn_status cnn_cupti_region_begin(enum cnn_region r, long step)
{
    (void)r;
    (void)step;
    return CNN_OK;
}

cnn_status cnn_cupti_region_end(void) { return CNN_OK; }

#endif
