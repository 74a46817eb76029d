/* showcase.c — conv filters and pooled feature maps of one digit, exported as CSV. */
#include "showcase.h"

#include <stdio.h>
#include <stdlib.h>

#include "error.h"
#include "fileio.h"

void showcase_pooled_maps(const struct cnn_params *p, const float *x, float *m)
{
    for (int f = 0; f < p->filters; f++) {
        const float *w = p->conv_w + (size_t)f * CNN_KTAPS;
        for (int i = 0; i < CNN_POOL; i++)
            for (int j = 0; j < CNN_POOL; j++) {
                /* max over the 2x2 window of ReLU(z); ReLU makes 0 the floor */
                float best = 0.0f;
                for (int di = 0; di < CNN_POOLW; di++)
                    for (int dj = 0; dj < CNN_POOLW; dj++) {
                        int r = CNN_POOLW * i + di, c = CNN_POOLW * j + dj;
                        float z = p->conv_b[f];
                        for (int u = 0; u < CNN_KSIZE; u++)
                            for (int v = 0; v < CNN_KSIZE; v++)
                                z += w[u * CNN_KSIZE + v] * x[(r + u) * CNN_IMG + c + v];
                        if (z > best)
                            best = z;
                    }
                m[((size_t)f * CNN_POOL + i) * CNN_POOL + j] = best;
            }
    }
}

static cnn_status open_in(struct cnn_atomic_file *f, const char *dir, const char *name,
                          const char *header)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    CNN_TRY(cnn_atomic_open(f, path));
    fprintf(f->fp, "%s\n", header);
    return CNN_OK;
}

cnn_status showcase_export(const char *dir, const struct cnn_params *p, const float *x,
                           const uint8_t *raw)
{
    struct cnn_atomic_file f;
    CNN_TRY(open_in(&f, dir, "filters.csv", "filter,row,col,weight"));
    for (int k = 0; k < p->filters; k++)
        for (int t = 0; t < CNN_KTAPS; t++)
            fprintf(f.fp, "%d,%d,%d,%.9g\n", k, t / CNN_KSIZE, t % CNN_KSIZE,
                    (double)p->conv_w[(size_t)k * CNN_KTAPS + t]);
    CNN_TRY(cnn_atomic_commit(&f));

    float *m = malloc(cnn_features(p->filters) * sizeof *m);
    if (!m)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate feature maps");
    showcase_pooled_maps(p, x, m);
    cnn_status st = open_in(&f, dir, "feature_maps.csv", "filter,row,col,activation");
    if (st == CNN_OK) {
        for (int k = 0; k < p->filters; k++)
            for (int a = 0; a < CNN_POOL_AREA; a++)
                fprintf(f.fp, "%d,%d,%d,%.9g\n", k, a / CNN_POOL, a % CNN_POOL,
                        (double)m[(size_t)k * CNN_POOL_AREA + a]);
        st = cnn_atomic_commit(&f);
    }
    free(m);
    CNN_TRY(st);

    CNN_TRY(open_in(&f, dir, "digit.csv", "row,col,pixel"));
    for (int a = 0; a < CNN_PIXELS; a++)
        fprintf(f.fp, "%d,%d,%u\n", a / CNN_IMG, a % CNN_IMG, raw[a]);
    return cnn_atomic_commit(&f);
}
