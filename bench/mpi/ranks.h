/*
 * ranks.h — the processes of one data-parallel run, as the harness sees
 * them: who this process is, the deterministic sum of a buffer over all of
 * them, a broadcast from rank 0, and a job-wide abort.
 *
 * Two implementations, one chosen by the build (meson feature `mpi`):
 *   ranks_mpi.c     Open MPI (any MPI-3 library): the processes mpirun,
 *                   mpiexec or srun started;
 *   ranks_single.c  no MPI: a job of one process; it refuses to start when
 *                   a launcher started several copies of it, which would
 *                   otherwise each train alone.
 * impl/ stays free of MPI: a backend reaches the sum and the broadcast
 * through function pointers the harness hands it. Every MPI call is made by
 * the thread that called ranks_init (MPI_THREAD_FUNNELED): the backends'
 * OpenMP threads compute, they never communicate.
 */
#ifndef CNN_RANKS_H
#define CNN_RANKS_H

#include <stddef.h>

#include "cnn.h"

/* One host of the job, under the name MPI_Get_processor_name gives it. */
struct ranks_host {
    const char *name;
    int ranks;          /* processes of the job on it */
};

struct ranks_info {
    int rank;           /* this process, 0..size-1; only rank 0 writes files and prints */
    int size;           /* N, processes in the job */
    int local_rank;     /* among the processes that share this host's memory, in rank
                           order (MPI_COMM_TYPE_SHARED): picks this process's GPU */
    int local_size;
    int host_count;
    const struct ranks_host *hosts; /* [host_count], in the order of their first rank */
    const char *library;  /* first line of MPI_Get_library_version, e.g. "Open MPI v4.1.4,
                             package: Debian OpenMPI, ...", or "none (built without MPI)" */
    const char *standard; /* MPI standard the library implements, e.g. "3.1"; "" without MPI */
};

typedef struct ranks ranks;

/*
 * Joins the job (MPI_Init_thread, MPI_THREAD_FUNNELED) and learns its shape;
 * call once, first thing in main, with main's argc and argv. Fails when
 * the launcher's environment names more processes than the job has: a
 * build without MPI under mpirun, or an MPI library that cannot reach the
 * launcher that started it (ranks_launcher_size). After a failure, end the
 * process with ranks_abort.
 */
cnn_status ranks_init(int *argc, char ***argv, ranks **out);
/* Leaves the job (MPI_Finalize): every rank, after its last collective. */
void ranks_finalize(ranks *r);
const struct ranks_info *ranks_info(const ranks *r);

/*
 * Replaces buf [n] on every rank by its sum over the ranks, the same bits
 * on every rank and from run to run for a fixed N, whatever MPI's own
 * reduction algorithms: element i is added by exactly one rank, in rank
 * order 0..N-1, and copied to the others unchanged (ranks_mpi.c says how).
 * ranks_sum_float accumulates in double and rounds once, so N ranks add no
 * error of their own beyond one float rounding; ranks_sum_double is for
 * the step's metrics (loss sums, correct counts, stop flags). n <= INT_MAX.
 * Collective: every rank calls it with the same n.
 */
cnn_status ranks_sum_float(ranks *r, float *buf, size_t n);
cnn_status ranks_sum_double(ranks *r, double *buf, size_t n);
/* Copies rank 0's buf [bytes] to every rank (e.g. an NCCL unique id). Collective. */
cnn_status ranks_broadcast(ranks *r, void *buf, size_t bytes);

/*
 * The contract's view of this job (impl/cnn.h, struct cnn_comm) for a
 * global batch of global_batch images: rank, size, local rank, and the sum
 * and broadcast above behind its function pointers. r must outlive every
 * state made with it.
 */
void ranks_comm(ranks *r, int global_batch, struct cnn_comm *out);

/*
 * Ends every process of the job with exit_code, within seconds
 * (MPI_Abort on MPI_COMM_WORLD; without MPI, exit). For a failure on any
 * one rank: it prints its error first, then calls this, so no rank waits
 * forever in a collective the failed one will never join. Callable before
 * ranks_init succeeded and with no state at all.
 */
_Noreturn void ranks_abort(int exit_code);

/*
 * How many processes a launcher started together with this one, read from
 * the variables it sets: Open MPI's mpirun (OMPI_COMM_WORLD_SIZE), Hydra
 * mpiexec of MPICH and Intel MPI, or Slurm's PMI (PMI_SIZE), srun
 * (SLURM_STEP_NUM_TASKS; SLURM_NTASKS alone is also set in a batch script
 * that srun has not split). Returns that count (1: no launcher, or one
 * process), or 0 when a PMIx launcher started this process without saying
 * how many (PMIX_RANK alone): not provably alone. *variable names what
 * decided; pure, no MPI, usable by both builds.
 */
int ranks_launcher_size(const char **variable);

#endif
