/*
 * test_params.c — the canonical parameter files and the seeding contract:
 *   - .npy round trip is bit-exact, and the header is NumPy format 1.0 with
 *     the data 64-byte aligned;
 *   - a file of the wrong shape or length, or a missing one, is rejected
 *     with a message naming it;
 *   - the header is parsed as the dictionary it is: exactly descr,
 *     fortran_order and shape, each once, so '<f4' inside another key or a
 *     shape in a comment-like string does not pass;
 *   - NaN or Inf in a loaded file is rejected naming file, tensor and index;
 *   - parameters saved after step k and loaded into a fresh state reproduce
 *     step k+1 exactly;
 *   - the same seed gives the same initial parameters and the same trained
 *     parameters, another seed other ones; the draw is ~N(0, 0.1^2).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cnn.h"
#include "npy.h"
#include "params.h"
#include "sampler.h"
#include "step.h"

static char tmpdir[] = "/tmp/cnnbench-params-XXXXXX";

static void check_round_trip(void)
{
    struct cnn_params a, b, c;
    CHECK_OK(cnn_params_alloc(&a, 6));
    CHECK_OK(cnn_params_alloc(&b, 6));
    CHECK_OK(cnn_params_alloc(&c, 7));
    cnn_params_init(&a, 5);
    char dir[256], path[512];
    snprintf(dir, sizeof dir, "%s/rt", tmpdir);
    CHECK_OK(cnn_params_save(dir, &a));
    CHECK_OK(cnn_params_load(dir, &b));
    check(memcmp(a.buf, b.buf, a.count * sizeof *a.buf) == 0, "npy round trip is bit-exact");

    snprintf(path, sizeof path, "%s/fc_w.npy", dir);
    FILE *fp = fopen(path, "rb");
    unsigned char head[10];
    char header[256] = {0};
    int ok = fp && fread(head, 1, sizeof head, fp) == sizeof head &&
             memcmp(head, "\x93NUMPY\x01\x00", 8) == 0;
    check(ok, "fc_w.npy starts with the NumPy 1.0 magic");
    size_t header_len = ok ? (size_t)head[8] | (size_t)head[9] << 8 : 0;
    ok = ok && header_len < sizeof header && fread(header, 1, header_len, fp) == header_len;
    check(ok && strstr(header, "'shape': (10, 1014)") && strstr(header, "'<f4'") &&
              (sizeof head + header_len) % 64 == 0,
          "fc_w.npy header: shape (10, 1014), <f4, data 64-byte aligned: %s", header);
    if (fp)
        fclose(fp);

    /* NumPy writes a 1-tuple as "(6,)"; np.load compares the text */
    char path_b[512];
    snprintf(path_b, sizeof path_b, "%s/conv_b.npy", dir);
    fp = fopen(path_b, "rb");
    memset(header, 0, sizeof header);
    ok = fp && fread(header, 1, sizeof header - 1, fp) > 0;
    check(ok && strstr(header + sizeof head, "'shape': (6,)"),
          "conv_b.npy header writes the 1-D shape as NumPy does: (6,)");
    if (fp)
        fclose(fp);

    cnn_status st = cnn_params_load(dir, &c);
    check(st == CNN_E_DATA && strstr(cnn_last_error(), "conv_w.npy") &&
              strstr(cnn_last_error(), "shape"),
          "6-filter files into a 7-filter model: rejected naming file and shape: %s",
          cnn_last_error());

    check(truncate(path, 200) == 0, "truncate fc_w.npy to 200 bytes");
    st = cnn_params_load(dir, &b);
    check(st == CNN_E_DATA && strstr(cnn_last_error(), "truncated"),
          "a truncated fc_w.npy is rejected: %s", cnn_last_error());

    st = cnn_params_load("/nonexistent/cnnbench", &b);
    check(st == CNN_E_IO && strstr(cnn_last_error(), "/nonexistent/cnnbench/conv_w.npy"),
          "a missing file is an I/O error naming it: %s", cnn_last_error());
    cnn_params_free(&a);
    cnn_params_free(&b);
    cnn_params_free(&c);
}

/* Writes a .npy file holding `dict` as its header and two floats, with the
 * header padded as NumPy pads it; returns cnn_npy_read's status for shape (2,). */
static cnn_status read_with_header(const char *dict)
{
    char path[512], header[512];
    cnn_clear_error();
    snprintf(path, sizeof path, "%s/hdr.npy", tmpdir);
    size_t dlen = strlen(dict), pad = (64 - (10 + dlen + 1) % 64) % 64;
    memcpy(header, dict, dlen);
    memset(header + dlen, ' ', pad);
    header[dlen + pad] = '\n';
    size_t hlen = dlen + pad + 1;
    unsigned char prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                                (unsigned char)(hlen >> 8)};
    float two[2] = {1.0f, 2.0f}, got[2];
    FILE *fp = fopen(path, "wb");
    int ok = fp && fwrite(prefix, 1, 10, fp) == 10 && fwrite(header, 1, hlen, fp) == hlen &&
             fwrite(two, sizeof *two, 2, fp) == 2;
    if (fp)
        ok = fclose(fp) == 0 && ok;
    if (!ok)
        return CNN_E_IO;
    size_t shape[1] = {2};
    return cnn_npy_read(path, got, shape, 1);
}

