/*
 * params_agree.c — the test tool that judges two parameter sets written by
 * `cnnbench train --save-params`: `params_agree F DIR_A DIR_B` passes when
 * every parameter of A is within docs/DESIGN.md §4's per-element tolerance
 * of B's (agree.h, B the reference), `params_agree --bitwise F DIR_A DIR_B`
 * when they are the same bits. Prints the verdict, or the first element
 * outside, and exits 0 or 1 (2: the files cannot be read).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agree.h"
#include "error.h"
#include "npy.h"
#include "params.h"

int main(int argc, char **argv)
{
    int bitwise = argc == 5 && !strcmp(argv[1], "--bitwise");
    if (argc != 4 + bitwise) {
        fprintf(stderr, "usage: %s [--bitwise] FILTERS DIR_A DIR_B\n", argv[0]);
        return 2;
    }
    int filters = atoi(argv[1 + bitwise]);
    struct cnn_params a = {0}, b = {0};
    cnn_status st = cnn_params_alloc(&a, filters);
    if (st == CNN_OK)
        st = cnn_params_alloc(&b, filters);
    if (st == CNN_OK)
        st = cnn_params_load(argv[2 + bitwise], &a);
    if (st == CNN_OK)
        st = cnn_params_load(argv[3 + bitwise], &b);
    if (st != CNN_OK) {
        fprintf(stderr, "params_agree: %s\n", cnn_last_error());
        return 2;
    }
    int ok;
    if (bitwise) {
        ok = memcmp(a.buf, b.buf, a.count * sizeof *a.buf) == 0;
        printf("%s: %zu parameters %s\n", argv[3 + bitwise], a.count,
               ok ? "bitwise equal" : "differ in some bits");
    } else {
        ok = cnn_agree_params(&a, &b) == CNN_OK;
        if (ok)
            printf("%zu parameters within |a-b| <= %g + %g|b|\n", a.count,
                   CNN_AGREE_PARAM_ATOL, CNN_AGREE_PARAM_RTOL);
        else
            printf("%s\n", cnn_last_error());
    }
    cnn_params_free(&a);
    cnn_params_free(&b);
    return ok ? 0 : 1;
}
