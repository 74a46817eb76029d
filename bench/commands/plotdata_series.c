/*
 * plotdata_series.c — the per-step tables: step times of the busiest size
 * for the box plot, and the learning curves (loss per step, test accuracy
 * per evaluation), from steps.csv and evals.csv, each read once and checked
 * row by row.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fields.h"
#include "fileio.h"
#include "plotdata.h"
#include "runfile.h"
#include "stats.h"

/* ---- per-step series from steps.csv and evals.csv ---- */

struct series {
    const char *key;  /* a row's config_key */
    long n, cap;
    long *step;
    double *a;        /* step_ms (steps.csv) or accuracy in % (evals.csv) */
    double *b;        /* loss (steps.csv); NaN where not recorded */
};

static int series_cmp(const void *a, const void *b)
{
    return strcmp(((const struct series *)a)->key, ((const struct series *)b)->key);
}

/* Series for the keys of rows[0..n) (duplicates dropped), sorted by key. */
static struct series *series_for(const struct pd *pd, const int *rows, int n, int *count)
{
    struct series *s = calloc((size_t)(n > 0 ? n : 1), sizeof *s);
    *count = 0;
    if (!s)
        return NULL;
    for (int i = 0; i < n; i++)
        s[i].key = pd->rows[rows[i]].key;
    qsort(s, (size_t)n, sizeof *s, series_cmp);
    for (int i = 0; i < n; i++)
        if (*count == 0 || strcmp(s[*count - 1].key, s[i].key) != 0)
            s[(*count)++] = s[i];
    return s;
}

static const struct series *series_find(const struct series *s, int n, const char *key)
{
    struct series want = {.key = key};
    return bsearch(&want, s, (size_t)n, sizeof *s, series_cmp);
}

static void series_free(struct series *s, int n)
{
    for (int i = 0; s && i < n; i++) {
        free(s[i].step);
        free(s[i].a);
        free(s[i].b);
    }
    free(s);
}

static int series_push(struct series *s, long step, double a, double b)
{
    if (s->n == s->cap) {
        long cap = s->cap ? s->cap * 2 : 256;
        long *st = realloc(s->step, (size_t)cap * sizeof *st);
        if (st)
            s->step = st;
        double *na = realloc(s->a, (size_t)cap * sizeof *na);
        if (na)
            s->a = na;
        double *nb = realloc(s->b, (size_t)cap * sizeof *nb);
        if (nb)
            s->b = nb;
        if (!st || !na || !nb)
            return -1;
        s->cap = cap;
    }
    s->step[s->n] = step;
    s->a[s->n] = a;
    s->b[s->n] = b;
    s->n++;
    return 0;
}

/* Fills the series (sorted by key) from the run's steps.csv (rows of region
 * "step": a = time_ms, b = loss) or evals.csv (a = test_accuracy_pct). The
 * fields of the rows it keeps are checked; every row must have the header's
 * field count, except a last one cut off mid-write, which is dropped. */
static cnn_status read_series(const struct pd *pd, const char *file, struct series *s, int n)
{
    char path[PD_PATH];
    snprintf(path, sizeof path, "%s/%s", pd->run, file);
    struct runfile f;
    const struct runfile_rules rules = {.voice = RUNFILE_FIELDS, .gz = 1};
    CNN_TRY(runfile_open(&f, path, &rules));
    int is_steps = strcmp(file, "steps.csv") == 0;
    const char *a_name = is_steps ? "time_ms" : "test_accuracy_pct";
    int c_key = runfile_column(&f, "config_key"), c_step = runfile_column(&f, "step");
    int c_a = runfile_column(&f, a_name), c_b = runfile_column(&f, "loss");
    int c_region = runfile_column(&f, "region");
    cnn_status st = CNN_OK;
    if (c_key < 0 || c_step < 0 || c_a < 0 || (is_steps && (c_b < 0 || c_region < 0)))
        st = cnn_fail(CNN_E_DATA, "%s: line 1: not the header of a cnnbench %s (config_key, "
                      "step, %s%s)", f.path, file, a_name, is_steps ? ", loss, region" : "");
    int more = 1;
    while (st == CNN_OK && (st = runfile_next(&f, &more)) == CNN_OK && more) {
        char **fields = f.field;
        struct series *to = (struct series *)series_find(s, n, fields[c_key]);
        if (!to || (is_steps && strcmp(fields[c_region], "step") != 0))
            continue;
        long step;
        double a, b = NAN;
        struct field_pos at = {f.path, f.line, c_step + 1, "step"};
        st = field_long(&at, fields[c_step], 1, 1000000000000L, &step);
        if (st == CNN_OK) {
            at = (struct field_pos){f.path, f.line, c_a + 1, a_name};
            st = field_double(&at, fields[c_a], 0, is_steps ? FIELD_MAX_NUMBER : 100, 0, &a);
        }
        if (st == CNN_OK && is_steps) {
            at = (struct field_pos){f.path, f.line, c_b + 1, "loss"};
            st = field_double(&at, fields[c_b], 0, FIELD_MAX_NUMBER, 1, &b);
        }
        if (st == CNN_OK && series_push(to, step, a, b) != 0)
            st = cnn_fail(CNN_E_NOMEM, "%s: cannot allocate a series", f.path);
    }
    runfile_close(&f);
    return st;
}

