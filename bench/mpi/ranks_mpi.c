/*
 * ranks_mpi.c — ranks.h over MPI (built with the meson feature `mpi`).
 *
 * The sum. MPI_Allreduce would be one call, but the standard does not
 * promise its order of additions: Open MPI picks among several algorithms
 * by message size, process count and tuning variables, and even promises
 * the same bits on every rank only as an implementation choice. So the sum
 * orders the additions itself, with MPI only moving bytes:
 *   1. the buffer splits into N element shares (batch_share.h); one
 *      MPI_Alltoallv hands rank j every rank's copy of share j;
 *   2. rank j adds its share's N copies in rank order 0..N-1;
 *   3. one MPI_Allgatherv copies every summed share to every rank.
 * Each element is added by exactly one rank, in one fixed order, and only
 * copied elsewhere: the same bits on every rank and in every run for a
 * fixed N, whatever the network, the algorithms or the process placement.
 * Each rank sends and receives (N-1)/N of the buffer twice, the same
 * traffic as a bandwidth-optimal ring all-reduce, and holds one buffer of
 * scratch rather than N copies.
 *
 * Floats are added in double and rounded once: for N = 2 that is exactly
 * float addition; for larger N the result is the nearest float to a sum
 * with a relative error near 2^-53 per addition, so the ranks add no error of
 * their own beyond one rounding and N ranks stay as close to one process
 * as the summation order inside each rank allows (docs/DESIGN.md §4).
 *
 * Alone: with no launcher around (ranks_launcher_size is 1) the process
 * does not join MPI at all. A singleton MPI_Init costs 0.5 to 1 s with Open
 * MPI 4.1 and buys nothing for a job of one, so plain `cnnbench train`
 * stays as it was; every launcher that can start ranks of this library
 * announces itself in the variables ranks_launcher_size reads.
 *
 * Failures: the duplicated communicator returns MPI errors as codes
 * (MPI_ERRORS_RETURN) that become cnn_status messages; the caller then ends
 * the job with ranks_abort.
 */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch_share.h"
#include "error.h"
#include "launch.h"
#include "ranks.h"

struct ranks {
    struct ranks_info info;
    int joined;             /* MPI_Init_thread succeeded: 0 for a job of one */
    struct ranks_alone alone;
    MPI_Comm comm;          /* a duplicate of MPI_COMM_WORLD: these collectives can never
                               match another library's on the same processes */
    int comm_made;
    /* the sum's layout, rebuilt per call (n may change): rank j's share of the
     * buffer, and where each rank's copy of this rank's share lands in scratch */
    int *share_counts, *share_offsets; /* [size] */
    int *part_counts, *part_offsets;   /* [size] */
    void *scratch;                     /* [size][this rank's share] */
    size_t scratch_bytes;
    char *names;                       /* [size][MPI_MAX_PROCESSOR_NAME] */
    struct ranks_host *hosts;          /* [host_count] */
    char library[MPI_MAX_LIBRARY_VERSION_STRING];
    char standard[16];
};

/* Records "call: MPI's own message" as a communication failure. */
static cnn_status mpi_fail(int err, const char *call)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(err, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "MPI error code %d", err);
    return cnn_fail(CNN_E_IO, "%s: %s", call, text);
}