static void check_headers(void)
{
    static const char *const good[] = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
        "{\"shape\": (2,), \"descr\": \"<f4\", \"fortran_order\": False}",
    };
    static const struct { const char *dict, *why; } bad[] = {
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", "dtype"},
        {"{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", "dtype"},
        {"{'descr' '<f4', 'fortran_order': False, 'shape': (2,)}", "expected ':'"},
        {"{'x': \"'descr': '<f4'\", 'descr': '<i4', 'fortran_order': False, 'shape': (2,)}",
         "unknown key"},
        {"{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", "C order"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", "(N,)"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", "shape (1, 2)"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", "twice"},
        {"{'descr': '<f4', 'shape': (2,)}", "lacks 'fortran_order'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", "followed by"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
         "too large"},
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        cnn_status st = read_with_header(good[i]);
        check(st == CNN_OK, "header accepted: %s (%s)", good[i], cnn_last_error());
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cnn_status st = read_with_header(bad[i].dict);
        check(st == CNN_E_DATA && strstr(cnn_last_error(), "hdr.npy") &&
                  strstr(cnn_last_error(), bad[i].why),
              "header rejected (%s): %s -> %s", bad[i].why, bad[i].dict, cnn_last_error());
    }
}

static void check_nonfinite(void)
{
    struct cnn_params a, b;
    CHECK_OK(cnn_params_alloc(&a, 3));
    CHECK_OK(cnn_params_alloc(&b, 3));
    cnn_params_init(&a, 9);
    char dir[256], where[64];
    snprintf(dir, sizeof dir, "%s/nonfinite", tmpdir);
    a.conv_b[1] = NAN;
    a.fc_w[5] = INFINITY;
    CHECK_OK(cnn_params_save(dir, &a));
    cnn_status st = cnn_params_load(dir, &b);
    check(st == CNN_E_DATA && strstr(cnn_last_error(), "nonfinite/conv_b.npy: conv_b[1] is nan") &&
              strstr(cnn_last_error(), "2 non-finite values"),
          "NaN and Inf in loaded parameters are rejected, the first named: %s", cnn_last_error());

    const char *t = cnn_params_locate(&a, 2 * CNN_KTAPS + 7, where, sizeof where);
    check(!strcmp(t, "conv_w") && !strcmp(where, "conv_w[2][0][2][1]"),
          "canonical index 25 is conv_w[2][0][2][1]: %s", where);
    t = cnn_params_locate(&a, a.count - 1, where, sizeof where);
    check(!strcmp(t, "fc_b") && !strcmp(where, "fc_b[9]"), "the last index is fc_b[9]: %s", where);
    st = cnn_params_require_finite(&a, "after step 3");
    check(st == CNN_E_DIVERGED && strstr(cnn_last_error(), "after step 3, parameter conv_b[1] is nan"),
          "non-finite parameters after a step are a divergence: %s", cnn_last_error());
    cnn_params_free(&a);
    cnn_params_free(&b);
}

/* seq training on a fixed random data set in the sampler's order */
struct trainer {
    const struct cnn_backend *be;
    cnn_state *s;
    struct cnn_sampler sampler;
    float *data, *x;
    uint8_t *labels, *y;
    uint32_t idx[20];
};

enum { T_IMAGES = 300, T_BATCH = 20, T_FILTERS = 4 };

static void trainer_open(struct trainer *t, const struct cnn_params *init)
{
    struct cnn_rng r;
    cnn_rng_seed(&r, 321);
    t->be = cnn_backend_with_cap(CNN_CAP_REFERENCE);
    t->data = malloc((size_t)T_IMAGES * CNN_PIXELS * sizeof *t->data);
    t->labels = malloc(T_IMAGES);
    t->x = malloc((size_t)T_BATCH * CNN_PIXELS * sizeof *t->x);
    t->y = malloc(T_BATCH);
    for (size_t i = 0; i < (size_t)T_IMAGES * CNN_PIXELS; i++)
        t->data[i] = (float)cnn_rng_uniform(&r);
    for (int i = 0; i < T_IMAGES; i++)
        t->labels[i] = (uint8_t)cnn_rng_below(&r, CNN_CLASSES);
    CHECK_OK(cnn_sampler_init(&t->sampler, T_IMAGES, 1, 17));
    struct cnn_config cfg = {.batch = T_BATCH, .filters = T_FILTERS, .lr = 0.1f};
    CHECK_OK(t->be->create(&cfg, &t->s));
    CHECK_OK(t->be->set_params(t->s, init));
}

