/*
 * roofline.h — the work model of docs/DESIGN.md §7, region by region, and
 * where a region's measured time puts it under the machine's ceilings.
 *
 * The one place that counts work: run_step_flop (every GFLOP/s figure) is
 * the sum of roof_region_work over the regions. FLOPs are §7's: conv
 * forward, the conv weight gradient through the pool decisions, FC forward,
 * its weight gradient and dm; bias, ReLU, loss and update are not counted
 * (§7: negligible), so those regions have bytes but no FLOPs. Bytes are
 * the traffic of the variant's flow (enum roof_flow; bench/NOTES.md,
 * "Machine ceilings and floors per kernel"): each region reads its inputs
 * and writes its outputs once, floats 4 bytes, a pool decision 1 byte. The
 * model is the useful work; a backend that does more (a dense conv weight
 * gradient, m recomputed in the backward) sits lower on the chart than its
 * hardware does.
 *
 * Ceilings: the CPU's come from bench/peak_flops, whose output is the cache
 * file format (roof_ceilings_parse); a GPU's are its datasheet values,
 * labelled nominal, until a run measures them.
 */
#ifndef CNN_ROOFLINE_H
#define CNN_ROOFLINE_H

#include <stdio.h>

#include "cnn.h"

enum { ROOF_SOURCE = 160 };

/* How a variant's regions divide the step (DESIGN §3, "Regions"; the
 * contract's dm_in_conv_backward and m_recomputed). It moves FLOPs between
 * regions, never the step's total; the bytes are each design's own. */
enum roof_flow {
    ROOF_FLOW_STORED = 0,      /* m and dm stored; dm formed in fc_bwd */
    ROOF_FLOW_DM_IN_CONV = 1,  /* dm formed where it is consumed, in conv_bwd (cuda v4) */
    ROOF_FLOW_RECOMPUTED = 2,  /* m never stored: the FC forward's products in conv_fwd,
                                  the whole backward in fc_bwd (omp, cuda v5) */
};

/* What one timed region of one configuration is. gpus >= 1 is a
 * data-parallel run: regions are timed on rank 0, which takes
 * ceil(batch / gpus) images (DESIGN §3). */
struct roof_shape {
    int batch, filters, gpus;
    enum roof_flow flow;
};

struct roof_work {
    double flop;   /* §7's count; 0 where §7 counts none */
    double bytes;  /* the flow's traffic; 0 where not modelled */
};

/* The work of region r of one step of shape s. */
struct roof_work roof_region_work(const struct roof_shape *s, enum cnn_region r);

/* The FLOPs of a whole step of the whole batch: the sum over the regions
 * at gpus 0 (run_step_flop). */
double roof_step_flop(int batch, int filters);

/* A machine's ceilings. */
struct roof_ceilings {
    double fma_flop_per_s;     /* peak with fused multiply-add */
    double mul_add_flop_per_s; /* peak with multiply and add rounded apart: the
                                  ceiling of code bitwise equal to seq, which is
                                  built with -ffp-contract=off */
    double bytes_per_s;        /* memory: CPU streaming read, GPU HBM */
    int threads;               /* CPU: measured at this many threads; 0 for a GPU */
    int nominal;               /* 1: datasheet values, not measured here */
    char source[ROOF_SOURCE];  /* "peak_flops, 2 threads" or "nominal: NVIDIA H100 SXM5 datasheet" */
};

/* Reads ceilings from bench/peak_flops output (the cache file: one or more
 * runs appended, e.g. at 1 thread and at all): lines "isa ...",
 * "fma_gflops threads=N V", "mul_add_gflops threads=N V",
 * "read_gbs threads=N V", "write_gbs threads=N V", "checksum V". Picks the
 * run at `threads` (0: the most threads in the file); CNN_E_DATA, naming the
 * line, for anything else in the file, CNN_E_ARG when no complete run at
 * that thread count is there. `path` only names the file in messages. */
cnn_status roof_ceilings_parse(const char *path, const char *text, int threads,
                               struct roof_ceilings *c);

/* The datasheet ceilings of a GPU by its NVML/nvidia-smi name, labelled
 * nominal (mul_add is half the FMA peak); 0 for a GPU not in the table. */
int roof_gpu_nominal(const char *gpu_name, struct roof_ceilings *c);

enum roof_bound {
    ROOF_BOUND_COMPUTE = 0, /* the flat roof: FLOP/s */
    ROOF_BOUND_MEMORY = 1,  /* the slope: intensity x bandwidth */
};

/* Where a region's median time puts it. */
struct roof_point {
    double flop_per_s;   /* achieved: work.flop / median */
    double bytes_per_s;  /* achieved: work.bytes / median */
    double intensity;    /* FLOP per byte; 0 for a region without FLOPs */
    enum roof_bound bound;
    double roof_flop_per_s; /* what the ceiling allows at this intensity */
    double fraction;     /* of that ceiling: FLOP/s over roof_flop_per_s, or for a
                            region without FLOPs, bytes/s over the bandwidth */
};

/* Places work done in median_ms under ceilings c; fma 0 takes the mul_add
 * roof (code bitwise equal to seq), 1 the FMA roof. CNN_E_ARG for a time
 * that is not positive and finite, a region without modelled bytes, or
 * ceilings that are not positive and finite. */
cnn_status roof_place(const struct roof_work *w, double median_ms, const struct roof_ceilings *c,
                      int fma, struct roof_point *p);

const char *roof_bound_name(enum roof_bound b); /* "compute", "memory" */

/* ---- the chart's tables (plots/roofline.gp documents them) ---- */

/* A block of roofline.csv: a header naming the series, then one row per
 * region placed; the caller ends the block with two blank lines. */
void roof_table_header(FILE *fp, const char *series);
void roof_table_row(FILE *fp, const char *config_key, enum cnn_region r,
                    const struct roof_work *w, double median_ms, const struct roof_point *p,
                    int unstable);

/* A block of roofline_ceilings.csv: the roof min(peak, x * bandwidth) over
 * intensities [x_lo, x_hi] as the three corners that draw it on log-log
 * axes. */
void roof_ceiling_block(FILE *fp, const char *title, double peak_flop_per_s,
                        double bytes_per_s, double x_lo, double x_hi);

#endif
