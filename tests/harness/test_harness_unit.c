/*
 * test_harness_unit.c — unit tests of the harness's pure parts: quartiles,
 * axis lists and number parsing, the sweep plan's skip rules and keys, the
 * verify-before-timing comparison (NaN must fail), summary.csv written and
 * read back, and the JSON writer read back by the JSON reader.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"
#include "csvout.h"
#include "json.h"
#include "params.h"
#include "plan.h"
#include "stats.h"
#include "summary.h"
#include "verify.h"

static int near(double a, double b) { return fabs(a - b) <= 1e-12 * (1 + fabs(b)); }

static void test_stats(void)
{
    /* NumPy: np.percentile([7, 1, 3, 5, 9], [25, 50, 75]) = [3, 5, 7] */
    const double v[] = {7, 1, 3, 5, 9};
    struct stats_summary s;
    stats_summarise(v, 5, &s);
    check(near(s.median, 5) && near(s.q1, 3) && near(s.q3, 7), "quartiles of 5 values: %g %g %g",
          s.q1, s.median, s.q3);
    check(near(s.mean, 5) && near(s.stddev, sqrt(10.0)), "mean %g, sd %g", s.mean, s.stddev);
    check(near(s.min, 1) && near(s.max, 9) && near(s.mad, 2), "min, max, mad");
    /* even count interpolates: [1,2,3,4] -> q1 1.75, median 2.5, q3 3.25 */
    const double w[] = {4, 3, 2, 1};
    stats_summarise(w, 4, &s);
    check(near(s.q1, 1.75) && near(s.median, 2.5) && near(s.q3, 3.25),
          "interpolated quartiles: %g %g %g", s.q1, s.median, s.q3);
    stats_summarise(w, 1, &s);
    check(near(s.median, 4) && s.stddev == 0 && s.n == 1, "one sample");
    stats_summarise(w, 0, &s);
    check(isnan(s.median) && s.n == 0, "no samples gives NaN");
}

static int axis_is(const struct cli_axis *a, int n, const int *v)
{
    if (a->n != n)
        return 0;
    for (int i = 0; i < n; i++)
        if (a->v[i] != v[i])
            return 0;
    return 1;
}

