/*
 * test_compare_unit.c — the statistics behind `cnnbench compare`, checked
 * against values worked out by hand: the Mann-Whitney U p-value (with and
 * without ties), the bootstrap interval of the median ratio (exact cases,
 * even-sized medians, reproducibility), and the verdict rules on small
 * constructed samples; then the --json document of the command itself,
 * parsed back with jansson. The other CLI cases are in test_compare.sh.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "compare.h"

static int near(double a, double b, double tol) { return fabs(a - b) <= tol; }

static void test_mann_whitney(void)
{
    /* x = 1..5, y = 6..10: U = 0, mean 12.5, variance 25 * 11 / 12;
     * z = (12.5 - 0.5) / sqrt(22.9167) = 2.5067, p = erfc(z / sqrt 2). */
    const double x[] = {1, 2, 3, 4, 5}, y[] = {6, 7, 8, 9, 10};
    double p = compare_mann_whitney_p(x, 5, y, 5);
    check(near(p, 0.012185780355344818, 1e-12), "U test, separated samples: p = %.12f", p);
    check(near(compare_mann_whitney_p(y, 5, x, 5), p, 1e-15), "U test is symmetric");

    /* Ties: ranks 1, 3, 3, 3, 6, 6, 6, 8.5, 8.5, 10, 11; R_x = 23, U = 8,
     * tie sum 24 + 24 + 6 = 54, variance 2.5 * (12 - 54/110) = 28.7727,
     * z = 6.5 / 5.3640, p = 0.2256. */
    const double a[] = {1, 2, 2, 3, 7}, b[] = {2, 3, 3, 4, 4, 9};
    p = compare_mann_whitney_p(a, 5, b, 6);
    check(near(p, 0.22559760855754862, 1e-12), "U test with ties: p = %.12f", p);

    const double same[] = {1, 1, 1, 1};
    p = compare_mann_whitney_p(same, 4, same, 3);
    check(p == 1.0, "all values tied: p = 1 (got %g)", p);
    check(isnan(compare_mann_whitney_p(same, 0, same, 3)), "an empty side gives NaN");
}

static void test_bootstrap(void)
{
    double lo = NAN, hi = NAN;
    /* Constant samples: every resample has the same medians. */
    const double base[] = {2, 2, 2, 2}, twice[] = {4, 4, 4};
    int rc = compare_bootstrap_ratio(base, 4, twice, 3, 500, 0.95, 7, &lo, &hi);
    check(rc == 0 && lo == 2.0 && hi == 2.0, "constant samples: interval [%g, %g] is exactly 2",
          lo, hi);

    /* NEW = {3, 5}: resampled medians are 3, 4, 4, 5 (an even count averages
     * the middle pair), so the ratio to 2 spans [1.5, 2.5] and no other
     * values than 1.5, 2 and 2.5 occur. */
    const double one[] = {2}, pair[] = {3, 5};
    compare_bootstrap_ratio(one, 1, pair, 2, 4000, 0.95, 11, &lo, &hi);
    check(lo == 1.5 && hi == 2.5, "even-sized median: interval [%g, %g] = [1.5, 2.5]", lo, hi);

    /* Reproducible: the same seed gives the same interval; the seed is
     * used: of ten other seeds, some give another interval (the medians of
     * these samples take few values, so a single other seed may by chance
     * land on the same quantiles). */
    double v1[40], v2[40];
    for (int i = 0; i < 40; i++) {
        v1[i] = 1.0 + 0.01 * ((i * 17) % 13);
        v2[i] = 1.1 + 0.01 * ((i * 7) % 11);
    }
    double lo2, hi2, lo3, hi3;
    compare_bootstrap_ratio(v1, 40, v2, 40, 2000, 0.95, 42, &lo, &hi);
    compare_bootstrap_ratio(v1, 40, v2, 40, 2000, 0.95, 42, &lo2, &hi2);
    check(lo == lo2 && hi == hi2, "same seed, same interval [%.6f, %.6f]", lo, hi);
    check(lo < hi && lo > 1.0 && hi < 1.25, "interval [%.4f, %.4f] brackets the ratio", lo, hi);
    int other = 0;
    for (uint64_t seed = 43; seed < 53; seed++) {
        compare_bootstrap_ratio(v1, 40, v2, 40, 2000, 0.95, seed, &lo3, &hi3);
        other += lo3 != lo || hi3 != hi;
    }
    check(other > 0, "other seeds, other draws: %d of 10 intervals differ", other);
}

