/* csvout.c — row writers for steps.csv and evals.csv, RFC 4180 field quoting,
 * and its reverse: text cut into records, then fields (runfile.h reads the
 * files). */
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

int csv_write_field(FILE *fp, const char *s)
{
    if (!s[strcspn(s, ",\"\r\n")])
        return fputs(s, fp) == EOF ? -1 : 0;
    if (fputc('"', fp) == EOF)
        return -1;
    for (; *s; s++)
        if ((*s == '"' && fputc('"', fp) == EOF) || fputc(*s, fp) == EOF)
            return -1;
    return fputc('"', fp) == EOF ? -1 : 0;
}

int csv_ranks(const struct plan_config *c) { return c->ranks > 0 ? c->ranks : 1; }

static int write_step_row(FILE *fp, const struct plan_config *c, const char *timer, long step,
                          const char *region, double ms, const struct run_step *rec)
{
    char t[32], loss[32];
    csv_format_number(t, sizeof t, ms);
    csv_format_number(loss, sizeof loss, rec->loss);
    double acc = 100.0 * rec->correct / c->batch;
    if (fprintf(fp, "%s,%s,%d,%d,%d,%d,%d,%ld,%s,%s,%s,%.4f,%s,%d,%d\n", c->key, c->be->name,
                c->variant, c->threads, c->batch, c->filters, c->rep, step, region, t, loss, acc,
                timer, c->gpus, csv_ranks(c)) < 0)
        return -1;
    return fflush(fp) == 0 ? 0 : -1;
}

int csv_write_step_rows(FILE *fp, const struct plan_config *c, const char *timer, long step,
                        const struct run_step *rec)
{
    int rows = 0;
    for (int r = 0; r < CNN_REGION_COUNT; r++) {
        if (rec->region_ms[r] < 0)
            continue;
        if (write_step_row(fp, c, timer, step, cnn_region_name((enum cnn_region)r),
                           rec->region_ms[r], rec) != 0)
            return -1;
        rows++;
    }
    if (write_step_row(fp, c, timer, step, "step", rec->step_ms, rec) != 0)
        return -1;
    return rows + 1;
}

int csv_write_eval_row(FILE *fp, const struct plan_config *c, const struct run_eval *e,
                       uint32_t test_images)
{
    if (fprintf(fp, "%s,%s,%d,%d,%d,%d,%d,%ld,%.4f,%u,%.6g,%d,%d\n", c->key, c->be->name,
                c->variant, c->threads, c->batch, c->filters, c->rep, e->step, 100.0 * e->accuracy,
                test_images, e->ms, c->gpus, csv_ranks(c)) < 0)
        return -1;
    return fflush(fp) == 0 ? 1 : -1;
}

void csv_records_init(struct csv_records *r, char *text, size_t len)
{
    *r = (struct csv_records){.pos = text, .end = text + len, .line = 0, .next_line = 1};
}

int csv_records_next(struct csv_records *r, char **record)
{
    if (r->pos >= r->end)
        return 0;
    r->line = r->next_line;
    int quoted = 0;
    for (char *p = r->pos; p < r->end; p++) {
        if (*p == '"')
            quoted = !quoted; /* a doubled quote toggles twice */
        if (*p != '\n')
            continue;
        r->next_line++;
        if (quoted)
            continue;
        *record = r->pos;
        *p = '\0';
        if (p > r->pos && p[-1] == '\r')
            p[-1] = '\0';
        r->pos = p + 1;
        return 1;
    }
    return -1;
}

int csv_split(char *record, char **fields, int max)
{
    size_t len = strlen(record);
    while (len > 0 && (record[len - 1] == '\n' || record[len - 1] == '\r'))
        record[--len] = '\0';
    int n = 0;
    char *in = record;
    for (;;) {
        /* The field's text is moved to its start as the quotes come off; it
         * never grows, so the record holds it in place. */
        char *start = in, *out = in;
        if (*in == '"') {
            for (in++;; in++) {
                if (!*in)
                    return -1;
                if (*in == '"' && in[1] != '"')
                    break;
                if (*in == '"')
                    in++;
                *out++ = *in;
            }
            in++;
            if (*in && *in != ',')
                return -1;
        } else {
            in += strcspn(in, ",\"");
            if (*in == '"')
                return -1;
            out = in;
        }
        char sep = *in;
        *out = '\0';
        if (n < max)
            fields[n++] = start;
        if (!sep)
            return n;
        in++;
    }
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
