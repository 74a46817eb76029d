/*
 * compare_read.c — reads the samples of one run for `cnnbench compare`:
 * steps.csv (one sample per timed step) or summary.csv (one per
 * repetition), given as a file or a run directory, pooled per configuration
 * across repetitions. Strict: a missing, empty, binary, cut-off or
 * malformed file, or a repeated row, is an error naming the file and line,
 * never a verdict.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compare_runs.h"
#include "error.h"
#include "runfile.h"

enum { COMPARE_LINE_MAX = 4096 }; /* longer lines are damage, not data */

void compare_run_free(struct compare_run *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->cells[i].v);
    free(r->cells);
    r->cells = NULL;
    r->n = r->cap = 0;
}

struct compare_cell *compare_find(struct compare_run *r, const char *key)
{
    /* Rows of one configuration are contiguous, so the last cell usually hits. */
    for (int i = r->n - 1; i >= 0; i--)
        if (strcmp(r->cells[i].key, key) == 0)
            return &r->cells[i];
    return NULL;
}

static cnn_status compare_cell_get(struct compare_run *r, const char *key,
                                   struct compare_cell **out)
{
    struct compare_cell *c = compare_find(r, key);
    if (!c) {
        if (r->n == r->cap) {
            int cap = r->cap ? 2 * r->cap : 64;
            struct compare_cell *g = realloc(r->cells, (size_t)cap * sizeof *g);
            if (!g)
                return cnn_fail(CNN_E_NOMEM, "cannot allocate %d configurations", cap);
            r->cells = g;
            r->cap = cap;
        }
        c = &r->cells[r->n++];
        memset(c, 0, sizeof *c);
        snprintf(c->key, sizeof c->key, "%s", key);
    }
    *out = c;
    return CNN_OK;
}

static cnn_status compare_cell_add(struct compare_cell *c, double v)
{
    if (c->n == c->cap) {
        long cap = c->cap ? 2 * c->cap : 64;
        double *g = realloc(c->v, (size_t)cap * sizeof *g);
        if (!g)
            return cnn_fail(CNN_E_NOMEM, "cannot allocate %ld samples", cap);
        c->v = g;
        c->cap = cap;
    }
    c->v[c->n++] = v;
    return CNN_OK;
}

static void compare_cell_timer(struct compare_cell *c, const char *timer)
{
    if (!c->timer[0])
        snprintf(c->timer, sizeof c->timer, "%s", timer);
    else if (strcmp(c->timer, timer) != 0)
        c->mixed_timers = 1;
}

/* Where a row of a file was, to find one that a botched copy repeated: a
 * repeated row would otherwise count as one more sample. The strings point
 * into the file's text. */
struct compare_row_id {
    const char *key;    /* config_key as written, with its ":rN" */
    const char *region; /* "" in summary.csv */
    long step;          /* 0 in summary.csv */
    long line;
};

/* A CSV file being read (runfile.h: strict, as every row is a sample),
 * with the identity of every data row read so far. */
struct compare_text {
    struct runfile f;
    struct compare_row_id *ids;
    long n_ids, cap_ids;
};

static cnn_status compare_text_open(struct compare_text *t, const char *path)
{
    /* A plotting reader may drop a half-written last row (results/README.md);
     * a comparison may not: the rows it would lose are samples, and a gate
     * fed part of a run must not say SAME. */
    const struct runfile_rules rules = {
        .voice = RUNFILE_SAMPLES, .whole = 1, .max_record = COMPARE_LINE_MAX};
    t->ids = NULL;
    t->n_ids = t->cap_ids = 0;
    return runfile_open(&t->f, path, &rules);
}

static void compare_text_close(struct compare_text *t)
{
    runfile_close(&t->f);
    free(t->ids);
    t->ids = NULL;
}

static cnn_status compare_text_remember(struct compare_text *t, const char *key,
                                        const char *region, long step)
{
    if (t->n_ids == t->cap_ids) {
        long cap = t->cap_ids ? 2 * t->cap_ids : 1024;
        struct compare_row_id *g = realloc(t->ids, (size_t)cap * sizeof *g);
        if (!g)
            return cnn_fail(CNN_E_NOMEM, "%s: cannot allocate %ld row positions", t->f.path, cap);
        t->ids = g;
        t->cap_ids = cap;
    }
    t->ids[t->n_ids++] = (struct compare_row_id){key, region, step, t->f.line};
    return CNN_OK;
}

static int compare_row_id_cmp(const struct compare_row_id *a, const struct compare_row_id *b)
{
    int c = strcmp(a->key, b->key);
    if (!c)
        c = strcmp(a->region, b->region);
    if (!c)
        c = (a->step > b->step) - (a->step < b->step);
    return c;
}

