/* summary.c — building, writing and re-reading summary.csv rows. */
#include "summary.h"

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends.h"
#include "csvout.h"
#include "error.h"
#include "fields.h"
#include "fileio.h"
#include "runfile.h"

void summary_from_run(struct summary_row *row, const struct plan_config *c, const char *timer,
                      long steps, uint32_t train_n, int warmup, const struct run_result *r)
{
    memset(row, 0, sizeof *row);
    snprintf(row->key, sizeof row->key, "%s", c->key);
    snprintf(row->impl, sizeof row->impl, "%s", c->be->name);
    row->variant = c->variant;
    row->threads = c->threads;
    row->gpus = c->gpus;
    row->ranks = csv_ranks(c);
    row->batch = c->batch;
    row->filters = c->filters;
    row->rep = c->rep;
    row->steps = steps;
    row->epochs = (double)steps * c->batch / train_n;
    row->warmup = warmup;
    row->first_warmup_ms = r->first_warmup_ms >= 0 ? r->first_warmup_ms : NAN;
    row->final_loss = r->done > 0 ? r->steps[r->done - 1].loss : NAN;
    row->test_accuracy_pct = r->n_evals > 0 ? 100.0 * r->evals[r->n_evals - 1].accuracy : NAN;
    snprintf(row->timer, sizeof row->timer, "%s", timer);
    row->wall_s = r->wall_s;
    row->verify_windows = r->verify.windows > 0 ? (double)r->verify.windows : NAN;
    row->verify_tie_flips = r->verify.windows > 0 ? (double)r->verify.tie_flips : NAN;
    row->max_noise_pct = NAN;
    snprintf(row->stop, sizeof row->stop, "%s", run_stop_name(r->stop));
    snprintf(row->status, sizeof row->status, "ok");
    for (int d = 0; d < ENERGY_DEVICES; d++)
        row->joules_per_step[d] = r->done > 0 ? r->energy.joules[d] / r->done : NAN;
    row->energy_window_s = r->energy.window_s;
    row->gpu_sampled_w = r->energy.gpu_sampled_w;

    double *v = malloc((size_t)(r->done > 0 ? r->done : 1) * sizeof *v);
    for (int k = 0; k < CNN_REGION_COUNT; k++)
        row->region_ms[k] = NAN;
    if (!v) {
        stats_summarise(NULL, 0, &row->t);
        return;
    }
    for (long i = 0; i < r->done; i++)
        v[i] = r->steps[i].step_ms;
    stats_summarise(v, r->done, &row->t);
    for (int k = 0; k < CNN_REGION_COUNT; k++) {
        long n = 0;
        for (long i = 0; i < r->done; i++)
            if (r->steps[i].region_ms[k] >= 0)
                v[n++] = r->steps[i].region_ms[k];
        if (n > 0)
            row->region_ms[k] = stats_median(v, n);
    }
    free(v);
}

void summary_set_failure(struct summary_row *row, cnn_status st, const struct run_result *r,
                         const char *message)
{
    const char *reason;
    if (st == CNN_E_INTERRUPTED) {
        snprintf(row->status, sizeof row->status, "interrupted");
        return;
    }
    switch (st) {
    case CNN_E_DEVICE_OOM: reason = "oom"; break;
    case CNN_E_NOMEM: reason = "host_oom"; break;
    case CNN_E_DEVICE: reason = "device"; break;
    case CNN_E_UNAVAILABLE: reason = "unavailable"; break;
    case CNN_E_IO: reason = "io"; break;
    case CNN_E_ARG: reason = "invalid"; break;
    case CNN_E_DIVERGED: reason = "diverged"; break;
    default: reason = "error"; break;
    }
    if (r && r->mismatch)
        reason = "mismatch";
    snprintf(row->status, sizeof row->status, "failed:%s", reason);
    snprintf(row->message, sizeof row->message, "%s", message);
}

/* ---- the column table: one place that fixes the names and their order ---- */

