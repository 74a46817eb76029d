/*
 * ranks_single.c — ranks.h for a build without MPI: a job of exactly one
 * process. The sum and the broadcast leave the buffer as it is (the sum over
 * one rank is the buffer), and abort is exit. Started by a launcher as one
 * of several processes, it refuses: each copy would train alone on the
 * whole batch and rank 0's results would claim a parallel run.
 */
#include <stdio.h>
#include <stdlib.h>

#include "error.h"
#include "launch.h"
#include "ranks.h"

struct ranks {
    struct ranks_info info;
    struct ranks_alone alone;
};

cnn_status ranks_init(int *argc, char ***argv, ranks **out)
{
    (void)argc;
    (void)argv;
    *out = NULL;
    const char *variable = "";
    int launched = ranks_launcher_size(&variable);
    if (launched != 1) {
        const char *value = getenv(variable);
        return cnn_fail(CNN_E_UNAVAILABLE,
                        "started by a parallel launcher (%s=%s), but this cnnbench was built "
                        "without MPI, so every process would train alone; install Open MPI "
                        "(libopenmpi-dev, scripts/setup.sh does) and configure with "
                        "meson setup -Dmpi=enabled",
                        variable, value ? value : "");
    }
    ranks *r = calloc(1, sizeof *r);
    if (!r)
        return cnn_fail(CNN_E_NOMEM, "ranks: out of memory");
    ranks_alone(&r->info, &r->alone, "none (built without MPI)", "");
    *out = r;
    return CNN_OK;
}

void ranks_finalize(ranks *r) { free(r); }

const struct ranks_info *ranks_info(const ranks *r) { return &r->info; }

cnn_status ranks_sum_float(ranks *r, float *buf, size_t n)
{
    (void)r;
    (void)buf;
    (void)n;
    return CNN_OK;
}

cnn_status ranks_sum_double(ranks *r, double *buf, size_t n)
{
    (void)r;
    (void)buf;
    (void)n;
    return CNN_OK;
}

cnn_status ranks_broadcast(ranks *r, void *buf, size_t bytes)
{
    (void)r;
    (void)buf;
    (void)bytes;
    return CNN_OK;
}

_Noreturn void ranks_abort(int exit_code)
{
    fflush(stdout);
    fflush(stderr);
    exit(exit_code);
}
