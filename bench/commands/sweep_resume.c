/*
 * sweep_resume.c — `cnnbench sweep --resume DIR`: continues an interrupted
 * run with the options stored in its meta.json, rerunning exactly the
 * configurations that did not finish and keeping every row of those that
 * did.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "json.h"
#include "sweep.h"

/* Everything a resume checks comes before anything it writes: the lock
 * (taken by sweep_command), the build, machine and plan, summary.csv, the
 * data set, and every row of steps.csv, evals.csv and kernels.csv. A refused
 * resume leaves every file as it found it. */

/* Reads a locked run's meta.json and the options it was started with. */
cnn_status sweep_resume_read_meta(const char *dir, char **meta_text, char ***argv, int *argc)
{
    char path[4200];
    rundir_path(path, sizeof path, dir, "meta.json");
    CNN_TRY(meta_read(path, meta_text));
    char command[32];
    if (json_get_string(*meta_text, "command", command, sizeof command) != 0 ||
        strcmp(command, "sweep") != 0)
        return cnn_fail(CNN_E_DATA, "%s: not the meta.json of a cnnbench sweep", path);
    *argc = json_get_string_array(*meta_text, "argv", argv);
    if (*argc < 0)
        return cnn_fail(CNN_E_DATA, "%s: no readable \"argv\" to resume with", path);
    return CNN_OK;
}

static int plan_index(const struct plan *p, const char *key)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->configs[i].key, key) == 0)
            return i;
    return -1;
}

static int keep_finished(void *ctx, const char *key)
{
    const struct sweep *s = ctx;
    int i = plan_index(&s->plan, key);
    return i >= 0 && s->done[i];
}

/*
 * Reads DIR/NAME whole (rundir_open_csv): damage anywhere in it is refused
 * before any row is judged. With check_keys, every data row must belong to
 * the plan; with step_counts (steps.csv), the rows with region "step" of
 * each finished configuration are counted into step_counts[plan index].
 * With changed, *changed says whether pruning (keep_finished) would drop
 * anything.
 */
static cnn_status scan_csv(const struct sweep *s, const char *name, int check_keys,
                           long *step_counts, int *changed)
{
    struct runfile f;
    CNN_TRY(rundir_open_csv(s->dir.path, name, &f));
    int region = runfile_column(&f, "region"), more = 1;
    cnn_status st = CNN_OK;
    if (step_counts && region < 0)
        st = cnn_fail(CNN_E_DATA, "%s: no column 'region'", f.path);
    long foreign_line = 0;
    size_t foreign_offset = 0;
    char foreign[PLAN_KEY_MAX + 1] = "";
    int drops = 0;
    while (st == CNN_OK && (st = runfile_next(&f, &more)) == CNN_OK && more) {
        drops |= changed && !keep_finished((void *)s, f.field[0]);
        if (!check_keys)
            continue;
        int i = plan_index(&s->plan, f.field[0]);
        if (i < 0 && !foreign_line) {
            foreign_line = f.line;
            foreign_offset = f.offset;
            snprintf(foreign, sizeof foreign, "%s", f.field[0]);
        }
        if (step_counts && i >= 0 && s->done[i])
            step_counts[i] += strcmp(f.field[region], "step") == 0;
    }
    if (st == CNN_OK && foreign_line)
        st = cnn_fail(CNN_E_DATA, "%s: line %ld (byte offset %zu) belongs to configuration "
                      "'%s', which is not in this run's plan", f.path, foreign_line,
                      foreign_offset, foreign);
    if (changed)
        *changed = drops || f.cut;
    runfile_close(&f);
    return st;
}

/* The plan rebuilt from the stored options must be the run's: the backends
 * that run here, the build or an edited meta.json can change it. */
