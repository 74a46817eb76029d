/* roofline.c — the per-region work model, the ceilings and the placement of
 * a region under them (roofline.h). */
#include "roofline.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "params.h"

enum {
    ROOF_FLOAT = 4,     /* bytes of an activation, weight or gradient */
    ROOF_DECISION = 1,  /* bytes of a pool decision */
    ROOF_LABEL = 1,     /* bytes of a label */
    ROOF_METRICS = 8,   /* d2h: the loss sum and the correct count */
    ROOF_LINE = 256,    /* longest line of a ceilings file */
};

struct roof_work roof_region_work(const struct roof_shape *s, enum cnn_region r)
{
    /* a data-parallel region is timed on rank 0, which takes the larger share */
    double b = s->gpus >= 1 ? (double)((s->batch + s->gpus - 1) / s->gpus) : (double)s->batch;
    double f = s->filters;
    double k = (double)CNN_POOL_AREA * f;                    /* features per image */
    double params = (double)cnn_param_count(s->filters);
    double x = b * CNN_PIXELS * ROOF_FLOAT;                  /* the batch */
    double m = b * k * ROOF_FLOAT;                           /* pooled maps, and dm */
    double decisions = b * k * ROOF_DECISION;
    double logits = b * CNN_CLASSES * ROOF_FLOAT;            /* and their gradient */
    double fc_w = CNN_CLASSES * k * ROOF_FLOAT;              /* and its gradient */
    double conv_w = f * (CNN_KTAPS + 1) * ROOF_FLOAT;        /* with the bias; and gradients */
    double conv_flop = 2.0 * CNN_KTAPS * CNN_CONV * CNN_CONV * f * b;
    double fc_flop = 2.0 * CNN_CLASSES * k * b;   /* FC forward, dfc_w, and dm each */
    double wgrad_flop = 2.0 * CNN_KTAPS * k * b;  /* dconv_w through the decisions */
    if (s->flow == ROOF_FLOW_RECOMPUTED) {
        /* m lives in registers: conv_fwd writes only decisions and the
         * logits' shares, fc_bwd reads decisions, pixels and dlogits and
         * writes the weight gradients, conv_bwd adds the conv partials */
        switch (r) {
        case CNN_REGION_CONV_FWD:
            return (struct roof_work){conv_flop + fc_flop, x + conv_w + fc_w + decisions + logits};
        case CNN_REGION_FC_FWD:
            return (struct roof_work){0, 2 * logits};
        case CNN_REGION_FC_BWD:
            return (struct roof_work){2 * fc_flop + wgrad_flop,
                                      decisions + x + logits + 2 * fc_w + 2 * conv_w};
        case CNN_REGION_CONV_BWD:
            return (struct roof_work){0, conv_w};
        default:
            break;
        }
    }
    int dm_late = s->flow == ROOF_FLOW_DM_IN_CONV;
    switch (r) {
    case CNN_REGION_H2D:
        return (struct roof_work){0, x + b * ROOF_LABEL};
    case CNN_REGION_CONV_FWD:
        return (struct roof_work){conv_flop, x + conv_w + m + decisions};
    case CNN_REGION_FC_FWD:
        return (struct roof_work){fc_flop, m + fc_w + logits};
    case CNN_REGION_LOSS_FWD:
        return (struct roof_work){0, logits + b * ROOF_LABEL};
    case CNN_REGION_LOSS_BWD:
        return (struct roof_work){0, 2 * logits + b * ROOF_LABEL};
    case CNN_REGION_FC_BWD:
        /* dfc_w = dlogits^T m; dm = dlogits fc_w unless conv_bwd forms it */
        return (struct roof_work){fc_flop + (dm_late ? 0 : fc_flop),
                                  m + logits + fc_w + (dm_late ? 0 : fc_w + m)};
    case CNN_REGION_CONV_BWD:
        return (struct roof_work){wgrad_flop + (dm_late ? fc_flop : 0),
                                  (dm_late ? logits + fc_w : m) + decisions + x + conv_w};
    case CNN_REGION_UPDATE:
        return (struct roof_work){0, 3 * params * ROOF_FLOAT};
    case CNN_REGION_D2H:
        return (struct roof_work){0, ROOF_METRICS};
    case CNN_REGION_ALLREDUCE:
        /* a ring all-reduce sends and receives 2 (N-1)/N of the buffer per rank */
        return (struct roof_work){
            0, s->gpus > 1 ? 2.0 * (s->gpus - 1) / s->gpus * params * ROOF_FLOAT : 0};
    case CNN_REGION_COUNT:
        break;
    }
    return (struct roof_work){0, 0};
}

