/*
 * check.h — the tiny assertion layer shared by the C tests: named checks that
 * count passes and failures, a closing "N passed, N failed" line, and the
 * exit code meson reads (0 pass, 1 fail, 77 skip). Comparisons are written
 * as !(diff <= tol) so that a NaN fails instead of passing.
 */
#ifndef CNN_TEST_CHECK_H
#define CNN_TEST_CHECK_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "error.h"

enum { CHECK_SKIP = 77 };

static int check_passed, check_failed;
static const char *check_name = "test";

/* Prints the closing line; the exit status follows the failures. */
static int check_finish(void)
{
    printf("%s: %d passed, %d failed\n", check_name, check_passed, check_failed);
    return check_failed ? 1 : 0;
}

__attribute__((format(printf, 2, 3))) static int check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(ok ? "  ok    " : "  FAIL  ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    if (ok)
        check_passed++;
    else
        check_failed++;
    fflush(stdout);
    return ok;
}

/* A status that must be CNN_OK; otherwise the test stops here, failed. */
#define CHECK_OK(expr)                                                                    \
    do {                                                                                  \
        cnn_status check_st_ = (expr);                                                    \
        if (check_st_ != CNN_OK) {                                                        \
            check(0, "%s:%d: %s -> %s: %s", __FILE__, __LINE__, #expr,                    \
                  cnn_status_name(check_st_), cnn_last_error());                          \
            exit(check_finish());                                                         \
        }                                                                                 \
    } while (0)

#endif
