/* roofline_run.c — a finished run's ceilings and backends, and the placement
 * of its regions (roofline_run.h). */
#include "roofline_run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "runfile.h"

/* The region named so (cnn_region_name), or -1. */
static int region_by_name(const char *name)
{
    for (int r = 0; r < CNN_REGION_COUNT; r++)
        if (!strcmp(cnn_region_name((enum cnn_region)r), name))
            return r;
    return -1;
}

/* A per-variant field of backends[] (an array of variant numbers) as bits. */
static cnn_status read_variant_bits(const char *meta_path, const char *backend, const char *key,
                                    const json_t *list, unsigned *bits)
{
    if (!json_is_array(list))
        return cnn_fail(CNN_E_DATA, "%s: backend %s: %s is not an array", meta_path, backend,
                        key);
    size_t k;
    const json_t *v;
    json_array_foreach(list, k, v) {
        json_int_t variant = json_is_integer(v) ? json_integer_value(v) : -1;
        if (variant < 0 || variant > 31)
            return cnn_fail(CNN_E_DATA, "%s: backend %s: %s holds a value that is not a variant",
                            meta_path, backend, key);
        *bits |= 1u << variant;
    }
    return CNN_OK;
}

/* backends[] of meta.json; entries without the roofline keys (a run
 * recorded before them) are left out, so their configurations get a
 * reason instead of a guess. */
static cnn_status read_backends(struct roofrun *rr, const char *meta_path, const char *meta)
{
    json_t *root = NULL;
    CNN_TRY(json_parse_document(meta_path, meta, strlen(meta), &root));
    const json_t *list = json_object_get(root, "backends");
    size_t i;
    const json_t *b;
    cnn_status st = CNN_OK;
    json_array_foreach(list, i, b) {
        const json_t *name = json_object_get(b, "name"), *fma = json_object_get(b, "fma_regions"),
                     *dm = json_object_get(b, "dm_in_conv_backward"),
                     *recomputed = json_object_get(b, "m_recomputed");
        if (!json_is_string(name) || !json_is_array(fma) || !json_is_array(dm))
            continue;
        if (rr->n_backends == ROOFRUN_MAX_BACKENDS) {
            st = cnn_fail(CNN_E_DATA, "%s: more than %d backends", meta_path,
                          ROOFRUN_MAX_BACKENDS);
            break;
        }
        struct roofrun_backend *rb = &rr->backends[rr->n_backends++];
        memset(rb, 0, sizeof *rb);
        snprintf(rb->name, sizeof rb->name, "%s", json_string_value(name));
        rb->device = json_is_true(json_object_get(b, "device"));
        rb->threads = json_is_true(json_object_get(b, "threads"));
        size_t k;
        const json_t *v;
        json_array_foreach(fma, k, v) {
            int r = json_is_string(v) ? region_by_name(json_string_value(v)) : -1;
            if (r < 0) {
                st = cnn_fail(CNN_E_DATA, "%s: backend %s: fma_regions holds a name that is "
                              "not a region", meta_path, rb->name);
                break;
            }
            rb->fma_regions |= CNN_REGION_BIT(r);
        }
        if (st == CNN_OK)
            st = read_variant_bits(meta_path, rb->name, "dm_in_conv_backward", dm,
                                   &rb->dm_in_conv_backward);
        /* absent in runs recorded before it: none of their variants recomputed m */
        if (st == CNN_OK && recomputed)
            st = read_variant_bits(meta_path, rb->name, "m_recomputed", recomputed,
                                   &rb->m_recomputed);
        if (st != CNN_OK)
            break;
    }
    json_decref(root);
    return st;
}

cnn_status roofrun_open(struct roofrun *rr, const char *run, const char *meta_path,
                        const char *meta)
{
    memset(rr, 0, sizeof *rr);
    snprintf(rr->ceilings_path, sizeof rr->ceilings_path, "%s/ceilings.txt", run);
    FILE *fp = fopen(rr->ceilings_path, "r");
    if (fp) {
        fclose(fp);
        size_t len;
        CNN_TRY(runfile_load(rr->ceilings_path, RUNFILE_FIELDS, &rr->ceilings_text, &len));
        /* one complete run somewhere in the file, or the file is no use */
        struct roof_ceilings any;
        cnn_status st = roof_ceilings_parse(rr->ceilings_path, rr->ceilings_text, 0, &any);
        if (st != CNN_OK) {
            roofrun_close(rr);
            return st;
        }
    }
    if (json_get_string(meta, "gpu_name", rr->gpu_name, sizeof rr->gpu_name) != 0)
        snprintf(rr->gpu_name, sizeof rr->gpu_name, "none");
    rr->have_gpu = roof_gpu_nominal(rr->gpu_name, &rr->gpu);
    cnn_status st = read_backends(rr, meta_path, meta);
    if (st != CNN_OK)
        roofrun_close(rr);
    return st;
}

