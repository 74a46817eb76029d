/* plan.c — expanding sweep blocks into configurations, and the named presets. */
#include "plan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hash.h"

void plan_key(char *buf, size_t len, const char *impl, int variant, int threads, int gpus,
              int ranks, int batch, int filters, char unit, int length, int rep)
{
    char g[16] = "", np[16] = "";
    if (gpus > 0)
        snprintf(g, sizeof g, ":g%d", gpus);
    if (ranks > 0)
        snprintf(np, sizeof np, ":np%d", ranks);
    snprintf(buf, len, "%s:v%d:t%d%s%s:b%d:f%d:%c%d:r%d", impl, variant, threads, g, np, batch,
             filters, unit, length, rep);
}

void plan_thread_ladder(int cpus, struct cli_axis *out)
{
    out->n = 0;
    for (int t = 1; t < cpus && out->n < CLI_AXIS_MAX - 1; t *= 2)
        out->v[out->n++] = t;
    out->v[out->n++] = cpus;
}

static void axis_set(struct cli_axis *a, int n, const int *v)
{
    a->n = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < a->n; j++)
            seen |= a->v[j] == v[i];
        if (!seen)
            a->v[a->n++] = v[i];
    }
}

/* The values of one axis a backend actually runs, after the skip rules. */
static void effective_variants(const struct plan_block *b, const struct cnn_backend *be,
                               struct cli_axis *out)
{
    out->n = 0;
    if (!(be->caps & CNN_CAP_VARIANTS)) {
        out->v[out->n++] = 0;
        return;
    }
    if (b->all_variants) {
        for (int v = 1; v <= be->variant_count && out->n < CLI_AXIS_MAX; v++)
            out->v[out->n++] = v;
        return;
    }
    if (b->variants.n == 0) {
        out->v[out->n++] = 0;
        return;
    }
    for (int i = 0; i < b->variants.n; i++)
        if (b->variants.v[i] <= be->variant_count)
            out->v[out->n++] = b->variants.v[i];
}

static void effective_threads(const struct plan_block *b, const struct cnn_backend *be,
                              struct cli_axis *out)
{
    if (!(be->caps & CNN_CAP_THREADS) || b->threads.n == 0) {
        out->n = 1;
        out->v[0] = 0;
        return;
    }
    *out = b->threads;
}

/* GPU counts >= 1 only where the backend has a data-parallel table. */
static void effective_gpus(const struct plan_block *b, const struct cnn_backend *be,
                           struct cli_axis *out)
{
    out->n = 0;
    for (int i = 0; i < b->gpus.n; i++)
        if (b->gpus.v[i] == 0 || (be->caps & CNN_CAP_DATA_PARALLEL))
            out->v[out->n++] = b->gpus.v[i];
    if (out->n == 0) /* no axis, or no count this backend takes: it runs once */
        out->v[out->n++] = 0;
}

/* The rank counts of a block: none (0, this process) without the axis. */
static void effective_ranks(const struct plan_block *b, struct cli_axis *out)
{
    if (b->ranks.n == 0) {
        out->n = 1;
        out->v[0] = 0;
        return;
    }
    *out = b->ranks;
}

/* The scaling modes a block expands: one without a ranks axis. */
static int mode_count(const struct plan_block *b)
{
    return b->ranks.n > 0 && b->scaling == (PLAN_STRONG | PLAN_WEAK) ? 2 : 1;
}

/* The batch of mode m (0: the first of the block's modes) at `ranks`. */
static long mode_batch(const struct plan_block *b, int m, int ranks, int batch)
{
    int weak = b->ranks.n > 0 &&
               (b->scaling == PLAN_WEAK || (m == 1 && (b->scaling & PLAN_WEAK)));
    return weak ? (long)ranks * batch : batch;
}

static int block_takes(const struct plan_block *b, const struct cnn_backend *be)
{
    if (b->threads_only && !(be->caps & CNN_CAP_THREADS))
        return 0;
    if (b->variants_only && !(be->caps & CNN_CAP_VARIANTS))
        return 0;
    return 1;
}

static int axis_len(const struct cli_axis *a) { return a->n > 0 ? a->n : 1; }

