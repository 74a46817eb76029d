/* run.c — one configuration: create, verify, warm up, timed and metered steps,
 * evaluations. */
#include "run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch_share.h"
#include "error.h"
#include "params.h"
#include "roofline.h"
#include "sampler.h"
#include "stats.h"
#include "step.h"

/* Step records allocated before the first step; they double as steps finish,
 * so a run with a noise target holds memory for the steps it took, not for
 * its cap. */
enum { RUN_FIRST_RECORDS = 1024 };

const char *run_stop_name(enum run_stop stop)
{
    switch (stop) {
    case RUN_STOP_STEPS: return "steps";
    case RUN_STOP_CONVERGED: return "converged";
    case RUN_STOP_MAX_TIME: return "max_time";
    case RUN_STOP_CAP: return "cap";
    case RUN_STOP_NONE: break;
    }
    return "";
}

long run_epoch_steps(long epochs, uint32_t n, int b)
{
    return epochs * (((long)n + b - 1) / b);
}

double run_step_flop(int batch, int filters) { return roof_step_flop(batch, filters); }

cnn_status run_first_batch(const struct data_set *data, int batch, int shuffle, uint64_t seed,
                           float *x, uint8_t *y)
{
    struct cnn_sampler sampler;
    uint32_t *idx = malloc((size_t)batch * sizeof *idx);
    if (!idx)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate a batch of %d indices", batch);
    cnn_status st = cnn_sampler_init(&sampler, data->train_n, shuffle, seed);
    if (st == CNN_OK) {
        cnn_sampler_next(&sampler, idx, batch);
        cnn_gather(data->train_x, data->train_y, idx, batch, x, y);
        cnn_sampler_free(&sampler);
    }
    free(idx);
    return st;
}

/* Batch buffers and the sampler of one run. Batches are gathered into x, y:
 * the backend's batch buffer where it offers one (page-locked memory for a
 * GPU, so the upload is a DMA), else our own. In a job of several
 * processes the sampler draws the global batch and only this process's
 * share of it is gathered. */
struct run_batch {
    struct cnn_sampler sampler;
    int global;             /* B: indices drawn per step */
    struct cnn_share share; /* the images of them this process trains on */
    uint32_t *idx;          /* [B] */
    float *own_x;           /* [share][P] */
    uint8_t *own_y;         /* [share] */
    float *x;               /* [share][P] own_x or the backend's */
    uint8_t *y;             /* [share] */
};

static void batch_free(struct run_batch *b)
{
    cnn_sampler_free(&b->sampler);
    free(b->idx);
    free(b->own_x);
    free(b->own_y);
    memset(b, 0, sizeof *b);
}

static cnn_status batch_attach(struct run_batch *b, const struct cnn_backend *be,
                               cnn_state *state)
{
    if (!be->batch_buffer)
        return CNN_OK;
    return be->batch_buffer(state, &b->x, &b->y);
}

static cnn_status batch_init(struct run_batch *b, const struct run_spec *spec,
                             const struct data_set *data)
{
    memset(b, 0, sizeof *b);
    const struct cnn_comm *comm = spec->cfg.comm;
    b->global = comm ? comm->global_batch : spec->cfg.batch;
    b->share = comm ? cnn_share_of((size_t)b->global, comm->size, comm->rank)
                    : (struct cnn_share){0, (size_t)b->global};
    size_t n = b->share.count;
    b->idx = malloc((size_t)b->global * sizeof *b->idx);
    b->own_x = malloc(n * CNN_PIXELS * sizeof *b->own_x);
    b->own_y = malloc(n);
    b->x = b->own_x;
    b->y = b->own_y;
    if (!b->idx || !b->own_x || !b->own_y) {
        batch_free(b);
        return cnn_fail(CNN_E_NOMEM, "cannot allocate a batch of %zu images", n);
    }
    cnn_status st = cnn_sampler_init(&b->sampler, data->train_n, spec->shuffle, spec->seed);
    if (st != CNN_OK)
        batch_free(b);
    return st;
}

