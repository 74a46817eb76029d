/*
 * error.h — how failures travel: a status code up the call chain plus one
 * message per thread, recorded where the failure is detected. Only main()
 * prints it ("cnnbench: error: ..."), so library code never exits or aborts.
 */
#ifndef CNN_ERROR_H
#define CNN_ERROR_H

#include "cnn.h"

/* Records a printf-style message and returns status, so callers can write
 * `return cnn_fail(CNN_E_IO, "%s: cannot open: %s", path, strerror(errno));` */
cnn_status cnn_fail(cnn_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prefixes the recorded message with more context ("loading train set: ..."). */
cnn_status cnn_fail_context(cnn_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The last recorded message of this thread ("" if none). */
const char *cnn_last_error(void);
void cnn_clear_error(void);
const char *cnn_status_name(cnn_status s);

/* Propagate a non-OK status unchanged. */
#define CNN_TRY(expr)                          \
    do {                                       \
        cnn_status cnn_try_st_ = (expr);       \
        if (cnn_try_st_ != CNN_OK)             \
            return cnn_try_st_;                \
    } while (0)

#endif
