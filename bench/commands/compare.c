/*
 * compare.c — `cnnbench compare BASE NEW`: reads the step times of two runs
 * (run directories, steps.csv or summary.csv files), pairs their
 * configurations, and gives each a verdict SAME, FASTER, SLOWER or UNCLEAR
 * with the ratio of medians and its bootstrap interval. Exits non-zero when a
 * configuration is SLOWER beyond the threshold, so CI can gate on it.
 *
 * Inputs are checked strictly: a file that is missing, empty, binary, cut
 * short, has a malformed row or a row repeated is an error naming the file
 * and line, never a verdict, because a gate fed half a file (or one file and
 * a half) would otherwise say SAME.
 *
 * Runs are compared only when their meta.json agree on the machine and the
 * build (CPU and GPU model, driver, compiler, flags, NCCL): otherwise the
 * ratio measures the machine, not the code, and compare exits 3 naming each
 * difference unless --force. --json writes the verdicts for CI.
 *
 * This file holds the options, the table, the --json document and the
 * command; compare_runs.h lists the other parts.
 */
#include "compare.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare_runs.h"
#include "csvout.h"
#include "error.h"
#include "json.h"

static const char compare_help[] =
    "Usage: cnnbench compare [OPTIONS] BASE NEW\n"
    "\n"
    "Compares the step times of two runs, configuration by configuration, and\n"
    "says whether NEW is the SAME as BASE, FASTER, SLOWER or UNCLEAR. Runs from\n"
    "different machines or builds are refused: their ratio measures the machine,\n"
    "not the code.\n"
    "\n"
    "  BASE, NEW   run directories (samples: every timed step in steps.csv; the\n"
    "              status of each configuration: summary.csv), or two steps.csv\n"
    "              files (cnnbench train --csv), or two summary.csv files (one\n"
    "              sample per repetition: its median; needs --reps >= 9).\n"
    "              steps.csv.gz and summary.csv.gz are read as they are (the runs\n"
    "              under results/published/ keep steps.csv gzipped).\n"
    "  A configuration is the config_key without its repetition (:rN): the\n"
    "  repetitions of a run are pooled. A row that appears twice (the same\n"
    "  config_key, step and region; in summary.csv the same config_key) is an\n"
    "  error, not one more sample.\n"
    "\n"
    "Machine and build. Each run's meta.json (in the run directory, or beside the\n"
    "CSV file) records what its times depend on besides the code. compare checks\n"
    "that both runs have the same CPU model, GPU model, GPU driver, C compiler,\n"
    "build type, build flags and NCCL version; if any differs it names each with\n"
    "both values and exits 3 without a verdict. A fact one meta.json does not\n"
    "record (an older run) is named, not refused; where a run has no meta.json\n"
    "the check is skipped and the table says so.\n"
    "\n"
    "Verdicts. Each configuration starts UNCLEAR and is upgraded only on evidence:\n"
    "  ratio     median(NEW) / median(BASE), with a 95% percentile bootstrap\n"
    "            interval [lo, hi] (seeded: the same inputs give the same table)\n"
    "  SLOWER    lo > 1 + threshold, Mann-Whitney U p < 0.05, and the medians\n"
    "            differ by at least the floor\n"
    "  FASTER    hi < 1 - threshold, p < 0.05, difference at least the floor\n"
    "  SAME      1 - threshold <= lo and hi <= 1 + threshold, and both runs'\n"
    "            IQR / median at most the noise ceiling\n"
    "  UNCLEAR   anything else: fewer than 9 samples on a side, a median below\n"
    "            the floor, an interval across the threshold, noisy samples,\n"
    "            a configuration that did not finish, or different timers\n"
    "\n"
    "Options:\n"
    "  --threshold PCT   relative change that matters, in percent (default 5)\n"
    "  --floor-ms MS     medians and differences below this say nothing\n"
    "                    (default 0.005)\n"
    "  --max-noise PCT   noise ceiling for SAME: IQR / median (default 10)\n"
    "  --region NAME     compare this region instead of the whole step (conv_fwd,\n"
    "                    fc_fwd, ..., as in steps.csv)\n"
    "  --resamples N     bootstrap resamples (default 2000)\n"
    "  --seed S          bootstrap seed (default 1)\n"
    "  --force           compare runs of different machines or builds anyway; the\n"
    "                    table then starts with a warning listing the differences\n"
    "  --json FILE       also write the result as JSON for CI: per configuration\n"
    "                    key, verdict, reason, sample counts, medians (ms), ratio,\n"
    "                    interval, p; the differing facts; the overall \"result\"\n"
    "                    (no_regression, regression, incomparable, error) and\n"
    "                    \"exit_status\". FILE - writes it to standard output and\n"
    "                    moves the table to standard error.\n"
    "  --help            this text\n"
    "\n"
    "Exit status:\n"
    "  0  no configuration SLOWER\n"
    "  1  a configuration is SLOWER by more than the threshold (the message names it)\n"
    "  2  bad command line, or an input missing, unreadable or malformed (a CSV\n"
    "     row or meta.json; the message names the file and line), or nothing to\n"
    "     compare\n"
    "  3  not comparable: the runs come from different machines or builds (the\n"
    "     output lists each differing fact with both values; --force compares)\n"
    "\n"
    "Examples:\n"
    "  cnnbench compare results/baseline/h100 results/20250131-120000-quick\n"
    "  cnnbench compare --threshold 10 old/steps.csv new/steps.csv\n"
    "  cnnbench compare --json verdicts.json results/published/h100-cuda results/mine\n";

