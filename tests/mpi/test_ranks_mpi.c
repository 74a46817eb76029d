/*
 * test_ranks_mpi.c — bench/mpi/ranks_mpi.c under a real launcher, run by
 * tests/mpi/mpirun_check.sh as `mpirun -np N test_ranks_mpi MODE`:
 *   sum    the sum of float and double buffers (empty, fewer elements than
 *          ranks, odd sizes, F=256's parameter count) equals the rank-order
 *          sum every rank recomputes on its own from all ranks' data, bit
 *          for bit, and is the same bits on every rank; the broadcast; the
 *          job's shape. Rank 0 prints a digest of every result, which the
 *          script compares across two runs.
 *   abort  the last rank fails and calls ranks_abort while the others wait
 *          in a sum: the whole job must end, non-zero, within seconds.
 *   kill   the last rank dies by SIGKILL while the others wait in a sum.
 *   alone  started without a launcher, or by mpirun -np 1: a job of one
 *          that never joins MPI, names the library all the same, and
 *          sums and broadcasts to itself.
 * The cross-rank checks use MPI directly, not the code under test.
 */
#include <math.h>
#include <mpi.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cnn.h"
#include "ranks.h"

static uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

/* Rank r's element i: a sign, 24 random mantissa bits and a binary
 * exponent in -20..20; and in every fourth element, a huge value on rank 0
 * that rank 1 cancels, so that any order but 0, 1, 2, ... loses the small
 * values of the later ranks and shows in the bits. */
static double value_of(int rank, size_t i, uint64_t seed)
{
    if (i % 4 == 0 && rank < 2) {
        double huge = ldexp((double)((splitmix(seed ^ i) & 0x7fffffu) + (1u << 23)), 60);
        return rank == 0 ? huge : -huge;
    }
    uint64_t h = splitmix(seed ^ splitmix(((uint64_t)rank << 40) ^ i));
    double mantissa = (double)(h & 0xffffffu) / (double)(1u << 24) + 0.5;
    int exponent = (int)((h >> 24) % 41) - 20;
    double v = ldexp(mantissa, exponent);
    return (h >> 63) ? -v : v;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t bytes)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < bytes; i++)
        h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

/* 1 on every rank if ok is 1 on every rank. */
static int all_ranks(int ok)
{
    int all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all;
}

/* 1 if every rank holds the same digest. */
static int same_on_every_rank(uint64_t digest, int size)
{
    uint64_t *all = calloc((size_t)size, sizeof *all);
    if (!all)
        return 0;
    MPI_Allgather(&digest, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, MPI_COMM_WORLD);
    int same = 1;
    for (int i = 1; i < size; i++)
        same &= all[i] == all[0];
    free(all);
    return same;
}

/* Checks only rank 0 reports; every rank's verdict counts. */
static int rank0;
static void job_check(int ok_here, const char *what, size_t n)
{
    int ok = all_ranks(ok_here);
    if (rank0)
        check(ok, "%s, n = %zu", what, n);
    else if (!ok)
        check_failed++;
}

static uint64_t digest = 0xcbf29ce484222325u;

static void test_sum_float(ranks *r, size_t n, uint64_t seed)
{
    const struct ranks_info *info = ranks_info(r);
    float *buf = malloc((n ? n : 1) * sizeof *buf);
    float *expect = malloc((n ? n : 1) * sizeof *expect);
    if (!buf || !expect) {
        CHECK_OK(cnn_fail(CNN_E_NOMEM, "out of memory"));
    }
    for (size_t i = 0; i < n; i++) {
        buf[i] = (float)value_of(info->rank, i, seed);
        double sum = 0.0;
        for (int k = 0; k < info->size; k++)
            sum += (double)(float)value_of(k, i, seed);
        expect[i] = (float)sum;
    }
    CHECK_OK(ranks_sum_float(r, buf, n));
    job_check(memcmp(buf, expect, n * sizeof *buf) == 0,
              "float sum equals the rank-order sum in double, rounded once, bit for bit", n);
    uint64_t mine = fnv1a(0xcbf29ce484222325u, buf, n * sizeof *buf);
    job_check(same_on_every_rank(mine, info->size), "float sum: the same bits on every rank", n);
    digest = fnv1a(digest, buf, n * sizeof *buf);
    free(buf);
    free(expect);
}

static void test_sum_double(ranks *r, size_t n, uint64_t seed)
{
    const struct ranks_info *info = ranks_info(r);
    double *buf = malloc((n ? n : 1) * sizeof *buf);
    double *expect = malloc((n ? n : 1) * sizeof *expect);
    if (!buf || !expect) {
        CHECK_OK(cnn_fail(CNN_E_NOMEM, "out of memory"));
    }
    for (size_t i = 0; i < n; i++) {
        buf[i] = value_of(info->rank, i, seed);
        double sum = 0.0;
        for (int k = 0; k < info->size; k++)
            sum += value_of(k, i, seed);
        expect[i] = sum;
    }
    CHECK_OK(ranks_sum_double(r, buf, n));
    job_check(memcmp(buf, expect, n * sizeof *buf) == 0,
              "double sum equals the rank-order sum, bit for bit", n);
    uint64_t mine = fnv1a(0xcbf29ce484222325u, buf, n * sizeof *buf);
    job_check(same_on_every_rank(mine, info->size), "double sum: the same bits on every rank",
              n);
    digest = fnv1a(digest, buf, n * sizeof *buf);
    free(buf);
    free(expect);
}