/* The row of a cell to draw per step: the longest (of `steps` steps when
 * steps > 0), first repetition first; -1 if none. */
static int series_row(const struct pd *pd, const struct cell *c, long steps)
{
    int best = -1;
    for (int i = 0; i < c->count; i++) {
        int k = pd->cell_rows[c->first + i];
        const struct summary_row *r = &pd->rows[k], *b = best >= 0 ? &pd->rows[best] : NULL;
        if (steps > 0 && r->steps != steps)
            continue;
        if (!b || r->steps > b->steps || (r->steps == b->steps && r->rep < b->rep))
            best = k;
    }
    return best;
}

/* Box plot of step times at the busiest size, one box per label; an
 * unstable configuration's box is hatched (box_unstable_<k> is 1). */
static cnn_status table_step_times(struct pd *pd, int batch, int filters,
                                   const struct series *s, int ns, const int *rows, int n)
{
    struct cnn_atomic_file f;
    CNN_TRY(pd_open_table(pd, "step_times.csv", &f));
    struct range y = range_empty;
    int blocks = 0, unstable = 0;
    for (int i = 0; i < n; i++) {
        const struct summary_row *r = &pd->rows[rows[i]];
        const struct series *one = series_find(s, ns, r->key);
        if (!one || one->n == 0)
            continue;
        char label[PD_LABEL], name[64];
        pd_label_of(r, label, sizeof label);
        fprintf(f.fp, "step,%s\n", label);
        for (long k = 0; k < one->n; k++) {
            fprintf(f.fp, "%ld,%.6g\n", one->step[k], one->a[k]);
            pd_range_add(&y, one->a[k]);
        }
        pd_end_block(f.fp);
        blocks++;
        snprintf(name, sizeof name, "box_label_%d", blocks);
        pd_info_str(pd, name, label);
        snprintf(name, sizeof name, "box_unstable_%d", blocks);
        pd_info_int(pd, name, pd_row_unstable(r));
        unstable |= pd_row_unstable(r);
    }
    pd_info_int(pd, "box_blocks", blocks);
    pd_info_int(pd, "box_batch", batch);
    pd_info_int(pd, "box_filters", filters);
    pd_info_int(pd, "box_unstable", unstable);
    int log_scale = y.hi > 0 && y.hi / y.lo > 30;
    pd_info_int(pd, "box_log", log_scale);
    if (log_scale)
        pd_info_log_axis(pd, "box_y", y.lo, y.hi);
    else
        pd_info_linear_axis(pd, "box_y", y.hi > 0 ? y.lo : 0, y.hi, 0, FIELD_MAX_NUMBER);
    return pd_close_table(&f, blocks);
}

/* One table of per-step values, a block per series that has any; *points
 * is the length of the longest (1: a line would draw nothing). */
static cnn_status learning_table(struct pd *pd, const char *name, const struct series *s,
                                 int ns, const int *rows, int n, int loss, double *lo,
                                 double *hi, int *blocks, long *points)
{
    struct cnn_atomic_file f;
    CNN_TRY(pd_open_table(pd, name, &f));
    *blocks = 0;
    *points = 0;
    for (int i = 0; i < n; i++) {
        const struct summary_row *r = &pd->rows[rows[i]];
        const struct series *one = series_find(s, ns, r->key);
        if (!one || one->n == 0)
            continue;
        char label[PD_LABEL];
        pd_label_of(r, label, sizeof label);
        fprintf(f.fp, "step,%s\n", label);
        for (long k = 0; k < one->n; k++) {
            double v = loss ? one->b[k] : one->a[k];
            if (isnan(v)) {
                fprintf(f.fp, "%ld,NaN\n", one->step[k]);
                continue;
            }
            fprintf(f.fp, "%ld,%.6g\n", one->step[k], v);
            *lo = v < *lo ? v : *lo;
            *hi = v > *hi ? v : *hi;
        }
        pd_end_block(f.fp);
        (*blocks)++;
        *points = one->n > *points ? one->n : *points;
    }
    return pd_close_table(&f, *blocks);
}

