/* verify.c — one-step agreement with the reference backend, checked before a backend is timed. */
#include "verify.h"

#include <stdio.h>

#include "agree.h"
#include "error.h"
#include "params.h"
#include "step.h"

void verify_params(const struct cnn_params *got, const struct cnn_params *ref,
                   struct verify_report *rep)
{
    rep->agree = cnn_agree_params(got, ref) == CNN_OK;
    snprintf(rep->detail, sizeof rep->detail, "%s", rep->agree ? "" : cnn_last_error());
}

/* One step of be on state from init; leaves the stepped parameters in out. */
static cnn_status step_once(const struct cnn_backend *be, cnn_state *state,
                            const struct cnn_params *init, const float *x, const uint8_t *y,
                            int n, struct cnn_params *out)
{
    struct cnn_step_result r;
    CNN_TRY(be->set_params(state, init));
    CNN_TRY(cnn_step(be, state, x, y, n, &r));
    return be->get_params(state, out);
}

cnn_status verify_reference_step(const struct cnn_config *cfg, const struct cnn_params *init,
                                 const float *x, const uint8_t *y, int n,
                                 struct cnn_params *ref)
{
    const struct cnn_backend *seq = cnn_backend_find("seq");
    if (!seq)
        return cnn_fail(CNN_E_ARG, "the reference backend seq is not in this build");
    struct cnn_config c = *cfg;
    c.threads = 0;
    c.variant = 0;
    c.gpus = 0;
    cnn_state *state = NULL;
    CNN_TRY(seq->create(&c, &state));
    cnn_status st = step_once(seq, state, init, x, y, n, ref);
    seq->destroy(state);
    if (st != CNN_OK)
        return cnn_fail_context(st, "reference step of seq");
    return CNN_OK;
}

cnn_status verify_backend_step(const struct cnn_backend *be, cnn_state *state,
                               const struct cnn_params *init, const float *x, const uint8_t *y,
                               int n, const struct cnn_params *ref, struct verify_report *rep)
{
    struct cnn_params got;
    CNN_TRY(cnn_params_alloc(&got, init->filters));
    cnn_status st = step_once(be, state, init, x, y, n, &got);
    if (st == CNN_OK)
        verify_params(&got, ref, rep);
    cnn_params_free(&got);
    return st;
}

cnn_status verify_against_seq(const struct cnn_backend *be, const struct cnn_config *cfg,
                              const struct cnn_params *init, const float *x, const uint8_t *y,
                              int n, struct verify_report *rep)
{
    struct cnn_params ref;
    CNN_TRY(cnn_params_alloc(&ref, cfg->filters));
    cnn_status st = verify_reference_step(cfg, init, x, y, n, &ref);
    cnn_state *state = NULL;
    if (st == CNN_OK)
        st = be->create(cfg, &state);
    if (st == CNN_OK) {
        st = verify_backend_step(be, state, init, x, y, n, &ref, rep);
        be->destroy(state);
    }
    cnn_params_free(&ref);
    return st;
}