enum col_kind {
    COL_STR, COL_INT, COL_LONG, COL_DBL, /* stored in the row */
    COL_DERIVED,                        /* computed at write time, ignored on read */
};

enum derived {
    D_NONE, D_PARAMS, D_IQR, D_CV, D_UNSTABLE, D_IMAGES, D_GFLOP_STEP, D_GFLOPS,
    D_SPEEDUP_SEQ, D_SPEEDUP_OMP1, D_IMAGES_PER_J_CPU, D_IMAGES_PER_J_GPU,
};

struct column {
    const char *name;
    enum col_kind kind;
    size_t offset;   /* into struct summary_row */
    size_t size;     /* of a string field */
    enum derived derived;
    int optional;    /* added later: a file without it reads as an empty cell */
};

#define S(name, field) {name, COL_STR, offsetof(struct summary_row, field), \
                        sizeof(((struct summary_row *)0)->field), D_NONE, 0}
#define I(name, field) {name, COL_INT, offsetof(struct summary_row, field), 0, D_NONE, 0}
#define L(name, field) {name, COL_LONG, offsetof(struct summary_row, field), 0, D_NONE, 0}
#define F(name, field) {name, COL_DBL, offsetof(struct summary_row, field), 0, D_NONE, 0}
#define D(name, which) {name, COL_DERIVED, 0, 0, which, 0}
#define OPT_I(name, field) {name, COL_INT, offsetof(struct summary_row, field), 0, D_NONE, 1}
#define OPT_F(name, field) {name, COL_DBL, offsetof(struct summary_row, field), 0, D_NONE, 1}
#define OPT_S(name, field) {name, COL_STR, offsetof(struct summary_row, field), \
                            sizeof(((struct summary_row *)0)->field), D_NONE, 1}

static const struct column columns[] = {
    S("config_key", key), S("impl", impl), I("variant", variant), I("threads", threads),
    I("batch", batch), I("filters", filters), I("rep", rep), L("steps", steps),
    F("epochs", epochs), I("warmup_steps", warmup), D("params", D_PARAMS),
    L("n_steps", t.n), F("median_step_ms", t.median), F("q1_step_ms", t.q1),
    F("q3_step_ms", t.q3), D("iqr_step_ms", D_IQR), F("min_step_ms", t.min),
    F("max_step_ms", t.max), F("mean_step_ms", t.mean), F("stddev_step_ms", t.stddev),
    F("mad_step_ms", t.mad), D("cv_pct", D_CV), D("unstable", D_UNSTABLE),
    F("first_warmup_ms", first_warmup_ms), D("images_per_s", D_IMAGES),
    D("gflop_per_step", D_GFLOP_STEP), D("gflop_per_s", D_GFLOPS),
    F("median_h2d_ms", region_ms[CNN_REGION_H2D]),
    F("median_conv_fwd_ms", region_ms[CNN_REGION_CONV_FWD]),
    F("median_fc_fwd_ms", region_ms[CNN_REGION_FC_FWD]),
    F("median_loss_fwd_ms", region_ms[CNN_REGION_LOSS_FWD]),
    F("median_loss_bwd_ms", region_ms[CNN_REGION_LOSS_BWD]),
    F("median_fc_bwd_ms", region_ms[CNN_REGION_FC_BWD]),
    F("median_conv_bwd_ms", region_ms[CNN_REGION_CONV_BWD]),
    F("median_update_ms", region_ms[CNN_REGION_UPDATE]),
    F("median_d2h_ms", region_ms[CNN_REGION_D2H]),
    F("final_loss", final_loss), F("test_accuracy_pct", test_accuracy_pct),
    D("speedup_vs_seq", D_SPEEDUP_SEQ), D("speedup_vs_omp_t1", D_SPEEDUP_OMP1),
    S("verified", verified), S("status", status), S("message", message), S("timer", timer),
    F("wall_s", wall_s),
    /* added after the file had readers: last, so positions stay put, and
     * optional, so older runs still read (gpus 0, no allreduce) */
    OPT_I("gpus", gpus), OPT_F("median_allreduce_ms", region_ms[CNN_REGION_ALLREDUCE]),
    OPT_F("verify_windows", verify_windows), OPT_F("verify_tie_flips", verify_tie_flips),
    OPT_F("noise_pct", t.noise_pct), OPT_F("max_noise_pct", max_noise_pct), OPT_S("stop", stop),
    OPT_F("joules_per_step_cpu", joules_per_step[ENERGY_CPU]),
    D("images_per_joule_cpu", D_IMAGES_PER_J_CPU),
    OPT_F("joules_per_step_gpu", joules_per_step[ENERGY_GPU]),
    D("images_per_joule_gpu", D_IMAGES_PER_J_GPU),
    OPT_F("energy_window_s", energy_window_s), OPT_F("gpu_sampled_w", gpu_sampled_w),
    OPT_I("ranks", ranks),
};
enum { N_COLUMNS = sizeof columns / sizeof *columns };