/* How many of an axis's requested values a backend runs as given: an axis
 * not given counts as one value, taken. */
static long honoured_variants(const struct plan_block *b, const struct cnn_backend *be)
{
    if (b->all_variants || b->variants.n == 0)
        return 1;
    if (!(be->caps & CNN_CAP_VARIANTS))
        return 0;
    long n = 0;
    for (int i = 0; i < b->variants.n; i++)
        n += b->variants.v[i] <= be->variant_count;
    return n;
}

static long honoured_threads(const struct plan_block *b, const struct cnn_backend *be)
{
    if (b->threads.n == 0)
        return 1;
    return (be->caps & CNN_CAP_THREADS) ? b->threads.n : 0;
}

static long honoured_gpus(const struct plan_block *b, const struct cnn_backend *be)
{
    if (b->gpus.n == 0)
        return 1;
    long n = 0;
    for (int i = 0; i < b->gpus.n; i++)
        n += b->gpus.v[i] == 0 || (be->caps & CNN_CAP_DATA_PARALLEL);
    return n;
}

/* Configurations one block yields for one backend and one repetition,
 * before duplicates are dropped. */
static long block_size(const struct plan_block *b, const struct cnn_backend *be)
{
    if (!block_takes(b, be))
        return 0;
    struct cli_axis vs, ts, gs;
    effective_variants(b, be, &vs);
    effective_threads(b, be, &ts);
    effective_gpus(b, be, &gs);
    return (long)vs.n * ts.n * gs.n * axis_len(&b->ranks) * mode_count(b) * b->batch.n *
           b->filters.n * b->length.n;
}

/* ---- the set of keys already in the plan: open addressing, linear probing ---- */

struct key_set {
    int *slot;     /* index into the plan's configs, or -1 */
    size_t mask;   /* capacity - 1, a power of two at least twice the entries */
};

static cnn_status key_set_init(struct key_set *s, long entries)
{
    size_t cap = 16;
    while (cap < 2 * (size_t)entries)
        cap *= 2;
    s->slot = malloc(cap * sizeof *s->slot);
    if (!s->slot)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the plan's key set");
    memset(s->slot, 0xff, cap * sizeof *s->slot); /* every slot -1 */
    s->mask = cap - 1;
    return CNN_OK;
}

/* 1 if p already holds key; else records index `i` under it and returns 0. */
static int key_set_add(struct key_set *s, const struct plan *p, const char *key, int i)
{
    size_t h = (size_t)hash_fnv1a64_str(key) & s->mask;
    for (; s->slot[h] >= 0; h = (h + 1) & s->mask)
        if (strcmp(p->configs[s->slot[h]].key, key) == 0)
            return 1;
    s->slot[h] = i;
    return 0;
}

/* Appends the configurations of one block for one repetition; the array
 * was sized for the whole plan beforehand. */
static void expand_block(const struct plan_block *b, int rep, char unit, struct plan *p,
                         struct key_set *keys)
{
    for (int i = 0; i < b->n_impls; i++) {
        const struct cnn_backend *be = b->impls[i];
        long per_value = (long)axis_len(&b->ranks) * mode_count(b) * b->batch.n *
                         b->filters.n * b->length.n;
        long requested = (long)axis_len(&b->variants) * axis_len(&b->threads) *
                         axis_len(&b->gpus) * per_value;
        if (!block_takes(b, be)) {
            p->skipped += requested;
            continue;
        }
        /* the all-variants expansion is not a skip even when it yields more */
        long honoured = b->all_variants ? (long)axis_len(&b->variants)
                                        : honoured_variants(b, be);
        honoured *= honoured_threads(b, be) * honoured_gpus(b, be) * per_value;
        p->skipped += requested - honoured;
        struct cli_axis vs, ts, gs, rs;
        effective_variants(b, be, &vs);
        effective_threads(b, be, &ts);
        effective_gpus(b, be, &gs);
        effective_ranks(b, &rs);
        for (int vi = 0; vi < vs.n; vi++)
        for (int ti = 0; ti < ts.n; ti++)
        for (int gi = 0; gi < gs.n; gi++)
        for (int ri = 0; ri < rs.n; ri++)
        for (int m = 0; m < mode_count(b); m++)
        for (int bi = 0; bi < b->batch.n; bi++)
        for (int fi = 0; fi < b->filters.n; fi++)
        for (int li = 0; li < b->length.n; li++) {
            struct plan_config c = {
                .be = be, .variant = vs.v[vi], .threads = ts.v[ti], .gpus = gs.v[gi],
                .ranks = rs.v[ri], .batch = (int)mode_batch(b, m, rs.v[ri], b->batch.v[bi]),
                .filters = b->filters.v[fi], .length = b->length.v[li], .rep = rep,
                .eval_every = b->eval_every, .block = b->name,
            };
            plan_key(c.key, sizeof c.key, be->name, c.variant, c.threads, c.gpus, c.ranks,
                     c.batch, c.filters, unit, c.length, rep);
            p->configs[p->n] = c;
            if (key_set_add(keys, p, c.key, p->n))
                p->duplicates++;
            else
                p->n++;
        }
    }
}

