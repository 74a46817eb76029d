/* summary.c — building, writing and re-reading summary.csv rows. */
#include "summary.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvout.h"
#include "error.h"
#include "fileio.h"

void summary_from_run(struct summary_row *row, const struct plan_config *c, long steps,
                      uint32_t train_n, int warmup, const struct run_result *r)
{
    memset(row, 0, sizeof *row);
    snprintf(row->key, sizeof row->key, "%s", c->key);
    snprintf(row->impl, sizeof row->impl, "%s", c->be->name);
    row->variant = c->variant;
    row->threads = c->threads;
    row->gpus = c->gpus;
    row->batch = c->batch;
    row->filters = c->filters;
    row->rep = c->rep;
    row->steps = steps;
    row->epochs = (double)steps * c->batch / train_n;
    row->warmup = warmup;
    row->first_warmup_ms = r->first_warmup_ms >= 0 ? r->first_warmup_ms : NAN;
    row->final_loss = r->done > 0 ? r->steps[r->done - 1].loss : NAN;
    row->test_accuracy_pct = r->n_evals > 0 ? 100.0 * r->evals[r->n_evals - 1].accuracy : NAN;
    snprintf(row->timer, sizeof row->timer, "%s",
             (c->be->caps & CNN_CAP_DEVICE) ? "cuda_event" : "wall");
    row->wall_s = r->wall_s;
    row->verify_windows = r->verify.windows > 0 ? (double)r->verify.windows : NAN;
    row->verify_tie_flips = r->verify.windows > 0 ? (double)r->verify.tie_flips : NAN;
    snprintf(row->status, sizeof row->status, "ok");

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
    csv_sanitise(row->message);
}

/* ---- the column table: one place that fixes the names and their order ---- */

enum col_kind {
    COL_STR, COL_INT, COL_LONG, COL_DBL, /* stored in the row */
    COL_DERIVED,                        /* computed at write time, ignored on read */
};

enum derived {
    D_NONE, D_PARAMS, D_IQR, D_CV, D_UNSTABLE, D_IMAGES, D_GFLOP_STEP, D_GFLOPS,
    D_SPEEDUP_SEQ, D_SPEEDUP_OMP1,
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
};
enum { N_COLUMNS = sizeof columns / sizeof *columns };

static int row_ok(const struct summary_row *r) { return strcmp(r->status, "ok") == 0; }

double summary_baseline_ms(const struct summary_row *rows, int n, const struct summary_row *of,
                           const char *impl, int threads)
{
    const struct summary_row *best = NULL;
    int best_score = -1;
    for (int i = 0; i < n; i++) {
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
    return best ? best->t.median : NAN;
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
    case D_UNSTABLE:
        return r->t.n > 1 ? (double)(r->t.stddev > SUMMARY_UNSTABLE_CV * r->t.mean) : NAN;
    case D_IMAGES: return s > 0 ? r->batch / s : NAN;
    case D_GFLOP_STEP: return flop / 1e9;
    case D_GFLOPS: return s > 0 ? flop / s / 1e9 : NAN;
    case D_SPEEDUP_SEQ: return summary_baseline_ms(rows, n, r, "seq", -1) / r->t.median;
    case D_SPEEDUP_OMP1: return summary_baseline_ms(rows, n, r, "omp", 1) / r->t.median;
    case D_NONE: break;
    }
    return NAN;
}

static void format_cell(char *buf, size_t len, const struct column *c, const struct summary_row *r,
                        const struct summary_row *rows, int n)
{
    const char *base = (const char *)r;
    switch (c->kind) {
    case COL_STR:
        snprintf(buf, len, "%s", base + c->offset);
        csv_sanitise(buf);
        return;
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
            failed |= fprintf(f.fp, "%s%s", c ? "," : "", cell) < 0;
        }
        failed |= fputc('\n', f.fp) == EOF;
    }
    if (failed) {
        cnn_atomic_abort(&f);
        return cnn_fail(CNN_E_IO, "%s: write failed", path);
    }
    return cnn_atomic_commit(&f);
}

static void parse_cell(const struct column *c, const char *text, struct summary_row *r)
{
    char *base = (char *)r;
    switch (c->kind) {
    case COL_STR: snprintf(base + c->offset, c->size, "%s", text); break;
    case COL_INT: *(int *)(base + c->offset) = atoi(text); break;
    case COL_LONG: *(long *)(base + c->offset) = atol(text); break;
    case COL_DBL: *(double *)(base + c->offset) = *text ? strtod(text, NULL) : NAN; break;
    case COL_DERIVED: break;
    }
}

cnn_status summary_read(const char *path, struct summary_row **rows, int *n)
{
    char *text;
    *rows = NULL;
    *n = 0;
    CNN_TRY(csv_read_file(path, &text, NULL));
    char *header[N_COLUMNS + 8], *fields[N_COLUMNS + 8];
    int map[N_COLUMNS];
    char *line = text, *next;
    int cap = 0, nh = 0;
    cnn_status st = CNN_OK;
    for (int lineno = 0; line && *line; line = next, lineno++) {
        next = strchr(line, '\n');
        if (!next)
            break; /* a last line without newline was cut off mid-write */
        *next++ = '\0';
        if (lineno == 0) {
            nh = csv_split(line, header, N_COLUMNS + 8);
            for (int c = 0; c < N_COLUMNS; c++) {
                map[c] = csv_find_column(header, nh, columns[c].name);
                if (map[c] < 0 && columns[c].kind != COL_DERIVED && !columns[c].optional) {
                    st = cnn_fail(CNN_E_DATA, "%s: no column '%s'", path, columns[c].name);
                    break;
                }
            }
            if (st != CNN_OK)
                break;
            continue;
        }
        if (csv_split(line, fields, N_COLUMNS + 8) != nh) {
            st = cnn_fail(CNN_E_DATA, "%s: line %d has the wrong number of fields", path,
                          lineno + 1);
            break;
        }
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
        for (int c = 0; c < N_COLUMNS; c++)
            parse_cell(&columns[c], map[c] >= 0 ? fields[map[c]] : "", r);
    }
    free(text);
    if (st != CNN_OK) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return st;
}