int summary_unstable(const struct stats_summary *t, double max_noise_pct)
{
    if (t->n < 2)
        return -1;
    int noisy = t->stddev > SUMMARY_UNSTABLE_CV * t->mean;
    int missed = max_noise_pct > 0 && !(t->noise_pct <= max_noise_pct);
    return noisy || missed;
}

/* "1.52", or "unknown" where /proc/loadavg could not be read */
static void load_text(char *buf, size_t len, double load)
{
    if (isnan(load))
        snprintf(buf, len, "unknown");
    else
        snprintf(buf, len, "%.2f", load);
}

void summary_unstable_reason(char *buf, size_t len, const struct stats_summary *t,
                             double max_noise_pct, double load_start, double load_end,
                             long cpus)
{
    char noise[96], target[64] = "", start[16], end[16];
    if (isnan(t->noise_pct))
        snprintf(noise, sizeof noise, "median's 95%% interval undefined (under 6 steps)");
    else
        snprintf(noise, sizeof noise, "median ±%.2f%% at 95%% confidence", t->noise_pct);
    if (max_noise_pct > 0 && !(t->noise_pct <= max_noise_pct))
        snprintf(target, sizeof target, ", over the --max-noise target %g%%", max_noise_pct);
    load_text(start, sizeof start, load_start);
    load_text(end, sizeof end, load_end);
    snprintf(buf, len, "cv %.1f%% (unstable above %.0f%%), IQR %.3f..%.3f ms, %s%s; "
             "1-min load %s at start, %s at end, %ld CPUs", 100.0 * t->stddev / t->mean,
             100.0 * SUMMARY_UNSTABLE_CV, t->q1, t->q3, noise, target, start, end, cpus);
}

static int row_ok(const struct summary_row *r) { return strcmp(r->status, "ok") == 0; }

const struct summary_row *summary_baseline(const struct summary_row *rows, int n,
                                           const struct summary_row *of, const char *impl,
                                           int threads)
{
    const struct summary_row *best = NULL;
    int best_score = -1;
    for (int i = 0; impl && i < n; i++) {
        const struct summary_row *r = &rows[i];
        if (strcmp(r->impl, impl) != 0 || !row_ok(r) || r->batch != of->batch ||
            r->filters != of->filters || r->steps != of->steps ||
            (threads >= 0 && r->threads != threads))
            continue;
        /* same repetition first, then the default variant */
        int score = 2 * (r->rep == of->rep) + (r->variant == 0);
        if (score > best_score) {
            best = r;
            best_score = score;
        }
    }
    return best;
}

double summary_baseline_ms(const struct summary_row *rows, int n, const struct summary_row *of,
                           const char *impl, int threads)
{
    const struct summary_row *best = summary_baseline(rows, n, of, impl, threads);
    return best ? best->t.median : NAN;
}

/* NaN where the device has no figure (never an estimate). */
static double images_per_joule(const struct summary_row *r, enum energy_device d)
{
    return r->joules_per_step[d] > 0 ? r->batch / r->joules_per_step[d] : NAN;
}