cnn_status plan_build(const struct plan_block *blocks, int nblocks, int reps, int by_epochs,
                      struct plan *out)
{
    memset(out, 0, sizeof *out);
    /* the size first, so an absurd plan fails at once instead of filling memory */
    long per_rep = 0;
    for (int i = 0; i < nblocks; i++)
        for (int k = 0; k < blocks[i].n_impls; k++)
            per_rep += block_size(&blocks[i], blocks[i].impls[k]);
    if (per_rep * reps > PLAN_MAX_CONFIGS)
        return cnn_fail(CNN_E_ARG, "the plan has %ld configurations (%ld per repetition x %d "
                        "repetitions, before duplicates are dropped), more than the %d one sweep "
                        "may run; narrow the axes or split the sweep", per_rep * reps, per_rep,
                        reps, PLAN_MAX_CONFIGS);
    for (int i = 0; i < nblocks; i++)
        for (int r = 0; r < blocks[i].ranks.n; r++)
            for (int k = 0; k < blocks[i].batch.n; k++)
                for (int m = 0; m < mode_count(&blocks[i]); m++)
                    if (mode_batch(&blocks[i], m, blocks[i].ranks.v[r], blocks[i].batch.v[k]) >
                        CNN_MAX_BATCH)
                        return cnn_fail(CNN_E_ARG, "weak scaling: %d ranks x %d images per rank "
                                        "is a batch above the %d a step may take",
                                        blocks[i].ranks.v[r], blocks[i].batch.v[k],
                                        CNN_MAX_BATCH);
    long total = per_rep * reps;
    struct key_set keys;
    out->configs = malloc((size_t)(total > 0 ? total : 1) * sizeof *out->configs);
    if (!out->configs)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate a plan of %ld configurations", total);
    cnn_status st = key_set_init(&keys, total);
    if (st != CNN_OK) {
        plan_free(out);
        return st;
    }
    for (int r = 1; r <= reps; r++)
        for (int i = 0; i < nblocks; i++)
            expand_block(&blocks[i], r, by_epochs ? 'e' : 's', out, &keys);
    free(keys.slot);
    /* duplicates of later repetitions repeat those of the first */
    out->duplicates /= reps;
    out->skipped /= reps;
    return CNN_OK;
}

void plan_free(struct plan *p)
{
    free(p->configs);
    memset(p, 0, sizeof *p);
}

static struct plan_block preset_block(const char *name, int nb, const int *b, int nf,
                                      const int *f, int nl, const int *l)
{
    struct plan_block blk;
    memset(&blk, 0, sizeof blk);
    blk.name = name;
    axis_set(&blk.batch, nb, b);
    axis_set(&blk.filters, nf, f);
    axis_set(&blk.length, nl, l);
    return blk;
}

#define N_OF(a) ((int)(sizeof(a) / sizeof *(a)))

/* The studies every preset ends with, from blocks[n]: the thread ladder and
 * every kernel variant at one size (batch b, filters f, length l), then a
 * learning curve at B=100, F=32 on all CPUs over learn steps, evaluated every
 * eval_every. Returns the new block count. */