static cnn_status resume_check_plan(const struct sweep *s, const char *meta_text)
{
    char **keys;
    int n = json_get_string_array(meta_text, "plan.config_keys", &keys);
    if (n < 0) {
        /* a run from before meta.json listed its keys: its count must match */
        double count = -1;
        json_get_number(meta_text, "plan.configurations", &count);
        if ((long)count == s->plan.n)
            return CNN_OK;
        return cnn_fail(CNN_E_ARG, "%s: the plan differs: the run planned %ld configurations, "
                        "the plan rebuilt here from its options has %d: results of two plans "
                        "must not be mixed (start a new run)", s->dir.path, (long)count,
                        s->plan.n);
    }
    int at = 0;
    while (at < n && at < s->plan.n && strcmp(keys[at], s->plan.configs[at].key) == 0)
        at++;
    cnn_status st = CNN_OK;
    if (at < n || at < s->plan.n)
        st = cnn_fail(CNN_E_ARG, "%s: the plan differs: the run planned %d configurations, the "
                      "plan rebuilt here from its options has %d; configuration %d is %s in "
                      "the run and %s here (a backend that no longer runs here, or an edited "
                      "meta.json?): results of two plans must not be mixed (start a new run)",
                      s->dir.path, n, s->plan.n, at + 1, at < n ? keys[at] : "none",
                      at < s->plan.n ? s->plan.configs[at].key : "none");
    json_free_strings(keys, n);
    return st;
}

/* One run, one build, one machine, one plan. Reads only. */
static cnn_status resume_check_origin(const struct sweep *s, const char *meta_text)
{
    char sha[64];
    if (json_get_string(meta_text, "git.sha", sha, sizeof sha) == 0 &&
        strcmp(sha, "unknown") != 0 && strcmp(s->machine.git_sha, "unknown") != 0 &&
        strcmp(sha, s->machine.git_sha) != 0)
        return cnn_fail(CNN_E_ARG, "%s was measured with commit %.12s, this cnnbench is %.12s: "
                        "results of two builds must not be mixed (start a new run)",
                        s->dir.path, sha, s->machine.git_sha);
    CNN_TRY(meta_check_build(meta_text, s->dir.path));
    /* a preset's thread ladder and every timing depend on the machine */
    char host[256] = "", cpu[256] = "";
    double cpus = 0;
    json_get_string(meta_text, "host.hostname", host, sizeof host);
    json_get_string(meta_text, "host.cpu_model", cpu, sizeof cpu);
    json_get_number(meta_text, "host.online_cpus", &cpus);
    if (strcmp(host, s->machine.hostname) != 0 || strcmp(cpu, s->machine.cpu_model) != 0 ||
        (long)cpus != s->machine.online_cpus)
        return cnn_fail(CNN_E_ARG, "%s was measured on %s (%s, %ld CPUs), this is %s (%s, %ld "
                        "CPUs): results of two machines must not be mixed (start a new run)",
                        s->dir.path, host, cpu, (long)cpus, s->machine.hostname,
                        s->machine.cpu_model, s->machine.online_cpus);
    return resume_check_plan(s, meta_text);
}

/* Marks the configurations summary.csv says finished (ok or failed); an
 * interrupted one runs again. */
static cnn_status resume_read_summary(struct sweep *s, const char *meta_text)
{
    CNN_TRY(scan_csv(s, "summary.csv", 0, NULL, NULL));
    char path[4200];
    rundir_path(path, sizeof path, s->dir.path, "summary.csv");
    struct summary_row *old;
    int n_old;
    CNN_TRY(summary_read(path, &old, &n_old));
    char showcase[PLAN_KEY_MAX] = "";
    json_get_string(meta_text, "showcase.params_config", showcase, sizeof showcase);
    cnn_status st = CNN_OK;
    for (int k = 0; k < n_old && st == CNN_OK; k++) {
        int i = plan_index(&s->plan, old[k].key);
        if (i < 0)
            st = cnn_fail(CNN_E_DATA, "%s: configuration '%s' is not in this run's plan", path,
                          old[k].key);
        else if (s->have[i])
            st = cnn_fail(CNN_E_DATA, "%s: configuration '%s' is listed twice", path,
                          old[k].key);
        if (st != CNN_OK || strcmp(old[k].status, "interrupted") == 0)
            continue; /* runs again; its partial rows go */
        s->rows[i] = old[k];
        s->have[i] = s->done[i] = 1;
        if (strcmp(old[k].status, "ok") == 0)
            s->meta.finished_configs++;
        else
            s->meta.failed_configs++;
        if (strcmp(showcase, old[k].key) == 0)
            s->showcase = i;
    }
    free(old);
    return st;
}

