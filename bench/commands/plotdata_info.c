/*
 * plotdata_info.c — plotinfo.gp, which tells the gnuplot scripts what each
 * table holds (sizes chosen, axis ranges and ticks, notes on what a chart
 * leaves out), and the table files themselves: replaced atomically, and
 * removed when this run has nothing to draw in them.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "fileio.h"
#include "plotdata.h"

/* ---- writing plotinfo.gp ---- */

void pd_info_int(const struct pd *pd, const char *name, long v)
{
    fprintf(pd->info, "%s = %ld\n", name, v);
}

static void info_num(const struct pd *pd, const char *name, double v)
{
    fprintf(pd->info, "%s = %.6g\n", name, v);
}

void pd_info_str(const struct pd *pd, const char *name, const char *value)
{
    fprintf(pd->info, "%s = '", name);
    for (const char *p = value; *p; p++)
        if (*p == '\'')
            fputs("''", pd->info);
        else
            fputc(*p, pd->info);
    fputs("'\n", pd->info);
}

void pd_info_values(const struct pd *pd, const char *name, const long *v, int n)
{
    fprintf(pd->info, "%s = '", name);
    for (int i = 0; i < n; i++)
        fprintf(pd->info, "%s%ld", i ? " " : "", v[i]);
    fputs("'\n", pd->info);
}

void pd_info_note(const struct pd *pd, const char *name, int shown, int total,
                  const char *what)
{
    char note[96] = "";
    if (shown < total)
        snprintf(note, sizeof note, " (%d of %d %s shown)", shown, total, what);
    pd_info_str(pd, name, note);
}

/* "13.6k", "109k", "1.1M": a large count short enough for a tick label. */
static void short_count(char *buf, size_t len, double v)
{
    if (v >= 1e6)
        snprintf(buf, len, "%.3gM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, len, "%.3gk", v / 1e3);
    else
        snprintf(buf, len, "%.0f", v);
}

/* A tick value in plain decimal ("0.00001", "2000000"): the scripts turn
 * it into a number with gnuplot's string arithmetic, which reads no
 * exponent. Two significant digits are all a tick has. */
static void plain_number(char *buf, size_t len, double v)
{
    int decimals = (int)ceil(-log10(v)) + 1;
    snprintf(buf, len, "%.*f", decimals > 0 ? decimals : 0, v);
    if (strchr(buf, '.')) {
        size_t n = strlen(buf);
        while (buf[n - 1] == '0')
            buf[--n] = '\0';
        if (buf[n - 1] == '.')
            buf[n - 1] = '\0';
    }
}

/* NAME_ticks = 'positions' and NAME_labels = 'labels' of an axis's ticks,
 * the words the scripts pair up ("2000000" is labelled "2M"). */
static void info_ticks(const struct pd *pd, const char *name, const double *ticks, int n)
{
    for (int labels = 0; labels < 2; labels++) {
        fprintf(pd->info, "%s_%s = '", name, labels ? "labels" : "ticks");
        for (int i = 0; i < n; i++) {
            char t[64];
            if (labels && ticks[i] >= 1e4)
                short_count(t, sizeof t, ticks[i]);
            else
                plain_number(t, sizeof t, ticks[i]);
            fprintf(pd->info, "%s%s", i ? " " : "", t);
        }
        fputs("'\n", pd->info);
    }
}

void pd_info_log_axis(const struct pd *pd, const char *name, double lo, double hi)
{
    static const double decade[] = {1}, coarse[] = {1, 2, 5}, mid[] = {1, 2, 3, 5},
                        fine[] = {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8},
                        finest[] = {1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.8, 2, 2.2, 2.4,
                                    2.6, 2.8, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9};
    if (!(lo > 0) || !(hi >= lo) || !isfinite(hi)) {
        lo = 1; /* no data: an axis around 1 that draws nothing wrong */
        hi = 1;
    }
    lo /= 1.15;
    hi *= 1.15;
    double decades = log10(hi / lo);
    const double *steps = decades > 3     ? decade
                          : decades > 1.2 ? coarse
                          : decades > 0.8 ? mid
                          : decades > 0.3 ? fine
                                          : finest;
    int n_steps = decades > 3 ? 1 : decades > 1.2 ? 3 : decades > 0.8 ? 4 : decades > 0.3 ? 10 : 22;
    double ticks[64];
    int n = 0;
    for (int pass = 0; pass < 2 && n < 2; pass++) {
        n = 0;
        double below = 0, above = INFINITY;
        for (int e = (int)floor(log10(lo)) - 1; e <= (int)ceil(log10(hi)) && n < 64; e++)
            for (int s = 0; s < n_steps && n < 64; s++) {
                double t = steps[s] * pow(10, e);
                if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9))
                    ticks[n++] = t;
                else if (t < lo)
                    below = t;
                else if (t < above)
                    above = t;
            }
        if (n < 2) {
            lo = below;
            hi = above;
        }
    }
    char key[96];
    snprintf(key, sizeof key, "%s_min", name);
    info_num(pd, key, lo);
    snprintf(key, sizeof key, "%s_max", name);
    info_num(pd, key, hi);
    info_ticks(pd, name, ticks, n);
}

