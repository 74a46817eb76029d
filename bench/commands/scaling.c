/* scaling.c — the scaling curves of a ranks sweep (scaling.h): rows pooled
 * into cells, cells sorted once per curve kind, runs of equal keys the
 * curves. O(n log n) in the rows. */
#include "scaling.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "stats.h"

/* One pooled configuration. */
struct cell {
    const struct summary_row *like;
    int impl;              /* the impl's place in the run's order */
    double median, q1, q3;
    int unstable;
};

/* A sort record: keys compared in order, then x. */
struct key {
    long k[6];
    long x;
    int cell;
};

static int key_cmp(const void *a, const void *b)
{
    const struct key *p = a, *q = b;
    for (int i = 0; i < 6; i++)
        if (p->k[i] != q->k[i])
            return p->k[i] < q->k[i] ? -1 : 1;
    return (p->x > q->x) - (p->x < q->x);
}

static int same_curve(const struct key *a, const struct key *b)
{
    return memcmp(a->k, b->k, sizeof a->k) == 0;
}

int scaling_modes(const char *name)
{
    if (!name)
        return 0;
    if (!strcmp(name, "strong"))
        return 1;
    if (!strcmp(name, "weak"))
        return 2;
    return !strcmp(name, "both") ? 3 : 0;
}

static double ips(int batch, double ms) { return ms > 0 ? batch / (ms / 1e3) : NAN; }

/* Pools rows into cells: one per (impl, variant, threads, gpus, ranks,
 * batch, filters), as the median of their medians and quartiles. */
static cnn_status pool(const struct summary_row *rows, int n, struct cell **out, int *n_out)
{
    struct key *keys = calloc((size_t)(n > 0 ? n : 1), sizeof *keys);
    struct cell *cells = calloc((size_t)(n > 0 ? n : 1), sizeof *cells);
    double *v = calloc((size_t)(3 * n + 3), sizeof *v);
    const char *impls[64];
    int n_impls = 0;
    if (!keys || !cells || !v) {
        free(keys);
        free(cells);
        free(v);
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the scaling cells of %d rows", n);
    }
    for (int i = 0; i < n; i++) {
        const struct summary_row *r = &rows[i];
        int impl = 0;
        while (impl < n_impls && strcmp(impls[impl], r->impl) != 0)
            impl++;
        if (impl == n_impls && n_impls < 64)
            impls[n_impls++] = r->impl;
        keys[i] = (struct key){{impl, r->variant, r->threads, r->gpus, r->ranks, r->filters},
                               r->batch, i};
    }
    qsort(keys, (size_t)n, sizeof *keys, key_cmp);
    int nc = 0;
    for (int i = 0, j; i < n; i = j) {
        for (j = i; j < n && same_curve(&keys[j], &keys[i]) && keys[j].x == keys[i].x; j++)
            ;
        struct cell *c = &cells[nc++];
        c->like = &rows[keys[i].cell];
        c->impl = (int)keys[i].k[0];
        int m = j - i;
        for (int t = 0; t < m; t++) {
            const struct summary_row *r = &rows[keys[i + t].cell];
            v[t] = r->t.median;
            v[n + 1 + t] = r->t.q1;
            v[2 * n + 2 + t] = r->t.q3;
            c->unstable |= summary_unstable(&r->t, r->max_noise_pct) > 0;
        }
        c->median = stats_median(v, m);
        c->q1 = stats_median(v + n + 1, m);
        c->q3 = stats_median(v + 2 * n + 2, m);
    }
    free(keys);
    free(v);
    *out = cells;
    *n_out = nc;
    return CNN_OK;
}

/* The cell's curve key and x for a kind, or 0 when the cell is on none. */
static int curve_key(enum scaling_kind kind, const struct cell *c, struct key *k)
{
    const struct summary_row *r = c->like;
    switch (kind) {
    case SCALING_STRONG:
        *k = (struct key){{c->impl, r->variant, r->threads, r->gpus, r->filters, r->batch},
                          r->ranks, 0};
        return 1;
    case SCALING_WEAK:
        if (r->batch % r->ranks != 0)
            return 0;
        *k = (struct key){{c->impl, r->variant, r->threads, r->gpus, r->filters,
                           r->batch / r->ranks}, r->ranks, 0};
        return 1;
    case SCALING_THREADS:
        if (r->ranks != 1 || r->threads < 1)
            return 0;
        *k = (struct key){{c->impl, r->variant, r->gpus, r->filters, r->batch, 0}, r->threads,
                          0};
        return 1;
    }
    return 0;
}