static void test_broadcast(ranks *r)
{
    const struct ranks_info *info = ranks_info(r);
    unsigned char id[128]; /* the size of an NCCL unique id */
    for (size_t i = 0; i < sizeof id; i++)
        id[i] = info->rank == 0 ? (unsigned char)(i * 7 + 3) : 0;
    CHECK_OK(ranks_broadcast(r, id, sizeof id));
    int ok = 1;
    for (size_t i = 0; i < sizeof id; i++)
        ok &= id[i] == (unsigned char)(i * 7 + 3);
    job_check(ok, "broadcast: rank 0's 128 bytes on every rank", sizeof id);
}

/* The job's shape against the launcher's count and itself. */
static void test_shape(ranks *r)
{
    const struct ranks_info *info = ranks_info(r);
    const char *variable = "";
    int launched = ranks_launcher_size(&variable);
    int host_ranks = 0;
    for (int h = 0; h < info->host_count; h++)
        host_ranks += info->hosts[h].ranks;
    if (rank0) {
        check(launched == info->size, "%d ranks, as the launcher says (%s=%d)", info->size,
              variable, launched);
        check(host_ranks == info->size && info->host_count >= 1,
              "%d host(s) holding %d ranks; the first is %s", info->host_count, host_ranks,
              info->hosts[0].name);
        check(*info->library && *info->standard, "library %s, MPI %s", info->library,
              info->standard);
    }
    /* on one host, the local ranks are the ranks */
    if (info->host_count == 1)
        job_check(info->local_size == info->size && info->local_rank == info->rank,
                  "one host: local rank and size equal the job's", (size_t)info->size);
}

/* A job of one: no MPI_Init (a singleton init costs up to a second). */
static void test_alone(ranks *r)
{
    const struct ranks_info *info = ranks_info(r);
    int initialized = 1;
    MPI_Initialized(&initialized);
    check(!initialized, "alone: MPI not initialized");
    check(info->rank == 0 && info->size == 1 && info->local_size == 1 && info->host_count == 1 &&
          info->hosts[0].ranks == 1, "alone: rank 0 of 1 on %s", info->hosts[0].name);
    check(*info->library && strstr(info->library, "without MPI") == NULL && *info->standard,
          "alone: the library is named all the same: %s, MPI %s", info->library,
          info->standard);
    float f[2] = {1.25f, -3e-9f};
    unsigned char id[4] = {1, 2, 3, 4};
    CHECK_OK(ranks_sum_float(r, f, 2));
    CHECK_OK(ranks_broadcast(r, id, sizeof id));
    check(f[0] == 1.25f && f[1] == -3e-9f && id[0] == 1 && id[3] == 4,
          "alone: sum and broadcast leave the buffers as they were");
}

int main(int argc, char **argv)
{
    check_name = "ranks-mpi";
    const char *mode = argc > 1 ? argv[1] : "sum";
    ranks *r = NULL;
    cnn_status st = ranks_init(&argc, &argv, &r);
    if (st != CNN_OK) {
        fprintf(stderr, "test_ranks_mpi: error: %s\n", cnn_last_error());
        ranks_abort(1);
    }
    const struct ranks_info *info = ranks_info(r);
    rank0 = info->rank == 0;
    if (!strcmp(mode, "alone")) {
        test_alone(r);
        ranks_finalize(r);
        return check_finish();
    }

    if (!strcmp(mode, "abort") || !strcmp(mode, "kill")) {
        size_t n = cnn_param_count(256);
        float *buf = calloc(n, sizeof *buf);
        if (info->rank == info->size - 1) {
            if (!strcmp(mode, "kill"))
                raise(SIGKILL);
            fprintf(stderr, "test_ranks_mpi: error: rank %d of %d: a planted failure\n",
                    info->rank, info->size);
            ranks_abort(3);
        }
        /* the others wait for a rank that never joins */
        st = buf ? ranks_sum_float(r, buf, n) : CNN_E_NOMEM;
        fprintf(stderr, "test_ranks_mpi: rank %d: the sum returned (%s) without the failed "
                "rank\n", info->rank, cnn_status_name(st));
        return 1;
    }
    if (strcmp(mode, "sum") != 0) {
        fprintf(stderr, "test_ranks_mpi: error: unknown mode '%s' (sum, abort, kill, alone)\n", mode);
        ranks_abort(2);
    }

    test_shape(r);
    test_broadcast(r);
    const size_t sizes[] = {0, 1, 2, 5, 1001, cnn_param_count(256)};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        test_sum_float(r, sizes[k], 1 + k);
        test_sum_double(r, sizes[k], 100 + k);
    }
    if (rank0)
        printf("digest %d ranks: %016llx\n", info->size, (unsigned long long)digest);
    int failed = check_failed;
    ranks_finalize(r);
    return rank0 ? check_finish() : (failed ? 1 : 0);
}
