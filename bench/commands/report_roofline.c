/*
 * report_roofline.c — REPORT.md's energy and roofline sections (report.h):
 * what each configuration's steps cost in energy where a meter read them
 * (and why not elsewhere), whether the GPU's figure is plausible against
 * the power nvidia-smi reported in the same run, and for every region of
 * every configuration which ceiling bounds it and at what fraction.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "report.h"
#include "roofline_run.h"

static int row_ok(const struct summary_row *r) { return strcmp(r->status, "ok") == 0; }

static void joules_cell(FILE *fp, double v)
{
    if (v > 0 && isfinite(v))
        fprintf(fp, " %.4g |", v);
    else
        fputs(" — |", fp);
}

/* Watts from one of nvidia-smi's power fields ("700.00 W"); NaN when the
 * run has none ("[N/A]", no GPU). */
static double smi_watts(const char *meta, const char *key)
{
    char text[64];
    if (json_get_string(meta, key, text, sizeof text) != 0)
        return NAN;
    char *end;
    double w = strtod(text, &end);
    return end != text && w > 0 && isfinite(w) ? w : NAN;
}

/* The check of the issue that asked for the figures: a GPU configuration's
 * joules per step over its median step time is a mean power, which must
 * lie between the cards' idle draw and their limit. */
static void write_plausibility(FILE *fp, const char *meta, const struct summary_row *rows, int n)
{
    double idle = smi_watts(meta, "gpus.0.power_draw_at_start");
    double limit = smi_watts(meta, "gpus.0.power_limit");
    int checked = 0, outside = 0;
    double lo = INFINITY, hi = 0;
    const char *first_outside = "";
    for (int i = 0; i < n; i++) {
        const struct summary_row *r = &rows[i];
        double j = r->joules_per_step[ENERGY_GPU];
        if (!row_ok(r) || !(j > 0) || !isfinite(j))
            continue;
        int cards = r->gpus > 1 ? r->gpus : 1;
        double w = j / (r->t.median / 1e3) / cards;
        lo = fmin(lo, w);
        hi = fmax(hi, w);
        checked++;
        if (!(w >= idle && w <= limit)) {
            if (!outside)
                first_outside = r->key;
            outside++;
        }
    }
    if (!checked)
        return;
    fprintf(fp, "**Plausibility (GPU).** Joules per step over the median step time, per card: "
            "%.0f to %.0f W over %d configuration%s; nvidia-smi in this run: idle %.0f W "
            "(before the first configuration), limit %.0f W. ",
            lo, hi, checked, checked == 1 ? "" : "s", idle, limit);
    if (isnan(idle) || isnan(limit))
        fputs("nvidia-smi gave no idle or limit figure: not checked.\n\n", fp);
    else if (!outside)
        fputs("Every figure lies between the two.\n\n", fp);
    else
        fprintf(fp, "**%d outside** (the first: `%s`): do not trust them.\n\n", outside,
                first_outside);
}

void report_energy(FILE *fp, const char *meta, const struct summary_row *rows, int n)
{
    fputs("## Energy\n\n", fp);
    int measured = 0;
    for (int i = 0; i < n; i++)
        for (int d = 0; d < ENERGY_DEVICES; d++)
            measured += row_ok(&rows[i]) && rows[i].joules_per_step[d] > 0;
    char cpu_reason[ENERGY_REASON] = "", gpu_reason[ENERGY_REASON] = "";
    json_get_string(meta, "energy.cpu_reason", cpu_reason, sizeof cpu_reason);
    json_get_string(meta, "energy.gpu_reason", gpu_reason, sizeof gpu_reason);
    fputs("Measured over each configuration's timed steps (evaluations left out), never "
          "estimated: the CPU through RAPL (packages and DRAM, every process on them), a GPU "
          "backend's cards through NVML's energy counter. A dash: no figure.\n\n", fp);
    if (*cpu_reason)
        fprintf(fp, "- CPU: no meter: %s\n", cpu_reason);
    if (*gpu_reason)
        fprintf(fp, "- GPU: no meter: %s\n", gpu_reason);
    if (*cpu_reason || *gpu_reason)
        fputc('\n', fp);
    if (!measured) {
        fputs("No configuration has an energy figure.\n\n", fp);
        return;
    }
    fputs("| configuration | CPU J/step | CPU images/J | GPU J/step | GPU images/J | metered s "
          "| GPU W (counter) | GPU W (samples) |\n|---|---|---|---|---|---|---|---|\n", fp);
    for (int i = 0; i < n; i++) {
        const struct summary_row *r = &rows[i];
        if (!row_ok(r))
            continue;
        fprintf(fp, "| `%s` |", r->key);
        for (int d = 0; d < ENERGY_DEVICES; d++) {
            joules_cell(fp, r->joules_per_step[d]);
            joules_cell(fp, r->batch / r->joules_per_step[d]);
        }
        joules_cell(fp, r->energy_window_s);
        joules_cell(fp, r->joules_per_step[ENERGY_GPU] * r->t.n / r->energy_window_s);
        joules_cell(fp, r->gpu_sampled_w);
        fputc('\n', fp);
    }
    fputc('\n', fp);
    write_plausibility(fp, meta, rows, n);
}

