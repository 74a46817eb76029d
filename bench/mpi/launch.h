/*
 * launch.h — private to bench/mpi: the job of one process that both
 * implementations of ranks.h make when no launcher started this one
 * (ranks_launcher_size, in ranks.h, tells).
 */
#ifndef CNN_RANKS_LAUNCH_H
#define CNN_RANKS_LAUNCH_H

#include "ranks.h"

/* The one host of a job of one, and the storage of its name. */
struct ranks_alone {
    struct ranks_host host;
    char host_name[256];
};

/* Fills info for rank 0 of 1 on this host (named as MPI_Get_processor_name
 * names it on Linux: gethostname), with the library named. */
void ranks_alone(struct ranks_info *info, struct ranks_alone *alone, const char *library,
                 const char *standard);

#endif