/* Restarts the stream at its first batch. */
static cnn_status batch_rewind(struct run_batch *b, const struct run_spec *spec,
                               const struct data_set *data)
{
    cnn_sampler_free(&b->sampler);
    return cnn_sampler_init(&b->sampler, data->train_n, spec->shuffle, spec->seed);
}

static void batch_next(struct run_batch *b, const struct data_set *data)
{
    cnn_sampler_next(&b->sampler, b->idx, b->global);
    cnn_gather(data->train_x, data->train_y, b->idx + b->share.offset, (int)b->share.count,
               b->x, b->y);
}

/* ---- energy over the timed loop (run.h) ---- */

struct run_meter {
    struct energy_meters *m;
    struct energy_reading last; /* the window's latest sample */
    double every_s;             /* the longest wait between samples */
    double joules[ENERGY_DEVICES];
    double window_s;
    double watts_sum;           /* NVML power samples of the GPUs, summed */
    int watts_n;
};

/* Opens the meters for a state of be: the CPU always, the GPUs a device
 * backend names. */
static cnn_status meter_open(struct run_meter *mt, const struct cnn_backend *be,
                             cnn_state *state, const struct cnn_config *cfg)
{
    memset(mt, 0, sizeof *mt);
    char ids[ENERGY_MAX_METERS][CNN_BUS_ID];
    const char *id_list[ENERGY_MAX_METERS];
    struct energy_request req = {.want_cpu = 1, .want_gpu = (be->caps & CNN_CAP_DEVICE) != 0};
    if (req.want_gpu) {
        int n = cfg->gpus > 1 ? cfg->gpus : 1;
        if (n > ENERGY_MAX_METERS)
            return cnn_fail(CNN_E_ARG, "%d GPUs, energy meters for at most %d", n,
                            ENERGY_MAX_METERS);
        for (int i = 0; i < n; i++) {
            CNN_TRY(be->device_bus_id(state, i, ids[i], sizeof ids[i]));
            id_list[i] = ids[i];
        }
        req.n_gpu_bus_ids = n;
        req.gpu_bus_ids = id_list;
    }
    if (!(mt->m = malloc(sizeof *mt->m)))
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the energy meters");
    cnn_status st = energy_open(mt->m, &req);
    double wrap_s = energy_max_interval_s(mt->m, 500.0); /* watts no zone reaches */
    mt->every_s = wrap_s < RUN_ENERGY_SAMPLE_S ? wrap_s : RUN_ENERGY_SAMPLE_S;
    return st;
}

static void meter_close(struct run_meter *mt)
{
    if (mt->m)
        energy_close(mt->m);
    free(mt->m);
    mt->m = NULL;
}

/* Starts (or, after an evaluation, resumes) the window. */
static void meter_resume(struct run_meter *mt) { energy_sample(mt->m, &mt->last); }

/* Adds the energy since the last sample to the window. */
static void meter_add(struct run_meter *mt)
{
    struct energy_reading now;
    energy_sample(mt->m, &now);
    for (int d = 0; d < ENERGY_DEVICES; d++)
        mt->joules[d] += energy_device_joules(mt->m, &mt->last, &now, (enum energy_device)d);
    mt->window_s += now.t_s - mt->last.t_s;
    double w = energy_device_sampled_watts(mt->m, &now, 1, ENERGY_GPU);
    if (!isnan(w)) {
        mt->watts_sum += w;
        mt->watts_n++;
    }
    mt->last = now;
}

/* Between two steps: a sample once every_s have gone by. */
static void meter_step(struct run_meter *mt)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if ((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 - mt->last.t_s >= mt->every_s)
        meter_add(mt);
}

static void meter_result(const struct run_meter *mt, struct run_energy *e)
{
    int metered = mt->m->n > 0;
    for (int d = 0; d < ENERGY_DEVICES; d++)
        e->joules[d] = metered && mt->window_s >= RUN_ENERGY_MIN_WINDOW_S ? mt->joules[d] : NAN;
    e->window_s = metered ? mt->window_s : NAN;
    e->gpu_sampled_w = mt->watts_n > 0 ? mt->watts_sum / mt->watts_n : NAN;
}