double roof_step_flop(int batch, int filters)
{
    struct roof_shape s = {batch, filters, 0, ROOF_FLOW_STORED};
    double flop = 0;
    for (int r = 0; r < CNN_REGION_COUNT; r++)
        flop += roof_region_work(&s, (enum cnn_region)r).flop;
    return flop;
}

const char *roof_bound_name(enum roof_bound b)
{
    return b == ROOF_BOUND_COMPUTE ? "compute" : "memory";
}

static int positive(double v) { return isfinite(v) && v > 0; }

cnn_status roof_place(const struct roof_work *w, double median_ms, const struct roof_ceilings *c,
                      int fma, struct roof_point *p)
{
    double peak = fma ? c->fma_flop_per_s : c->mul_add_flop_per_s;
    if (!positive(median_ms))
        return cnn_fail(CNN_E_ARG, "roofline: median time %g ms is not a positive time",
                        median_ms);
    if (!positive(w->bytes) || !(isfinite(w->flop) && w->flop >= 0))
        return cnn_fail(CNN_E_ARG, "roofline: the region has no modelled traffic");
    if (!positive(peak) || !positive(c->bytes_per_s))
        return cnn_fail(CNN_E_ARG, "roofline: ceilings (%s) are not positive", c->source);
    double s = median_ms * 1e-3;
    p->flop_per_s = w->flop / s;
    p->bytes_per_s = w->bytes / s;
    p->intensity = w->flop / w->bytes;
    if (w->flop == 0) {
        p->bound = ROOF_BOUND_MEMORY;
        p->roof_flop_per_s = 0;
        p->fraction = p->bytes_per_s / c->bytes_per_s;
        return CNN_OK;
    }
    double slope = p->intensity * c->bytes_per_s;
    p->bound = slope < peak ? ROOF_BOUND_MEMORY : ROOF_BOUND_COMPUTE;
    p->roof_flop_per_s = slope < peak ? slope : peak;
    p->fraction = p->flop_per_s / p->roof_flop_per_s;
    return CNN_OK;
}

/* ---- ceilings ---- */

int roof_gpu_nominal(const char *gpu_name, struct roof_ceilings *c)
{
    /* FP32 without tensor cores (SMs x 128 lanes x 2 x boost clock) and
     * memory bandwidth, from NVIDIA's datasheets */
    static const struct {
        const char *name, *part;
        double tflop, tbytes;
    } table[] = {
        {"NVIDIA H100 80GB HBM3", "H100 SXM5", 66.9, 3.35},
        {"NVIDIA H100 PCIe", "H100 PCIe", 51.2, 2.0},
        {"NVIDIA H200", "H200 SXM", 66.9, 4.8},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(gpu_name, table[i].name) == 0) {
            memset(c, 0, sizeof *c);
            c->fma_flop_per_s = table[i].tflop * 1e12;
            c->mul_add_flop_per_s = c->fma_flop_per_s / 2;
            c->bytes_per_s = table[i].tbytes * 1e12;
            c->nominal = 1;
            snprintf(c->source, sizeof c->source, "nominal: NVIDIA %s datasheet", table[i].part);
            return 1;
        }
    return 0;
}

/* The figures of one peak_flops run, by thread count. */
struct peak_run {
    int threads;
    double fma, mul_add, read;  /* GFLOP/s, GB/s; 0 until read */
};

static cnn_status parse_value(const char *path, int line, const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (end == s || *end || errno || !positive(*v) || *v > 1e9)
        return cnn_fail(CNN_E_DATA, "%s: line %d: '%s' is not a positive GFLOP/s or GB/s figure",
                        path, line, s);
    return CNN_OK;
}