static double derived_value(enum derived d, const struct summary_row *rows, int n,
                            const struct summary_row *r)
{
    double s = r->t.median / 1e3;
    double flop = run_step_flop(r->batch, r->filters);
    switch (d) {
    case D_PARAMS: return (double)cnn_param_count(r->filters);
    case D_IQR: return r->t.q3 - r->t.q1;
    case D_CV: return r->t.mean > 0 ? 100.0 * r->t.stddev / r->t.mean : NAN;
    case D_UNSTABLE: {
        int unstable = summary_unstable(&r->t, r->max_noise_pct);
        return unstable < 0 ? NAN : unstable;
    }
    case D_IMAGES: return s > 0 ? r->batch / s : NAN;
    case D_GFLOP_STEP: return flop / 1e9;
    case D_GFLOPS: return s > 0 ? flop / s / 1e9 : NAN;
    case D_SPEEDUP_SEQ:
        return summary_baseline_ms(rows, n, r, backends_name_with_cap(CNN_CAP_REFERENCE), -1) /
               r->t.median;
    case D_SPEEDUP_OMP1:
        return summary_baseline_ms(rows, n, r, backends_name_with_cap(CNN_CAP_THREAD_BASELINE),
                                   1) / r->t.median;
    case D_IMAGES_PER_J_CPU: return images_per_joule(r, ENERGY_CPU);
    case D_IMAGES_PER_J_GPU: return images_per_joule(r, ENERGY_GPU);
    case D_NONE: break;
    }
    return NAN;
}

static void format_cell(char *buf, size_t len, const struct column *c, const struct summary_row *r,
                        const struct summary_row *rows, int n)
{
    const char *base = (const char *)r;
    switch (c->kind) {
    case COL_STR: snprintf(buf, len, "%s", base + c->offset); return;
    case COL_INT: snprintf(buf, len, "%d", *(const int *)(base + c->offset)); return;
    case COL_LONG: snprintf(buf, len, "%ld", *(const long *)(base + c->offset)); return;
    case COL_DBL: csv_format_number(buf, len, *(const double *)(base + c->offset)); return;
    case COL_DERIVED: {
        /* a failed or empty configuration has no time to derive from */
        int timed = r->t.n > 0 && r->t.median > 0;
        double v = c->derived == D_PARAMS || c->derived == D_GFLOP_STEP || timed
                       ? derived_value(c->derived, rows, n, r) : NAN;
        if (c->derived == D_UNSTABLE && !isnan(v))
            snprintf(buf, len, "%d", (int)v);
        else
            csv_format_number(buf, len, v);
        return;
    }
    }
}

cnn_status summary_write(const char *path, const struct summary_row *rows, int n)
{
    struct cnn_atomic_file f;
    CNN_TRY(cnn_atomic_open(&f, path));
    int failed = 0;
    for (int c = 0; c < N_COLUMNS; c++)
        failed |= fprintf(f.fp, "%s%s", c ? "," : "", columns[c].name) < 0;
    failed |= fputc('\n', f.fp) == EOF;
    for (int i = 0; i < n && !failed; i++) {
        for (int c = 0; c < N_COLUMNS; c++) {
            char cell[512];
            format_cell(cell, sizeof cell, &columns[c], &rows[i], rows, n);
            failed |= (c && fputc(',', f.fp) == EOF) || csv_write_field(f.fp, cell) < 0;
        }
        failed |= fputc('\n', f.fp) == EOF;
    }
    if (failed) {
        cnn_atomic_abort(&f);
        return cnn_fail(CNN_E_IO, "%s: write failed", path);
    }
    return cnn_atomic_commit(&f);
}

/* The ranges the command line allows (bench/commands/sweep.c), so the only values
 * cnnbench writes: a file with others was edited or damaged. Columns not
 * listed are non-negative numbers (times, epochs, loss). */
static const struct {
    const char *name;
    double lo, hi;
} limits[] = {
    {"variant", 0, 1000}, {"threads", 0, 4096}, {"gpus", 0, 1024}, {"ranks", 0, 1 << 20},
    {"batch", 1, CNN_MAX_BATCH}, {"filters", 1, CNN_MAX_FILTERS}, {"rep", 1, 1000},
    {"steps", 1, 1e12}, {"n_steps", 0, 1e12}, {"warmup_steps", 0, 100000},
    {"test_accuracy_pct", 0, 100},
};

