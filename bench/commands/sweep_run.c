/*
 * sweep_run.c — one configuration of a sweep: verified against the
 * reference (its step shared through the reference cache), warmed up and
 * timed (run.h), then recorded: its step and evaluation rows appended and
 * synced, summary.csv rewritten, its result line printed, and its final
 * parameters exported as the showcase when it trained on the most images.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends.h"
#include "csvout.h"
#include "error.h"
#include "interrupt.h"
#include "npy.h"
#include "params.h"
#include "run.h"
#include "showcase.h"
#include "sweep.h"

cnn_status sweep_write_summary(struct sweep *s)
{
    int n = 0;
    struct summary_row *all = malloc((size_t)(s->plan.n + 1) * sizeof *all);
    if (!all)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the summary");
    for (int i = 0; i < s->plan.n; i++)
        if (s->have[i])
            all[n++] = s->rows[i];
    char path[4200];
    rundir_path(path, sizeof path, s->dir.path, "summary.csv");
    cnn_status st = summary_write(path, all, n);
    free(all);
    return st;
}

cnn_status sweep_write_meta(struct sweep *s)
{
    char path[4200];
    rundir_path(path, sizeof path, s->dir.path, "meta.json");
    s->meta.showcase_key = s->showcase >= 0 ? s->plan.configs[s->showcase].key : NULL;
    return meta_write(path, &s->meta, &s->machine);
}

/* The showcase (whose parameters and feature maps are exported for the
 * charts) is the finished configuration that trained on the most images;
 * ties go to the earlier one in the plan. */
static int outranks(const struct sweep *s, int i, int j)
{
    if (j < 0)
        return 1;
    const struct plan_config *a = &s->plan.configs[i], *b = &s->plan.configs[j];
    long va = sweep_config_steps(a, s->o->by_epochs, s->data.train_n) * a->batch;
    long vb = sweep_config_steps(b, s->o->by_epochs, s->data.train_n) * b->batch;
    return va > vb || (va == vb && i < j);
}

static cnn_status export_showcase(struct sweep *s, int i, const struct cnn_params *final)
{
    char dir[4200];
    rundir_path(dir, sizeof dir, s->dir.path, "showcase");
    CNN_TRY(cnn_params_save(dir, final));
    int d = s->meta.digit_index;
    CNN_TRY(showcase_export(dir, final, s->data.test_x + (size_t)d * CNN_PIXELS,
                            s->data.test_raw + (size_t)d * CNN_PIXELS));
    s->showcase = i;
    return CNN_OK;
}

static void progress_hook(void *ctx, long step, const struct run_step *rec)
{
    (void)rec;
    progress_step(ctx, step);
}

static void progress_noise_hook(void *ctx, long step, double noise_pct)
{
    (void)step;
    progress_noise(ctx, noise_pct);
}

static const char *verified_word(const struct plan_config *c, const struct sweep_opts *o,
                                 const struct run_result *r)
{
    if (c->be->caps & CNN_CAP_REFERENCE)
        return "reference";
    if (!o->verify)
        return "skipped";
    if (r->verified)
        return "yes";
    return r->mismatch ? "no" : "not_run";
}

/* Writes the finished steps and evaluations of one configuration. */
static cnn_status append_rows(struct sweep *s, const struct plan_config *c,
                              const struct run_result *r)
{
    const char *timer = run_timer_name(c->be, s->o->cupti);
    for (long k = 0; k < r->done; k++) {
        int rows = csv_write_step_rows(s->dir.steps, c, timer, k + 1, &r->steps[k]);
        if (rows < 0)
            return cnn_fail(CNN_E_IO, "%s/steps.csv: write failed: %s", s->dir.path,
                            strerror(errno));
        s->step_rows += rows;
    }
    for (int e = 0; e < r->n_evals; e++)
        if (csv_write_eval_row(s->dir.evals, c, &r->evals[e], s->data.test_n) < 0)
            return cnn_fail(CNN_E_IO, "%s/evals.csv: write failed: %s", s->dir.path,
                            strerror(errno));
    if (rundir_sync(s->dir.steps) != 0 || rundir_sync(s->dir.evals) != 0)
        return cnn_fail(CNN_E_IO, "%s: cannot sync the CSV files: %s", s->dir.path,
                        strerror(errno));
    return CNN_OK;
}

/* Appends to a line being built in buf[len], of which *used are taken. */
static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
    if (*used >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *used, len - *used, fmt, ap);
    va_end(ap);
    if (n > 0)
        *used += (size_t)n;
}

/* One configuration's result: its median with the noise, throughput,
 * speedup, how many steps and why they stopped; an unstable one says so
 * first and why at the end (load_start, load_end: the 1-min load average
 * around the configuration). */