static int compare_row_id_asc(const void *a, const void *b)
{
    const struct compare_row_id *x = a, *y = b;
    int c = compare_row_id_cmp(x, y);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Fails, naming both lines, if two rows of the file are the same
 * observation: one configuration and step (and region, in steps.csv). The
 * first repeat in the file is named. */
static cnn_status compare_text_unique(struct compare_text *t)
{
    qsort(t->ids, (size_t)t->n_ids, sizeof *t->ids, compare_row_id_asc);
    const struct compare_row_id *a = NULL, *b = NULL;
    for (long i = 1; i < t->n_ids; i++)
        if (compare_row_id_cmp(&t->ids[i - 1], &t->ids[i]) == 0 &&
            (!b || t->ids[i].line < b->line)) {
            a = &t->ids[i - 1];
            b = &t->ids[i];
        }
    if (b) {
        if (!a->region[0])
            return cnn_fail(CNN_E_DATA,
                            "%s: line %ld repeats configuration %s of line %ld: a file copied "
                            "or appended twice? (a repeated row would count as another sample)",
                            t->f.path, b->line, b->key, a->line);
        return cnn_fail(CNN_E_DATA,
                        "%s: line %ld repeats configuration %s, step %ld, region %s of line "
                        "%ld: a file copied or appended twice? (a repeated row would count as "
                        "another sample)",
                        t->f.path, b->line, b->key, b->step, b->region, a->line);
    }
    return CNN_OK;
}

/* Columns a reader needs, found by name in the header. */
struct compare_columns {
    int key, impl, variant, threads, batch, filters, rep, step, region, time, timer;
    int loss, accuracy, status, median, n_steps;
};

static cnn_status compare_need(const struct compare_text *t, const char *name, int *col)
{
    *col = runfile_column(&t->f, name);
    if (*col < 0)
        return cnn_fail(CNN_E_DATA, "%s: no column '%s' in the header: not a cnnbench %s",
                        t->f.path, name,
                        runfile_column(&t->f, "region") >= 0 ? "steps.csv" : "summary.csv");
    return CNN_OK;
}

static int compare_parse_count(const char *s, long lo, long *out)
{
    if (!*s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || errno || v < lo)
        return -1;
    *out = v;
    return 0;
}

/* A finite number >= 0; empty only where allow_empty (then NaN). */
static int compare_parse_value(const char *s, int allow_empty, double *out)
{
    if (!*s) {
        *out = NAN;
        return allow_empty ? 0 : -1;
    }
    if (!((*s >= '0' && *s <= '9') || *s == '.'))
        return -1; /* rejects signs, "nan", "inf" and text */
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static cnn_status compare_bad_field(const struct compare_text *t, const char *col,
                                    const char *value, const char *want)
{
    return cnn_fail(CNN_E_DATA, "%s: line %ld: column '%s' holds '%.40s', not %s", t->f.path,
                    t->f.line, col, value, want);
}

/* Checks the identifying columns every row carries and builds the cell key:
 * the configuration key without its ":r<rep>" part. */
static cnn_status compare_row_key(const struct compare_text *t, const struct compare_columns *c,
                                  char *const *f, char *key, size_t len)
{
    static const char *const names[] = {"variant", "threads", "batch", "filters", "rep"};
    const int cols[] = {c->variant, c->threads, c->batch, c->filters, c->rep};
    const long lows[] = {0, 0, 1, 1, 1};
    long rep = 0;
    for (int i = 0; i < 5; i++) {
        long v;
        if (compare_parse_count(f[cols[i]], lows[i], &v) != 0)
            return compare_bad_field(t, names[i], f[cols[i]],
                                     lows[i] ? "a positive integer" : "an integer >= 0");
        if (cols[i] == c->rep)
            rep = v;
    }
    if (!f[c->key][0] || !f[c->impl][0] || !f[c->timer][0])
        return cnn_fail(CNN_E_DATA, "%s: line %ld: empty config_key, impl or timer", t->f.path,
                        t->f.line);
    if (strlen(f[c->key]) >= len)
        return cnn_fail(CNN_E_DATA, "%s: line %ld: config_key longer than %zu bytes", t->f.path,
                        t->f.line, len - 1);
    snprintf(key, len, "%s", f[c->key]);
    char suffix[32];
    snprintf(suffix, sizeof suffix, ":r%ld", rep);
    size_t kl = strlen(key), sl = strlen(suffix);
    if (kl > sl && strcmp(key + kl - sl, suffix) == 0)
        key[kl - sl] = '\0';
    return CNN_OK;
}

/* The columns every row carries, which compare_row_key reads. */
static cnn_status compare_need_ids(const struct compare_text *t, struct compare_columns *c)
{
    CNN_TRY(compare_need(t, "config_key", &c->key));
    CNN_TRY(compare_need(t, "impl", &c->impl));
    CNN_TRY(compare_need(t, "variant", &c->variant));
    CNN_TRY(compare_need(t, "threads", &c->threads));
    CNN_TRY(compare_need(t, "batch", &c->batch));
    CNN_TRY(compare_need(t, "filters", &c->filters));
    CNN_TRY(compare_need(t, "rep", &c->rep));
    return CNN_OK;
}

/* The next data row into t->f.field and its cell key, with *more = 1;
 * *more = 0 at the end. */
static cnn_status compare_next(struct compare_text *t, const struct compare_columns *c,
                               char key[COMPARE_KEY_MAX], int *more)
{
    CNN_TRY(runfile_next(&t->f, more));
    return *more ? compare_row_key(t, c, t->f.field, key, COMPARE_KEY_MAX) : CNN_OK;
}

static cnn_status compare_read_steps(struct compare_text *t, const char *region,
                                     struct compare_run *run)
{
    struct compare_columns c = {0};
    CNN_TRY(compare_need_ids(t, &c));
    CNN_TRY(compare_need(t, "step", &c.step));
    CNN_TRY(compare_need(t, "region", &c.region));
    CNN_TRY(compare_need(t, "time_ms", &c.time));
    CNN_TRY(compare_need(t, "timer", &c.timer));
    c.loss = runfile_column(&t->f, "loss");
    c.accuracy = runfile_column(&t->f, "batch_accuracy_pct");

    long rows = 0, matched = 0;
    char **f = t->f.field;
    for (;;) {
        int more;
        char key[COMPARE_KEY_MAX];
        CNN_TRY(compare_next(t, &c, key, &more));
        if (!more)
            break;
        rows++;
        long step;
        double ms, extra;
        if (compare_parse_count(f[c.step], 1, &step) != 0)
            return compare_bad_field(t, "step", f[c.step], "a positive integer");
        if (!f[c.region][0])
            return cnn_fail(CNN_E_DATA, "%s: line %ld: empty region", t->f.path, t->f.line);
        if (compare_parse_value(f[c.time], 0, &ms) != 0)
            return compare_bad_field(t, "time_ms", f[c.time], "a time >= 0");
        if (c.loss >= 0 && compare_parse_value(f[c.loss], 1, &extra) != 0)
            return compare_bad_field(t, "loss", f[c.loss], "a number >= 0");
        if (c.accuracy >= 0 && compare_parse_value(f[c.accuracy], 1, &extra) != 0)
            return compare_bad_field(t, "batch_accuracy_pct", f[c.accuracy], "a number >= 0");
        CNN_TRY(compare_text_remember(t, f[c.key], f[c.region], step));
        if (strcmp(f[c.region], region) != 0)
            continue;
        matched++;
        struct compare_cell *cell;
        CNN_TRY(compare_cell_get(run, key, &cell));
        compare_cell_timer(cell, f[c.timer]);
        CNN_TRY(compare_cell_add(cell, ms));
    }
    if (rows == 0)
        return cnn_fail(CNN_E_DATA, "%s: no data rows", t->f.path);
    CNN_TRY(compare_text_unique(t));
    if (matched == 0)
        return cnn_fail(CNN_E_DATA, "%s: no rows of region '%s'", t->f.path, region);
    return CNN_OK;
}

/* summary.csv: one sample per finished repetition (its median), and the
 * status of every repetition. With samples == 0 only the statuses are kept
 * (a run directory's samples come from its steps.csv). */
static cnn_status compare_read_summary(struct compare_text *t, const char *region, int samples,
                                       struct compare_run *run)
{
    struct compare_columns c = {0};
    char median_col[64];
    snprintf(median_col, sizeof median_col, "median_%s_ms", region);
    CNN_TRY(compare_need_ids(t, &c));
    CNN_TRY(compare_need(t, "n_steps", &c.n_steps));
    CNN_TRY(compare_need(t, "status", &c.status));
    CNN_TRY(compare_need(t, "timer", &c.timer));
    CNN_TRY(compare_need(t, median_col, &c.median));

    long rows = 0;
    char **f = t->f.field;
    for (;;) {
        int more;
        char key[COMPARE_KEY_MAX];
        CNN_TRY(compare_next(t, &c, key, &more));
        if (!more)
            break;
        rows++;
        long n_steps;
        double ms;
        if (compare_parse_count(f[c.n_steps], 0, &n_steps) != 0)
            return compare_bad_field(t, "n_steps", f[c.n_steps], "an integer >= 0");
        if (compare_parse_value(f[c.median], 1, &ms) != 0)
            return compare_bad_field(t, median_col, f[c.median], "a time >= 0 or empty");
        if (!f[c.status][0])
            return cnn_fail(CNN_E_DATA, "%s: line %ld: empty status", t->f.path, t->f.line);
        CNN_TRY(compare_text_remember(t, f[c.key], "", 0));
        struct compare_cell *cell;
        CNN_TRY(compare_cell_get(run, key, &cell));
        compare_cell_timer(cell, f[c.timer]);
        if (strcmp(f[c.status], "ok") != 0) {
            if (!cell->status[0])
                snprintf(cell->status, sizeof cell->status, "%s", f[c.status]);
            continue;
        }
        /* An empty median of a finished repetition: the region does not
         * apply to this backend (h2d on a CPU). */
        if (samples && !isnan(ms))
            CNN_TRY(compare_cell_add(cell, ms));
    }
    if (rows == 0)
        return cnn_fail(CNN_E_DATA, "%s: no data rows", t->f.path);
    return compare_text_unique(t);
}

/* Reads one CSV file, steps.csv or summary.csv as its header says. */
static cnn_status compare_read_file(const char *path, const char *region,
                                    struct compare_run *run)
{
    struct compare_text t;
    CNN_TRY(compare_text_open(&t, path));
    cnn_status st;
    snprintf(run->path, sizeof run->path, "%s", path);
    if (runfile_column(&t.f, "region") >= 0) {
        run->kind = COMPARE_STEPS;
        st = compare_read_steps(&t, region, run);
    } else if (runfile_column(&t.f, "median_step_ms") >= 0) {
        run->kind = COMPARE_SUMMARY;
        st = compare_read_summary(&t, region, 1, run);
    } else {
        st = cnn_fail(CNN_E_DATA,
                      "%s: not a cnnbench steps.csv or summary.csv (no 'region' or "
                      "'median_step_ms' column)", path);
    }
    compare_text_close(&t);
    return st;
}

/* A run directory: samples from steps.csv, statuses from summary.csv. */
static cnn_status compare_read_dir(const char *dir, const char *region, struct compare_run *run)
{
    char steps[4096], summary[4096], plain[4096];
    snprintf(plain, sizeof plain, "%s/steps.csv", dir);
    int no_steps = runfile_locate(steps, sizeof steps, plain);
    snprintf(plain, sizeof plain, "%s/summary.csv", dir);
    int no_summary = runfile_locate(summary, sizeof summary, plain);
    if (no_steps || no_summary)
        return cnn_fail(CNN_E_IO, "%s: not a cnnbench run directory (%s missing)", dir,
                        no_steps ? "steps.csv" : "summary.csv");

    struct compare_text t;
    CNN_TRY(compare_text_open(&t, steps));
    cnn_status st = CNN_OK;
    if (runfile_column(&t.f, "region") < 0)
        st = cnn_fail(CNN_E_DATA, "%s: no column 'region': not a cnnbench steps.csv", steps);
    if (st == CNN_OK) {
        snprintf(run->path, sizeof run->path, "%s", steps);
        run->kind = COMPARE_STEPS;
        st = compare_read_steps(&t, region, run);
    }
    compare_text_close(&t);
    CNN_TRY(st);

    struct compare_run status = {.label = run->label};
    CNN_TRY(compare_text_open(&t, summary));
    st = compare_read_summary(&t, "step", 0, &status);
    compare_text_close(&t);
    if (st == CNN_OK) {
        for (int i = 0; i < run->n; i++) {
            struct compare_cell *c = &run->cells[i];
            const struct compare_cell *s = compare_find(&status, c->key);
            if (!s)
                snprintf(c->status, sizeof c->status, "unfinished (not in summary.csv)");
            else if (s->status[0])
                snprintf(c->status, sizeof c->status, "%s", s->status);
        }
    }
    compare_run_free(&status);
    return st;
}

/* Reads a run given as a directory or a CSV file; its meta.json is the one
 * in that directory, or beside that file. */
cnn_status compare_read(const char *arg, const char *region, struct compare_run *run)
{
    struct stat sb;
    if (stat(arg, &sb) != 0)
        return cnn_fail(CNN_E_IO, "%s: %s", arg, strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        snprintf(run->meta_path, sizeof run->meta_path, "%s/meta.json", arg);
        return compare_read_dir(arg, region, run);
    }
    if (!S_ISREG(sb.st_mode))
        return cnn_fail(CNN_E_IO, "%s: not a regular file or directory", arg);
    const char *slash = strrchr(arg, '/');
    if (slash)
        snprintf(run->meta_path, sizeof run->meta_path, "%.*s/meta.json", (int)(slash - arg),
                 arg);
    else
        snprintf(run->meta_path, sizeof run->meta_path, "meta.json");
    return compare_read_file(arg, region, run);
}