static cnn_status evaluate(const struct run_spec *spec, cnn_state *state,
                           const struct data_set *data, long step, struct run_result *r)
{
    struct run_eval *e = &r->evals[r->n_evals];
    double t0 = cnn_now_ms();
    CNN_TRY(cnn_evaluate(spec->be, state, data->test_x, data->test_y, (int)data->test_n,
                         &e->accuracy));
    e->ms = cnn_now_ms() - t0;
    e->step = step;
    r->n_evals++;
    return CNN_OK;
}

static int stop_requested(const struct run_hooks *hooks)
{
    return hooks && hooks->stop && *hooks->stop;
}

/* Whether this process records the run: the only process, or rank 0 of a job. */
static int run_lead(const struct run_spec *spec)
{
    return !spec->cfg.comm || spec->cfg.comm->rank == 0;
}

/* What the processes of a job agree on after each timed step (run.h), in
 * the order of the one sum that carries it. */
enum { AGREE_LOSS, AGREE_CORRECT, AGREE_STOP, AGREE_STEP_MS, AGREE_CLOCK_S, AGREE_COUNT };

/* Replaces this process's loss and correct count of step sr by the global
 * batch's, and its step time by rank 0's; *stop: some process was asked to
 * stop; *clock_s: rank 0's sampling clock. A NaN loss anywhere makes the
 * sum NaN, so every process sees a divergence at the same step. */
static cnn_status agree_step(const struct run_spec *spec, const struct run_hooks *hooks,
                             int share, double clock_s, struct cnn_step_result *sr, int *stop,
                             double *agreed_clock_s)
{
    int lead = run_lead(spec);
    double v[AGREE_COUNT] = {
        [AGREE_LOSS] = sr->loss * share, [AGREE_CORRECT] = sr->correct,
        [AGREE_STOP] = stop_requested(hooks), [AGREE_STEP_MS] = lead ? sr->step_ms : 0,
        [AGREE_CLOCK_S] = lead ? clock_s : 0,
    };
    CNN_TRY(ranks_sum_double(spec->ranks, v, AGREE_COUNT));
    sr->loss = v[AGREE_LOSS] / spec->cfg.comm->global_batch;
    sr->correct = (int)v[AGREE_CORRECT];
    sr->step_ms = v[AGREE_STEP_MS];
    *stop = v[AGREE_STOP] > 0;
    *agreed_clock_s = v[AGREE_CLOCK_S];
    return CNN_OK;
}

/* Rank 0 of a job verifies on a state of its own, without the communicator:
 * a step of the job's state would sum the other processes' gradients in,
 * which seq's one-process step on the same images does not. */
static cnn_status verify_alone(const struct run_spec *spec, struct verify_report *rep)
{
    struct cnn_config cfg = spec->cfg;
    cfg.comm = NULL;
    cnn_state *state = NULL;
    CNN_TRY(spec->be->create(&cfg, &state));
    cnn_status st = verify_backend_step(spec->be, state, spec->ref, rep);
    spec->be->destroy(state);
    return st;
}

/* Makes room for the record of timed step k (1-based, k <= cap). */
static cnn_status reserve_step(struct run_result *r, long k, long cap)
{
    if (k <= r->steps_alloc)
        return CNN_OK;
    long want = r->steps_alloc * 2 < cap ? r->steps_alloc * 2 : cap;
    struct run_step *g = realloc(r->steps, (size_t)want * sizeof *g);
    if (!g)
        return cnn_fail(CNN_E_NOMEM, "cannot grow the step records to %ld steps", want);
    r->steps = g;
    r->steps_alloc = want;
    return CNN_OK;
}

/* The noise of the median of the step times so far (stats.h). */
static cnn_status steps_noise(const struct run_result *r, double *noise_pct)
{
    double *v = malloc((size_t)r->done * sizeof *v);
    if (!v)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate %ld step times", r->done);
    for (long i = 0; i < r->done; i++)
        v[i] = r->steps[i].step_ms;
    stats_sort(v, r->done);
    *noise_pct = stats_noise_pct_sorted(v, r->done);
    free(v);
    return CNN_OK;
}