/* n samples around `center`, spread +-spread in a fixed zig-zag. */
static void fill(double *v, int n, double center, double spread, int phase)
{
    for (int i = 0; i < n; i++)
        v[i] = center * (1.0 + spread * (((i * 7 + phase) % 11) - 5) / 5.0);
}

static void test_verdicts(void)
{
    struct compare_settings s;
    compare_default_settings(&s);
    struct compare_result r;
    double b[30], n[30];

    fill(b, 30, 1.0, 0.02, 0);
    fill(n, 30, 1.10, 0.02, 3);
    compare_samples(b, 30, n, 30, &s, "k", &r);
    check(r.verdict == COMPARE_SLOWER, "+10%%: %s (%s), ratio %.3f [%.3f, %.3f]",
          compare_verdict_name(r.verdict), r.reason, r.ratio, r.lo, r.hi);

    fill(n, 30, 0.80, 0.02, 3);
    compare_samples(b, 30, n, 30, &s, "k", &r);
    check(r.verdict == COMPARE_FASTER, "-20%%: %s (%s)", compare_verdict_name(r.verdict),
          r.reason);

    fill(n, 30, 1.0, 0.02, 5);
    compare_samples(b, 30, n, 30, &s, "k", &r);
    check(r.verdict == COMPARE_SAME, "same distribution: %s (%s)",
          compare_verdict_name(r.verdict), r.reason);

    /* +10% but a threshold of 20%: a real change, yet within the threshold. */
    struct compare_settings wide = s;
    wide.threshold = 0.20;
    fill(n, 30, 1.10, 0.02, 3);
    compare_samples(b, 30, n, 30, &wide, "k", &r);
    check(r.verdict == COMPARE_SAME, "+10%% with a 20%% threshold: %s (%s)",
          compare_verdict_name(r.verdict), r.reason);

    /* +5.5% against 5%: slower, but the interval reaches below 1.05. */
    fill(n, 30, 1.055, 0.02, 3);
    compare_samples(b, 30, n, 30, &s, "k", &r);
    check(r.verdict == COMPARE_UNCLEAR, "+5.5%% against 5%%: %s (%s)",
          compare_verdict_name(r.verdict), r.reason);

    fill(n, 30, 2.0, 0.02, 3);
    compare_samples(b, 8, n, 8, &s, "k", &r);
    check(r.verdict == COMPARE_UNCLEAR && strstr(r.reason, "too few"),
          "8 samples a side, even at 2x: %s (%s)", compare_verdict_name(r.verdict), r.reason);

    fill(b, 30, 0.001, 0.02, 0);
    fill(n, 30, 0.004, 0.02, 3);
    compare_samples(b, 30, n, 30, &s, "k", &r);
    check(r.verdict == COMPARE_UNCLEAR && strstr(r.reason, "floor"),
          "microsecond medians under the floor: %s (%s)", compare_verdict_name(r.verdict),
          r.reason);

    /* Same center, spread +-40%: inside the threshold by the interval, maybe,
     * but far above the noise ceiling: never SAME. */
    fill(b, 30, 1.0, 0.4, 0);
    fill(n, 30, 1.0, 0.4, 3);
    compare_samples(b, 30, n, 30, &s, "k", &r);
    check(r.verdict == COMPARE_UNCLEAR, "+-40%% noise: %s (%s)", compare_verdict_name(r.verdict),
          r.reason);

    /* Instruction-count-like data: identical values on both sides. */
    for (int i = 0; i < 30; i++)
        b[i] = n[i] = 12.5;
    compare_samples(b, 30, n, 30, &s, "k", &r);
    check(r.verdict == COMPARE_SAME && r.lo == 1.0 && r.hi == 1.0 && r.p == 1.0,
          "identical constant samples: %s, [%g, %g], p %g", compare_verdict_name(r.verdict),
          r.lo, r.hi, r.p);
}

