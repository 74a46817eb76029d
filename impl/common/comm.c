/* comm.c — the allreduce of a CPU backend: the gradient summed over the
 * processes of its job through the harness's function (cnn.h, cnn_comm). */
#include "comm.h"

#include "error.h"

cnn_status cnn_comm_sum(const struct cnn_config *cfg, float *grads, size_t n)
{
    const struct cnn_comm *c = cfg->comm;
    if (!c)
        return cnn_fail(CNN_E_ARG, "allreduce on a state that is not part of a job of "
                        "several processes");
    cnn_status st = c->sum(c->ctx, grads, n);
    if (st != CNN_OK)
        return cnn_fail_context(st, "summing the gradients over %d processes", c->size);
    return CNN_OK;
}
