/*
 * compare_runs.h — what `cnnbench compare` works on, shared by its parts
 * (internal to the command):
 *   compare.c       options, the table, the --json document, the command;
 *   compare_stats.c the statistics of one configuration's verdict (compare.h);
 *   compare_read.c  the strict reader of a run's steps.csv or summary.csv;
 *   compare_meta.c  the machine and build facts two runs must share.
 */
#ifndef BENCH_COMPARE_RUNS_H
#define BENCH_COMPARE_RUNS_H

#include <stdio.h>

#include "cnn.h"

enum { COMPARE_KEY_MAX = 128 };

/* What the samples of a run are. */
enum compare_kind {
    COMPARE_STEPS,   /* one sample per timed step (steps.csv) */
    COMPARE_SUMMARY, /* one sample per repetition: its median (summary.csv) */
};

/* One configuration, all repetitions pooled: the key without ":rN". */
struct compare_cell {
    char key[COMPARE_KEY_MAX];
    char timer[16];
    int mixed_timers;
    char status[80];  /* "" while every repetition finished ok */
    double *v;
    long n, cap;
};

struct compare_run {
    const char *label; /* BASE or NEW */
    char path[4096];   /* the file the samples came from */
    char meta_path[4096];
    enum compare_kind kind;
    struct compare_cell *cells;
    int n, cap;
};

void compare_run_free(struct compare_run *r);
/* The cell of key in r, or NULL. */
struct compare_cell *compare_find(struct compare_run *r, const char *key);
/* Reads a run given as a directory or a CSV file; its meta.json is the one
 * in that directory, or beside that file. region: the steps.csv region whose
 * times are the samples ("step": the whole step). */
cnn_status compare_read(const char *arg, const char *region, struct compare_run *run);

enum { COMPARE_FACT_MAX = 512 };

/* What a run's times depend on besides the code, as meta.json records them:
 * two runs that differ in any of these measured other machines or builds,
 * and the ratio of their times says nothing about a change to the code.
 * Each is a string member of an object of meta.json or, under "gpus", of
 * every GPU (the distinct values in order: eight GPUs of one model are one
 * model). */
struct compare_fact {
    const char *name;   /* as the report says it */
    const char *parent; /* top-level member holding it: an object, or the array "gpus" */
    const char *member;
};

/* The facts checked, in the order the report names them. */
enum { COMPARE_FACTS = 8 };
extern const struct compare_fact compare_facts[COMPARE_FACTS];

/* The facts of both runs and where they differ. A fact is "" where a
 * meta.json does not record it (runs older than the fact): unknown is not
 * different, so it is named but does not stop the comparison. */
struct compare_check {
    int present[2];  /* BASE, NEW: 0 when the run has no meta.json */
    char fact[2][COMPARE_FACTS][COMPARE_FACT_MAX];
    int differs[COMPARE_FACTS];
    int n_differ;
};

/* Reads the facts of one run (side 0 BASE, 1 NEW) from its meta.json, if it
 * has one. A meta.json that is there but damaged is an error, never
 * "unchecked". */
cnn_status compare_read_meta(const struct compare_run *run, struct compare_check *c, int side);
/* Marks the facts both runs record with different values. */
void compare_check_facts(struct compare_check *c);
/* The differing facts, each with both values, one line a run. */
void compare_print_differences(FILE *out, const struct compare_check *c);
/* What the check found, for the head of the table. */
void compare_print_check(FILE *out, const struct compare_check *c,
                         const struct compare_run *base, const struct compare_run *new_);

#endif