/* A run directory: one configuration's 30 step times around `center` (the
 * fill() zig-zag), a summary.csv that says it finished, and a meta.json
 * whose CPU model is `cpu`. */
static int write_run(const char *dir, double center, int phase, const char *cpu)
{
    char path[4200];
    if (mkdir(dir, 0700) != 0)
        return -1;
    double v[30];
    fill(v, 30, center, 0.02, phase);
    snprintf(path, sizeof path, "%s/steps.csv", dir);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return -1;
    fprintf(fp, "config_key,impl,variant,threads,batch,filters,rep,step,region,time_ms,loss,"
                "batch_accuracy_pct,timer\n");
    for (int i = 0; i < 30; i++)
        fprintf(fp, "seq:v0:t0:b20:f4:s30:r1,seq,0,0,20,4,1,%d,step,%.9g,2.3,10,wall\n", i + 1,
                v[i]);
    fclose(fp);
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    fp = fopen(path, "w");
    if (!fp)
        return -1;
    fprintf(fp, "config_key,impl,variant,threads,batch,filters,rep,n_steps,median_step_ms,"
                "status,message,timer\n"
                "seq:v0:t0:b20:f4:s30:r1,seq,0,0,20,4,1,30,%.9g,ok,,wall\n", center);
    fclose(fp);
    json_t *meta = json_pack("{s:i, s:s, s:{s:s, s:s, s:s}, s:{s:s}, s:[]}", "schema_version", 1,
                             "tool", "cnnbench", "build", "c_compiler", "gcc 12.2.0", "buildtype",
                             "release", "flags", "optimization=3", "host", "cpu_model", cpu,
                             "gpus");
    snprintf(path, sizeof path, "%s/meta.json", dir);
    int rc = meta ? json_dump_file(meta, path, JSON_INDENT(2)) : -1;
    json_decref(meta);
    return rc;
}

/* Runs `cnnbench compare [--force] --json FILE BASE NEW` in this process and
 * parses FILE with jansson; NULL if it is missing or not JSON. */
static json_t *compare_to_json(const char *dir, const char *base, const char *new_, int force,
                               enum cli_outcome *outcome)
{
    char json[4200], b[4200], n[4200];
    snprintf(json, sizeof json, "%s/verdicts.json", dir);
    snprintf(b, sizeof b, "%s/%s", dir, base);
    snprintf(n, sizeof n, "%s/%s", dir, new_);
    remove(json);
    char *argv[] = {"--json", json, b, n, "--force"};
    *outcome = compare_command(force ? 5 : 4, argv);
    json_error_t err;
    json_t *doc = json_load_file(json, JSON_REJECT_DUPLICATES, &err);
    if (!doc)
        printf("    %s: line %d: %s\n", json, err.line, err.text);
    return doc;
}

static const char *text_at(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "(missing)";
}