void roofrun_close(struct roofrun *rr)
{
    free(rr->ceilings_text);
    rr->ceilings_text = NULL;
}

int roofrun_config(const struct roofrun *rr, const struct summary_row *r,
                   struct roofrun_config *out, char *why, size_t len)
{
    const struct roofrun_backend *rb = NULL;
    for (int i = 0; i < rr->n_backends; i++)
        if (!strcmp(rr->backends[i].name, r->impl))
            rb = &rr->backends[i];
    if (!rb) {
        snprintf(why, len, "meta.json does not say how %s multiplies and adds (a run "
                 "recorded before the roofline)", r->impl);
        return 0;
    }
    memset(out, 0, sizeof *out);
    out->device = rb->device;
    out->fma_regions = rb->fma_regions;
    unsigned bit = r->variant < 32 ? 1u << r->variant : 0;
    enum roof_flow flow = (rb->m_recomputed & bit)          ? ROOF_FLOW_RECOMPUTED
                          : (rb->dm_in_conv_backward & bit) ? ROOF_FLOW_DM_IN_CONV
                                                            : ROOF_FLOW_STORED;
    out->shape = (struct roof_shape){r->batch, r->filters, r->gpus, flow};
    if (rb->device) {
        if (!rr->have_gpu) {
            snprintf(why, len, "no ceilings for the GPU '%s' (not in roofline.c's datasheet "
                     "table)", rr->gpu_name);
            return 0;
        }
        out->ceilings = rr->gpu;
        return 1;
    }
    if (!rr->ceilings_text) {
        snprintf(why, len, "no CPU ceilings: the run has no ceilings.txt (scripts/ceilings.sh "
                 "--measure RUN on the machine that ran it)");
        return 0;
    }
    /* threads 0: a threaded backend's default, all the CPUs (the largest
     * count measured); a backend without threads runs on one */
    int threads = r->threads > 0 ? r->threads : rb->threads ? 0 : 1;
    cnn_clear_error();
    if (roof_ceilings_parse(rr->ceilings_path, rr->ceilings_text, threads, &out->ceilings) ==
            CNN_OK ||
        roof_ceilings_parse(rr->ceilings_path, rr->ceilings_text, 0, &out->ceilings) == CNN_OK)
        return 1;
    snprintf(why, len, "%s", cnn_last_error());
    return 0;
}

int roofrun_place(const struct roofrun_config *rc, const struct summary_row *r,
                  enum cnn_region k, struct roof_work *w, struct roof_point *p)
{
    double ms = r->region_ms[k];
    if (!(ms > 0) || !isfinite(ms))
        return 0;
    *w = roof_region_work(&rc->shape, k);
    if (!(w->bytes > 0))
        return 0;
    int fma = (rc->fma_regions & CNN_REGION_BIT(k)) != 0;
    return roof_place(w, ms, &rc->ceilings, fma, p) == CNN_OK;
}

/* v (per second) as three digits with a G or T prefix: the chart's key
 * stays narrow enough to leave the plot its width. */
static void per_second(char *buf, size_t len, double v, const char *unit)
{
    if (v >= 1e12)
        snprintf(buf, len, "%.3g T%s/s", v / 1e12, unit);
    else
        snprintf(buf, len, "%.3g G%s/s", v / 1e9, unit);
}

void roofrun_ceiling_title(char *buf, size_t len, const struct roof_ceilings *c,
                           const char *device, int fma)
{
    char flops[32], bytes[32];
    if (fma) {
        per_second(flops, sizeof flops, c->fma_flop_per_s, "FLOP");
        per_second(bytes, sizeof bytes, c->bytes_per_s, "B");
        snprintf(buf, len, "%s FMA %s, memory %s (%s)", device, flops, bytes, c->source);
    } else {
        per_second(flops, sizeof flops, c->mul_add_flop_per_s, "FLOP");
        snprintf(buf, len, "%s mul + add apart %s (%s)", device, flops, c->source);
    }
}
