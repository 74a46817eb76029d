/*
 * sweep.h — the parts of `cnnbench sweep`, one file each, and the state they
 * share (internal to the command):
 *   sweep.c         options, the command, a new run, the closing listing;
 *   sweep_plan.c    the plan blocks the options and presets ask for;
 *   sweep_run.c     one configuration: run, rows, summary, showcase;
 *   sweep_resume.c  continuing an interrupted run;
 *   sweep_ranks.c   a configuration of the ranks axis, run by mpirun;
 *   sweep_trace.c   CUPTI kernel tracing (--cupti), kept apart so that the
 *                   tracing module can replace it whole.
 */
#ifndef BENCH_SWEEP_H
#define BENCH_SWEEP_H

#include <stdint.h>

#include "cli.h"
#include "cnn.h"
#include "data.h"
#include "meta.h"
#include "plan.h"
#include "progress.h"
#include "reference.h"
#include "rundir.h"
#include "summary.h"

struct sweep_opts {
    const char *preset;
    const char *impl_list;        /* as given, or NULL */
    int all_variants;
    struct cli_axis variants, threads, gpus, ranks, batch, filters, length;
    int scaling;                  /* PLAN_STRONG | PLAN_WEAK; 0: not given */
    const char *mpirun;           /* launcher name or path; NULL: mpirun on PATH */
    const char *mpirun_args;      /* its options, split at blanks; NULL: the default */
    int by_epochs;
    int reps, warmup;
    double lr;
    uint64_t seed;
    const char *data;
    int shuffle, eval, eval_every; /* eval_every < 0: not given */
    struct cli_sampling sampling; /* max_noise 0: sample exactly the planned steps */
    const char *out, *resume;
    int cupti, verify, dry_run;
};

struct sweep {
    const struct sweep_opts *o;
    struct plan plan;
    struct run_dir dir;
    struct data_set data;
    struct meta_machine machine;
    struct meta_run meta;
    struct summary_row *rows;  /* [plan.n] by plan index */
    int *have;                 /* [plan.n] 1: rows[i] is filled */
    int *done;                 /* [plan.n] 1: finished (ok or failed) before this session */
    const char **config_keys;  /* [plan.n] the keys, as meta.json lists them */
    struct reference_cache refs;
    struct progress progress;
    int showcase;              /* plan index of the exported parameters, or -1 */
    char *first_started;       /* a resumed run's original start time */
    char run_name[4096];       /* meta.json's run_id: the run directory's name */
    long step_rows;
    struct {
        char mpirun[4096];     /* the launcher's path */
        char self[4096];       /* this cnnbench, which the ranks run */
    } launch;                  /* set by sweep_ranks_check when the plan has ranks */
};

/* sweep_plan.c: the plan of o, never empty; *usage says whether a failure is
 * the command line's. */
cnn_status sweep_plan(const struct sweep_opts *o, struct plan *plan, int *usage);
/* Timed steps of c: its length, or its epochs over train_n images. */
long sweep_config_steps(const struct plan_config *c, int by_epochs, uint32_t train_n);

/* sweep_run.c: runs configuration i and records it; returns
 * CNN_E_INTERRUPTED to stop the sweep, or an error that makes further work
 * pointless (the results can't be written). */
cnn_status sweep_run_config(struct sweep *s, int i);
/* Rewrites summary.csv (atomically) and meta.json from s. */
cnn_status sweep_write_summary(struct sweep *s);
cnn_status sweep_write_meta(struct sweep *s);

/* sweep_resume.c: reads a locked run's meta.json and the options it was
 * started with; then, once the plan is rebuilt from them, every check and
 * the rewrites of a resume. */
cnn_status sweep_resume_read_meta(const char *dir, char **meta_text, char ***argv, int *argc);
cnn_status sweep_resume_begin(struct sweep *s, const char *meta_text);

/* sweep_ranks.c: check refuses, before anything is created, a ranks axis
 * the build, the options or the machine cannot run (no MPI, no mpirun,
 * --cupti, evaluations, --max-noise, --gpus), and finds the launcher and
 * this binary; run runs configuration i (ranks >= 1) under the launcher
 * into r, as run_config would (r->wall_s includes the launch). */
cnn_status sweep_ranks_check(struct sweep *s);
/* meta.json's settings.scaling: "strong", "weak" or "both"; NULL without ranks. */
const char *sweep_ranks_scaling(const struct sweep *s);
cnn_status sweep_ranks_run(struct sweep *s, int i, long steps, int keep_final,
                           struct run_result *r);

/* sweep_trace.c: --cupti. check refuses it in a build without CUPTI; start
 * and finish bracket the session (finish adds its kernels to kernels.csv);
 * config names the configuration the next kernels belong to. */
cnn_status sweep_trace_check(const struct sweep_opts *o);
cnn_status sweep_trace_start(const struct sweep *s, int *tracing);
cnn_status sweep_trace_config(const struct sweep *s, const char *key);
cnn_status sweep_trace_finish(const struct sweep *s, int tracing);

#endif