/* The data set loaded now must be the one the run trained on. */
static cnn_status resume_check_data(const struct sweep *s, const char *meta_text)
{
    char stored[64], now[32];
    snprintf(now, sizeof now, "%016llx", (unsigned long long)s->data.fnv1a64);
    if (json_get_string(meta_text, "data.fnv1a64", stored, sizeof stored) != 0) {
        if (s->meta.finished_configs + s->meta.failed_configs == 0)
            return CNN_OK;
        return cnn_fail(CNN_E_DATA, "%s/meta.json records no data fingerprint (data.fnv1a64): "
                        "nothing shows that --data %s is the data its finished configurations "
                        "trained on (start a new run)", s->dir.path, s->o->data);
    }
    if (strcmp(stored, now) == 0)
        return CNN_OK;
    double train = -1, test = -1;
    json_get_number(meta_text, "data.train_images", &train);
    json_get_number(meta_text, "data.test_images", &test);
    return cnn_fail(CNN_E_DATA, "%s was measured on other data: the run's data fingerprint "
                    "(fnv1a64) is %s (%.0f training, %.0f test images), --data %s gives %s "
                    "(%u, %u) now: results of two data sets must not be mixed (start a new "
                    "run)", s->dir.path, stored, train, test, s->o->data, now, s->data.train_n,
                    s->data.test_n);
}

/* The rewritten CSV files of a resume, finished but not yet in place. */
struct resume_files {
    struct cnn_atomic_file f[3];
    int n;
};

static void resume_files_abort(struct resume_files *r)
{
    for (int i = 0; i < r->n; i++)
        cnn_atomic_abort(&r->f[i]);
    r->n = 0;
}

static cnn_status resume_files_publish(struct resume_files *r)
{
    cnn_status st = CNN_OK;
    for (int i = 0; i < r->n && st == CNN_OK; i++)
        st = cnn_atomic_publish(&r->f[i]);
    for (int i = 0; i < r->n; i++)
        if (st != CNN_OK)
            cnn_atomic_abort(&r->f[i]);
    r->n = 0;
    return st;
}

/* Reads steps.csv, evals.csv and kernels.csv whole, checks every row, and
 * prepares each without the rows of the configurations that run again (and
 * without a last line a crash cut off). */
static cnn_status resume_prepare_files(struct sweep *s, struct resume_files *out)
{
    static const char *const names[] = {"steps.csv", "evals.csv", "kernels.csv"};
    out->n = 0;
    cnn_status st = CNN_OK;
    for (int f = 0; f < 3 && st == CNN_OK; f++) {
        char path[4200];
        rundir_path(path, sizeof path, s->dir.path, names[f]);
        if (f == 2 && access(path, F_OK) != 0)
            break; /* kernels.csv: only with --cupti */
        long *counts = f == 0 ? calloc((size_t)s->plan.n, sizeof *counts) : NULL;
        if (f == 0 && !counts) {
            st = cnn_fail(CNN_E_NOMEM, "cannot allocate step counts");
            break;
        }
        int changed = 0;
        /* kernels.csv has rows of no configuration (key ""): not checked */
        st = scan_csv(s, names[f], f < 2, counts, &changed);
        for (int i = 0; counts && st == CNN_OK && i < s->plan.n; i++)
            if (s->done[i] && counts[i] != s->rows[i].t.n)
                st = cnn_fail(CNN_E_DATA, "%s holds %ld timed steps of %s, summary.csv records "
                              "%ld: its rows are not all there", path, counts[i],
                              s->plan.configs[i].key, s->rows[i].t.n);
        free(counts);
        if (st == CNN_OK && changed)
            st = rundir_prune_csv(s->dir.path, names[f], keep_finished, s, &out->f[out->n]);
        if (st == CNN_OK && changed)
            out->n++;
    }
    if (st != CNN_OK)
        resume_files_abort(out);
    return st;
}

