/* cli.c — option scanning, strict number parsing and axis lists for the CLI. */
#include "cli.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

void cli_scan_init(struct cli_scan *s, int argc, char **argv, int first)
{
    memset(s, 0, sizeof *s);
    s->argc = argc;
    s->argv = argv;
    s->next = first;
}

int cli_scan_next(struct cli_scan *s)
{
    s->name[0] = '\0';
    s->inline_val = NULL;
    s->positional = NULL;
    if (s->next >= s->argc)
        return 0;
    const char *arg = s->argv[s->next++];
    if (arg[0] != '-' || strcmp(arg, "-") == 0) {
        s->positional = arg;
        return 1;
    }
    if (strcmp(arg, "-h") == 0) {
        strcpy(s->name, "help");
        return 1;
    }
    if (arg[1] != '-' || arg[2] == '\0') {
        cnn_fail(CNN_E_ARG, "unknown option '%s' (options are long, like --batch)", arg);
        return -1;
    }
    const char *body = arg + 2;
    const char *eq = strchr(body, '=');
    size_t len = eq ? (size_t)(eq - body) : strlen(body);
    if (len >= sizeof s->name) {
        cnn_fail(CNN_E_ARG, "unknown option '%.40s...'", arg);
        return -1;
    }
    memcpy(s->name, body, len);
    s->name[len] = '\0';
    s->inline_val = eq ? eq + 1 : NULL;
    if (strcmp(s->name, "help") == 0)
        return 1;
    for (int i = 0; i < s->n_seen; i++)
        if (strcmp(s->seen[i], s->name) == 0) {
            cnn_fail(CNN_E_ARG, "--%s is given twice; give each option once", s->name);
            return -1;
        }
    if (s->n_seen == CLI_OPTIONS_MAX) {
        cnn_fail(CNN_E_ARG, "more than %d options", CLI_OPTIONS_MAX);
        return -1;
    }
    memcpy(s->seen[s->n_seen++], s->name, len + 1);
    return 1;
}

cnn_status cli_scan_value(struct cli_scan *s, const char **value)
{
    if (s->inline_val) {
        *value = s->inline_val;
    } else {
        if (s->next >= s->argc)
            return cnn_fail(CNN_E_ARG, "--%s needs a value", s->name);
        *value = s->argv[s->next++];
    }
    /* no option takes an empty value; an empty file name would otherwise
     * fail only after all the work */
    if (**value == '\0')
        return cnn_fail(CNN_E_ARG, "--%s: the value is empty", s->name);
    return CNN_OK;
}

cnn_status cli_scan_known(const struct cli_scan *s, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(*names, s->name) == 0)
            return CNN_OK;
    return cnn_fail(CNN_E_ARG, "unknown option '--%s'", s->name);
}

cnn_status cli_scan_no_value(const struct cli_scan *s)
{
    if (s->inline_val)
        return cnn_fail(CNN_E_ARG, "--%s takes no value", s->name);
    return CNN_OK;
}

cnn_status cli_parse_long(const char *opt, const char *text, long lo, long hi, long *out)
{
    const char *p = text;
    while (*p == ' ')
        p++;
    /* strtol would accept "-5" for an unsigned range and wrap nothing, but
     * "+5" and leading blanks are also refused so a value reads one way */
    if (*p == '\0' || *p == '+' || p != text)
        return cnn_fail(CNN_E_ARG, "--%s: expected an integer in %ld..%ld, got '%s'", opt, lo, hi,
                        text);
    errno = 0;
    char *end;
    long v = strtol(p, &end, 10);
    if (*end != '\0')
        return cnn_fail(CNN_E_ARG, "--%s: expected an integer in %ld..%ld, got '%s'", opt, lo, hi,
                        text);
    if (errno == ERANGE || v < lo || v > hi)
        return cnn_fail(CNN_E_ARG, "--%s: %s is out of range; expected %ld..%ld", opt, text, lo,
                        hi);
    *out = v;
    return CNN_OK;
}

cnn_status cli_parse_int(const char *opt, const char *text, int lo, int hi, int *out)
{
    long v = 0;
    CNN_TRY(cli_parse_long(opt, text, lo, hi, &v));
    *out = (int)v;
    return CNN_OK;
}

cnn_status cli_parse_u64(const char *opt, const char *text, uint64_t *out)
{
    if (text[0] < '0' || text[0] > '9')
        return cnn_fail(CNN_E_ARG, "--%s: expected a non-negative integer, got '%s'", opt, text);
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end != '\0')
        return cnn_fail(CNN_E_ARG, "--%s: expected a non-negative integer, got '%s'", opt, text);
    if (errno == ERANGE)
        return cnn_fail(CNN_E_ARG, "--%s: %s does not fit in 64 bits", opt, text);
    *out = (uint64_t)v;
    return CNN_OK;
}

/* 1 if text is a decimal number: [-]digits[.digits][e[+-]digits], with
 * digits on at least one side of the point. strtod alone would also take
 * hex ("0x10"), "inf", "nan" and leading blanks. */
static int is_decimal(const char *text)
{
    const char *p = text;
    if (*p == '-')
        p++;
    size_t whole = strspn(p, "0123456789");
    p += whole;
    size_t frac = 0;
    if (*p == '.') {
        p++;
        frac = strspn(p, "0123456789");
        p += frac;
    }
    if (whole + frac == 0)
        return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        size_t exp = strspn(p, "0123456789");
        if (exp == 0)
            return 0;
        p += exp;
    }
    return *p == '\0';
}