static void test_json_output(void)
{
    char dir[] = "/tmp/cnnbench-compare-unit-XXXXXX";
    if (!check(mkdtemp(dir) != NULL, "scratch directory"))
        return;
    char run[4200];
    int made = 0;
    snprintf(run, sizeof run, "%s/base", dir);
    made |= write_run(run, 1.0, 0, "Intel(R) Xeon(R) Processor");
    snprintf(run, sizeof run, "%s/slower", dir);
    made |= write_run(run, 1.10, 3, "Intel(R) Xeon(R) Processor");
    snprintf(run, sizeof run, "%s/amd", dir);
    made |= write_run(run, 1.10, 3, "AMD EPYC 7B13 64-Core Processor");
    if (!check(made == 0, "three run directories written"))
        return;

    enum cli_outcome outcome;
    json_t *doc = compare_to_json(dir, "base", "slower", 0, &outcome);
    check(outcome == CLI_FAILED && doc, "+10%% on the same machine: a regression, and the "
          "--json file parses");
    const json_t *lines = json_object_get(doc, "configurations");
    const json_t *line = json_array_get(lines, 0);
    const json_t *interval = json_object_get(line, "interval");
    double mb = json_number_value(json_object_get(line, "median_base_ms"));
    double mn = json_number_value(json_object_get(line, "median_new_ms"));
    double ratio = json_number_value(json_object_get(line, "ratio"));
    double lo = json_number_value(json_array_get(interval, 0));
    double hi = json_number_value(json_array_get(interval, 1));
    check(json_array_size(lines) == 1 &&
              !strcmp(text_at(line, "key"), "seq:v0:t0:b20:f4:s30") &&
              !strcmp(text_at(line, "verdict"), "SLOWER"),
          "one configuration, %s, %s", text_at(line, "key"), text_at(line, "verdict"));
    check(near(mb, 1.0, 0.01) && near(mn, 1.10, 0.011) && near(ratio, mn / mb, 1e-9) &&
              json_array_size(interval) == 2 && lo > 1.05 && lo <= ratio && ratio <= hi,
          "medians %g and %g ms, ratio %g in [%g, %g]", mb, mn, ratio, lo, hi);
    check(json_integer_value(json_object_get(line, "n_base")) == 30 &&
              json_integer_value(json_object_get(line, "n_new")) == 30 &&
              json_number_value(json_object_get(line, "p")) < 0.05,
          "30 samples a side, p < 0.05");
    const json_t *facts = json_object_get(doc, "machine_and_build");
    check(!strcmp(text_at(doc, "result"), "regression") &&
              json_integer_value(json_object_get(doc, "exit_status")) == 1 &&
              json_integer_value(json_object_get(json_object_get(doc, "counts"), "SLOWER")) == 1 &&
              json_is_true(json_object_get(facts, "checked")) &&
              json_array_size(json_object_get(facts, "differences")) == 0,
          "result %s, exit_status 1, one SLOWER, machine checked and the same",
          text_at(doc, "result"));
    json_decref(doc);

    doc = compare_to_json(dir, "base", "amd", 0, &outcome);
    facts = json_object_get(doc, "machine_and_build");
    const json_t *diff = json_array_get(json_object_get(facts, "differences"), 0);
    check(outcome == CLI_INCOMPARABLE && !strcmp(text_at(doc, "result"), "incomparable") &&
              json_integer_value(json_object_get(doc, "exit_status")) == 3 &&
              json_array_size(json_object_get(doc, "configurations")) == 0,
          "another CPU: incomparable, exit_status 3, no verdicts (got %s)",
          text_at(doc, "result"));
    check(json_array_size(json_object_get(facts, "differences")) == 1 &&
              !strcmp(text_at(diff, "fact"), "CPU model") &&
              !strcmp(text_at(diff, "base"), "Intel(R) Xeon(R) Processor") &&
              !strcmp(text_at(diff, "new"), "AMD EPYC 7B13 64-Core Processor"),
          "the difference: %s, '%s' vs '%s'", text_at(diff, "fact"), text_at(diff, "base"),
          text_at(diff, "new"));
    json_decref(doc);

    doc = compare_to_json(dir, "base", "amd", 1, &outcome);
    facts = json_object_get(doc, "machine_and_build");
    line = json_array_get(json_object_get(doc, "configurations"), 0);
    check(outcome == CLI_FAILED && json_is_true(json_object_get(facts, "forced")) &&
              json_array_size(json_object_get(facts, "differences")) == 1 &&
              !strcmp(text_at(line, "verdict"), "SLOWER"),
          "--force: compared (%s), the difference still recorded", text_at(line, "verdict"));
    json_decref(doc);

    const char *names[] = {"base", "slower", "amd"}, *files[] = {"steps.csv", "summary.csv",
                                                                 "meta.json"};
    for (int i = 0; i < 3; i++) {
        for (int f = 0; f < 3; f++) {
            snprintf(run, sizeof run, "%s/%s/%s", dir, names[i], files[f]);
            remove(run);
        }
        snprintf(run, sizeof run, "%s/%s", dir, names[i]);
        rmdir(run);
    }
    snprintf(run, sizeof run, "%s/verdicts.json", dir);
    remove(run);
    rmdir(dir);
}

int main(void)
{
    check_name = "compare-unit";
    test_mann_whitney();
    test_bootstrap();
    test_verdicts();
    test_json_output();
    return check_finish();
}
