/*
 * comm.c — the job as a backend sees it (impl/cnn.h, struct cnn_comm): the
 * ranks module's sum and broadcast behind the contract's function pointers,
 * so impl/ never includes MPI. The same in both builds.
 */
#include "ranks.h"

static cnn_status comm_sum(void *ctx, float *buf, size_t n)
{
    return ranks_sum_float(ctx, buf, n);
}

static cnn_status comm_broadcast(void *ctx, void *buf, size_t bytes)
{
    return ranks_broadcast(ctx, buf, bytes);
}

void ranks_comm(ranks *r, int global_batch, struct cnn_comm *out)
{
    const struct ranks_info *info = ranks_info(r);
    *out = (struct cnn_comm){
        .rank = info->rank, .size = info->size, .local_rank = info->local_rank,
        .global_batch = global_batch, .ctx = r, .sum = comm_sum, .broadcast = comm_broadcast,
    };
}