/* Adaptive sampling after each timed step: sets r->stop once the noise is
 * under the target (converged) or, not being so, the time is up. Sorting
 * every step would cost O(n log n) per step; checking when the sample has
 * grown by a sixteenth keeps the total near O(n log n) and stops at most
 * 6% later than a check per step would. The last step of the cap and the
 * step that runs out of time are always checked, so `stop` and the noise
 * in the summary agree. */
static cnn_status noise_check(const struct run_spec *spec, const struct run_hooks *hooks,
                              long min_steps, double elapsed_s, long *next_check,
                              struct run_result *r)
{
    long k = r->done;
    int time_up = elapsed_s >= spec->max_time_s;
    if (k < min_steps || (k < *next_check && k < spec->steps && !time_up))
        return CNN_OK;
    double noise = NAN;
    CNN_TRY(steps_noise(r, &noise));
    if (hooks && hooks->on_noise)
        hooks->on_noise(hooks->ctx, k, noise);
    *next_check = k + (k / 16 > 1 ? k / 16 : 1);
    if (noise <= spec->max_noise_pct)
        r->stop = RUN_STOP_CONVERGED;
    else if (time_up)
        r->stop = RUN_STOP_MAX_TIME;
    return CNN_OK;
}

/* Steps 2-5 of the header on an existing state. */
static cnn_status run_state(const struct run_spec *spec, const struct data_set *data,
                            const struct run_hooks *hooks, cnn_state *state,
                            struct run_batch *batch, struct run_meter *meter,
                            struct run_result *r)
{
    const struct cnn_backend *be = spec->be;
    int n = spec->cfg.batch;

    if (spec->ref) {
        cnn_status st = spec->cfg.comm ? verify_alone(spec, &r->verify)
                                       : verify_backend_step(be, state, spec->ref, &r->verify);
        if (st != CNN_OK)
            return cnn_fail_context(st, "verifying against seq");
        if (!r->verify.agree) {
            r->mismatch = 1;
            return cnn_fail(CNN_E_DATA, "%s disagrees with seq after one step: %s", be->name,
                            r->verify.detail);
        }
        r->verified = 1;
    }

    CNN_TRY(be->set_params(state, spec->init));
    for (int w = 0; w < spec->warmup; w++) {
        if (!spec->ranks && stop_requested(hooks))
            return cnn_fail(CNN_E_INTERRUPTED, "interrupted during warm-up");
        struct cnn_step_result sr;
        batch_next(batch, data);
        CNN_TRY(cnn_step(be, state, batch->x, batch->y, n, &sr));
        if (w == 0)
            r->first_warmup_ms = sr.step_ms;
    }
    if (spec->warmup > 0) {
        CNN_TRY(be->set_params(state, spec->init));
        CNN_TRY(batch_rewind(batch, spec, data));
    }

