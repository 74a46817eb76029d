/*
 * plotdata_roofline.c — the tables of the roofline and energy charts
 * (plots/roofline.gp, plots/energy.gp document their columns):
 *   roofline.csv           a block per label, a row per region of every
 *                          configuration placed under its ceilings
 *                          (roofline_run.h), regions without FLOPs included
 *                          (intensity 0: REPORT.md gives their bandwidth);
 *   roofline_ceilings.csv  a block per ceiling the placed configurations
 *                          used: FMA roofs solid, multiply-and-add-apart
 *                          roofs dashed where a placed region is held to one;
 *   energy.csv             a block per label and device with a measured
 *                          figure: images per joule against images per second.
 * A table with nothing to draw is removed, and render.sh says why it skipped
 * the chart.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "plotdata.h"
#include "roofline_run.h"

/* A ceiling set the run's placements used, and which of its roofs they touch. */
struct used_ceiling {
    struct roof_ceilings c;
    int device;
    int mul_add_used; /* a placed region rounds multiply and add apart */
};

enum { MAX_USED = ROOFRUN_MAX_CPU + 1 };

static int same_ceilings(const struct roof_ceilings *a, const struct roof_ceilings *b)
{
    return a->fma_flop_per_s == b->fma_flop_per_s && a->bytes_per_s == b->bytes_per_s &&
           a->threads == b->threads && !strcmp(a->source, b->source);
}

/* The used ceiling of rc, added when new; NULL when MAX_USED are taken. */
static struct used_ceiling *use_ceiling(struct used_ceiling *used, int *n,
                                        const struct roofrun_config *rc)
{
    for (int i = 0; i < *n; i++)
        if (same_ceilings(&used[i].c, &rc->ceilings))
            return &used[i];
    if (*n == MAX_USED)
        return NULL;
    used[*n] = (struct used_ceiling){rc->ceilings, rc->device, 0};
    return &used[(*n)++];
}

/* A curve title is a CSV field of the block's header line: no commas. */
static void no_commas(char *s)
{
    for (; *s; s++)
        if (*s == ',')
            *s = ';';
}

/* The rows of label l's configurations placed under their ceilings. */
static int label_rows(const struct pd *pd, const struct roofrun *rr, int l, FILE *fp,
                      struct used_ceiling *used, int *n_used, struct range *x, int *unstable,
                      int *unplaced, char *why, size_t why_len)
{
    const struct label *lb = &pd->labels[l];
    int written = 0;
    for (int c = lb->first_cell; c < lb->first_cell + lb->n_cells; c++) {
        const struct cell *ce = &pd->cells[c];
        for (int j = ce->first; j < ce->first + ce->count; j++) {
            const struct summary_row *r = &pd->rows[pd->cell_rows[j]];
            struct roofrun_config rc;
            char reason[ROOFRUN_NOTE];
            struct used_ceiling *u = NULL;
            if (!roofrun_config(rr, r, &rc, reason, sizeof reason) ||
                !(u = use_ceiling(used, n_used, &rc))) {
                if (!*unplaced)
                    snprintf(why, why_len, "%s", u ? reason : "too many ceilings");
                (*unplaced)++;
                continue;
            }
            int row_unstable = pd_row_unstable(r);
            for (int k = 0; k < CNN_REGION_COUNT; k++) {
                struct roof_work w;
                struct roof_point p;
                if (!roofrun_place(&rc, r, (enum cnn_region)k, &w, &p))
                    continue;
                if (written++ == 0)
                    roof_table_header(fp, lb->name);
                roof_table_row(fp, r->key, (enum cnn_region)k, &w, r->region_ms[k], &p,
                               row_unstable);
                if (w.flop > 0) {
                    pd_range_add(x, p.intensity);
                    u->mul_add_used |= !(rc.fma_regions & CNN_REGION_BIT(k));
                }
                *unstable |= row_unstable;
            }
        }
    }
    if (written)
        pd_end_block(fp);
    return written > 0;
}

/* Appends " N" to a gnuplot word list. */
static void add_word(char *list, size_t len, int n)
{
    size_t used = strlen(list);
    snprintf(list + used, len - used, "%s%d", used ? " " : "", n);
}

