/* json.c — meta.json writing and the minimal reading cnnbench needs. */
#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "csvout.h"
#include "error.h"
#include "fields.h"

static void write_escaped(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(fp, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", fp);
        else if (*p == '\t')
            fputs("\\t", fp);
        else if (*p < 0x20)
            fprintf(fp, "\\u%04x", *p);
        else
            fputc(*p, fp);
    }
    fputc('"', fp);
}

static void member_start(struct json_writer *w, const char *key)
{
    fprintf(w->fp, "%s\n%*s", w->count[w->depth] ? "," : "", 2 * w->depth, "");
    w->count[w->depth]++;
    if (key) {
        write_escaped(w->fp, key);
        fputs(": ", w->fp);
    }
}

static void open_container(struct json_writer *w, const char *key, char bracket)
{
    member_start(w, key);
    fputc(bracket, w->fp);
    if (w->depth + 1 < JSON_MAX_DEPTH)
        w->depth++;
    w->count[w->depth] = 0;
}

static void close_container(struct json_writer *w, char bracket)
{
    int had = w->count[w->depth] > 0;
    if (w->depth > 0)
        w->depth--;
    if (had)
        fprintf(w->fp, "\n%*s", 2 * w->depth, "");
    fputc(bracket, w->fp);
}

void json_begin(struct json_writer *w, FILE *fp)
{
    memset(w, 0, sizeof *w);
    w->fp = fp;
    fputc('{', fp);
    w->depth = 1;
}

int json_end(struct json_writer *w)
{
    close_container(w, '}');
    fputc('\n', w->fp);
    return ferror(w->fp) ? -1 : 0;
}

void json_object_begin(struct json_writer *w, const char *key) { open_container(w, key, '{'); }
void json_object_end(struct json_writer *w) { close_container(w, '}'); }
void json_array_begin(struct json_writer *w, const char *key) { open_container(w, key, '['); }
void json_array_end(struct json_writer *w) { close_container(w, ']'); }

void json_string(struct json_writer *w, const char *key, const char *value)
{
    member_start(w, key);
    if (value)
        write_escaped(w->fp, value);
    else
        fputs("null", w->fp);
}

void json_number(struct json_writer *w, const char *key, double value)
{
    member_start(w, key);
    if (isfinite(value))
        fprintf(w->fp, "%.9g", value);
    else
        fputs("null", w->fp);
}

void json_int(struct json_writer *w, const char *key, long long value)
{
    member_start(w, key);
    fprintf(w->fp, "%lld", value);
}

void json_bool(struct json_writer *w, const char *key, int value)
{
    member_start(w, key);
    fputs(value ? "true" : "false", w->fp);
}

/* Points just past `"key":` and any blanks, or NULL. */
static const char *find_value(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = strchr(text, '"'); p; p = strchr(p + 1, '"')) {
        if (strncmp(p + 1, key, klen) != 0 || p[1 + klen] != '"')
            continue;
        const char *q = p + 2 + klen;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
            q++;
        if (*q != ':')
            continue;
        q++;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
            q++;
        return q;
    }
    return NULL;
}

/* Decodes the JSON string at p (on its opening quote) into out (NULL: only
 * measure). Returns the decoded length and sets *end past the closing
 * quote, or -1. \uXXXX escapes below 0x80 are decoded, others kept as '?'. */
static long decode_string(const char *p, char *out, size_t len, const char **end)
{
    if (*p != '"')
        return -1;
    size_t n = 0;
    for (p++; *p && *p != '"'; p++) {
        char c = *p;
        if (c == '\\') {
            p++;
            switch (*p) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned v = 0;
                for (int i = 1; i <= 4; i++) {
                    char h = p[i];
                    if (!h)
                        return -1;
                    unsigned digit = (unsigned)(h >= 'a' ? h - 'a' + 10
                                                : h >= 'A' ? h - 'A' + 10 : h - '0');
                    v = v * 16 + digit;
                }
                p += 4;
                c = v < 0x80 ? (char)v : '?';
                break;
            }
            case '\0': return -1;
            default: c = *p; break;
            }
        }
        if (out && n + 1 < len)
            out[n] = c;
        n++;
    }
    if (*p != '"')
        return -1;
    if (out && len > 0)
        out[n < len ? n : len - 1] = '\0';
    *end = p + 1;
    return (long)n;
}

int json_get_string(const char *text, const char *key, char *out, size_t len)
{
    const char *p = find_value(text, key), *end;
    if (!p || decode_string(p, out, len, &end) < 0)
        return -1;
    return 0;
}

int json_get_number(const char *text, const char *key, double *out)
{
    const char *p = find_value(text, key);
    if (!p)
        return -1;
    char *end;
    double v = strtod(p, &end);
    if (end == p)
        return -1;
    *out = v;
    return 0;
}