cnn_status cli_parse_positive_double(const char *opt, const char *text, double hi, double *out)
{
    if (!is_decimal(text))
        return cnn_fail(CNN_E_ARG, "--%s: expected a decimal number such as 0.1 or 1e-3, got '%s'",
                        opt, text);
    errno = 0;
    double v = strtod(text, NULL);
    /* ERANGE: beyond a double either way (1e400, 1e-400) */
    if (errno == ERANGE || !(v > 0.0 && v <= hi))
        return cnn_fail(CNN_E_ARG, "--%s: %s is out of range; expected a number in (0, %g]", opt,
                        text, hi);
    if (v < FLT_MIN)
        return cnn_fail(CNN_E_ARG, "--%s: %s is too small; the smallest usable value is %g", opt,
                        text, (double)FLT_MIN);
    *out = v;
    return CNN_OK;
}

cnn_status cli_parse_switch(const char *opt, const char *text, int *out)
{
    if (!strcmp(text, "on") || !strcmp(text, "yes") || !strcmp(text, "1")) {
        *out = 1;
        return CNN_OK;
    }
    if (!strcmp(text, "off") || !strcmp(text, "no") || !strcmp(text, "0")) {
        *out = 0;
        return CNN_OK;
    }
    return cnn_fail(CNN_E_ARG, "--%s: expected on or off, got '%s'", opt, text);
}

static cnn_status axis_add(const char *opt, struct cli_axis *a, int v)
{
    for (int i = 0; i < a->n; i++)
        if (a->v[i] == v)
            return CNN_OK;
    if (a->n == CLI_AXIS_MAX)
        return cnn_fail(CNN_E_ARG, "--%s: more than %d values in one axis", opt, CLI_AXIS_MAX);
    a->v[a->n++] = v;
    return CNN_OK;
}

/* One item of an axis list: "N", "A:B", "A:B:+S" or "A:B:xS". */
static cnn_status axis_item(const char *opt, char *item, int lo, int hi, struct cli_axis *a)
{
    char *parts[3] = {item, NULL, NULL};
    int nparts = 1;
    for (char *p = item; *p; p++)
        if (*p == ':') {
            if (nparts == 3)
                return cnn_fail(CNN_E_ARG, "--%s: '%s' has too many ':' (ranges are A:B, A:B:+S "
                                "or A:B:xS)", opt, item);
            *p = '\0';
            parts[nparts++] = p + 1;
        }
    int first, last;
    CNN_TRY(cli_parse_int(opt, parts[0], lo, hi, &first));
    if (nparts == 1)
        return axis_add(opt, a, first);
    CNN_TRY(cli_parse_int(opt, parts[1], lo, hi, &last));
    if (last < first)
        return cnn_fail(CNN_E_ARG, "--%s: range %d:%d runs backwards", opt, first, last);
    int geometric = 0, stride = 1;
    if (nparts == 3) {
        const char *s = parts[2];
        if (*s == 'x' || *s == '*') {
            geometric = 1;
            s++;
        } else if (*s == '+') {
            s++;
        }
        CNN_TRY(cli_parse_int(opt, s, geometric ? 2 : 1, hi, &stride));
    }
    if (geometric && first == 0) {
        if (last == 0)
            return cnn_fail(CNN_E_ARG, "--%s: the geometric range 0:0:x%d starts at 0, which no "
                            "factor moves; write 0", opt, stride);
        return cnn_fail(CNN_E_ARG, "--%s: the geometric range 0:%d:x%d starts at 0, which no "
                        "factor moves; list 0 apart: 0,1:%d:x%d", opt, last, stride, last, stride);
    }
    for (long v = first; v <= last; v = geometric ? v * stride : v + stride)
        CNN_TRY(axis_add(opt, a, (int)v));
    return CNN_OK;
}

cnn_status cli_parse_axis(const char *opt, const char *text, int lo, int hi,
                          struct cli_axis *out)
{
    char buf[512];
    if (strlen(text) >= sizeof buf)
        return cnn_fail(CNN_E_ARG, "--%s: list too long", opt);
    strcpy(buf, text);
    out->n = 0;
    char *item = buf;
    for (;;) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        if (*item == '\0')
            return cnn_fail(CNN_E_ARG, "--%s: empty item in list '%s'", opt, text);
        CNN_TRY(axis_item(opt, item, lo, hi, out));
        if (!comma)
            break;
        item = comma + 1;
    }
    return CNN_OK;
}

cnn_status cli_split_words(const char *opt, char *buf, const char **words, int max, int *n)
{
    *n = 0;
    char *w = buf;
    for (;;) {
        char *comma = strchr(w, ',');
        if (comma)
            *comma = '\0';
        if (*w == '\0')
            return cnn_fail(CNN_E_ARG, "--%s: empty item in list", opt);
        if (*n == max)
            return cnn_fail(CNN_E_ARG, "--%s: more than %d items", opt, max);
        words[(*n)++] = w;
        if (!comma)
            break;
        w = comma + 1;
    }
    return CNN_OK;
}

int cli_is_sampling_option(const char *name)
{
    return !strcmp(name, "max-noise") || !strcmp(name, "min-steps") || !strcmp(name, "max-time");
}

cnn_status cli_parse_sampling(const char *name, const char *value, struct cli_sampling *s)
{
    if (!strcmp(name, "max-noise"))
        return cli_parse_positive_double(name, value, 100.0, &s->max_noise);
    if (!strcmp(name, "min-steps")) {
        s->bounds_given = 1;
        return cli_parse_long(name, value, 1, 100000000L, &s->min_steps);
    }
    s->bounds_given = 1; /* max-time */
    return cli_parse_positive_double(name, value, 1e6, &s->max_time);
}

cnn_status cli_check_sampling(const struct cli_sampling *s)
{
    if (s->bounds_given && !(s->max_noise > 0))
        return cnn_fail(CNN_E_ARG, "--min-steps and --max-time bound adaptive sampling: they "
                        "need --max-noise PCT");
    return CNN_OK;
}
