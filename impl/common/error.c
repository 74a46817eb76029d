/* error.c — the per-thread last-error message behind cnn_fail(). */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { CNN_ERROR_MSG_MAX = 1024 };
static _Thread_local char last_message[CNN_ERROR_MSG_MAX];

cnn_status cnn_fail(cnn_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    return status;
}

cnn_status cnn_fail_context(cnn_status status, const char *fmt, ...)
{
    char prefix[CNN_ERROR_MSG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* shift the old message right and put "prefix: " in front, truncating
     * the old message's tail if the two do not fit */
    size_t plen = strlen(prefix) + 2;
    size_t keep = strlen(last_message);
    if (keep > sizeof last_message - 1 - plen)
        keep = sizeof last_message - 1 - plen;
    memmove(last_message + plen, last_message, keep);
    last_message[plen + keep] = '\0';
    memcpy(last_message, prefix, plen - 2);
    memcpy(last_message + plen - 2, ": ", 2);
    return status;
}

const char *cnn_last_error(void) { return last_message; }

void cnn_clear_error(void) { last_message[0] = '\0'; }

const char *cnn_status_name(cnn_status s)
{
    switch (s) {
    case CNN_OK: return "ok";
    case CNN_E_ARG: return "invalid argument";
    case CNN_E_NOMEM: return "out of host memory";
    case CNN_E_IO: return "i/o error";
    case CNN_E_DATA: return "malformed data";
    case CNN_E_DEVICE: return "device error";
    case CNN_E_DEVICE_OOM: return "out of device memory";
    case CNN_E_UNAVAILABLE: return "unavailable";
    case CNN_E_INTERRUPTED: return "interrupted";
    case CNN_E_DIVERGED: return "training diverged";
    }
    return "unknown status";
}