#define MPI_TRY(call)                                                  \
    do {                                                               \
        int mpi_try_err_ = (call);                                     \
        if (mpi_try_err_ != MPI_SUCCESS)                               \
            return mpi_fail(mpi_try_err_, #call);                      \
    } while (0)

/* The library's first line, e.g. "Open MPI v4.1.4, package: Debian OpenMPI, ...",
 * and the standard it implements; both calls are allowed before MPI_Init. */
static void library_version(ranks *r)
{
    int len = 0;
    if (MPI_Get_library_version(r->library, &len) != MPI_SUCCESS)
        snprintf(r->library, sizeof r->library, "unknown");
    r->library[strcspn(r->library, "\r\n")] = '\0';
    int major = 0, minor = 0;
    if (MPI_Get_version(&major, &minor) == MPI_SUCCESS)
        snprintf(r->standard, sizeof r->standard, "%d.%d", major, minor);
}

/* Every rank's processor name, then the hosts in the order of their first
 * rank, for meta.json. The processes that share memory (what picks a GPU)
 * come from MPI_COMM_TYPE_SHARED instead: two containers on different
 * machines may carry the same host name. */
static cnn_status learn_hosts(ranks *r)
{
    int size = r->info.size;
    char mine[MPI_MAX_PROCESSOR_NAME] = {0};
    int len = 0;
    MPI_TRY(MPI_Get_processor_name(mine, &len));
    r->names = calloc((size_t)size, MPI_MAX_PROCESSOR_NAME);
    r->hosts = calloc((size_t)size, sizeof *r->hosts);
    if (!r->names || !r->hosts)
        return cnn_fail(CNN_E_NOMEM, "ranks: out of memory for %d host names", size);
    MPI_TRY(MPI_Allgather(mine, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, r->names,
                          MPI_MAX_PROCESSOR_NAME, MPI_CHAR, r->comm));
    for (int i = 0; i < size; i++) {
        const char *name = r->names + (size_t)i * MPI_MAX_PROCESSOR_NAME;
        int h = 0;
        while (h < r->info.host_count && strcmp(r->hosts[h].name, name) != 0)
            h++;
        if (h == r->info.host_count)
            r->hosts[r->info.host_count++] = (struct ranks_host){name, 0};
        r->hosts[h].ranks++;
    }
    r->info.hosts = r->hosts;

    MPI_Comm node;
    MPI_TRY(MPI_Comm_split_type(r->comm, MPI_COMM_TYPE_SHARED, r->info.rank, MPI_INFO_NULL,
                                &node));
    int st = MPI_Comm_rank(node, &r->info.local_rank);
    if (st == MPI_SUCCESS)
        st = MPI_Comm_size(node, &r->info.local_size);
    MPI_Comm_free(&node);
    if (st != MPI_SUCCESS)
        return mpi_fail(st, "MPI_Comm_rank/size(processes of this host)");
    return CNN_OK;
}

/* Refuses a job that MPI sees smaller than the launcher started it: the
 * library could not reach the launcher (Open MPI without Slurm or PMIx
 * support under srun, a foreign mpiexec) and every process became a
 * singleton that would train alone. */
static cnn_status check_launch(const ranks *r)
{
    const char *variable = "";
    int launched = ranks_launcher_size(&variable);
    if (launched >= 2 && launched != r->info.size)
        return cnn_fail(CNN_E_UNAVAILABLE,
                        "the launcher started %d processes (%s), but %s joined them into a job "
                        "of %d: this MPI library cannot talk to that launcher (under Slurm, "
                        "Open MPI needs Slurm or PMIx support; else start with this library's "
                        "own mpirun)",
                        launched, variable, r->library, r->info.size);
    return CNN_OK;
}

static cnn_status init_job(ranks *r, int *argc, char ***argv)
{
    /* the library's name is known before MPI_Init: a job of one records it too */
    library_version(r);
    const char *variable = "";
    if (ranks_launcher_size(&variable) == 1) {
        ranks_alone(&r->info, &r->alone, r->library, r->standard);
        return CNN_OK;
    }
    int provided = 0;
    MPI_TRY(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided));
    r->joined = 1;
    if (provided < MPI_THREAD_FUNNELED)
        return cnn_fail(CNN_E_UNAVAILABLE,
                        "%s provides no MPI_THREAD_FUNNELED: OpenMP threads cannot run "
                        "beside it", r->library);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_TRY(MPI_Comm_dup(MPI_COMM_WORLD, &r->comm));
    r->comm_made = 1;
    MPI_TRY(MPI_Comm_rank(r->comm, &r->info.rank));
    MPI_TRY(MPI_Comm_size(r->comm, &r->info.size));
    r->info.library = r->library;
    r->info.standard = r->standard;
    CNN_TRY(check_launch(r));

    size_t size = (size_t)r->info.size;
    r->share_counts = calloc(size, sizeof(int));
    r->share_offsets = calloc(size, sizeof(int));
    r->part_counts = calloc(size, sizeof(int));
    r->part_offsets = calloc(size, sizeof(int));
    if (!r->share_counts || !r->share_offsets || !r->part_counts || !r->part_offsets)
        return cnn_fail(CNN_E_NOMEM, "ranks: out of memory for %zu ranks", size);
    return learn_hosts(r);
}

static void release(ranks *r)
{
    if (r->comm_made)
        MPI_Comm_free(&r->comm);
    free(r->share_counts);
    free(r->share_offsets);
    free(r->part_counts);
    free(r->part_offsets);
    free(r->scratch);
    free(r->names);
    free(r->hosts);
    free(r);
}

