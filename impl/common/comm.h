/*
 * comm.h — what a CPU backend needs to train as one process of a
 * data-parallel job (cnn.h, struct cnn_comm): the batch its loss gradient
 * is the mean over, and its allreduce slot's sum. One definition, so seq,
 * omp and onednn divide and sum the same way, and a state without a comm
 * computes exactly what it did before the comm existed.
 */
#ifndef CNN_COMM_H
#define CNN_COMM_H

#include <stddef.h>

#include "cnn.h"

/* The images the loss gradient averages over: the global batch of cfg's
 * job, or the n images of this step for a state without a comm. */
static inline int cnn_comm_mean_over(const struct cnn_config *cfg, int n)
{
    return cfg->comm ? cfg->comm->global_batch : n;
}

/* 1 for a state made with a comm: cnn_step runs its allreduce (data_parallel). */
static inline int cnn_comm_joined(const struct cnn_config *cfg) { return cfg->comm != NULL; }

/* grads [n], this process's gradient, replaced in place by the sum over
 * every process of cfg's job (comm->sum: the same bits everywhere). */
cnn_status cnn_comm_sum(const struct cnn_config *cfg, float *grads, size_t n);

#endif
