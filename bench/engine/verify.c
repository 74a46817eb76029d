/* verify.c — one-step agreement with the reference backend, checked before a backend is timed. */
#include "verify.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agree.h"
#include "error.h"
#include "params.h"
#include "pool_decision.h"
#include "step.h"

void verify_params(const struct cnn_params *got, const struct cnn_params *ref,
                   struct verify_report *rep)
{
    rep->agree = cnn_agree_params(got, ref) == CNN_OK;
    snprintf(rep->detail, sizeof rep->detail, "%s", rep->agree ? "" : cnn_last_error());
}

static size_t choice_bytes(int n, int filters) { return (size_t)n * cnn_features(filters); }

/* A state of the reference backend (CNN_CAP_REFERENCE) for the reference
 * step: one device, no threads, no variant. */
static cnn_status seq_state(const struct cnn_config *cfg, const struct cnn_backend **seq,
                            cnn_state **state)
{
    *seq = cnn_backend_with_cap(CNN_CAP_REFERENCE);
    if (!*seq)
        return cnn_fail(CNN_E_ARG, "no reference backend (CNN_CAP_REFERENCE) in this build");
    struct cnn_config c = *cfg;
    c.threads = 0;
    c.variant = 0;
    c.gpus = 0;
    return (*seq)->create(&c, state);
}

/* A reference that is not finite says nothing about the candidate: NaN
 * against NaN would fail the check and blame a correct backend. Such a step
 * comes from the inputs (initial parameters, learning rate), so that is
 * what the error names. */
static cnn_status reference_finite(const struct cnn_step_result *r, const struct cnn_params *after)
{
    size_t first = 0, bad = cnn_params_count_nonfinite(after, &first);
    if (isfinite(r->loss) && bad == 0)
        return CNN_OK;
    char where[64] = "none";
    if (bad)
        cnn_params_locate(after, first, where, sizeof where);
    return cnn_fail(CNN_E_DIVERGED, "training diverged in seq's own step on the first batch (loss "
                    "%g, %zu non-finite parameters, first %s): the inputs, the initial parameters "
                    "or --lr, are at fault, not the backend under test, which cannot be verified "
                    "against it", isnan(r->loss) ? fabs(r->loss) : r->loss, bad, where);
}

cnn_status verify_reference_make(const struct cnn_config *cfg, const struct cnn_params *init,
                                 const float *x, const uint8_t *y, int n,
                                 struct verify_reference *ref)
{
    memset(ref, 0, sizeof *ref);
    ref->cfg = *cfg;
    ref->n = n;
    const struct cnn_backend *seq = NULL;
    cnn_state *state = NULL;
    ref->x = malloc((size_t)n * CNN_PIXELS * sizeof *ref->x);
    ref->y = malloc((size_t)n);
    ref->choice = malloc(choice_bytes(n, cfg->filters));
    cnn_status st = ref->x && ref->y && ref->choice
                        ? cnn_params_alloc(&ref->init, cfg->filters)
                        : cnn_fail(CNN_E_NOMEM, "cannot allocate the reference step for "
                                   "B=%d F=%d", n, cfg->filters);
    if (st == CNN_OK)
        st = cnn_params_alloc(&ref->after, cfg->filters);
    if (st == CNN_OK) {
        memcpy(ref->x, x, (size_t)n * CNN_PIXELS * sizeof *x);
        memcpy(ref->y, y, (size_t)n);
        cnn_params_copy(&ref->init, init);
        st = seq_state(cfg, &seq, &state);
    }
    struct cnn_step_result r;
    if (st == CNN_OK)
        st = seq->set_params(state, init);
    if (st == CNN_OK)
        st = cnn_step(seq, state, ref->x, ref->y, n, &r);
    if (st == CNN_OK)
        st = seq->get_params(state, &ref->after);
    if (st == CNN_OK)
        st = reference_finite(&r, &ref->after);
    if (st == CNN_OK)
        st = seq->get_pool_choice(state, ref->choice);
    if (state)
        seq->destroy(state);
    if (st != CNN_OK) {
        verify_reference_free(ref);
        return cnn_fail_context(st, "reference step of seq");
    }
    return CNN_OK;
}

void verify_reference_free(struct verify_reference *ref)
{
    if (ref->init.buf)
        cnn_params_free(&ref->init);
    if (ref->after.buf)
        cnn_params_free(&ref->after);
    free(ref->x);
    free(ref->y);
    free(ref->choice);
    memset(ref, 0, sizeof *ref);
}