cnn_status roof_ceilings_parse(const char *path, const char *text, int threads,
                               struct roof_ceilings *c)
{
    enum { MAX_RUNS = 64 };
    struct peak_run runs[MAX_RUNS];
    int n_runs = 0, line_no = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char line[ROOF_LINE];
        line_no++;
        if (len >= sizeof line)
            return cnn_fail(CNN_E_DATA, "%s: line %d: longer than %d characters", path, line_no,
                            ROOF_LINE - 1);
        memcpy(line, p, len);
        line[len] = '\0';
        p += len + (nl != NULL);
        if (len == 0 || strncmp(line, "isa ", 4) == 0 || strncmp(line, "checksum ", 9) == 0)
            continue;
        char key[32], value[64];
        int t, used = 0;
        if (sscanf(line, "%31s threads=%d %63s%n", key, &t, value, &used) != 3 ||
            line[used] != '\0' || t < 1)
            return cnn_fail(CNN_E_DATA, "%s: line %d: not a line of bench/peak_flops output",
                            path, line_no);
        double v;
        CNN_TRY(parse_value(path, line_no, value, &v));
        int k = 0;
        while (k < n_runs && runs[k].threads != t)
            k++;
        if (k == n_runs) {
            if (n_runs == MAX_RUNS)
                return cnn_fail(CNN_E_DATA, "%s: more than %d thread counts", path, MAX_RUNS);
            runs[n_runs++] = (struct peak_run){t, 0, 0, 0};
        }
        if (strcmp(key, "fma_gflops") == 0)
            runs[k].fma = v;
        else if (strcmp(key, "mul_add_gflops") == 0)
            runs[k].mul_add = v;
        else if (strcmp(key, "read_gbs") == 0)
            runs[k].read = v;
        else if (strcmp(key, "write_gbs") != 0)
            return cnn_fail(CNN_E_DATA, "%s: line %d: unknown figure '%s'", path, line_no, key);
    }
    int pick = -1;
    for (int k = 0; k < n_runs; k++)
        if (threads > 0 ? runs[k].threads == threads
                        : pick < 0 || runs[k].threads > runs[pick].threads)
            pick = k;
    if (pick < 0 || !runs[pick].fma || !runs[pick].mul_add || !runs[pick].read) {
        if (threads > 0)
            return cnn_fail(CNN_E_ARG, "%s: no complete peak_flops run at %d threads", path,
                            threads);
        return cnn_fail(CNN_E_ARG, "%s: no complete peak_flops run", path);
    }
    memset(c, 0, sizeof *c);
    c->fma_flop_per_s = runs[pick].fma * 1e9;
    c->mul_add_flop_per_s = runs[pick].mul_add * 1e9;
    c->bytes_per_s = runs[pick].read * 1e9;
    c->threads = runs[pick].threads;
    snprintf(c->source, sizeof c->source, "peak_flops, %d thread%s", c->threads,
             c->threads == 1 ? "" : "s");
    return CNN_OK;
}

/* ---- tables ---- */

void roof_table_header(FILE *fp, const char *series)
{
    fprintf(fp, "intensity_flop_per_byte,%s,region,region_no,config_key,unstable,flop,bytes,"
                "median_ms,bound,fraction\n",
            series);
}

void roof_table_row(FILE *fp, const char *config_key, enum cnn_region r,
                    const struct roof_work *w, double median_ms, const struct roof_point *p,
                    int unstable)
{
    fprintf(fp, "%.9g,%.9g,%s,%d,%s,%d,%.9g,%.9g,%.9g,%s,%.9g\n", p->intensity, p->flop_per_s,
            cnn_region_name(r), (int)r, config_key, unstable != 0, w->flop, w->bytes, median_ms,
            roof_bound_name(p->bound), p->fraction);
}

void roof_ceiling_block(FILE *fp, const char *title, double peak_flop_per_s,
                        double bytes_per_s, double x_lo, double x_hi)
{
    double ridge = peak_flop_per_s / bytes_per_s;
    if (ridge < x_lo)
        ridge = x_lo;
    if (ridge > x_hi)
        ridge = x_hi;
    fprintf(fp, "intensity_flop_per_byte,%s\n", title);
    fprintf(fp, "%.9g,%.9g\n", x_lo, fmin(peak_flop_per_s, x_lo * bytes_per_s));
    fprintf(fp, "%.9g,%.9g\n", ridge, fmin(peak_flop_per_s, ridge * bytes_per_s));
    fprintf(fp, "%.9g,%.9g\n\n\n", x_hi, fmin(peak_flop_per_s, x_hi * bytes_per_s));
}