static void trainer_steps(struct trainer *t, int steps)
{
    for (int k = 0; k < steps; k++) {
        struct cnn_step_result r;
        cnn_sampler_next(&t->sampler, t->idx, T_BATCH);
        cnn_gather(t->data, t->labels, t->idx, T_BATCH, t->x, t->y);
        CHECK_OK(cnn_step(t->be, t->s, t->x, t->y, T_BATCH, &r));
    }
}

static void trainer_close(struct trainer *t)
{
    t->be->destroy(t->s);
    cnn_sampler_free(&t->sampler);
    free(t->data);
    free(t->labels);
    free(t->x);
    free(t->y);
}

static void check_resume_exact(void)
{
    enum { K = 5 };
    struct cnn_params init, saved, direct, resumed;
    CHECK_OK(cnn_params_alloc(&init, T_FILTERS));
    CHECK_OK(cnn_params_alloc(&saved, T_FILTERS));
    CHECK_OK(cnn_params_alloc(&direct, T_FILTERS));
    CHECK_OK(cnn_params_alloc(&resumed, T_FILTERS));
    cnn_params_init(&init, 8);
    char dir[256];
    snprintf(dir, sizeof dir, "%s/step%d", tmpdir, K);

    struct trainer a, b;
    trainer_open(&a, &init);
    trainer_steps(&a, K);
    CHECK_OK(a.be->get_params(a.s, &saved));
    CHECK_OK(cnn_params_save(dir, &saved));
    trainer_steps(&a, 1);
    CHECK_OK(a.be->get_params(a.s, &direct));

    /* a fresh run: same data, batch order advanced K steps, parameters from the files */
    CHECK_OK(cnn_params_load(dir, &resumed));
    trainer_open(&b, &resumed);
    for (int k = 0; k < K; k++)
        cnn_sampler_next(&b.sampler, b.idx, T_BATCH);
    trainer_steps(&b, 1);
    CHECK_OK(b.be->get_params(b.s, &resumed));
    check(memcmp(direct.buf, resumed.buf, direct.count * sizeof *direct.buf) == 0,
          "parameters saved after step %d and loaded reproduce step %d bit for bit", K, K + 1);
    check(memcmp(direct.buf, saved.buf, direct.count * sizeof *direct.buf) != 0,
          "step %d changed the parameters (the comparison is not vacuous)", K + 1);
    trainer_close(&a);
    trainer_close(&b);
    cnn_params_free(&init);
    cnn_params_free(&saved);
    cnn_params_free(&direct);
    cnn_params_free(&resumed);
}

static void check_seeds(void)
{
    struct cnn_params a, b, c;
    CHECK_OK(cnn_params_alloc(&a, 32));
    CHECK_OK(cnn_params_alloc(&b, 32));
    CHECK_OK(cnn_params_alloc(&c, 32));
    cnn_params_init(&a, 1);
    cnn_params_init(&b, 1);
    cnn_params_init(&c, 2);
    check(memcmp(a.buf, b.buf, a.count * sizeof *a.buf) == 0, "same seed, same parameters");
    check(memcmp(a.buf, c.buf, a.count * sizeof *a.buf) != 0, "other seed, other parameters");
    double sum = 0.0, sq = 0.0;
    for (size_t i = 0; i < a.count; i++) {
        sum += a.buf[i];
        sq += (double)a.buf[i] * a.buf[i];
    }
    double mean = sum / a.count, sd = sqrt(sq / a.count - mean * mean);
    /* 54k draws: standard errors are about 4e-4 for the mean, 3e-4 for the sd */
    check(fabs(mean) < 3e-3 && fabs(sd - CNN_INIT_STDDEV) < 3e-3,
          "initial parameters ~ N(0, 0.1^2): mean %.5f, sd %.5f over %zu", mean, sd, a.count);
    cnn_params_free(&a);
    cnn_params_free(&b);
    cnn_params_free(&c);

    struct cnn_params init, p1, p2;
    CHECK_OK(cnn_params_alloc(&init, T_FILTERS));
    CHECK_OK(cnn_params_alloc(&p1, T_FILTERS));
    CHECK_OK(cnn_params_alloc(&p2, T_FILTERS));
    cnn_params_init(&init, 3);
    struct trainer t1, t2;
    trainer_open(&t1, &init);
    trainer_open(&t2, &init);
    trainer_steps(&t1, 8);
    trainer_steps(&t2, 8);
    CHECK_OK(t1.be->get_params(t1.s, &p1));
    CHECK_OK(t2.be->get_params(t2.s, &p2));
    check(memcmp(p1.buf, p2.buf, p1.count * sizeof *p1.buf) == 0,
          "two 8-step runs with the same seed: bitwise identical parameters");
    trainer_close(&t1);
    trainer_close(&t2);
    cnn_params_free(&init);
    cnn_params_free(&p1);
    cnn_params_free(&p2);
}

int main(void)
{
    check_name = "params";
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    check_round_trip();
    check_headers();
    check_nonfinite();
    check_resume_exact();
    check_seeds();
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", tmpdir);
    return check_finish();
}
