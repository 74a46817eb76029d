/* json.c — meta.json writing and the minimal reading cnnbench needs. */
#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

int json_get_bool(const char *text, const char *key, int *out)
{
    const char *p = find_value(text, key);
    if (p && strncmp(p, "true", 4) == 0)
        *out = 1;
    else if (p && strncmp(p, "false", 5) == 0)
        *out = 0;
    else
        return -1;
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