/* What meta.json keeps across sessions: the first start, its load, and
 * every resume (this one added). */
static void resume_meta_state(struct sweep *s, const char *meta_text)
{
    if (json_get_number(meta_text, "load_1min_start", &s->meta.load_start) != 0)
        s->meta.load_start = NAN;
    char started[64];
    if (json_get_string(meta_text, "started_utc", started, sizeof started) == 0) {
        s->first_started = strdup(started);
        if (s->first_started)
            s->meta.started_utc = s->first_started;
    }
    int n = json_get_string_array(meta_text, "resumed_utc", &s->meta.resumed_utc);
    s->meta.n_resumed = n > 0 ? n : 0;
    if (n < 0)
        s->meta.resumed_utc = NULL;
    char now[64];
    meta_utc_now(now, sizeof now);
    char **g = realloc(s->meta.resumed_utc, (size_t)(s->meta.n_resumed + 1) * sizeof *g);
    if (g) {
        s->meta.resumed_utc = g;
        g[s->meta.n_resumed] = strdup(now);
        s->meta.n_resumed += g[s->meta.n_resumed] != NULL;
    }
}

/* Opens steps.csv and evals.csv for appending. */
static cnn_status open_for_append(struct sweep *s)
{
    char path[4200];
    rundir_path(path, sizeof path, s->dir.path, "steps.csv");
    s->dir.steps = fopen(path, "a");
    if (!s->dir.steps)
        return cnn_fail(CNN_E_IO, "%s: cannot open for appending: %s", path, strerror(errno));
    rundir_path(path, sizeof path, s->dir.path, "evals.csv");
    s->dir.evals = fopen(path, "a");
    if (!s->dir.evals)
        return cnn_fail(CNN_E_IO, "%s: cannot open for appending: %s", path, strerror(errno));
    return CNN_OK;
}

/* Every check of a resume, before it writes anything. */
static cnn_status resume_check(struct sweep *s, const char *meta_text, struct resume_files *files)
{
    CNN_TRY(resume_check_origin(s, meta_text));
    CNN_TRY(resume_read_summary(s, meta_text));
    cnn_status st = data_load(s->o->data, &s->data);
    if (st != CNN_OK)
        return cnn_fail_context(st, "%s: its data set (--data %s) cannot be loaded",
                                s->dir.path, s->o->data);
    CNN_TRY(resume_check_data(s, meta_text));
    s->meta.data = &s->data;
    s->meta.digit_label = s->data.test_y[s->meta.digit_index];
    return resume_prepare_files(s, files);
}

/* Continues a locked run: every check, then the rewrites, meta.json first
 * (its failure leaves the CSV files as they were), then the pruned CSVs
 * renamed into place. */
cnn_status sweep_resume_begin(struct sweep *s, const char *meta_text)
{
    struct resume_files files;
    cnn_status st = resume_check(s, meta_text, &files);
    if (st == CNN_OK) {
        resume_meta_state(s, meta_text);
        st = sweep_write_meta(s);
        if (st != CNN_OK)
            resume_files_abort(&files);
    }
    if (st != CNN_OK)
        return cnn_fail_context(st, "not resumed, no file changed");
    CNN_TRY(resume_files_publish(&files));
    return open_for_append(s);
}
