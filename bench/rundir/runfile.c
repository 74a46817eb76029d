/* runfile.c — the one reader of a run directory's files: found (or its .gz),
 * read whole and decompressed, checked to be text, cut into records and
 * fields, each refusal worded for the reader's audience. */
#include "runfile.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "error.h"
#include "fileio.h"

int runfile_locate(char *out, size_t len, const char *path)
{
    struct stat sb;
    snprintf(out, len, "%s", path);
    if (stat(out, &sb) == 0)
        return 0;
    if (errno == ENOENT) {
        snprintf(out, len, "%s.gz", path);
        if (stat(out, &sb) == 0)
            return 0;
    }
    snprintf(out, len, "%s", path);
    return -1;
}

cnn_status runfile_read_text(const char *path, char **text, size_t *len)
{
    /* a regular file only: a FIFO would block the open forever */
    int fd;
    CNN_TRY(cnn_open_regular(path, "a text file", &fd));
    errno = 0;
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        return cnn_fail(CNN_E_IO, "%s: cannot open: %s", path,
                        errno ? strerror(errno) : "out of memory");
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    char read_error[160] = "";
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
        size_t room = cap - 1 - n;
        int got = gzread(gz, buf + n, room < INT_MAX ? (unsigned)room : INT_MAX);
        if (got > 0) {
            n += (size_t)got;
            continue;
        }
        /* The end, or a read error, a damaged gzip stream or one cut off
         * (Z_BUF_ERROR): gzread tells them apart only through gzerror. */
        int zerr;
        const char *what = gzerror(gz, &zerr);
        size_t plen = strlen(path); /* zlib says "PATH: what" */
        if (strncmp(what, path, plen) == 0 && what[plen] == ':')
            what += plen + 1 + (what[plen + 1] == ' ');
        if (got < 0 || zerr != Z_OK)
            snprintf(read_error, sizeof read_error, "%s",
                     zerr == Z_ERRNO ? strerror(errno) : what);
        break;
    }
    gzclose(gz);
    if (!buf)
        return cnn_fail(CNN_E_NOMEM, "%s: cannot allocate a read buffer", path);
    if (read_error[0]) {
        free(buf);
        return cnn_fail(CNN_E_IO, "%s: read error: %s", path, read_error);
    }
    buf[n] = '\0';
    *text = buf;
    if (len)
        *len = n;
    return CNN_OK;
}

/* Line number (from 1) of the byte at offset. */
static long line_of(const char *text, size_t offset)
{
    long line = 1;
    for (size_t i = 0; i < offset; i++)
        line += text[i] == '\n';
    return line;
}

/* Refuses an empty file or one with a NUL byte (binary data). A resume
 * reads an empty file on, to name it by its missing header. */
static cnn_status check_text(const char *path, enum runfile_voice voice, const char *text,
                             size_t len)
{
    if (len == 0 && voice == RUNFILE_FIELDS)
        return cnn_fail(CNN_E_DATA, "%s: the file is empty", path);
    if (len == 0 && voice == RUNFILE_SAMPLES)
        return cnn_fail(CNN_E_DATA, "%s: empty file", path);
    const char *nul = memchr(text, '\0', len);
    if (!nul)
        return CNN_OK;
    size_t at = (size_t)(nul - text);
    switch (voice) {
    case RUNFILE_SAMPLES:
        return cnn_fail(CNN_E_DATA, "%s: contains NUL bytes: not a CSV file", path);
    case RUNFILE_DAMAGE:
        return cnn_fail(CNN_E_DATA, "%s: a NUL byte at byte offset %zu (line %ld): the file "
                        "is damaged, and resuming would drop the rows after it", path, at,
                        line_of(text, at));
    case RUNFILE_FIELDS:
        break;
    }
    return cnn_fail(CNN_E_DATA, "%s: line %ld: a NUL byte: binary data, not a text file", path,
                    line_of(text, at));
}

cnn_status runfile_load(const char *path, enum runfile_voice voice, char **text, size_t *len)
{
    size_t n;
    CNN_TRY(runfile_read_text(path, text, &n));
    cnn_status st = check_text(path, voice, *text, n);
    if (st != CNN_OK) {
        free(*text);
        *text = NULL;
        return st;
    }
    if (len)
        *len = n;
    return CNN_OK;
}

/* "line L", and for a resume " (byte offset B)": where the current record is. */
static void where(const struct runfile *f, char *buf, size_t len)
{
    if (f->rules.voice == RUNFILE_DAMAGE)
        snprintf(buf, len, "line %ld (byte offset %zu)", f->line, f->offset);
    else
        snprintf(buf, len, "line %ld", f->line);
}

