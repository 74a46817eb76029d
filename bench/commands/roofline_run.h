/*
 * roofline_run.h — where the regions of a finished run stand under its
 * machine's ceilings (bench/engine/roofline.h), for the two readers that
 * say so: plotdata (the roofline chart's tables) and report (which ceiling
 * bounds each region, at what fraction).
 *
 * What a placement needs, and where it comes from:
 *   - the CPU's ceilings: RUN/ceilings.txt, bench/peak_flops output at one
 *     or more thread counts, which scripts/ceilings.sh measures once per
 *     machine into results/ceilings/ and copies into each run; a
 *     configuration takes the figures at its own thread count, else the
 *     largest count measured (a looser roof, never a lower one);
 *   - the GPU's: the datasheet values of meta.json's gpu_name, labelled
 *     nominal (roof_gpu_nominal);
 *   - each backend's arithmetic as the run's own build recorded it in
 *     meta.json (backends[]: device, threads, fma_regions,
 *     dm_in_conv_backward, m_recomputed), so a run renders the same on a machine whose
 *     build lacks its backends.
 * A configuration with none of these gets no placement and a reason.
 */
#ifndef BENCH_ROOFLINE_RUN_H
#define BENCH_ROOFLINE_RUN_H

#include "cnn.h"
#include "roofline.h"
#include "summary.h"

enum {
    ROOFRUN_MAX_BACKENDS = 16,
    ROOFRUN_MAX_CPU = 16, /* thread counts whose ceilings a run uses */
    ROOFRUN_NOTE = 320,
};

struct roofrun_backend {
    char name[32];
    int device;            /* runs on a GPU */
    int threads;           /* takes a thread count (0 means all the CPUs) */
    unsigned fma_regions;  /* CNN_REGION_BIT per region */
    unsigned dm_in_conv_backward; /* bit per variant, 0 the default */
    unsigned m_recomputed;        /* likewise */
};

struct roofrun {
    char ceilings_path[4200];
    char *ceilings_text;   /* RUN/ceilings.txt; NULL: none */
    int have_gpu;
    struct roof_ceilings gpu;
    char gpu_name[256];
    int n_backends;
    struct roofrun_backend backends[ROOFRUN_MAX_BACKENDS];
};

/* Reads what the run offers (meta: its meta.json text). A run without
 * ceilings.txt or a known GPU is no error: its configurations get reasons. */
cnn_status roofrun_open(struct roofrun *rr, const char *run, const char *meta_path,
                        const char *meta);
void roofrun_close(struct roofrun *rr);

/* One configuration's placement context. */
struct roofrun_config {
    struct roof_ceilings ceilings;
    struct roof_shape shape;
    unsigned fma_regions;
    int device;
};

/* The context of row r: 1, or 0 with why (one line) where it has none. */
int roofrun_config(const struct roofrun *rr, const struct summary_row *r,
                   struct roofrun_config *out, char *why, size_t len);

/* Places region k of row r: 1 with *w and *p; 0 where the region did not
 * run, has no modelled traffic, or its time is not positive. */
int roofrun_place(const struct roofrun_config *rc, const struct summary_row *r,
                  enum cnn_region k, struct roof_work *w, struct roof_point *p);

/* "CPU FMA 475 GFLOP/s, memory 44.5 GB/s (peak_flops, 2 threads)"-style names of a
 * ceiling set's FMA and multiply-and-add roofs. */
void roofrun_ceiling_title(char *buf, size_t len, const struct roof_ceilings *c,
                           const char *device, int fma);

#endif
