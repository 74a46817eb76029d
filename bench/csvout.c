/* csvout.c — row writers for steps.csv and evals.csv, and the small CSV reader used on resume. */
#include "csvout.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"

void csv_format_number(char *buf, size_t len, double v)
{
    if (isnan(v))
        buf[0] = '\0';
    else
        snprintf(buf, len, "%.9g", v);
}

void csv_sanitise(char *s)
{
    for (; *s; s++)
        if (*s == ',')
            *s = ';';
        else if (*s == '"')
            *s = '\'';
        else if (*s == '\n' || *s == '\r')
            *s = ' ';
}

static int write_step_row(FILE *fp, const struct csv_config *c, long step, const char *region,
                          double ms, const struct run_step *rec)
{
    char t[32], loss[32];
    csv_format_number(t, sizeof t, ms);
    csv_format_number(loss, sizeof loss, rec->loss);
    double acc = 100.0 * rec->correct / c->batch;
    if (fprintf(fp, "%s,%s,%d,%d,%d,%d,%d,%ld,%s,%s,%s,%.4f,%s,%d\n", c->key, c->impl,
                c->variant, c->threads, c->batch, c->filters, c->rep, step, region, t, loss, acc,
                c->timer, c->gpus) < 0)
        return -1;
    return fflush(fp) == 0 ? 0 : -1;
}

int csv_write_step_rows(FILE *fp, const struct csv_config *c, long step,
                        const struct run_step *rec)
{
    int rows = 0;
    for (int r = 0; r < CNN_REGION_COUNT; r++) {
        if (rec->region_ms[r] < 0)
            continue;
        if (write_step_row(fp, c, step, cnn_region_name((enum cnn_region)r), rec->region_ms[r],
                           rec) != 0)
            return -1;
        rows++;
    }
    if (write_step_row(fp, c, step, "step", rec->step_ms, rec) != 0)
        return -1;
    return rows + 1;
}

int csv_write_eval_row(FILE *fp, const struct csv_config *c, const struct run_eval *e,
                       uint32_t test_images)
{
    if (fprintf(fp, "%s,%s,%d,%d,%d,%d,%d,%ld,%.4f,%u,%.6g,%d\n", c->key, c->impl, c->variant,
                c->threads, c->batch, c->filters, c->rep, e->step, 100.0 * e->accuracy,
                test_images, e->ms, c->gpus) < 0)
        return -1;
    return fflush(fp) == 0 ? 1 : -1;
}

int csv_split(char *line, char **fields, int max)
{
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    int n = 0;
    char *p = line;
    for (;;) {
        if (n < max)
            fields[n] = p;
        n++;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return n < max ? n : max;
}

int csv_find_column(char *const *header, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(header[i], name) == 0)
            return i;
    return -1;
}

cnn_status csv_output_open(struct csv_output *o, const char *path)
{
    memset(o, 0, sizeof *o);
    snprintf(o->path, sizeof o->path, "%s", path);
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode))
            return cnn_fail(CNN_E_IO, "%s: is a directory", path);
        o->direct = 1;
        o->fp = fopen(path, "w");
        if (!o->fp)
            return cnn_fail(CNN_E_IO, "%s: cannot open: %s", path, strerror(errno));
        return CNN_OK;
    }
    const char *target = path;
    char resolved[PATH_MAX];
    struct stat lst;
    if (exists && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) && realpath(path, resolved))
        target = resolved;
    CNN_TRY(cnn_atomic_open(&o->atomic, target));
    o->fp = o->atomic.fp;
    return CNN_OK;
}

cnn_status csv_output_commit(struct csv_output *o)
{
    if (!o->direct)
        return cnn_atomic_commit(&o->atomic);
    int failed = ferror(o->fp) || fflush(o->fp) != 0;
    int saved = errno;
    if (fclose(o->fp) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    o->fp = NULL;
    if (failed)
        return cnn_fail(CNN_E_IO, "%s: write failed: %s", o->path, strerror(saved));
    return CNN_OK;
}

void csv_output_abort(struct csv_output *o)
{
    if (!o->direct)
        cnn_atomic_abort(&o->atomic);
    else if (o->fp)
        fclose(o->fp);
    o->fp = NULL;
}

cnn_status csv_read_file(const char *path, char **text, size_t *len)
{
    FILE *fp;
    CNN_TRY(cnn_fopen_regular(path, "a text file", &fp));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, fp);
        n += got;
        if (got == 0)
            break;
    }
    int read_error = ferror(fp);
    fclose(fp);
    if (!buf)
        return cnn_fail(CNN_E_NOMEM, "%s: cannot allocate a read buffer", path);
    if (read_error) {
        free(buf);
        return cnn_fail(CNN_E_IO, "%s: read error", path);
    }
    buf[n] = '\0';
    *text = buf;
    if (len)
        *len = n;
    return CNN_OK;
}