/* seq's step again, with the backward routed by the decisions `choice`: the
 * forward pass computes m the same whichever position wins a near tie (the
 * values are within rounding), so only the routing of gradients moves. */
static cnn_status replay_reference(const struct verify_reference *ref, const uint8_t *choice,
                                   struct cnn_params *out)
{
    const struct cnn_backend *seq;
    cnn_state *state = NULL;
    CNN_TRY(seq_state(&ref->cfg, &seq, &state));
    cnn_status st = seq->set_params(state, &ref->init);
    if (st == CNN_OK)
        st = seq->load_batch(state, ref->x, ref->y, ref->n);
    if (st == CNN_OK)
        st = seq->conv_forward(state);
    if (st == CNN_OK)
        st = seq->set_pool_choice(state, choice);
    cnn_status (*const rest[])(cnn_state *) = {seq->fc_forward,   seq->loss_forward,
                                               seq->loss_backward, seq->fc_backward,
                                               seq->conv_backward, seq->update};
    for (size_t i = 0; st == CNN_OK && i < sizeof rest / sizeof *rest; i++)
        st = rest[i](state);
    if (st == CNN_OK)
        st = seq->get_params(state, out);
    seq->destroy(state);
    if (st != CNN_OK)
        return cnn_fail_context(st, "replaying seq's step with the candidate's pool decisions");
    return CNN_OK;
}

/* Part 1 of the header: sets rep->tie_flips, or fails the report. */
static void judge_decisions(const struct verify_reference *ref, const uint8_t *got,
                            struct verify_report *rep)
{
    struct cnn_pool_compare c = cnn_pool_compare(ref->x, ref->n, &ref->init, ref->choice, got);
    rep->windows = c.windows;
    rep->tie_flips = c.flips;
    if (c.inadmissible) {
        char where[96];
        cnn_pool_describe(c.first_bad, ref->cfg.filters, where, sizeof where);
        rep->agree = 0;
        snprintf(rep->detail, sizeof rep->detail,
                 "%zu pool decisions differ from seq's beyond any rounding, first at %s: "
                 "%u where seq has %u (0..3 the winning position, %d no gradient)",
                 c.inadmissible, where, c.bad_got, c.bad_ref, CNN_POOL_NO_GRAD);
        return;
    }
    if ((double)c.flips > VERIFY_MAX_FLIP_SHARE * (double)c.windows) {
        rep->agree = 0;
        snprintf(rep->detail, sizeof rep->detail,
                 "%zu of %zu pool decisions differ from seq's (near ties within rounding, but "
                 "more than the %g share a correct backend shows)",
                 c.flips, c.windows, VERIFY_MAX_FLIP_SHARE);
        return;
    }
    rep->agree = 1;
}

cnn_status verify_backend_step(const struct cnn_backend *be, cnn_state *state,
                               const struct verify_reference *ref, struct verify_report *rep)
{
    memset(rep, 0, sizeof *rep);
    struct cnn_params got, replayed = {0};
    struct cnn_step_result r;
    CNN_TRY(cnn_params_alloc(&got, ref->cfg.filters));
    uint8_t *choice = malloc(choice_bytes(ref->n, ref->cfg.filters));
    cnn_status st = choice ? be->set_params(state, &ref->init)
                           : cnn_fail(CNN_E_NOMEM, "cannot allocate the pool decisions for "
                                      "B=%d F=%d", ref->n, ref->cfg.filters);
    if (st == CNN_OK)
        st = cnn_step(be, state, ref->x, ref->y, ref->n, &r);
    if (st == CNN_OK)
        st = be->get_params(state, &got);
    if (st == CNN_OK)
        st = be->get_pool_choice(state, choice);
    if (st == CNN_OK)
        judge_decisions(ref, choice, rep);
    const struct cnn_params *expect = &ref->after;
    if (st == CNN_OK && rep->agree && rep->tie_flips) {
        st = cnn_params_alloc(&replayed, ref->cfg.filters);
        if (st == CNN_OK)
            st = replay_reference(ref, choice, &replayed);
        expect = &replayed;
    }
    if (st == CNN_OK && rep->agree)
        verify_params(&got, expect, rep);
    if (replayed.buf)
        cnn_params_free(&replayed);
    cnn_params_free(&got);
    free(choice);
    return st;
}