static void test_axes(void)
{
    struct cli_axis a;
    static const int geo[] = {32, 64, 128, 256}, step[] = {1, 4, 7}, list[] = {3, 1, 2};
    static const int mix[] = {1, 2, 3, 4, 16, 32};
    check(cli_parse_axis("f", "32:256:x2", 1, 4096, &a) == CNN_OK && axis_is(&a, 4, geo),
          "32:256:x2");
    check(cli_parse_axis("f", "1:8:+3", 1, 4096, &a) == CNN_OK && axis_is(&a, 3, step), "1:8:+3");
    check(cli_parse_axis("f", "3,1,2,1", 1, 9, &a) == CNN_OK && axis_is(&a, 3, list),
          "a list keeps its order and drops duplicates");
    check(cli_parse_axis("f", "1:4,16:32:x2", 1, 64, &a) == CNN_OK && axis_is(&a, 6, mix),
          "ranges and numbers mixed");
    const char *bad[] = {"", "0", "-1", "a", "1,", ",1", "8:4", "1:8:x1", "1:8:x", "1:8:+0",
                         "1:2:3:4", "1.5", "1e3", "99999999999", "10:20:x2,70", " 5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        check(cli_parse_axis("f", bad[i], 1, 64, &a) == CNN_E_ARG, "rejects '%s'", bad[i]);
    char big[64];
    snprintf(big, sizeof big, "1:%d", CLI_AXIS_MAX + 1);
    check(cli_parse_axis("f", big, 1, 1000, &a) == CNN_E_ARG, "rejects more than %d values",
          CLI_AXIS_MAX);

    int i;
    long l;
    double d;
    uint64_t u;
    check(cli_parse_int("b", "65536", 1, 65536, &i) == CNN_OK && i == 65536, "int at the limit");
    check(cli_parse_int("b", "+5", 1, 10, &i) == CNN_E_ARG, "no explicit plus sign");
    check(cli_parse_long("s", "9223372036854775808", 1, 10, &l) == CNN_E_ARG, "overflow");
    check(cli_parse_positive_double("lr", "0.05", 100, &d) == CNN_OK && d == 0.05, "lr 0.05");
    check(cli_parse_positive_double("lr", "inf", 100, &d) == CNN_E_ARG, "lr inf");
    check(cli_parse_positive_double("lr", "1e-300x", 100, &d) == CNN_E_ARG, "lr junk");
    check(cli_parse_u64("seed", "18446744073709551615", &u) == CNN_OK && u == UINT64_MAX,
          "seed 2^64-1");
    check(cli_parse_u64("seed", "-1", &u) == CNN_E_ARG, "seed -1");
    check(cli_parse_positive_double("lr", ".5", 100, &d) == CNN_OK && d == 0.5, "lr .5");
    check(cli_parse_positive_double("lr", "2E-3", 100, &d) == CNN_OK && d == 2e-3, "lr 2E-3");
    const char *not_decimal[] = {"0x10", "0X1p-3", " 0.1", "1e", ".", "-", "1.5.", "nan", "1e+"};
    for (size_t k = 0; k < sizeof not_decimal / sizeof *not_decimal; k++)
        check(cli_parse_positive_double("lr", not_decimal[k], 100, &d) == CNN_E_ARG &&
                  strstr(cnn_last_error(), "expected a decimal number"),
              "lr '%s' is not a decimal number: %s", not_decimal[k], cnn_last_error());
    const char *out_of_range[] = {"1e-400", "1e400", "0", "-0.1", "100.5"};
    for (size_t k = 0; k < sizeof out_of_range / sizeof *out_of_range; k++)
        check(cli_parse_positive_double("lr", out_of_range[k], 100, &d) == CNN_E_ARG &&
                  strstr(cnn_last_error(), "out of range"),
              "lr %s is out of range: %s", out_of_range[k], cnn_last_error());
    check(cli_parse_positive_double("lr", "1e-50", 100, &d) == CNN_E_ARG &&
              strstr(cnn_last_error(), "too small"),
          "lr 1e-50 would be 0 as a float: %s", cnn_last_error());

    /* a geometric range from 0 never moves (it looped forever) */
    check(cli_parse_axis("gpus", "0:4:x2", 0, 64, &a) == CNN_E_ARG &&
              strstr(cnn_last_error(), "0,1:4:x2"), "0:4:x2: %s", cnn_last_error());
    check(cli_parse_axis("gpus", "0:0:x2", 0, 64, &a) == CNN_E_ARG, "0:0:x2: %s",
          cnn_last_error());
    static const int zero_up[] = {0, 1, 2, 4};
    check(cli_parse_axis("gpus", "0,1:4:x2", 0, 64, &a) == CNN_OK && axis_is(&a, 4, zero_up),
          "0,1:4:x2");
}

/* The scanner refuses an option given twice and an empty value. */
static void test_scan(void)
{
    char *twice[] = {"--batch", "10", "--steps", "3", "--batch=20"};
    struct cli_scan s;
    cli_scan_init(&s, 5, twice, 0);
    int r, seen = 0;
    while ((r = cli_scan_next(&s)) > 0) {
        const char *v;
        check(cli_scan_value(&s, &v) == CNN_OK, "value of --%s", s.name);
        seen++;
    }
    check(r < 0 && seen == 2 && strstr(cnn_last_error(), "--batch is given twice"),
          "a repeated option is an error naming it: %s", cnn_last_error());
    char *empty[] = {"--csv", ""};
    cli_scan_init(&s, 2, empty, 0);
    const char *v;
    check(cli_scan_next(&s) == 1 && cli_scan_value(&s, &v) == CNN_E_ARG &&
              strstr(cnn_last_error(), "--csv: the value is empty"),
          "an empty value is an error: %s", cnn_last_error());
}

/* Minimal backends for the plan: only name, caps and variants matter there. */
static const char *const two_variants[] = {"first", "second"};
static const struct cnn_backend fake_seq = {.name = "seq", .variant_count = 1};
static const struct cnn_backend fake_omp = {.name = "omp", .caps = CNN_CAP_THREADS,
                                            .variant_count = 1};
static const struct cnn_backend fake_gpu = {.name = "gpu", .caps = CNN_CAP_VARIANTS,
                                            .variant_count = 2, .variant_names = two_variants};

static void test_plan(void)
{
    struct plan_block b;
    memset(&b, 0, sizeof b);
    b.name = "t";
    b.impls[0] = &fake_seq;
    b.impls[1] = &fake_omp;
    b.impls[2] = &fake_gpu;
    b.n_impls = 3;
    CHECK_OK(cli_parse_axis("threads", "1,2,4", 1, 64, &b.threads));
    CHECK_OK(cli_parse_axis("variant", "1,2,3", 1, 64, &b.variants));
    CHECK_OK(cli_parse_axis("batch", "10,20", 1, 64, &b.batch));
    CHECK_OK(cli_parse_axis("filters", "4", 1, 64, &b.filters));
    CHECK_OK(cli_parse_axis("steps", "5", 1, 64, &b.length));
    struct plan p;
    CHECK_OK(plan_build(&b, 1, 2, 0, &p));
    /* per rep: seq 1 x 2 batches, omp 3 threads x 2, gpu 2 variants x 2 = 12 */
    check(p.n == 24, "cartesian product with skip rules: %d configurations", p.n);
    /* requested per impl per rep: 3 variants x 3 threads x 2 = 18. None runs as given:
     * seq takes neither axis, omp no variants, gpu no threads; so 3 x 18 are skipped */
    check(p.skipped == 54, "combinations skipped by the rules: %ld", p.skipped);
    check(!strcmp(p.configs[0].key, "seq:v0:t0:b10:f4:s5:r1"), "first key %s", p.configs[0].key);
    check(!strcmp(p.configs[12].key, "seq:v0:t0:b10:f4:s5:r2"),
          "repetitions outermost: %s", p.configs[12].key);
    int threads_ok = 1, variants_ok = 1;
    for (int i = 0; i < p.n; i++) {
        const struct plan_config *c = &p.configs[i];
        threads_ok &= (c->be == &fake_omp) == (c->threads > 0);
        variants_ok &= (c->be == &fake_gpu) == (c->variant > 0) && c->variant <= 2;
    }
    check(threads_ok, "threads only for the backend that takes them");
    check(variants_ok, "variants only where they exist");
    plan_free(&p);

    /* two blocks listing the same configuration run it once */
    struct plan_block two[2] = {b, b};
    two[1].name = "again";
    CHECK_OK(plan_build(two, 2, 1, 1, &p));
    check(p.n == 12 && p.duplicates == 12, "duplicates across blocks: %d, %ld", p.n,
          p.duplicates);
    check(strstr(p.configs[0].key, ":e5:") != NULL, "epoch runs are keyed by e: %s",
          p.configs[0].key);
    plan_free(&p);

    /* a thread count seq cannot take is reported, though seq still runs once */
    struct plan_block one;
    memset(&one, 0, sizeof one);
    one.name = "one";
    one.impls[0] = &fake_seq;
    one.n_impls = 1;
    CHECK_OK(cli_parse_axis("threads", "2", 1, 64, &one.threads));
    CHECK_OK(cli_parse_axis("batch", "10", 1, 64, &one.batch));
    one.filters = one.batch;
    one.length = one.batch;
    CHECK_OK(plan_build(&one, 1, 1, 0, &p));
    check(p.n == 1 && p.skipped == 1 && p.configs[0].threads == 0,
          "seq with --threads 2: runs once, 1 combination skipped: %d, %ld", p.n, p.skipped);
    plan_free(&p);

    /* 3 x 64^4 configurations: refused at once, naming the count and the cap */
    struct plan_block huge = b;
    CHECK_OK(cli_parse_axis("batch", "1:64", 1, 64, &huge.batch));
    huge.filters = huge.batch;
    huge.length = huge.batch;
    huge.threads = huge.batch;
    cnn_status st = plan_build(&huge, 1, 1, 0, &p);
    check(st == CNN_E_ARG && strstr(cnn_last_error(), "100000") &&
              strstr(cnn_last_error(), "configurations") && p.configs == NULL,
          "a plan over the cap is refused: %s", cnn_last_error());
    /* the largest plan allowed, every configuration listed twice: the duplicate
     * check is linear, so this is quick */
    struct plan_block big[2];
    memset(big, 0, sizeof big);
    big[0].name = "big";
    big[0].impls[0] = &fake_omp;
    big[0].n_impls = 1;
    CHECK_OK(cli_parse_axis("threads", "1:50", 1, 64, &big[0].threads));
    CHECK_OK(cli_parse_axis("batch", "1:40", 1, 64, &big[0].batch));
    CHECK_OK(cli_parse_axis("filters", "1:25", 1, 64, &big[0].filters));
    CHECK_OK(cli_parse_axis("steps", "5", 1, 64, &big[0].length));
    big[1] = big[0];
    CHECK_OK(plan_build(big, 2, 1, 0, &p));
    check(p.n == PLAN_MAX_CONFIGS / 2 && p.duplicates == PLAN_MAX_CONFIGS / 2,
          "%d configurations listed twice: %d kept, %ld duplicates", PLAN_MAX_CONFIGS / 2, p.n,
          p.duplicates);
    plan_free(&p);

    struct cli_axis ladder;
    plan_thread_ladder(6, &ladder);
    static const int want[] = {1, 2, 4, 6};
    check(axis_is(&ladder, 4, want), "thread ladder for 6 CPUs");
    struct plan_block blocks[PLAN_MAX_BLOCKS];
    int nb;
    check(plan_preset("quick", 2, blocks, &nb) == CNN_OK && nb > 0, "quick preset");
    check(plan_preset("paper", 2, blocks, &nb) == CNN_OK && nb > 0, "paper preset");
    check(plan_preset("none", 2, blocks, &nb) == CNN_E_ARG, "unknown preset");
}

static void test_verify(void)
{
    struct cnn_params a, b;
    CHECK_OK(cnn_params_alloc(&a, 3));
    CHECK_OK(cnn_params_alloc(&b, 3));
    cnn_params_init(&b, 7);
    cnn_params_copy(&a, &b);
    struct verify_report r;
    verify_params(&a, &b, &r);
    check(r.agree, "identical parameters agree");
    a.fc_w[5] = b.fc_w[5] + 1e-5f * 0.5f;
    verify_params(&a, &b, &r);
    check(r.agree, "a difference within 1e-5 + 1e-4|b| agrees");
    a.fc_w[5] = b.fc_w[5] + 1e-3f;
    verify_params(&a, &b, &r);
    check(!r.agree && strstr(r.detail, "fc_w"), "a larger one fails and names the tensor: %s",
          r.detail);
    cnn_params_copy(&a, &b);
    a.conv_b[1] = NAN;
    verify_params(&a, &b, &r);
    check(!r.agree, "NaN fails");
    a.conv_b[1] = INFINITY;
    verify_params(&a, &b, &r);
    check(!r.agree, "Inf fails");
    cnn_params_free(&a);
    cnn_params_free(&b);
}

static void test_summary_roundtrip(const char *dir)
{
    struct summary_row rows[2];
    memset(rows, 0, sizeof rows);
    for (int i = 0; i < 2; i++) {
        struct summary_row *r = &rows[i];
        snprintf(r->impl, sizeof r->impl, "%s", i ? "omp" : "seq");
        plan_key(r->key, sizeof r->key, r->impl, 0, i, 0, 100, 32, 's', 10, 1);
        r->threads = i;
        r->batch = 100;
        r->filters = 32;
        r->rep = 1;
        r->steps = 10;
        r->epochs = 0.125;
        r->warmup = 2;
        const double v[] = {4, 2, 3, 1};
        stats_summarise(v, 4, &r->t);
        r->t.median *= i ? 0.5 : 1; /* omp twice as fast */
        for (int k = 0; k < CNN_REGION_COUNT; k++)
            r->region_ms[k] = k == CNN_REGION_H2D || k == CNN_REGION_D2H ? NAN : 0.25 * k;
        r->first_warmup_ms = 9;
        r->final_loss = 0.5;
        r->test_accuracy_pct = NAN;
        snprintf(r->verified, sizeof r->verified, "%s", i ? "yes" : "reference");
        snprintf(r->status, sizeof r->status, "ok");
        snprintf(r->timer, sizeof r->timer, "wall");
    }
    snprintf(rows[1].message, sizeof rows[1].message, "a, b");
    char path[4096];
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    CHECK_OK(summary_write(path, rows, 2));
    struct summary_row *back;
    int n;
    CHECK_OK(summary_read(path, &back, &n));
    check(n == 2, "two rows read back");
    check(n == 2 && !strcmp(back[1].key, rows[1].key) && back[1].threads == 1 &&
              back[1].t.median == rows[1].t.median && back[1].t.q3 == rows[1].t.q3 &&
              isnan(back[1].region_ms[CNN_REGION_H2D]) && back[1].region_ms[2] == 0.5 &&
              isnan(back[1].test_accuracy_pct) && !strcmp(back[1].verified, "yes"),
          "fields survive the round trip");
    check(n == 2 && summary_baseline_ms(back, n, &back[1], "seq", -1) == rows[0].t.median,
          "the seq baseline of the omp row is found");
    free(back);
    /* the derived speedup column: seq median 2.5 / omp 1.25 = 2 */
    char *text;
    CHECK_OK(csv_read_file(path, &text, NULL));
    check(strstr(text, ",1,0.5,reference,ok,,wall,") != NULL,
          "seq: speedup_vs_seq 1, speedup_vs_omp_t1 0.5");
    check(strstr(text, ",2,1,yes,ok,a; b,wall,") != NULL,
          "omp t1: speedups 2 and 1, the message's comma sanitised");
    free(text);
    remove(path);
}

static void test_json(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/t.json", dir);
    FILE *fp = fopen(path, "w");
    if (!check(fp != NULL, "open %s", path))
        return;
    struct json_writer w;
    json_begin(&w, fp);
    json_string(&w, "name", "quote \" backslash \\ tab \t end");
    json_array_begin(&w, "argv");
    json_string(&w, NULL, "--batch");
    json_string(&w, NULL, "100,1000");
    json_array_end(&w);
    json_object_begin(&w, "inner");
    json_number(&w, "x", 2.5);
    json_number(&w, "nan", NAN);
    json_object_end(&w);
    check(json_end(&w) == 0, "JSON written");
    fclose(fp);
    char *text;
    CHECK_OK(csv_read_file(path, &text, NULL));
    char s[128];
    check(json_get_string(text, "name", s, sizeof s) == 0 &&
              !strcmp(s, "quote \" backslash \\ tab \t end"),
          "escaped string read back");
    char **argv;
    int argc = json_get_string_array(text, "argv", &argv);
    check(argc == 2 && !strcmp(argv[1], "100,1000"), "string array read back");
    if (argc > 0)
        json_free_strings(argv, argc);
    double x;
    check(json_get_number(text, "x", &x) == 0 && x == 2.5, "number read back");
    check(strstr(text, "\"nan\": null") != NULL, "NaN written as null");
    check(json_get_string(text, "missing", s, sizeof s) != 0, "a missing key is reported");
    free(text);
    remove(path);
}

int main(void)
{
    check_name = "harness-unit";
    char dir[] = "/tmp/cnnbench-unit-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 99;
    }
    test_stats();
    test_axes();
    test_scan();
    test_plan();
    test_verify();
    test_summary_roundtrip(dir);
    test_json(dir);
    rmdir(dir);
    return check_finish();
}
