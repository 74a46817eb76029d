/*
 * report.h — the sections of `cnnbench report` written outside report.c
 * (report_roofline.c): energy and the roofline.
 */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <stdio.h>

#include "cnn.h"
#include "summary.h"

/* "## Energy": per configuration, the measured joules per step and images
 * per joule of each device (a dash where none, and meta.json's reason why),
 * and the GPU's plausibility line against nvidia-smi's idle and limit. */
void report_energy(FILE *fp, const char *meta, const struct summary_row *rows, int n);

/* "## Roofline": per region of every finished configuration, the ceiling
 * that bounds it and the fraction of it achieved (roofline_run.h). */
cnn_status report_roofline(FILE *fp, const char *run, const char *meta_path, const char *meta,
                           const struct summary_row *rows, int n);

#endif
