/*
 * sum_cost.c — what the gradient sum of one data-parallel step costs:
 * ranks_sum_float over the parameter count of F filters, against
 * MPI_Allreduce of the same buffer (faster where the library's algorithm
 * is, but its order of additions is not fixed; ranks_mpi.c says why the
 * sum orders them itself). Run under the launcher:
 *   mpirun -np 2 build/bench/mpi/sum_cost [F [REPEATS]]     (F 256, 200 repeats)
 * Each repeat starts from a barrier and counts the slowest rank's time, the
 * time a training step waits. Rank 0 prints the median and the quartiles.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "cnn.h"
#include "error.h"
#include "ranks.h"

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts t [n] and prints its median and quartiles in milliseconds. */
static void report(const char *what, double *t, int n, size_t bytes)
{
    qsort(t, (size_t)n, sizeof *t, by_value);
    double median = t[n / 2];
    printf("%-34s median %7.3f ms  (q1 %7.3f, q3 %7.3f)  %6.2f GB/s of buffer\n", what,
           median * 1e3, t[n / 4] * 1e3, t[3 * n / 4] * 1e3, (double)bytes / median / 1e9);
}

/* One repeat of fn: the slowest rank's seconds. */
static double slowest(cnn_status (*fn)(ranks *, float *, size_t), ranks *r, float *buf,
                      size_t n)
{
    MPI_Barrier(MPI_COMM_WORLD);
    double start = MPI_Wtime();
    if (fn(r, buf, n) != CNN_OK) {
        fprintf(stderr, "sum_cost: error: %s\n", cnn_last_error());
        ranks_abort(1);
    }
    double mine = MPI_Wtime() - start, worst = 0.0;
    MPI_Allreduce(&mine, &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return worst;
}

static cnn_status mpi_allreduce(ranks *r, float *buf, size_t n)
{
    (void)r;
    int err = MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    return err == MPI_SUCCESS ? CNN_OK : cnn_fail(CNN_E_IO, "MPI_Allreduce failed (%d)", err);
}

int main(int argc, char **argv)
{
    ranks *r = NULL;
    if (ranks_init(&argc, &argv, &r) != CNN_OK) {
        fprintf(stderr, "sum_cost: error: %s\n", cnn_last_error());
        ranks_abort(1);
    }
    if (ranks_info(r)->size < 2) {
        fprintf(stderr, "sum_cost: error: a job of one sums nothing; start it with "
                "mpirun -np N (N >= 2)\n");
        ranks_abort(2);
    }
    int filters = argc > 1 ? atoi(argv[1]) : 256;
    int repeats = argc > 2 ? atoi(argv[2]) : 200;
    if (filters < 1 || filters > CNN_MAX_FILTERS || repeats < 4) {
        fprintf(stderr, "usage: sum_cost [F (1..%d) [REPEATS (>= 4)]]\n", CNN_MAX_FILTERS);
        ranks_abort(2);
    }
    size_t n = cnn_param_count(filters);
    float *buf = calloc(n, sizeof *buf);
    double *t = calloc((size_t)repeats, sizeof *t);
    if (!buf || !t) {
        fprintf(stderr, "sum_cost: error: out of memory\n");
        ranks_abort(1);
    }
    const struct ranks_info *info = ranks_info(r);
    if (info->rank == 0)
        printf("%d ranks on %d host(s), F = %d: %zu floats (%.2f MB), %d repeats; %s\n",
               info->size, info->host_count, filters, n, (double)(n * sizeof *buf) / 1e6,
               repeats, info->library);
    /* one untimed call of each grows the scratch and warms the transport */
    slowest(ranks_sum_float, r, buf, n);
    slowest(mpi_allreduce, r, buf, n);
    for (int i = 0; i < repeats; i++)
        t[i] = slowest(ranks_sum_float, r, buf, n);
    if (info->rank == 0)
        report("ranks_sum_float (rank order)", t, repeats, n * sizeof *buf);
    for (int i = 0; i < repeats; i++)
        t[i] = slowest(mpi_allreduce, r, buf, n);
    if (info->rank == 0)
        report("MPI_Allreduce (library order)", t, repeats, n * sizeof *buf);
    free(buf);
    free(t);
    ranks_finalize(r);
    return 0;
}