/* Why the record at f->line is not there whole: the text ended inside it. */
static cnn_status fail_cut(const struct runfile *f)
{
    if (memchr(f->records.pos, '\n', (size_t)(f->records.end - f->records.pos)))
        return cnn_fail(CNN_E_DATA, "%s: line %ld opens a quote that never closes", f->path,
                        f->line);
    return cnn_fail(CNN_E_DATA, "%s: line %ld ends without a newline: the file was cut off",
                    f->path, f->line);
}

/* A record of n fields (n > RUNFILE_MAX_COLUMNS: more) where the header has
 * f->columns; empty: the record was an empty line. */
static cnn_status fail_width(const struct runfile *f, int n, int empty)
{
    switch (f->rules.voice) {
    case RUNFILE_SAMPLES:
        if (empty)
            return cnn_fail(CNN_E_DATA, "%s: line %ld is empty", f->path, f->line);
        return cnn_fail(CNN_E_DATA, "%s: line %ld has %s%d fields, the header has %d", f->path,
                        f->line, n > f->columns ? "more than " : "",
                        n > f->columns ? f->columns : n, f->columns);
    case RUNFILE_DAMAGE:
        return cnn_fail(CNN_E_DATA, "%s: line %ld (byte offset %zu) has %d field%s, the header "
                        "%d: the file is damaged", f->path, f->line, f->offset, n,
                        n == 1 ? "" : "s", f->columns);
    case RUNFILE_FIELDS:
        break;
    }
    return cnn_fail(CNN_E_DATA, "%s: line %ld: %d fields where the header has %d", f->path,
                    f->line, n, f->columns);
}

/* The next record, whole and split into fields (at most RUNFILE_MAX_COLUMNS
 * + 1 stored, so a record with too many is seen). *n = -1 at the end. */
static cnn_status next_record(struct runfile *f, char **fields, int *n)
{
    char *record;
    int got = csv_records_next(&f->records, &record);
    f->line = f->records.line;
    *n = -1;
    if (got == 0)
        return CNN_OK;
    if (got < 0) {
        if (f->rules.whole)
            return fail_cut(f);
        f->cut = 1; /* a write a crash cut off: the rows before it stand */
        return CNN_OK;
    }
    f->offset = (size_t)(record - f->text);
    size_t bytes = strlen(record);
    if (f->rules.max_record && bytes > f->rules.max_record)
        return cnn_fail(CNN_E_DATA, "%s: line %ld is longer than %zu bytes: not a cnnbench CSV",
                        f->path, f->line, f->rules.max_record);
    int empty = bytes == 0;
    *n = csv_split(record, fields, RUNFILE_MAX_COLUMNS + 1);
    if (*n < 0) {
        char at[64];
        where(f, at, sizeof at);
        return cnn_fail(CNN_E_DATA, "%s: %s: broken quoting (RFC 4180: a quote inside an "
                        "unquoted field, or text after a closing quote)", f->path, at);
    }
    if (f->columns && *n != f->columns)
        return fail_width(f, *n, empty);
    return CNN_OK;
}

cnn_status runfile_open(struct runfile *f, const char *path, const struct runfile_rules *rules)
{
    memset(f, 0, sizeof *f);
    f->rules = *rules;
    if (rules->gz)
        runfile_locate(f->path, sizeof f->path, path);
    else
        snprintf(f->path, sizeof f->path, "%s", path);
    CNN_TRY(runfile_load(f->path, rules->voice, &f->text, &f->len));
    csv_records_init(&f->records, f->text, f->len);
    int n;
    cnn_status st = next_record(f, f->header, &n);
    if (st == CNN_OK && n < 0) {
        if (rules->voice == RUNFILE_DAMAGE)
            st = cnn_fail(CNN_E_DATA, "%s: no header line (%zu bytes): not a file of a "
                          "cnnbench run", f->path, f->len);
        else
            st = cnn_fail(CNN_E_DATA, "%s: no complete header line", f->path);
    }
    if (st == CNN_OK && n > RUNFILE_MAX_COLUMNS)
        st = cnn_fail(CNN_E_DATA, "%s: line 1: more than %d columns: not a file of a cnnbench "
                      "run", f->path, RUNFILE_MAX_COLUMNS);
    f->columns = n;
    if (st != CNN_OK)
        runfile_close(f);
    return st;
}

cnn_status runfile_next(struct runfile *f, int *more)
{
    int n;
    *more = 0;
    CNN_TRY(next_record(f, f->field, &n));
    *more = n >= 0;
    return CNN_OK;
}

int runfile_column(const struct runfile *f, const char *name)
{
    return csv_find_column(f->header, f->columns, name);
}

void runfile_close(struct runfile *f)
{
    free(f->text);
    f->text = NULL;
}
