/*
 * plotdata_scaling.c — images/s against ranks (sweep --ranks): one table per
 * scaling mode of the run, scaling_ranks_strong.csv and
 * scaling_ranks_weak.csv, a block per curve of scaling.h (header: x, the
 * curve's name, images_low, images_high, ideal, unstable, efficiency), and
 * their axes in plotinfo.gp as ranks_<mode>_*. A mode the run does not
 * have leaves no table, so render.sh skips its chart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fields.h"
#include "json.h"
#include "plotdata.h"
#include "scaling.h"

/* One mode's table: strong holds the strong and threads curves. */
static cnn_status mode_table(struct pd *pd, const struct scaling *sc, const char *mode,
                             int weak)
{
    char name[64], key[64];
    snprintf(name, sizeof name, "scaling_ranks_%s.csv", mode);
    struct cnn_atomic_file f;
    CNN_TRY(pd_open_table(pd, name, &f));
    long *ticks = calloc((size_t)sc->n_points + 1, sizeof *ticks);
    if (!ticks) {
        cnn_atomic_abort(&f);
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the rank ticks");
    }
    int blocks = 0, curves = 0, n_ticks = 0, unstable = 0;
    struct range y = range_empty;
    for (int c = 0; c < sc->n_curves; c++) {
        const struct scaling_curve *cv = &sc->curves[c];
        if ((cv->kind == SCALING_WEAK) != weak || curves++ >= PD_MAX_CURVES)
            continue;
        fprintf(f.fp, "x,%s,images_low,images_high,ideal,unstable,efficiency\n", cv->name);
        for (int i = cv->first; i < cv->first + cv->count; i++) {
            const struct scaling_point *p = &sc->points[i];
            fprintf(f.fp, "%d,%.6g,%.6g,%.6g,%.6g,%d,%.4f\n", p->x, p->ips, p->ips_low,
                    p->ips_high, p->ideal, p->unstable, p->ips / p->ideal);
            pd_range_add(&y, p->ips_low);
            pd_range_add(&y, p->ips_high);
            pd_range_add(&y, p->ideal);
            ticks[n_ticks++] = p->x;
            unstable |= p->unstable;
        }
        pd_end_block(f.fp);
        blocks++;
    }
    snprintf(key, sizeof key, "ranks_%s", mode);
    pd_info_curves(pd, key, blocks, curves, ticks, n_ticks, y, unstable);
    free(ticks);
    return pd_close_table(&f, blocks);
}

cnn_status pd_table_ranks(struct pd *pd, const char *meta_path, const char *meta)
{
    char mode[16] = "";
    if (json_get_string(meta, "settings.scaling", mode, sizeof mode) == 0 &&
        !scaling_modes(mode))
        return cnn_fail(CNN_E_DATA, "%s: settings.scaling is not strong, weak or both",
                        meta_path);
    struct scaling sc;
    CNN_TRY(scaling_build(pd->rows, pd->n, scaling_modes(mode), &sc));
    cnn_status st = mode_table(pd, &sc, "strong", 0);
    if (st == CNN_OK)
        st = mode_table(pd, &sc, "weak", 1);
    scaling_free(&sc);
    return st;
}