static void curve_name(char *buf, size_t len, enum scaling_kind kind, const struct summary_row *r,
                       long batch)
{
    char who[64];
    int n = snprintf(who, sizeof who, "%s", r->impl);
    if (kind != SCALING_THREADS && r->threads > 0)
        n += snprintf(who + n, sizeof who - (size_t)n, " t%d", r->threads);
    if (r->variant > 0)
        snprintf(who + n, sizeof who - (size_t)n, " v%d", r->variant);
    /* no comma: the name is a field of the chart's CSV table */
    if (kind == SCALING_WEAK)
        snprintf(buf, len, "%s over ranks b=%ld/rank F=%d", who, batch, r->filters);
    else
        snprintf(buf, len, "%s over %s B=%ld F=%d", who,
                 kind == SCALING_THREADS ? "threads of 1 process" : "ranks", batch, r->filters);
}

/* Whether the strong curves already found hold one of this threads
 * curve's backend, variant, batch and filters. */
static int has_strong(const struct scaling *s, const struct cell *cells, const int *first_cell,
                      const struct cell *c)
{
    for (int i = 0; i < s->n_curves; i++) {
        const struct summary_row *r = cells[first_cell[i]].like;
        if (s->curves[i].kind == SCALING_STRONG && !strcmp(r->impl, c->like->impl) &&
            r->variant == c->like->variant && r->batch == c->like->batch &&
            r->filters == c->like->filters)
            return 1;
    }
    return 0;
}

/* Appends the curves of one kind. */
static void add_curves(struct scaling *s, enum scaling_kind kind, const struct cell *cells,
                       int nc, struct key *keys, int *first_cell)
{
    int nk = 0;
    for (int i = 0; i < nc; i++)
        if (curve_key(kind, &cells[i], &keys[nk])) {
            keys[nk].cell = i;
            nk++;
        }
    qsort(keys, (size_t)nk, sizeof *keys, key_cmp);
    for (int i = 0, j; i < nk; i = j) {
        for (j = i; j < nk && same_curve(&keys[j], &keys[i]); j++)
            ;
        const struct cell *base = &cells[keys[i].cell];
        /* the 1-rank (1-thread) point first, then at least one more */
        if (keys[i].x != 1 || j - i < 2)
            continue;
        if (kind == SCALING_THREADS && !has_strong(s, cells, first_cell, base))
            continue;
        struct scaling_curve *cv = &s->curves[s->n_curves];
        cv->kind = kind;
        cv->first = s->n_points;
        cv->count = j - i;
        curve_name(cv->name, sizeof cv->name, kind, base->like,
                   kind == SCALING_WEAK ? keys[i].k[5] : base->like->batch);
        first_cell[s->n_curves++] = keys[i].cell;
        double base_ips = ips(base->like->batch, base->median);
        for (int t = i; t < j; t++) {
            const struct cell *c = &cells[keys[t].cell];
            int b = c->like->batch;
            s->points[s->n_points++] = (struct scaling_point){
                .x = (int)keys[t].x, .batch = b, .ips = ips(b, c->median),
                .ips_low = ips(b, c->q3), .ips_high = c->q1 > 0 ? ips(b, c->q1) : ips(b, c->median),
                .ideal = keys[t].x * base_ips, .unstable = c->unstable || base->unstable,
            };
        }
    }
}

cnn_status scaling_build(const struct summary_row *rows, int n, int modes, struct scaling *out)
{
    memset(out, 0, sizeof *out);
    struct cell *cells;
    int nc;
    CNN_TRY(pool(rows, n, &cells, &nc));
    /* every cell is on at most one curve of each kind */
    out->curves = calloc((size_t)(3 * nc + 1), sizeof *out->curves);
    out->points = calloc((size_t)(3 * nc + 1), sizeof *out->points);
    struct key *keys = calloc((size_t)(nc + 1), sizeof *keys);
    int *first_cell = calloc((size_t)(3 * nc + 1), sizeof *first_cell);
    cnn_status st = out->curves && out->points && keys && first_cell
                        ? CNN_OK : cnn_fail(CNN_E_NOMEM, "cannot allocate the scaling curves");
    if (st == CNN_OK && (modes & 1)) {
        add_curves(out, SCALING_STRONG, cells, nc, keys, first_cell);
        add_curves(out, SCALING_THREADS, cells, nc, keys, first_cell);
    }
    if (st == CNN_OK && (modes & 2))
        add_curves(out, SCALING_WEAK, cells, nc, keys, first_cell);
    free(keys);
    free(first_cell);
    free(cells);
    if (st != CNN_OK)
        scaling_free(out);
    return st;
}

void scaling_free(struct scaling *s)
{
    free(s->curves);
    free(s->points);
    memset(s, 0, sizeof *s);
}