cnn_status pd_table_roofline(struct pd *pd, const char *meta_path, const char *meta)
{
    struct roofrun rr;
    CNN_TRY(roofrun_open(&rr, pd->run, meta_path, meta));
    struct cnn_atomic_file f;
    cnn_status st = pd_open_table(pd, "roofline.csv", &f);
    if (st != CNN_OK) {
        roofrun_close(&rr);
        return st;
    }
    struct used_ceiling used[MAX_USED];
    int n_used = 0, blocks = 0, unstable = 0, unplaced = 0;
    char why[ROOFRUN_NOTE] = "";
    struct range x = range_empty;
    for (int l = 0; l < pd->n_labels; l++)
        blocks += label_rows(pd, &rr, l, f.fp, used, &n_used, &x, &unstable, &unplaced, why,
                             sizeof why);
    roofrun_close(&rr);
    CNN_TRY(pd_close_table(&f, blocks));

    /* the roofs span the points and each ridge, a decade beyond */
    for (int i = 0; i < n_used; i++)
        pd_range_add(&x, used[i].c.fma_flop_per_s / used[i].c.bytes_per_s);
    double x_lo = x.hi > 0 ? pow(10, floor(log10(x.lo)) - 1) : 1e-2;
    double x_hi = x.hi > 0 ? pow(10, ceil(log10(x.hi)) + 1) : 1e2;
    CNN_TRY(pd_open_table(pd, "roofline_ceilings.csv", &f));
    char solid[128] = "", dashed[128] = "";
    int n_blocks = 0;
    for (int i = 0; i < n_used && blocks; i++) {
        const char *device = used[i].device ? "GPU" : "CPU";
        char title[ROOF_SOURCE + 96];
        /* the FMA roof is drawn for every set: it is the machine's peak */
        roofrun_ceiling_title(title, sizeof title, &used[i].c, device, 1);
        no_commas(title);
        roof_ceiling_block(f.fp, title, used[i].c.fma_flop_per_s, used[i].c.bytes_per_s, x_lo,
                           x_hi);
        add_word(solid, sizeof solid, n_blocks++);
        if (used[i].mul_add_used) {
            roofrun_ceiling_title(title, sizeof title, &used[i].c, device, 0);
            no_commas(title);
            roof_ceiling_block(f.fp, title, used[i].c.mul_add_flop_per_s, used[i].c.bytes_per_s,
                               x_lo, x_hi);
            add_word(dashed, sizeof dashed, n_blocks++);
        }
    }
    CNN_TRY(pd_close_table(&f, n_blocks));

    char note[ROOFRUN_NOTE + 64] = "";
    if (unplaced)
        snprintf(note, sizeof note, " (%d configuration%s not placed: %s)", unplaced,
                 unplaced == 1 ? "" : "s", why);
    pd_info_int(pd, "roof_blocks", blocks);
    pd_info_str(pd, "roof_solid", solid);
    pd_info_str(pd, "roof_dashed", dashed);
    pd_info_str(pd, "roof_note", note);
    pd_info_int(pd, "roof_unstable", unstable);
    return CNN_OK;
}

cnn_status pd_table_energy(struct pd *pd)
{
    static const char *const device_name[ENERGY_DEVICES] = {"cpu", "gpu"};
    struct cnn_atomic_file f;
    CNN_TRY(pd_open_table(pd, "energy.csv", &f));
    int blocks = 0, unstable = 0, without = 0;
    for (int l = 0; l < pd->n_labels; l++) {
        const struct label *lb = &pd->labels[l];
        for (int d = 0; d < ENERGY_DEVICES; d++) {
            int written = 0;
            for (int c = lb->first_cell; c < lb->first_cell + lb->n_cells; c++) {
                const struct cell *ce = &pd->cells[c];
                for (int j = ce->first; j < ce->first + ce->count; j++) {
                    const struct summary_row *r = &pd->rows[pd->cell_rows[j]];
                    double jps = r->joules_per_step[d];
                    if (!(jps > 0) || !isfinite(jps)) {
                        without += d == ENERGY_CPU;
                        continue;
                    }
                    if (written++ == 0)
                        fprintf(f.fp, "images_per_s,%s (%s),images_per_s_lo,images_per_s_hi,"
                                      "config_key,unstable\n",
                                lb->name, device_name[d]);
                    int u = pd_row_unstable(r);
                    double ips = r->batch / (r->t.median / 1e3);
                    /* IQR bars B/q3 .. B/q1; a zero quartile gives none */
                    fprintf(f.fp, "%.9g,%.9g,%.9g,%.9g,%s,%d\n", ips, r->batch / jps,
                            r->t.q3 > 0 ? r->batch / (r->t.q3 / 1e3) : ips,
                            r->t.q1 > 0 ? r->batch / (r->t.q1 / 1e3) : ips, r->key, u);
                    unstable |= u;
                }
            }
            if (written) {
                pd_end_block(f.fp);
                blocks++;
            }
        }
    }
    CNN_TRY(pd_close_table(&f, blocks));
    char note[96] = "";
    if (blocks && without)
        snprintf(note, sizeof note, " (%d configuration%s without a CPU figure)", without,
                 without == 1 ? "" : "s");
    pd_info_int(pd, "energy_blocks", blocks);
    pd_info_str(pd, "energy_note", note);
    pd_info_int(pd, "energy_unstable", unstable);
    return CNN_OK;
}