static int preset_studies(struct plan_block *blocks, int n, const int *b, const int *f,
                          const int *l, const struct cli_axis *ladder, int cpus,
                          const int *learn, int eval_every)
{
    static const int b100[] = {100}, f32[] = {32};
    blocks[n] = preset_block("threads", 1, b, 1, f, 1, l);
    blocks[n].threads_only = 1;
    blocks[n++].threads = *ladder;
    blocks[n] = preset_block("variants", 1, b, 1, f, 1, l);
    blocks[n].variants_only = 1;
    blocks[n++].all_variants = 1;
    blocks[n] = preset_block("learning", 1, b100, 1, f32, 1, learn);
    axis_set(&blocks[n].threads, 1, &cpus);
    blocks[n++].eval_every = eval_every;
    return n;
}

cnn_status plan_preset(const char *name, int cpus, struct plan_block *blocks, int *nblocks)
{
    int ends[] = {1, cpus};
    struct cli_axis ladder;
    plan_thread_ladder(cpus, &ladder);
    int n = 0;
    if (strcmp(name, "quick") == 0) {
        /* seq only at small sizes, so the whole preset stays within a few
         * minutes on 2 cores; the thread and variant sweeps use a size
         * large enough for threads to pay off */
        static const int b100[] = {100}, f_small[] = {8, 16, 32, 64}, s100[] = {100};
        static const int b_small[] = {50, 100, 200, 400}, f16[] = {16};
        static const int b500[] = {500}, f128[] = {128}, s50[] = {50}, s500[] = {500};
        blocks[n] = preset_block("filters", 1, b100, N_OF(f_small), f_small, 1, s100);
        axis_set(&blocks[n++].threads, 2, ends);
        blocks[n] = preset_block("batch", N_OF(b_small), b_small, 1, f16, 1, s100);
        axis_set(&blocks[n++].threads, 2, ends);
        n = preset_studies(blocks, n, b500, f128, s50, &ladder, cpus, s500, 50);
    } else if (strcmp(name, "paper") == 0) {
        /* the original project's grid, 100 steps each, plus the scaling studies
         * at the docs/DESIGN.md §7 anchor size B=1000, F=256 */
        static const int b_grid[] = {100, 250, 500, 1000}, f_grid[] = {32, 64, 128, 256};
        static const int s100[] = {100}, b1000[] = {1000}, f256[] = {256}, s1000[] = {1000};
        blocks[n] = preset_block("grid", N_OF(b_grid), b_grid, N_OF(f_grid), f_grid, 1, s100);
        axis_set(&blocks[n++].threads, 2, ends);
        n = preset_studies(blocks, n, b1000, f256, s100, &ladder, cpus, s1000, 100);
    } else if (strcmp(name, "scaling") == 0) {
        /* one process with 1..cpus threads against 1..cpus ranks of one
         * thread each, strong scaling, at the docs/DESIGN.md §7 anchor size
         * and at four times its batch. Both blocks run under mpirun (the
         * one process with -np 1), so every point is measured alike, and
         * the point they share (1 thread, 1 rank) runs once */
        static const int b_scaling[] = {1000, 4000}, f256[] = {256}, s20[] = {20}, one[] = {1};
        blocks[n] = preset_block("threads", N_OF(b_scaling), b_scaling, 1, f256, 1, s20);
        blocks[n].threads_only = 1;
        blocks[n].threads = ladder;
        axis_set(&blocks[n].ranks, 1, one);
        blocks[n++].scaling = PLAN_STRONG;
        blocks[n] = preset_block("ranks", N_OF(b_scaling), b_scaling, 1, f256, 1, s20);
        axis_set(&blocks[n].threads, 1, one);
        blocks[n].ranks = ladder;
        blocks[n++].scaling = PLAN_STRONG;
    } else {
        return cnn_fail(CNN_E_ARG, "--preset: unknown preset '%s' (quick, paper or scaling)",
                        name);
    }
    *nblocks = n;
    return CNN_OK;
}

struct cnn_config plan_cnn_config(const struct plan_config *c, double lr)
{
    return (struct cnn_config){.batch = c->batch, .filters = c->filters, .lr = (float)lr,
                               .threads = c->threads, .variant = c->variant, .gpus = c->gpus};
}
