/*
 * meta.h — what a result means depends on the machine and the build that
 * produced it, so every run directory carries meta.json (schema in
 * results/README.md): git SHA and dirty flag, build type, compiler and flags,
 * CPU model, online CPUs, governor and frequencies, GPU name, clocks, driver
 * and CUDA version, OMP_* settings, the run's settings and data set.
 *
 * Facts come from /proc, /sys, `git` and `nvidia-smi` when they exist; a
 * fact that cannot be read is written as "unknown", never guessed (virtual
 * machines often lack cpufreq).
 */
#ifndef BENCH_META_H
#define BENCH_META_H

#include <stddef.h>
#include <stdint.h>

#include "cnn.h"
#include "ranks.h"
#include "data.h"
#include "energy.h"

#define META_SCHEMA_VERSION 1

enum { META_MAX_GPUS = 8, META_TEXT = 256, META_MAX_BACKENDS = 8 };

struct meta_gpu {
    char name[META_TEXT];
    char driver[64];
    char sm_clock_mhz[32];     /* current, as nvidia-smi reports it */
    char max_sm_clock_mhz[32];
    char memory_total[32];
    char power_limit[32];      /* nvidia-smi's power.limit, "700.00 W" */
    char power_draw[32];       /* power.draw when the run started: the idle figure
                                  of the plausibility check (REPORT.md) */
};

enum { META_MAX_METERS = 16 };

/* The energy meters this machine offers (energy.h), found when the run
 * started; each configuration opens its own (run.h). */
struct meta_energy {
    int n;
    struct {
        enum energy_device device;
        char name[ENERGY_NAME];
        int counted;            /* part of its device's figure */
        double power_limit_w;   /* NVML; NaN for RAPL */
        double power_at_open_w; /* NVML, before any configuration ran; NaN for RAPL */
    } meter[META_MAX_METERS];
    char reason[ENERGY_DEVICES][ENERGY_REASON]; /* "" where the device has meters */
    char powercap_root[META_TEXT];
};

struct meta_machine {
    char hostname[META_TEXT];
    char os[META_TEXT];
    char cpu_model[META_TEXT];
    long online_cpus;
    char smt[32];
    char governor[64];
    char cpu_khz_min[32], cpu_khz_max[32], cpu_khz_cur[32];
    char turbo[32];
    char load_average[64];
    char git_sha[64];          /* "unknown" outside a git checkout */
    char git_dirty[16];        /* "true", "false" or "unknown" */
    int n_gpus;                /* 0: none found or no cuda backend built */
    struct meta_gpu gpus[META_MAX_GPUS];
    char cuda_version[32];     /* the driver's, from nvidia-smi; "none" without a GPU */
    char probe[META_MAX_BACKENDS][META_TEXT]; /* per registry backend: "ok" or why not */
    struct meta_energy energy;
};

/* Everything about the run itself that meta.json records. */
struct meta_run {
    const char *run_id;
    const char *command;        /* "sweep" */
    int argc;
    char **argv;                /* the subcommand's arguments, for --resume */
    const char *state;          /* running | complete | interrupted */
    const char *started_utc;
    const char *finished_utc;   /* NULL while running */
    double load_start, load_end;/* meta_load_1min at start and finish; NaN: not yet */
    char **resumed_utc;
    int n_resumed;
    const char *preset;         /* NULL: none */
    const char *scaling;        /* with a ranks axis: strong, weak or both; NULL: none */
    uint64_t seed;
    double lr;
    int shuffle, warmup, reps, eval_final, verify, cupti;
    const char *length_unit;    /* "steps" or "epochs" */
    const struct data_set *data;/* NULL before the data set is loaded */
    const char *data_spec;
    int configurations;
    const char *const *config_keys; /* [configurations]: the plan, which --resume must rebuild */
    long skipped, duplicates;
    int finished_configs, failed_configs;
    const char *showcase_key;   /* configuration whose parameters are in showcase/ */
    int digit_index, digit_label;
    const struct ranks_info *job; /* the MPI job that made the results; NULL: this
                                     process alone (the "mpi" object, results/README.md) */
};

/* Fills m from the running system, probing every backend once (meta_write
 * then records without probing, so it never overwrites an error message). */
void meta_probe_machine(struct meta_machine *m);
/* The 1-minute load average (/proc/loadavg), NaN where it cannot be read:
 * how busy the machine was, for judging noisy timings. */
double meta_load_1min(void);
/* "2025-01-31T12:00:00Z" */
void meta_utc_now(char *buf, size_t len);
/* A compact id for a new run, unique even for runs started in the same
 * second: "20250131-120000-quick-4f09a2" (UTC time, label, 24 random bits). */
void meta_run_id(char *buf, size_t len, const char *label);
/* Fails, naming the fact and both values, unless every fact meta_text (a
 * meta.json) records of the build in its "build" object is this build's:
 * version, build type, compiler, flags, the backends built and NCCL. */
cnn_status meta_check_build(const char *meta_text, const char *run);
/* Reads a run's meta.json whole into a NUL-terminated malloc'd buffer, for
 * the json_get_ lookups (json.h); every reader of meta.json reads it here.
 * CNN_E_DATA, naming the line and column where it can, unless it is one
 * JSON object (an empty or binary file, text that is not JSON or not an
 * object, duplicate keys are refused). */
cnn_status meta_read(const char *path, char **text);
/* Writes meta.json atomically. */
cnn_status meta_write(const char *path, const struct meta_run *r, const struct meta_machine *m);

#endif