cnn_status pd_tables_per_step(struct pd *pd, int batch, int filters)
{
    int *all = malloc((size_t)(pd->n > 0 ? pd->n : 1) * sizeof *all);
    int box[PD_MAX_CURVES], learn[PD_MAX_CURVES], keys[2 * PD_MAX_CURVES];
    int n_box = 0, n_learn = 0, box_total = 0, learn_total = 0, n_evals = 0, n_steps = 0;
    if (!all)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the evaluation series");
    for (int i = 0; i < pd->n; i++)
        all[i] = i;
    struct series *evals = series_for(pd, all, pd->n, &n_evals), *steps = NULL;
    free(all);
    cnn_status st = evals ? read_series(pd, "evals.csv", evals, n_evals)
                          : cnn_fail(CNN_E_NOMEM, "cannot allocate the evaluation series");
    int best = -1;
    long best_evals = -1;
    for (int i = 0; i < pd->n && st == CNN_OK; i++) {
        const struct series *e = series_find(evals, n_evals, pd->rows[i].key);
        long count = e ? e->n : 0;
        if (count > best_evals ||
            (count == best_evals && pd->rows[i].steps > pd->rows[best].steps)) {
            best_evals = count;
            best = i;
        }
    }
    const struct summary_row *g = best >= 0 ? &pd->rows[best] : NULL;
    for (int l = 0; l < pd->n_labels && st == CNN_OK; l++) {
        const struct cell *b = pd_cell_at(pd, l, batch, filters);
        int r = b ? series_row(pd, b, 0) : -1;
        if (r >= 0 && box_total++ < PD_MAX_CURVES)
            box[n_box++] = keys[n_steps++] = r;
        const struct cell *c = g ? pd_cell_at(pd, l, g->batch, g->filters) : NULL;
        r = c ? series_row(pd, c, g->steps) : -1;
        if (r >= 0 && learn_total++ < PD_MAX_CURVES)
            learn[n_learn++] = keys[n_steps++] = r;
    }
    int n_series = 0;
    if (st == CNN_OK) {
        steps = series_for(pd, keys, n_steps, &n_series);
        st = steps ? read_series(pd, "steps.csv", steps, n_series)
                   : cnn_fail(CNN_E_NOMEM, "cannot allocate the step series");
    }
    if (st == CNN_OK)
        st = table_step_times(pd, batch, filters, steps, n_series, box, n_box);
    double loss_lo = INFINITY, loss_hi = -INFINITY, acc_lo = INFINITY, acc_hi = -INFINITY;
    int loss_blocks = 0, acc_blocks = 0;
    long loss_points = 0, acc_points = 0;
    if (st == CNN_OK)
        st = learning_table(pd, "loss.csv", steps, n_series, learn, n_learn, 1, &loss_lo,
                            &loss_hi, &loss_blocks, &loss_points);
    if (st == CNN_OK)
        st = learning_table(pd, "accuracy.csv", evals, n_evals, learn, n_learn, 0, &acc_lo,
                            &acc_hi, &acc_blocks, &acc_points);
    pd_info_note(pd, "box_note", n_box, box_total, "boxes");
    pd_info_note(pd, "learning_note", n_learn, learn_total, "curves");
    pd_info_int(pd, "loss_blocks", loss_blocks);
    pd_info_int(pd, "loss_points", loss_points);
    pd_info_int(pd, "accuracy_blocks", acc_blocks);
    pd_info_int(pd, "learning_batch", g ? g->batch : 0);
    pd_info_int(pd, "learning_filters", g ? g->filters : 0);
    pd_info_int(pd, "learning_steps", g ? g->steps : 0);
    pd_info_linear_axis(pd, "loss_y", loss_lo, loss_hi, 0, FIELD_MAX_NUMBER);
    pd_info_linear_axis(pd, "accuracy_y", acc_lo, acc_hi, 0, 100);
    series_free(evals, n_evals);
    series_free(steps, n_series);
    return st;
}