static void column_limits(const struct column *c, double *lo, double *hi)
{
    *lo = 0;
    *hi = c->kind == COL_DBL ? FIELD_MAX_NUMBER : INT_MAX;
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++)
        if (!strcmp(limits[i].name, c->name)) {
            *lo = limits[i].lo;
            *hi = limits[i].hi;
        }
}

static cnn_status parse_cell(const struct column *c, const char *text, struct summary_row *r,
                             const struct field_pos *at)
{
    char *base = (char *)r;
    double lo, hi;
    column_limits(c, &lo, &hi);
    switch (c->kind) {
    case COL_STR:
        /* any text (a message may hold line breaks); names and words are
         * checked by check_row */
        if (strlen(text) >= c->size)
            return field_fail(at, "longer than %zu characters", c->size - 1);
        memcpy(base + c->offset, text, strlen(text) + 1);
        return CNN_OK;
    case COL_INT:
        /* an optional column a file lacks reads as 0 (gpus: the plain path) */
        if (!*text && c->optional)
            return CNN_OK;
        return field_int(at, text, (int)lo, (int)hi, (int *)(base + c->offset));
    case COL_LONG: return field_long(at, text, (long)lo, (long)hi, (long *)(base + c->offset));
    case COL_DBL: return field_double(at, text, lo, hi, 1, (double *)(base + c->offset));
    case COL_DERIVED: break;
    }
    return CNN_OK;
}

/* Whether word is one of the NULL-terminated list. */
static int one_of(const char *word, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(word, *list))
            return 1;
    return 0;
}

/* Where the column called name sits in the file, for a message. */
static const struct field_pos *at_column(struct field_pos *at, const int *map, const char *name)
{
    for (int c = 0; c < N_COLUMNS; c++)
        if (!strcmp(columns[c].name, name)) {
            at->column = map[c] + 1;
            at->name = name;
        }
    return at;
}

/* The checks across the fields of one row: the names and words cnnbench
 * writes, and a key that is the one plan_key makes of the row's fields. */
