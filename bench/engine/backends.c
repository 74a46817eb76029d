/* backends.c — registry lookups and capability checks for the subcommands. */
#include "backends.h"

#include <stdio.h>
#include <string.h>

#include "error.h"

cnn_status backends_validate_all(void)
{
    for (int i = 0; cnn_backends[i]; i++)
        CNN_TRY(cnn_backend_validate(cnn_backends[i]));
    return CNN_OK;
}

void backends_names(char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; cnn_backends[i] && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", cnn_backends[i]->name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

cnn_status backends_find(const char *name, const struct cnn_backend **be)
{
    *be = cnn_backend_find(name);
    if (*be)
        return CNN_OK;
    char names[256];
    backends_names(names, sizeof names);
    return cnn_fail(CNN_E_ARG, "--impl: unknown backend '%s' (this build has: %s)", name, names);
}

cnn_status backends_probe(const struct cnn_backend *be)
{
    cnn_clear_error();
    cnn_status st = be->probe();
    if (st == CNN_OK)
        return CNN_OK;
    const char *msg = cnn_last_error();
    size_t n = strlen(be->name);
    if (strncmp(msg, be->name, n) == 0 && msg[n] == ':')
        return st;
    if (!*msg)
        return cnn_fail(st, "%s: %s", be->name, cnn_status_name(st));
    return cnn_fail_context(st, "%s", be->name);
}

void backends_print(void)
{
    for (int i = 0; cnn_backends[i]; i++) {
        const struct cnn_backend *be = cnn_backends[i];
        cnn_status st = backends_probe(be);
        printf("%-5s %s\n", be->name, be->description);
        printf("      threads: %s; device: %s; several GPUs: %s; runs here: %s\n",
               (be->caps & CNN_CAP_THREADS) ? "yes (--threads)" : "no",
               (be->caps & CNN_CAP_DEVICE) ? "yes" : "no",
               (be->caps & CNN_CAP_DATA_PARALLEL) ? "yes (--gpus N, NCCL)" : "no",
               st == CNN_OK ? "yes" : cnn_last_error());
        if (be->caps & CNN_CAP_VARIANTS)
            for (int v = 0; v < be->variant_count; v++)
                printf("      variant %d: %s\n", v + 1, be->variant_names[v]);
    }
}

const char *backends_name_with_cap(unsigned cap)
{
    const struct cnn_backend *be = cnn_backend_with_cap(cap);
    return be ? be->name : NULL;
}