struct compare_opts {
    struct compare_settings s;
    const char *region;
    const char *base, *new_;
    int force;
    const char *json; /* --json FILE, "-" for standard output; NULL: none */
};

static cnn_status compare_parse_percent(const char *opt, const char *text, double hi,
                                        double *out)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", text);
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == '%')
        buf[n - 1] = '\0';
    double pct;
    CNN_TRY(cli_parse_positive_double(opt, buf, hi, &pct));
    *out = pct / 100.0;
    return CNN_OK;
}

static cnn_status compare_parse_options(int argc, char **argv, struct compare_opts *o,
                                        int *help)
{
    static const char *const known[] = {
        "threshold", "floor-ms", "max-noise", "region", "resamples", "seed", "json", "force", NULL,
    };
    *o = (struct compare_opts){.region = "step"};
    compare_default_settings(&o->s);
    *help = 0;
    struct cli_scan s;
    cli_scan_init(&s, argc, argv, 0);
    int r;
    while ((r = cli_scan_next(&s)) > 0) {
        if (s.positional) {
            if (!o->base)
                o->base = s.positional;
            else if (!o->new_)
                o->new_ = s.positional;
            else
                return cnn_fail(CNN_E_ARG, "unexpected argument '%s': compare takes BASE and NEW",
                                s.positional);
            continue;
        }
        const char *n = s.name, *v = NULL;
        if (!strcmp(n, "help")) {
            *help = 1;
            return CNN_OK;
        }
        CNN_TRY(cli_scan_known(&s, known));
        if (!strcmp(n, "force")) {
            CNN_TRY(cli_scan_no_value(&s));
            o->force = 1;
            continue;
        }
        CNN_TRY(cli_scan_value(&s, &v));
        if (!strcmp(n, "threshold")) {
            CNN_TRY(compare_parse_percent(n, v, 1000.0, &o->s.threshold));
        } else if (!strcmp(n, "max-noise")) {
            CNN_TRY(compare_parse_percent(n, v, 1000.0, &o->s.max_noise));
        } else if (!strcmp(n, "floor-ms")) {
            CNN_TRY(cli_parse_positive_double(n, v, 1e6, &o->s.floor_ms));
        } else if (!strcmp(n, "resamples")) {
            CNN_TRY(cli_parse_int(n, v, 100, 1000000, &o->s.resamples));
        } else if (!strcmp(n, "seed")) {
            CNN_TRY(cli_parse_u64(n, v, &o->s.seed));
        } else if (!strcmp(n, "json")) {
            if (!v[0])
                return cnn_fail(CNN_E_ARG, "--json needs a file name, or - for standard output");
            o->json = v;
        } else {
            size_t len = strlen(v);
            if (len == 0 || len > 32 || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_") != len)
                return cnn_fail(CNN_E_ARG, "--region: '%s' is not a region name (step, conv_fwd, "
                                "fc_fwd, ...)", v);
            o->region = v;
        }
    }
    if (r < 0)
        return CNN_E_ARG;
    if (!o->new_)
        return cnn_fail(CNN_E_ARG, "compare needs two runs: BASE and NEW");
    return CNN_OK;
}

/* A table cell: fmt with its arguments, or "-" where v was not computed
 * (NaN). */
static void cell_or_dash(char *buf, size_t len, double v, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void cell_or_dash(char *buf, size_t len, double v, const char *fmt, ...)
{
    if (isnan(v)) {
        snprintf(buf, len, "-");
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* "1.234", "<0.001", or "-" for a value not computed. */
static void compare_format_p(char *buf, size_t len, double p)
{
    if (isnan(p))
        snprintf(buf, len, "-");
    else if (p < 0.001)
        snprintf(buf, len, "<0.001");
    else
        snprintf(buf, len, "%.3f", p);
}

static void compare_format_noise(char *buf, size_t len, double b, double n)
{
    if (isnan(b) || isnan(n))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.1f%%/%.1f%%", 100.0 * b, 100.0 * n);
}

struct compare_line {
    const struct compare_cell *base, *new_;
    struct compare_result r;
};

/* The comparison of the configurations both runs have. */
struct compare_table {
    struct compare_line *lines;
    int n;
    int count[4]; /* by verdict */
};

static const char *compare_samples_name(const struct compare_run *r)
{
    return r->kind == COMPARE_STEPS ? "every timed step" : "per-repetition medians";
}

static void compare_print(FILE *out, const struct compare_opts *o,
                          const struct compare_run *base, const struct compare_run *new_,
                          const struct compare_check *check, const struct compare_table *t)
{
    fprintf(out, "cnnbench compare: region '%s', samples: %s\n", o->region,
            compare_samples_name(base));
    fprintf(out, "  BASE %s\n  NEW  %s\n", base->path, new_->path);
    compare_print_check(out, check, base, new_);
    fprintf(out, "  ratio = median(NEW) / median(BASE), %.0f%% bootstrap interval (%d resamples, "
            "seed %llu);\n", 100.0 * o->s.confidence, o->s.resamples,
            (unsigned long long)o->s.seed);
    fprintf(out, "  threshold %g%%, floor %g ms, noise ceiling %g%%, U test at p < %g, "
            ">= %d samples a side\n\n", 100.0 * o->s.threshold, o->s.floor_ms,
            100.0 * o->s.max_noise, o->s.alpha, o->s.min_samples);

    int kw = (int)strlen("configuration");
    for (int i = 0; i < t->n; i++)
        if ((int)strlen(t->lines[i].base->key) > kw)
            kw = (int)strlen(t->lines[i].base->key);
    fprintf(out, "%-*s  %9s  %11s  %11s  %7s  %-17s  %8s  %-13s  %-7s  %s\n", kw,
            "configuration", "n b/n", "base ms", "new ms", "ratio", "95% interval", "U test p",
            "IQR/med b/n", "verdict", "why");
    for (int i = 0; i < t->n; i++) {
        const struct compare_result *r = &t->lines[i].r;
        char counts[32], mb[32], mn[32], ratio[32], ci[48], p[16], noise[32];
        snprintf(counts, sizeof counts, "%ld/%ld", r->n_base, r->n_new);
        cell_or_dash(mb, sizeof mb, r->median_base, "%.4g", r->median_base);
        cell_or_dash(mn, sizeof mn, r->median_new, "%.4g", r->median_new);
        cell_or_dash(ratio, sizeof ratio, r->ratio, "%.3f", r->ratio);
        cell_or_dash(ci, sizeof ci, r->lo, "[%.3f, %.3f]", r->lo, r->hi);
        compare_format_p(p, sizeof p, r->p);
        compare_format_noise(noise, sizeof noise, r->noise_base, r->noise_new);
        fprintf(out, "%-*s  %9s  %11s  %11s  %7s  %-17s  %8s  %-13s  %-7s  %s\n", kw,
                t->lines[i].base->key, counts, mb, mn, ratio, ci, p, noise,
                compare_verdict_name(r->verdict), r->reason);
    }
}

/* Whether configuration c of one run has something to compare (samples, or
 * a failure to report) that the other run b lacks. */
static int compare_unmatched(const struct compare_cell *c, struct compare_run *b)
{
    return (c->n > 0 || c->status[0]) && !compare_find(b, c->key);
}

/* Lists the configurations of `a` that `b` lacks, if any. */
static void compare_print_unmatched(FILE *out, const struct compare_run *a,
                                    struct compare_run *b)
{
    int shown = 0;
    for (int i = 0; i < a->n; i++) {
        if (!compare_unmatched(&a->cells[i], b))
            continue;
        if (!shown)
            fprintf(out, "\nonly in %s (no verdict): ", a->label);
        fprintf(out, "%s%s", shown++ ? ", " : "", a->cells[i].key);
    }
    if (shown)
        fputc('\n', out);
}

/* Pairs the configurations of both runs and gives each its verdict. */
static cnn_status compare_runs(const struct compare_opts *o, struct compare_run *base,
                               struct compare_run *new_, struct compare_table *t)
{
    if (base->kind != new_->kind)
        return cnn_fail(CNN_E_ARG,
                        "cannot compare %s (BASE: %s) with %s (NEW: %s): give two run "
                        "directories, two steps.csv or two summary.csv files",
                        base->kind == COMPARE_STEPS ? "step samples" : "per-repetition medians",
                        base->path,
                        new_->kind == COMPARE_STEPS ? "step samples" : "per-repetition medians",
                        new_->path);
    t->lines = malloc((size_t)(base->n ? base->n : 1) * sizeof *t->lines);
    if (!t->lines)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the comparison table");
    for (int i = 0; i < base->n; i++) {
        const struct compare_cell *b = &base->cells[i];
        const struct compare_cell *m = compare_find(new_, b->key);
        /* A cell with neither samples nor a failure: the region does not apply. */
        if (!m || ((b->n == 0 && !b->status[0]) && (m->n == 0 && !m->status[0])))
            continue;
        struct compare_line *l = &t->lines[t->n++];
        l->base = b;
        l->new_ = m;
        if (compare_samples(b->v, b->n, m->v, m->n, &o->s, b->key, &l->r) != 0)
            return cnn_fail(CNN_E_NOMEM, "cannot allocate the statistics of %s", b->key);
        /* Problems with the runs themselves overrule the statistics. */
        const char *why = NULL;
        char buf[sizeof l->r.reason];
        if (b->status[0] || m->status[0]) {
            snprintf(buf, sizeof buf, "%s did not finish: %s", b->status[0] ? "BASE" : "NEW",
                     b->status[0] ? b->status : m->status);
            why = buf;
        } else if (b->mixed_timers || m->mixed_timers) {
            why = "a run mixes timers";
        } else if (strcmp(b->timer, m->timer) != 0) {
            snprintf(buf, sizeof buf, "timers differ: %s vs %s", b->timer, m->timer);
            why = buf;
        }
        if (why) {
            l->r.verdict = COMPARE_UNCLEAR;
            snprintf(l->r.reason, sizeof l->r.reason, "%s", why);
        }
        t->count[l->r.verdict]++;
    }
    if (t->n == 0)
        return cnn_fail(CNN_E_DATA,
                        "%s and %s have no configuration in common (with samples of region "
                        "'%s')", base->path, new_->path, o->region);
    return CNN_OK;
}

/* ---- the --json document ---- */

static int compare_set(json_t *object, const char *key, json_t *value)
{
    return json_object_set_new(object, key, value);
}

static json_t *compare_json_unmatched(const struct compare_run *a, struct compare_run *b)
{
    json_t *keys = json_array();
    for (int i = 0; keys && i < a->n; i++)
        if (compare_unmatched(&a->cells[i], b) &&
            json_array_append_new(keys, json_text(a->cells[i].key)) != 0) {
            json_decref(keys);
            keys = NULL;
        }
    return keys;
}

static json_t *compare_json_line(const struct compare_line *l)
{
    const struct compare_result *r = &l->r;
    json_t *c = json_object();
    int failed = 0;
    failed |= compare_set(c, "key", json_text(l->base->key));
    failed |= compare_set(c, "verdict", json_text(compare_verdict_name(r->verdict)));
    failed |= compare_set(c, "reason", json_text(r->reason));
    failed |= compare_set(c, "n_base", json_integer(r->n_base));
    failed |= compare_set(c, "n_new", json_integer(r->n_new));
    failed |= compare_set(c, "median_base_ms", json_number_or_null(r->median_base));
    failed |= compare_set(c, "median_new_ms", json_number_or_null(r->median_new));
    failed |= compare_set(c, "ratio", json_number_or_null(r->ratio));
    failed |= compare_set(c, "interval",
                          isnan(r->lo) ? json_null()
                                       : json_pack("[o, o]", json_number_or_null(r->lo),
                                                   json_number_or_null(r->hi)));
    failed |= compare_set(c, "p", json_number_or_null(r->p));
    failed |= compare_set(c, "noise_base", json_number_or_null(r->noise_base));
    failed |= compare_set(c, "noise_new", json_number_or_null(r->noise_new));
    if (failed) {
        json_decref(c);
        return NULL;
    }
    return c;
}

static const char *const compare_results[] = {
    [0] = "no_regression", [1] = "regression", [2] = "error", [3] = "incomparable",
};

/* The whole result; NULL when out of memory. Runs not read are NULL. */
static json_t *compare_json(const struct compare_opts *o, struct compare_run *base,
                            struct compare_run *new_, const struct compare_check *check,
                            const struct compare_table *t, int exit_status, const char *message)
{
    json_t *doc = json_object();
    int failed = 0;
    failed |= compare_set(doc, "tool", json_text("cnnbench compare"));
    failed |= compare_set(doc, "base", json_text(o->base));
    failed |= compare_set(doc, "new", json_text(o->new_));
    failed |= compare_set(doc, "region", json_text(o->region));
    failed |= compare_set(doc, "samples", json_text(base ? compare_samples_name(base) : NULL));
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->s.seed);
    failed |= compare_set(doc, "settings",
                          json_pack("{s:f, s:f, s:f, s:f, s:f, s:i, s:i, s:s}", "threshold",
                                    o->s.threshold, "floor_ms", o->s.floor_ms, "max_noise",
                                    o->s.max_noise, "alpha", o->s.alpha, "confidence",
                                    o->s.confidence, "resamples", o->s.resamples, "min_samples",
                                    o->s.min_samples, "seed", seed));

    json_t *facts = json_object(), *differences = json_array();
    failed |= compare_set(facts, "checked", json_boolean(check->present[0] && check->present[1]));
    failed |= compare_set(facts, "forced", json_boolean(o->force));
    for (int i = 0; i < COMPARE_FACTS; i++)
        if (check->differs[i])
            failed |= json_array_append_new(differences,
                                            json_pack("{s:s, s:o, s:o}", "fact",
                                                      compare_facts[i].name, "base",
                                                      json_text(check->fact[0][i]), "new",
                                                      json_text(check->fact[1][i])));
    failed |= compare_set(facts, "differences", differences);
    failed |= compare_set(doc, "machine_and_build", facts);

    json_t *lines = json_array();
    for (int i = 0; i < t->n; i++)
        failed |= json_array_append_new(lines, compare_json_line(&t->lines[i]));
    failed |= compare_set(doc, "configurations", lines);
    failed |= compare_set(doc, "only_in_base",
                          base && new_ && t->n ? compare_json_unmatched(base, new_) : json_array());
    failed |= compare_set(doc, "only_in_new",
                          base && new_ && t->n ? compare_json_unmatched(new_, base) : json_array());
    failed |= compare_set(doc, "counts",
                          json_pack("{s:i, s:i, s:i, s:i}", "SAME", t->count[COMPARE_SAME],
                                    "FASTER", t->count[COMPARE_FASTER], "SLOWER",
                                    t->count[COMPARE_SLOWER], "UNCLEAR",
                                    t->count[COMPARE_UNCLEAR]));
    failed |= compare_set(doc, "result", json_text(compare_results[exit_status]));
    failed |= compare_set(doc, "exit_status", json_integer(exit_status));
    failed |= compare_set(doc, "message", json_text(message));
    if (failed) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* Writes the --json document into f (opened before any work, so that an
 * unwritable destination is reported first), or to standard output for "-". */
static cnn_status compare_write_json(const char *path, struct csv_output *f, const json_t *doc)
{
    FILE *fp = strcmp(path, "-") ? f->fp : stdout;
    if (doc && json_write_document(fp, doc) == 0 && fflush(fp) == 0)
        return fp == stdout ? CNN_OK : csv_output_commit(f);
    if (fp != stdout)
        csv_output_abort(f);
    if (!doc)
        return cnn_fail(CNN_E_NOMEM, "--json %s: cannot build the document: out of memory", path);
    return cnn_fail(CNN_E_IO, "--json %s: write failed", path);
}

enum cli_outcome compare_command(int argc, char **argv)
{
    struct compare_opts o;
    int help;
    if (compare_parse_options(argc, argv, &o, &help) != CNN_OK)
        return CLI_USAGE;
    if (help) {
        fputs(compare_help, stdout);
        return CLI_DONE;
    }
    /* With the JSON on standard output, the table goes to standard error. */
    FILE *out = o.json && !strcmp(o.json, "-") ? stderr : stdout;
    struct csv_output json_file;
    if (o.json && strcmp(o.json, "-") && csv_output_open(&json_file, o.json) != CNN_OK)
        return CLI_BAD_INPUT;
    struct compare_run base = {.label = "BASE"}, new_ = {.label = "NEW"};
    struct compare_check check = {0};
    struct compare_table table = {0};
    cnn_status st = compare_read(o.base, o.region, &base);
    if (st == CNN_OK)
        st = compare_read(o.new_, o.region, &new_);
    if (st == CNN_OK)
        st = compare_read_meta(&base, &check, 0);
    if (st == CNN_OK)
        st = compare_read_meta(&new_, &check, 1);

    enum cli_outcome outcome = st == CNN_E_ARG ? CLI_USAGE : CLI_BAD_INPUT;
    int exit_status = CLI_EXIT_USAGE;
    if (st == CNN_OK) {
        compare_check_facts(&check);
        if (check.n_differ && !o.force) {
            fprintf(out, "cnnbench compare: BASE and NEW come from different machines or "
                         "builds\n  BASE %s\n  NEW  %s\n", base.path, new_.path);
            compare_print_differences(out, &check);
            fflush(out);
            char names[256] = "";
            for (int i = 0; i < COMPARE_FACTS; i++)
                if (check.differs[i])
                    snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                             names[0] ? ", " : "", compare_facts[i].name);
            cnn_fail(CNN_E_DATA,
                     "not comparable: BASE and NEW differ in %s, so their times say nothing "
                     "about the code; compare runs of one machine and build, or pass --force "
                     "to compare anyway", names);
            outcome = CLI_INCOMPARABLE;
            exit_status = CLI_EXIT_INCOMPARABLE;
        } else {
            st = compare_runs(&o, &base, &new_, &table);
            outcome = st == CNN_E_ARG ? CLI_USAGE : CLI_BAD_INPUT;
        }
    }
    if (st == CNN_OK && outcome != CLI_INCOMPARABLE) {
        compare_print(out, &o, &base, &new_, &check, &table);
        compare_print_unmatched(out, &base, &new_);
        compare_print_unmatched(out, &new_, &base);
        fprintf(out, "\n%d configuration%s: %d SAME, %d FASTER, %d SLOWER, %d UNCLEAR\n",
                table.n, table.n > 1 ? "s" : "", table.count[COMPARE_SAME],
                table.count[COMPARE_FASTER], table.count[COMPARE_SLOWER],
                table.count[COMPARE_UNCLEAR]);
        fflush(out);
        int slower = table.count[COMPARE_SLOWER];
        outcome = CLI_DONE;
        exit_status = 0;
        if (slower) {
            const char *first = NULL;
            for (int i = 0; i < table.n && !first; i++)
                if (table.lines[i].r.verdict == COMPARE_SLOWER)
                    first = table.lines[i].base->key;
            cnn_fail(CNN_E_DATA, "regression: %d configuration%s SLOWER by more than %g%% (%s%s)",
                     slower, slower > 1 ? "s" : "", 100.0 * o.s.threshold, first,
                     slower > 1 ? ", ..." : "");
            outcome = CLI_FAILED;
            exit_status = CLI_EXIT_FAILED;
        }
    }
    if (o.json) {
        char message[1024];
        snprintf(message, sizeof message, "%s", cnn_last_error());
        json_t *doc = compare_json(&o, base.n ? &base : NULL, new_.n ? &new_ : NULL, &check,
                                   &table, exit_status, exit_status ? message : NULL);
        cnn_status written = compare_write_json(o.json, &json_file, doc);
        json_decref(doc);
        if (written != CNN_OK) {
            if (exit_status)
                cnn_fail_context(written, "%s; the --json file was not written", message);
            outcome = CLI_BAD_INPUT;
        }
    }
    free(table.lines);
    compare_run_free(&base);
    compare_run_free(&new_);
    return outcome;
}