static void result_line(char *buf, size_t len, const struct plan_config *c,
                        const struct summary_row *row, const struct summary_row *rows, int n,
                        double load_start, double load_end, long cpus)
{
    size_t used = 0;
    if (strcmp(row->status, "ok") != 0) {
        snprintf(buf, len, "%-28s %s%s%s", c->key, row->status, *row->message ? ": " : "",
                 row->message);
        return;
    }
    int unstable = summary_unstable(&row->t, row->max_noise_pct) == 1;
    append(buf, len, &used, "%-28s %s  median %.3f ms", c->key, unstable ? "UNSTABLE" : "ok",
           row->t.median);
    if (!isnan(row->t.noise_pct))
        append(buf, len, &used, " ±%.1f%%", row->t.noise_pct);
    append(buf, len, &used, " (IQR %.3f..%.3f)  %.0f images/s", row->t.q1, row->t.q3,
           row->batch / (row->t.median / 1e3));
    const char *ref = backends_name_with_cap(CNN_CAP_REFERENCE);
    double ref_ms = summary_baseline_ms(rows, n, row, ref, -1);
    if (!isnan(ref_ms) && strcmp(row->impl, ref) != 0)
        append(buf, len, &used, "  x%.2f vs %s", ref_ms / row->t.median, ref);
    if (row->max_noise_pct > 0)
        append(buf, len, &used, "  %ld steps, %s", row->t.n, row->stop);
    if (unstable) {
        char why[512];
        summary_unstable_reason(why, sizeof why, &row->t, row->max_noise_pct, load_start,
                                load_end, cpus);
        append(buf, len, &used, "\n      unstable: %s", why);
    }
}

cnn_status sweep_run_config(struct sweep *s, int i)
{
    const struct sweep_opts *o = s->o;
    const struct plan_config *c = &s->plan.configs[i];
    long steps = sweep_config_steps(c, o->by_epochs, s->data.train_n);
    progress_config_begin(&s->progress, i + 1, c->key,
                          (double)steps * run_step_flop(c->batch, c->filters), steps);

    struct run_spec spec = {
        .be = c->be,
        .cfg = plan_cnn_config(c, o->lr),
        .steps = steps, .max_noise_pct = o->sampling.max_noise,
        .min_steps = o->sampling.min_steps, .max_time_s = o->sampling.max_time,
        .warmup = o->warmup, .shuffle = o->shuffle, .seed = o->seed,
        .eval_every = c->eval_every, .eval_final = o->eval,
        .keep_final = outranks(s, i, s->showcase),
    };
    struct run_result result;
    run_result_init(&result);
    struct run_hooks hooks = {.on_step = progress_hook, .on_noise = progress_noise_hook,
                              .ctx = &s->progress, .stop = &interrupt_flag};
    double load_start = meta_load_1min();
    cnn_status st = CNN_OK;
    if (c->ranks > 0) {
        /* the job's train verifies, warms up and times as below */
        st = sweep_ranks_run(s, i, steps, spec.keep_final, &result);
        progress_step(&s->progress, result.done);
    } else {
        const struct cnn_params *init = NULL;
        st = reference_cache_params(&s->refs, c->filters, o->seed, &init);
        if (st == CNN_OK)
            st = sweep_trace_config(s, c->key);
        spec.init = init;
        if (st == CNN_OK && o->verify && !(c->be->caps & CNN_CAP_REFERENCE))
            st = reference_cache_step(&s->refs, &s->data, &spec.cfg, init, o->shuffle, o->seed,
                                      &spec.ref);
        if (st == CNN_OK)
            st = run_config(&spec, &s->data, &hooks, &result);
    }

    double load_end = meta_load_1min();
    struct summary_row *row = &s->rows[i];
    summary_from_run(row, c, run_timer_name(c->be, o->cupti), steps, s->data.train_n, o->warmup,
                     &result);
    if (o->sampling.max_noise > 0)
        row->max_noise_pct = o->sampling.max_noise;
    snprintf(row->verified, sizeof row->verified, "%s", verified_word(c, o, &result));
    if (st != CNN_OK)
        summary_set_failure(row, st, &result, cnn_last_error());
    s->have[i] = 1;

    cnn_status wst = append_rows(s, c, &result);
    if (wst != CNN_OK)
        s->have[i] = 0; /* its rows are not (all) in the files */
    if (wst == CNN_OK)
        wst = sweep_write_summary(s);
    if (wst == CNN_OK && st == CNN_OK && spec.keep_final)
        wst = export_showcase(s, i, &result.final);
    run_result_free(&result);
    if (wst != CNN_OK)
        return wst;

    if (st == CNN_OK)
        s->meta.finished_configs++;
    else if (st != CNN_E_INTERRUPTED)
        s->meta.failed_configs++;
    char line[1024];
    result_line(line, sizeof line, c, row, s->rows, s->plan.n, load_start, load_end,
                s->machine.online_cpus);
    progress_config_end(&s->progress, line);
    return st == CNN_E_INTERRUPTED ? st : CNN_OK;
}
