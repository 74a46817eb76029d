/*
 * launch.c — whether a parallel launcher started this process, from the
 * environment it sets (ranks.h, ranks_launcher_size), and the job of one
 * when none did (launch.h). Both builds need them: without MPI, to refuse to
 * run N independent copies; with MPI, to notice a library that cannot reach
 * the launcher and so sees N jobs of one, and to run alone without joining
 * MPI at all (a singleton MPI_Init costs 0.5 to 1 s with Open MPI 4.1).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "launch.h"
#include "ranks.h"

/* The variable's value as a count >= 1, or -1 if unset or not a count. */
static long count_in(const char *name)
{
    const char *text = getenv(name);
    if (!text || !*text)
        return -1;
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || v < 1 || v > INT_MAX)
        return -1;
    return v;
}

int ranks_launcher_size(const char **variable)
{
    /* Each launcher's own count of the processes it started, most specific
     * first. SLURM_NTASKS is not among them: a batch script sees the
     * allocation's task count there while it runs as one process. */
    static const char *const size_variables[] = {
        "OMPI_COMM_WORLD_SIZE", /* Open MPI's mpirun */
        "PMI_SIZE",             /* Hydra (MPICH, Intel MPI), Slurm's PMI-2 */
        "SLURM_STEP_NUM_TASKS", /* srun: the tasks of this job step */
    };
    for (size_t i = 0; i < sizeof size_variables / sizeof size_variables[0]; i++) {
        long n = count_in(size_variables[i]);
        if (n >= 1) {
            *variable = size_variables[i];
            return (int)n;
        }
    }
    /* A PMIx server (prterun, srun --mpi=pmix) sets the rank, not the count. */
    const char *pmix = getenv("PMIX_RANK");
    if (pmix && *pmix) {
        *variable = "PMIX_RANK";
        return 0;
    }
    *variable = "";
    return 1;
}

void ranks_alone(struct ranks_info *info, struct ranks_alone *alone, const char *library,
                 const char *standard)
{
    if (gethostname(alone->host_name, sizeof alone->host_name) != 0)
        snprintf(alone->host_name, sizeof alone->host_name, "unknown");
    alone->host_name[sizeof alone->host_name - 1] = '\0';
    alone->host = (struct ranks_host){alone->host_name, 1};
    *info = (struct ranks_info){
        .rank = 0,
        .size = 1,
        .local_rank = 0,
        .local_size = 1,
        .host_count = 1,
        .hosts = &alone->host,
        .library = library,
        .standard = standard,
    };
}
