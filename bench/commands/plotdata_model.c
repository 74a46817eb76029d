/*
 * plotdata_model.c — the rows of summary.csv that plotdata draws (status
 * ok), sorted once into labels (one curve each: impl, threads, variant,
 * GPUs, ranks) and cells (a label at one batch and filter count, its repetitions
 * pooled as the median of their medians and quartiles).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backends.h"
#include "error.h"
#include "plan.h"
#include "plotdata.h"
#include "stats.h"

/* ---- sorting: records of up to seven keys compared in order ---- */

int pd_ref_cmp(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    for (int i = 0; i < 7; i++)
        if (x->k[i] != y->k[i])
            return x->k[i] < y->k[i] ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

int pd_same_keys(const struct ref *a, const struct ref *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a->k[i] != b->k[i])
            return 0;
    return 1;
}

struct ref *pd_refs_alloc(int n)
{
    struct ref *r = calloc((size_t)(n > 0 ? n : 1), sizeof *r);
    if (!r)
        cnn_fail(CNN_E_NOMEM, "cannot allocate %d sort records", n);
    return r;
}

/* ---- labels and cells ---- */

void pd_label_of(const struct summary_row *r, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s", r->impl);
    if (r->threads > 0 && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " t%d", r->threads);
    if (r->variant > 0 && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " v%d", r->variant);
    if (r->gpus > 0 && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " g%d", r->gpus);
    if (r->ranks > 1 && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " np%d", r->ranks);
}

const struct summary_row *pd_label_row(const struct pd *pd, int label)
{
    return pd->labels[label].like;
}

int pd_row_unstable(const struct summary_row *r)
{
    return summary_unstable(&r->t, r->max_noise_pct) > 0;
}

const struct cell *pd_cell_at(const struct pd *pd, int label, int batch, int filters)
{
    int lo = 0, hi = pd->n_cells - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const struct cell *c = &pd->cells[mid];
        long d = c->label != label ? c->label - label
                 : c->batch != batch ? c->batch - batch : c->filters - filters;
        if (d == 0)
            return c;
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

/* Pools the rows of one cell: medians of their medians, quartiles and
 * region medians. scratch holds at least count doubles. */
static void pool_cell(const struct pd *pd, struct cell *c, double *scratch)
{
    const int *rows = pd->cell_rows + c->first;
    for (int i = 0; i < c->count; i++)
        scratch[i] = pd->rows[rows[i]].t.median;
    c->median = stats_median(scratch, c->count);
    for (int i = 0; i < c->count; i++)
        scratch[i] = pd->rows[rows[i]].t.q1;
    c->q1 = stats_median(scratch, c->count);
    for (int i = 0; i < c->count; i++)
        scratch[i] = pd->rows[rows[i]].t.q3;
    c->q3 = stats_median(scratch, c->count);
    for (int k = 0; k < CNN_REGION_COUNT; k++) {
        int m = 0;
        for (int i = 0; i < c->count; i++)
            if (!isnan(pd->rows[rows[i]].region_ms[k]))
                scratch[m++] = pd->rows[rows[i]].region_ms[k];
        c->region[k] = m ? stats_median(scratch, m) : NAN;
    }
    c->unstable = 0;
    for (int i = 0; i < c->count; i++)
        c->unstable |= pd_row_unstable(&pd->rows[rows[i]]);
}

cnn_status pd_build_cells(struct pd *pd, const char *path)
{
    char impls[PLAN_MAX_IMPLS][sizeof pd->rows[0].impl];
    int n_impls = 0;
    struct ref *refs = pd_refs_alloc(pd->n);
    if (!refs)
        return CNN_E_NOMEM;
    for (int i = 0; i < pd->n; i++) {
        const struct summary_row *r = &pd->rows[i];
        int rank = 0;
        while (rank < n_impls && strcmp(impls[rank], r->impl) != 0)
            rank++;
        if (rank == n_impls) {
            if (n_impls == PLAN_MAX_IMPLS) {
                free(refs);
                return cnn_fail(CNN_E_DATA,
                                "%s: more than %d backends (%s is one more); a sweep runs at "
                                "most %d",
                                path, PLAN_MAX_IMPLS, r->impl, PLAN_MAX_IMPLS);
            }
            snprintf(impls[n_impls++], sizeof impls[0], "%s", r->impl);
        }
        refs[i] = (struct ref){{rank, r->threads, r->variant, r->gpus, r->ranks, r->batch,
                                r->filters}, i};
    }
    qsort(refs, (size_t)pd->n, sizeof *refs, pd_ref_cmp);
    pd->labels = calloc((size_t)(pd->n > 0 ? pd->n : 1), sizeof *pd->labels);
    pd->cells = calloc((size_t)(pd->n > 0 ? pd->n : 1), sizeof *pd->cells);
    pd->cell_rows = calloc((size_t)(pd->n > 0 ? pd->n : 1), sizeof *pd->cell_rows);
    double *scratch = calloc((size_t)(pd->n > 0 ? pd->n : 1), sizeof *scratch);
    if (!pd->labels || !pd->cells || !pd->cell_rows || !scratch) {
        free(refs);
        free(scratch);
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the cells of %d rows", pd->n);
    }
    /* the reference's plain label (no threads, variant or GPUs), by name:
     * backends_name_with_cap says why */
    const char *reference = backends_name_with_cap(CNN_CAP_REFERENCE);
    pd->reference = -1;
    for (int i = 0; i < pd->n; i++) {
        const struct summary_row *r = &pd->rows[refs[i].idx];
        if (i == 0 || !pd_same_keys(&refs[i], &refs[i - 1], 5)) {
            struct label *l = &pd->labels[pd->n_labels];
            pd_label_of(r, l->name, sizeof l->name);
            l->like = r;
            l->rank = (int)refs[i].k[0];
            l->first_cell = pd->n_cells;
            if (reference && !strcmp(l->name, reference))
                pd->reference = pd->n_labels;
            pd->n_labels++;
        }
        if (i == 0 || !pd_same_keys(&refs[i], &refs[i - 1], 7)) {
            struct cell *c = &pd->cells[pd->n_cells++];
            c->label = pd->n_labels - 1;
            c->batch = r->batch;
            c->filters = r->filters;
            c->first = i;
            pd->labels[c->label].n_cells++;
        }
        pd->cells[pd->n_cells - 1].count++;
        pd->cell_rows[i] = refs[i].idx;
    }
    for (int i = 0; i < pd->n_cells; i++)
        pool_cell(pd, &pd->cells[i], scratch);
    free(scratch);
    free(refs);
    return CNN_OK;
}