cnn_status ranks_init(int *argc, char ***argv, ranks **out)
{
    *out = NULL;
    ranks *r = calloc(1, sizeof *r);
    if (!r)
        return cnn_fail(CNN_E_NOMEM, "ranks: out of memory");
    cnn_status st = init_job(r, argc, argv);
    if (st != CNN_OK) {
        release(r);
        return cnn_fail_context(st, "joining the MPI job");
    }
    *out = r;
    return CNN_OK;
}

void ranks_finalize(ranks *r)
{
    int joined = r->joined;
    release(r);
    if (joined)
        MPI_Finalize();
}

const struct ranks_info *ranks_info(const ranks *r) { return &r->info; }

/* Steps 1 and 3 of the sum (top of this file) around `add`, which sums
 * this rank's share from the N copies in scratch into buf. */
static cnn_status sum_over_ranks(ranks *r, void *buf, size_t n, MPI_Datatype type,
                                 size_t elem, void (*add)(const void *parts, size_t part_len,
                                                          int nparts, void *out))
{
    int N = r->info.size;
    if (N == 1)
        return CNN_OK;
    if (n > (size_t)INT_MAX - (size_t)N)
        return cnn_fail(CNN_E_ARG, "ranks: a sum of %zu elements; at most %d", n, INT_MAX - N);
    struct cnn_share mine = cnn_share_of(n, N, r->info.rank);
    for (int j = 0; j < N; j++) {
        struct cnn_share s = cnn_share_of(n, N, j);
        r->share_counts[j] = (int)s.count;
        r->share_offsets[j] = (int)s.offset;
        r->part_counts[j] = (int)mine.count;
        r->part_offsets[j] = j * (int)mine.count;
    }
    size_t need = (size_t)N * mine.count * elem;
    if (need > r->scratch_bytes) {
        void *grown = realloc(r->scratch, need);
        if (!grown)
            return cnn_fail(CNN_E_NOMEM, "ranks: out of memory for %zu bytes of sum scratch",
                            need);
        r->scratch = grown;
        r->scratch_bytes = need;
    }
    MPI_TRY(MPI_Alltoallv(buf, r->share_counts, r->share_offsets, type, r->scratch,
                          r->part_counts, r->part_offsets, type, r->comm));
    add(r->scratch, mine.count, N, (char *)buf + mine.offset * elem);
    MPI_TRY(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, r->share_counts,
                           r->share_offsets, type, r->comm));
    return CNN_OK;
}

/* out[k] = parts[0][k] + ... + parts[nparts-1][k], added in that order. */
static void add_floats(const void *parts, size_t part_len, int nparts, void *out)
{
    const float *p = parts;
    float *o = out;
    for (size_t k = 0; k < part_len; k++) {
        double acc = p[k];
        for (int i = 1; i < nparts; i++)
            acc += p[(size_t)i * part_len + k];
        o[k] = (float)acc;
    }
}

static void add_doubles(const void *parts, size_t part_len, int nparts, void *out)
{
    const double *p = parts;
    double *o = out;
    for (size_t k = 0; k < part_len; k++) {
        double acc = p[k];
        for (int i = 1; i < nparts; i++)
            acc += p[(size_t)i * part_len + k];
        o[k] = acc;
    }
}

cnn_status ranks_sum_float(ranks *r, float *buf, size_t n)
{
    return sum_over_ranks(r, buf, n, MPI_FLOAT, sizeof(float), add_floats);
}

cnn_status ranks_sum_double(ranks *r, double *buf, size_t n)
{
    return sum_over_ranks(r, buf, n, MPI_DOUBLE, sizeof(double), add_doubles);
}

cnn_status ranks_broadcast(ranks *r, void *buf, size_t bytes)
{
    if (r->info.size == 1)
        return CNN_OK;
    if (bytes > INT_MAX)
        return cnn_fail(CNN_E_ARG, "ranks: a broadcast of %zu bytes; at most %d", bytes,
                        INT_MAX);
    MPI_TRY(MPI_Bcast(buf, (int)bytes, MPI_BYTE, 0, r->comm));
    return CNN_OK;
}

_Noreturn void ranks_abort(int exit_code)
{
    fflush(stdout);
    fflush(stderr);
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (initialized && !finalized)
        MPI_Abort(MPI_COMM_WORLD, exit_code);
    /* no job to abort, or MPI_Abort came back (the standard allows it) */
    exit(exit_code);
}
