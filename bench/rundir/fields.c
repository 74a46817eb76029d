/* fields.c — strict field parsing for the readers of a run's files. */
#include "fields.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

cnn_status field_fail(const struct field_pos *at, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return cnn_fail(CNN_E_DATA, "%s: line %ld, column %d (%s): %s", at->path, at->line,
                    at->column, at->name, what);
}

/* Quotes a field for a message: at most 40 bytes, control characters as '?',
 * so a binary field cannot garble the terminal. */
static const char *shown(const char *text, char *buf, size_t len)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p && n + 4 < len && n < 40;
         p++)
        buf[n++] = *p < 0x20 || *p == 0x7f ? '?' : (char)*p;
    if (text[n] != '\0' && n + 4 < len) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

cnn_status field_long(const struct field_pos *at, const char *text, long lo, long hi,
                      long *out)
{
    char q[64];
    const char *p = text + (*text == '-');
    if (*p < '0' || *p > '9' || (*text == '-' && lo >= 0))
        return field_fail(at, "'%s' is not %s", shown(text, q, sizeof q),
                          lo >= 0 ? "a non-negative integer" : "an integer");
    errno = 0;
    char *end;
    long v = strtol(text, &end, 10);
    if (*end != '\0')
        return field_fail(at, "'%s' is not an integer", shown(text, q, sizeof q));
    if (errno == ERANGE || v < lo || v > hi)
        return field_fail(at, "%s is out of range [%ld, %ld]", shown(text, q, sizeof q), lo, hi);
    *out = v;
    return CNN_OK;
}

cnn_status field_int(const struct field_pos *at, const char *text, int lo, int hi, int *out)
{
    long v;
    CNN_TRY(field_long(at, text, lo, hi, &v));
    *out = (int)v;
    return CNN_OK;
}

/* Whether text is a decimal number: -?digits[.digits][(e|E)[+-]digits],
 * with digits on at least one side of the point. */
static int is_decimal(const char *p)
{
    int digits = 0;
    p += *p == '-' || *p == '+';
    for (; *p >= '0' && *p <= '9'; p++)
        digits++;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits++;
    if (!digits)
        return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        p += *p == '-' || *p == '+';
        if (*p < '0' || *p > '9')
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0';
}

cnn_status field_double(const struct field_pos *at, const char *text, double lo, double hi,
                        int empty_ok, double *out)
{
    char q[64];
    if (*text == '\0') {
        if (!empty_ok)
            return field_fail(at, "empty, but a number is required");
        *out = NAN;
        return CNN_OK;
    }
    if (!is_decimal(text))
        return field_fail(at, "'%s' is not a decimal number", shown(text, q, sizeof q));
    double v = strtod(text, NULL);
    if (!isfinite(v))
        return field_fail(at, "%s is not finite", shown(text, q, sizeof q));
    if (v < lo || v > hi)
        return field_fail(at, "%s is out of range [%g, %g]", shown(text, q, sizeof q), lo, hi);
    *out = v;
    return CNN_OK;
}

cnn_status field_name(const struct field_pos *at, const char *text, char *out, size_t len)
{
    char q[64];
    size_t n = strspn(text, "abcdefghijklmnopqrstuvwxyz0123456789_");
    if (n == 0 || text[n] != '\0')
        return field_fail(at, "'%s' is not a name cnnbench writes (letters a-z, digits, '_')",
                          shown(text, q, sizeof q));
    if (n >= len)
        return field_fail(at, "'%s' is longer than %zu characters", shown(text, q, sizeof q),
                          len - 1);
    memcpy(out, text, n + 1);
    return CNN_OK;
}

int field_is_printable(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}