static cnn_status check_row(const struct summary_row *r, const char *path, long line,
                            const int *map)
{
    static const char *const verified[] = {"yes", "no", "reference", "skipped", "not_run", NULL};
    static const char *const timers[] = {"wall", "cuda_event", "cupti", NULL};
    struct field_pos at = {path, line, 0, ""};
    char name[sizeof r->impl];
    CNN_TRY(field_name(at_column(&at, map, "impl"), r->impl, name, sizeof name));
    if (!one_of(r->verified, verified))
        return field_fail(at_column(&at, map, "verified"),
                          "'%s' is not yes, no, reference, skipped or not_run", r->verified);
    if (strcmp(r->status, "ok") != 0 && strcmp(r->status, "interrupted") != 0 &&
        (strncmp(r->status, "failed:", 7) != 0 ||
         field_name(&at, r->status + 7, name, sizeof name) != CNN_OK))
        return field_fail(at_column(&at, map, "status"),
                          "'%s' is not ok, interrupted or failed:<reason>", r->status);
    if (!one_of(r->timer, timers))
        return field_fail(at_column(&at, map, "timer"), "'%s' is not wall, cuda_event or cupti",
                          r->timer);
    if (r->t.n > r->steps)
        return field_fail(at_column(&at, map, "n_steps"), "%ld timed steps of %ld planned",
                          r->t.n, r->steps);
    if (!strcmp(r->status, "ok") && !(r->t.n > 0 && r->t.median > 0))
        return field_fail(at_column(&at, map, "median_step_ms"),
                          "status ok without a positive median step time");
    /* the order statistics of one sample; NaN (not measured) compares false */
    const double order[5] = {r->t.min, r->t.q1, r->t.median, r->t.q3, r->t.max};
    const char *names[5] = {"min_step_ms", "q1_step_ms", "median_step_ms", "q3_step_ms",
                            "max_step_ms"};
    for (int k = 1; k < 5; k++)
        if (order[k] < order[k - 1])
            return field_fail(at_column(&at, map, names[k]), "%g is below %s %g", order[k],
                              names[k - 1], order[k - 1]);
    /* the key's length part, ":s<steps>:" or ":e<epochs>:", before ":r<rep>" */
    const char *rep = strrchr(r->key, ':'), *unit = rep;
    while (unit && unit > r->key && unit[-1] != ':')
        unit--;
    long length = -1;
    if (unit && unit > r->key && (*unit == 's' || *unit == 'e') && rep - unit >= 2 &&
        rep - unit <= 10) {
        length = 0;
        for (const char *p = unit + 1; p < rep && length >= 0; p++)
            length = *p >= '0' && *p <= '9' ? length * 10 + (*p - '0') : -1;
    }
    /* one rank: run in the sweep's process (no :np), or by mpirun -np 1 */
    char expected[PLAN_KEY_MAX] = "", launched[PLAN_KEY_MAX] = "";
    if (length >= 0) {
        plan_key(expected, sizeof expected, r->impl, r->variant, r->threads, r->gpus,
                 r->ranks > 1 ? r->ranks : 0, r->batch, r->filters, *unit, (int)length, r->rep);
        plan_key(launched, sizeof launched, r->impl, r->variant, r->threads, r->gpus, r->ranks,
                 r->batch, r->filters, *unit, (int)length, r->rep);
    }
    if (length < 0 || (strcmp(r->key, expected) != 0 && strcmp(r->key, launched) != 0) ||
        (*unit == 's' && length != r->steps))
        return field_fail(at_column(&at, map, "config_key"),
                          "'%s' is not the key of this row's fields and steps", r->key);
    return CNN_OK;
}

cnn_status summary_read(const char *path, struct summary_row **rows, int *n)
{
    *rows = NULL;
    *n = 0;
    int map[N_COLUMNS];
    struct runfile f;
    const struct runfile_rules rules = {.voice = RUNFILE_FIELDS};
    CNN_TRY(runfile_open(&f, path, &rules));
    cnn_status st = CNN_OK;
    for (int c = 0; c < N_COLUMNS && st == CNN_OK; c++) {
        map[c] = runfile_column(&f, columns[c].name);
        if (map[c] < 0 && columns[c].kind != COL_DERIVED && !columns[c].optional)
            st = cnn_fail(CNN_E_DATA, "%s: line 1: no column '%s'", path, columns[c].name);
    }
    int cap = 0, more = 1;
    /* a last record without its line end was cut off mid-write: dropped */
    while (st == CNN_OK && (st = runfile_next(&f, &more)) == CNN_OK && more) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            struct summary_row *g = realloc(*rows, (size_t)cap * sizeof *g);
            if (!g) {
                st = cnn_fail(CNN_E_NOMEM, "%s: cannot allocate rows", path);
                break;
            }
            *rows = g;
        }
        struct summary_row *r = &(*rows)[(*n)++];
        memset(r, 0, sizeof *r);
        for (int c = 0; c < N_COLUMNS && st == CNN_OK; c++) {
            struct field_pos at = {path, f.line, map[c] + 1, columns[c].name};
            st = parse_cell(&columns[c], map[c] >= 0 ? f.field[map[c]] : "", r, &at);
        }
        /* a file from before the ranks column, or a row made without a
         * configuration: one process */
        if (r->ranks == 0)
            r->ranks = 1;
        if (st == CNN_OK)
            st = check_row(r, path, f.line, map);
    }
    runfile_close(&f);
    if (st != CNN_OK) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return st;
}

cnn_status summary_read_run(const char *path, struct summary_row **rows, int *n)
{
    CNN_TRY(summary_read(path, rows, n));
    if (*n == 0)
        return cnn_fail(CNN_E_DATA, "%s: no configuration, only a header", path);
    return CNN_OK;
}