    int adaptive = spec->max_noise_pct > 0;
    long min_steps = spec->min_steps < spec->steps ? spec->min_steps : spec->steps;
    long next_check = min_steps;
    /* max_time_s counts the sampling loop, not the evaluations inside it */
    double loop_t0 = cnn_now_ms(), eval_ms = 0;
    meter_resume(meter);
    int job_stop = 0;       /* a job: some process was asked to stop */
    double job_clock_s = 0; /* a job: rank 0's sampling clock after the step */
    int lead = run_lead(spec);
    for (long k = 1; k <= spec->steps && r->stop == RUN_STOP_NONE; k++) {
        if (spec->ranks ? job_stop : stop_requested(hooks)) {
            r->left_together = job_stop;
            return cnn_fail(CNN_E_INTERRUPTED, "interrupted after %ld of %ld steps", k - 1,
                            spec->steps);
        }
        CNN_TRY(reserve_step(r, k, spec->steps));
        struct cnn_step_result sr;
        batch_next(batch, data);
        CNN_TRY(cnn_step(be, state, batch->x, batch->y, n, &sr));
        if (spec->ranks)
            CNN_TRY(agree_step(spec, hooks, n, (cnn_now_ms() - loop_t0 - eval_ms) / 1e3, &sr,
                               &job_stop, &job_clock_s));
        /* the loss is the job's: every process diverges at the same step */
        r->left_together = spec->ranks != NULL;
        CNN_TRY(cnn_step_check_loss(&sr, k));
        r->left_together = 0;
        struct run_step *rec = &r->steps[k - 1];
        rec->loss = sr.loss;
        rec->correct = sr.correct;
        rec->step_ms = sr.step_ms;
        memcpy(rec->region_ms, sr.region_ms, sizeof rec->region_ms);
        r->done = k;
        if (hooks && hooks->on_step)
            hooks->on_step(hooks->ctx, k, rec);
        if (lead && spec->eval_every > 0 && k % spec->eval_every == 0) {
            meter_add(meter);
            CNN_TRY(evaluate(spec, state, data, k, r));
            eval_ms += r->evals[r->n_evals - 1].ms;
            meter_resume(meter);
        } else {
            meter_step(meter);
        }
        /* a job samples on rank 0's clock, agreed before the evaluation:
         * every process decides alike on the same step times */
        if (adaptive)
            CNN_TRY(noise_check(spec, hooks, min_steps,
                                spec->ranks ? job_clock_s
                                            : (cnn_now_ms() - loop_t0 - eval_ms) / 1e3,
                                &next_check, r));
    }
    meter_add(meter);
    meter_result(meter, &r->energy);
    if (r->stop == RUN_STOP_NONE)
        r->stop = adaptive ? RUN_STOP_CAP : RUN_STOP_STEPS;
    /* the loop's collectives are over, whatever rank 0 does after them */
    r->left_together = spec->ranks != NULL;
    if (lead && spec->eval_final && (spec->eval_every <= 0 || r->done % spec->eval_every != 0))
        CNN_TRY(evaluate(spec, state, data, r->done, r));
    if (spec->keep_final) {
        CNN_TRY(cnn_params_alloc(&r->final, spec->cfg.filters));
        CNN_TRY(be->get_params(state, &r->final));
        CNN_TRY(cnn_params_require_finite(&r->final, "after the last step"));
    }
    return CNN_OK;
}

void run_result_init(struct run_result *r)
{
    memset(r, 0, sizeof *r);
    r->first_warmup_ms = -1.0;
    for (int d = 0; d < ENERGY_DEVICES; d++)
        r->energy.joules[d] = NAN;
    r->energy.window_s = r->energy.gpu_sampled_w = NAN;
}

cnn_status run_config(const struct run_spec *spec, const struct data_set *data,
                      const struct run_hooks *hooks, struct run_result *r)
{
    run_result_init(r);
    double t0 = cnn_now_ms();
    int max_evals = 1 + (spec->eval_every > 0 ? (int)(spec->steps / spec->eval_every) : 0);
    r->steps_alloc = spec->steps < RUN_FIRST_RECORDS ? (spec->steps > 0 ? spec->steps : 1)
                                                      : RUN_FIRST_RECORDS;
    r->steps = calloc((size_t)r->steps_alloc, sizeof *r->steps);
    r->evals = calloc((size_t)max_evals, sizeof *r->evals);
    if (!r->steps || !r->evals)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate records for %ld steps", r->steps_alloc);

    struct run_batch batch;
    CNN_TRY(batch_init(&batch, spec, data));
    cnn_state *state = NULL;
    cnn_status st = spec->be->create(&spec->cfg, &state);
    if (st == CNN_OK) {
        struct run_meter meter = {.m = NULL};
        st = batch_attach(&batch, spec->be, state);
        if (st == CNN_OK)
            st = meter_open(&meter, spec->be, state, &spec->cfg);
        if (st == CNN_OK)
            st = run_state(spec, data, hooks, state, &batch, &meter, r);
        meter_close(&meter);
        spec->be->destroy(state);
    }
    batch_free(&batch);
    r->wall_s = (cnn_now_ms() - t0) / 1e3;
    return st;
}

void run_result_free(struct run_result *r)
{
    free(r->steps);
    free(r->evals);
    if (r->final.buf)
        cnn_params_free(&r->final);
    memset(r, 0, sizeof *r);
}

const char *run_timer_name(const struct cnn_backend *be, int traced)
{
    if (!(be->caps & CNN_CAP_DEVICE))
        return "wall";
    return traced ? "cupti" : "cuda_event";
}