void pd_info_linear_axis(const struct pd *pd, const char *name, double lo, double hi,
                         double floor_v, double ceil_v)
{
    if (!(hi >= lo)) {
        lo = floor_v;
        hi = floor_v + 1;
    }
    double pad = (hi - lo) * 0.05;
    if (pad < 1e-3 * fabs(hi) || pad == 0)
        pad = fabs(hi) > 0 ? 0.05 * fabs(hi) : 1;
    lo = lo - pad < floor_v ? floor_v : lo - pad;
    hi = hi + pad > ceil_v ? ceil_v : hi + pad;
    char key[96];
    snprintf(key, sizeof key, "%s_min", name);
    info_num(pd, key, lo);
    snprintf(key, sizeof key, "%s_max", name);
    info_num(pd, key, hi);
}

void pd_range_add(struct range *r, double v)
{
    if (v > 0 && isfinite(v)) {
        r->lo = v < r->lo ? v : r->lo;
        r->hi = v > r->hi ? v : r->hi;
    }
}

/* ---- table files ---- */

cnn_status pd_open_table(const struct pd *pd, const char *name, struct cnn_atomic_file *f)
{
    char path[PD_PATH];
    snprintf(path, sizeof path, "%s/%s", pd->data_dir, name);
    return cnn_atomic_open(f, path);
}

cnn_status pd_remove_stale(const char *path)
{
    if (remove(path) != 0 && errno != ENOENT)
        return cnn_fail(CNN_E_IO, "%s: cannot remove: %s", path, strerror(errno));
    return CNN_OK;
}

cnn_status pd_close_table(struct cnn_atomic_file *f, int blocks)
{
    if (blocks > 0)
        return cnn_atomic_commit(f);
    cnn_atomic_abort(f);
    return pd_remove_stale(f->path);
}

/* Ends a data block: gnuplot's index counts blocks separated by two blank lines. */
void pd_end_block(FILE *fp) { fputs("\n\n", fp); }

static int long_cmp(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

int pd_distinct(long *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, long_cmp);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (m == 0 || v[m - 1] != v[i])
            v[m++] = v[i];
    return m;
}

/* A log axis through the data values v[0..n) (sorted and made pd_distinct in
 * place): a tick at each value when they are few enough to label, with
 * NAME_min and NAME_max a little outside them; else the 1-2-5 ticks of
 * pd_info_log_axis over their range. Returns whether each value is a tick. */
int pd_info_data_axis(const struct pd *pd, const char *name, long *v, int n)
{
    int m = pd_distinct(v, n);
    if (m == 0 || m > PD_MAX_TICKS) {
        pd_info_log_axis(pd, name, m ? (double)v[0] : NAN, m ? (double)v[m - 1] : NAN);
        return 0;
    }
    double ticks[PD_MAX_TICKS];
    for (int i = 0; i < m; i++)
        ticks[i] = (double)v[i];
    char key[96];
    snprintf(key, sizeof key, "%s_min", name);
    info_num(pd, key, v[0] / 1.3);
    snprintf(key, sizeof key, "%s_max", name);
    info_num(pd, key, v[m - 1] * 1.3);
    info_ticks(pd, name, ticks, m);
    return 1;
}

double pd_speedup_bar(double base, double q, double median)
{
    return q > 0 ? base / q : base / median;
}

void pd_info_curves(const struct pd *pd, const char *prefix, int blocks, int curves,
                    long *ticks, int n_ticks, struct range y, int unstable)
{
    char key[96];
    snprintf(key, sizeof key, "%s_blocks", prefix);
    pd_info_int(pd, key, blocks);
    snprintf(key, sizeof key, "%s_note", prefix);
    pd_info_note(pd, key, blocks, curves, "curves");
    snprintf(key, sizeof key, "%s_x", prefix);
    pd_info_data_axis(pd, key, ticks, n_ticks);
    snprintf(key, sizeof key, "%s_y", prefix);
    pd_info_log_axis(pd, key, y.lo, y.hi);
    snprintf(key, sizeof key, "%s_unstable", prefix);
    pd_info_int(pd, key, unstable);
}