/* "FMA peak", "multiply-and-add peak" or "memory bandwidth". */
static const char *bound_name(const struct roof_point *p, int fma)
{
    if (p->bound == ROOF_BOUND_MEMORY)
        return "memory bandwidth";
    return fma ? "FMA peak" : "multiply-and-add peak";
}

cnn_status report_roofline(FILE *fp, const char *run, const char *meta_path, const char *meta,
                           const struct summary_row *rows, int n)
{
    struct roofrun rr;
    CNN_TRY(roofrun_open(&rr, run, meta_path, meta));
    fputs("## Roofline: which ceiling bounds each region\n\n"
          "Each region's work (FLOPs and bytes of the model in docs/DESIGN.md §7) over its "
          "median time, against the ceiling at its arithmetic intensity: the flat FMA peak "
          "(or, for a region that rounds multiply and add apart as seq does, the "
          "multiply-and-add peak) or the sloped memory bandwidth. The fraction is achieved "
          "over that ceiling; a region without FLOPs is given as a fraction of the bandwidth. "
          "Above 100%: the region's data stayed in cache, which the streaming bandwidth does "
          "not model.\n\n",
          fp);
    int header = 0, unplaced = 0;
    char first_why[ROOFRUN_NOTE + 128] = "";
    for (int i = 0; i < n; i++) {
        const struct summary_row *r = &rows[i];
        if (!row_ok(r))
            continue;
        struct roofrun_config rc;
        char why[ROOFRUN_NOTE];
        if (!roofrun_config(&rr, r, &rc, why, sizeof why)) {
            if (!unplaced++)
                snprintf(first_why, sizeof first_why, "`%s`: %s", r->key, why);
            continue;
        }
        for (int k = 0; k < CNN_REGION_COUNT; k++) {
            struct roof_work w;
            struct roof_point p;
            if (!roofrun_place(&rc, r, (enum cnn_region)k, &w, &p))
                continue;
            if (!header++)
                fputs("| configuration | region | FLOP/byte | GFLOP/s | GB/s | bound by | "
                      "fraction | ceilings |\n|---|---|---|---|---|---|---|---|\n",
                      fp);
            int fma = (rc.fma_regions & CNN_REGION_BIT(k)) != 0;
            fprintf(fp, "| `%s` | %s | %.3g | %.4g | %.4g | %s | %.1f%% | %s |\n", r->key,
                    cnn_region_name((enum cnn_region)k), p.intensity, p.flop_per_s / 1e9,
                    p.bytes_per_s / 1e9, w.flop > 0 ? bound_name(&p, fma) : "memory bandwidth",
                    100.0 * p.fraction, rc.ceilings.source);
        }
    }
    if (header)
        fputc('\n', fp);
    if (unplaced)
        fprintf(fp, "%d configuration%s not placed; the first, %s.\n\n", unplaced,
                unplaced == 1 ? "" : "s", first_why);
    else if (!header)
        fputs("No region to place.\n\n", fp);
    roofrun_close(&rr);
    return CNN_OK;
}