void json_free_strings(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int json_get_string_array(const char *text, const char *key, char ***out)
{
    const char *p = find_value(text, key), *end;
    if (!p || *p != '[')
        return -1;
    int n = 0, cap = 0;
    char **v = NULL;
    for (p++;;) {
        while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t' || *p == ',')
            p++;
        if (*p == ']')
            break;
        long slen = decode_string(p, NULL, 0, &end);
        if (slen < 0)
            goto fail;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **g = realloc(v, (size_t)cap * sizeof *g);
            if (!g)
                goto fail;
            v = g;
        }
        v[n] = malloc((size_t)slen + 1);
        if (!v[n])
            goto fail;
        decode_string(p, v[n], (size_t)slen + 1, &end);
        n++;
        p = end;
    }
    *out = v;
    return n;
fail:
    json_free_strings(v, n);
    return -1;
}

/* ---- validation: a recursive-descent check of the whole grammar ---- */

struct json_check {
    const char *p;
    const char *what; /* why it failed; NULL while fine */
};

enum { JSON_MAX_NESTING = 64 };

static void check_value(struct json_check *c, int depth);

static void skip_blanks(struct json_check *c)
{
    while (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')
        c->p++;
}

static int expect_fail(struct json_check *c, const char *what)
{
    if (!c->what)
        c->what = what;
    return 0;
}

static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }

static int is_hex(char ch)
{
    return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static void check_string(struct json_check *c)
{
    if (*c->p != '"') {
        expect_fail(c, "expected a string");
        return;
    }
    for (c->p++; *c->p != '"'; c->p++) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '\0' || ch < 0x20) {
            expect_fail(c, "unterminated string or a control character in it");
            return;
        }
        if (ch != '\\')
            continue;
        c->p++;
        if (*c->p == 'u') {
            for (int i = 1; i <= 4; i++)
                if (!is_hex(c->p[i])) {
                    expect_fail(c, "bad \\u escape");
                    return;
                }
            c->p += 4;
        } else if (!*c->p || !strchr("\"\\/bfnrt", *c->p)) {
            expect_fail(c, "bad escape in a string");
            return;
        }
    }
    c->p++;
}

static void check_number(struct json_check *c)
{
    const char *start = c->p;
    c->p += *c->p == '-';
    if (*c->p == '0')
        c->p++;
    else if (is_digit(*c->p))
        while (is_digit(*c->p))
            c->p++;
    else {
        expect_fail(c, "expected a value");
        return;
    }
    if (*c->p == '.') {
        c->p++;
        if (!is_digit(*c->p)) {
            expect_fail(c, "expected a digit after '.'");
            return;
        }
        while (is_digit(*c->p))
            c->p++;
    }
    if (*c->p == 'e' || *c->p == 'E') {
        c->p++;
        c->p += *c->p == '+' || *c->p == '-';
        if (!is_digit(*c->p)) {
            expect_fail(c, "expected a digit in the exponent");
            return;
        }
        while (is_digit(*c->p))
            c->p++;
    }
    if (!isfinite(strtod(start, NULL))) {
        c->p = start;
        expect_fail(c, "a number too large to be finite");
    }
}

/* Object members or array elements up to the closing bracket. */
static void check_container(struct json_check *c, int depth, char close)
{
    c->p++;
    skip_blanks(c);
    if (*c->p == close) {
        c->p++;
        return;
    }
    for (;;) {
        skip_blanks(c);
        if (close == '}') {
            check_string(c);
            if (c->what)
                return;
            skip_blanks(c);
            if (*c->p != ':') {
                expect_fail(c, "expected ':'");
                return;
            }
            c->p++;
        }
        check_value(c, depth + 1);
        if (c->what)
            return;
        skip_blanks(c);
        if (*c->p == close) {
            c->p++;
            return;
        }
        if (*c->p != ',') {
            expect_fail(c, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
            return;
        }
        c->p++;
    }
}

static void check_value(struct json_check *c, int depth)
{
    skip_blanks(c);
    if (depth > JSON_MAX_NESTING) {
        expect_fail(c, "nested too deeply");
        return;
    }
    if (*c->p == '{' || *c->p == '[')
        check_container(c, depth, *c->p == '{' ? '}' : ']');
    else if (*c->p == '"')
        check_string(c);
    else if (!strncmp(c->p, "true", 4) || !strncmp(c->p, "null", 4))
        c->p += 4;
    else if (!strncmp(c->p, "false", 5))
        c->p += 5;
    else
        check_number(c);
}

cnn_status json_read_file(const char *path, char **text)
{
    size_t len;
    CNN_TRY(csv_read_file(path, text, &len));
    cnn_status st = field_check_text(path, *text, len);
    struct json_check c = {*text, NULL};
    if (st == CNN_OK) {
        skip_blanks(&c);
        if (*c.p != '{')
            expect_fail(&c, "expected a JSON object");
        else
            check_value(&c, 0);
        skip_blanks(&c);
        if (!c.what && *c.p)
            expect_fail(&c, "text after the end of the object");
    }
    if (st == CNN_OK && c.what) {
        long line = 1, column = 1;
        for (const char *q = *text; q < c.p; q++) {
            column = *q == '\n' ? 1 : column + 1;
            line += *q == '\n';
        }
        st = cnn_fail(CNN_E_DATA, "%s: line %ld, column %ld: not JSON: %s", path, line, column,
                      c.what);
    }
    if (st != CNN_OK) {
        free(*text);
        *text = NULL;
    }
    return st;
}
