/*
 * progress.h — what a sweep shows while it runs, on stderr. On a terminal a
 * single redrawn line: bar, configurations done, the current configuration
 * and step, elapsed time and an ETA; otherwise (a log file, CI) one plain
 * line per finished configuration and no control characters.
 *
 * The ETA weighs each configuration by its floating-point work (steps x
 * FLOP per step) and extrapolates the time spent on the work done so far;
 * backends differ in speed, so it firms up as the sweep goes.
 */
#ifndef BENCH_PROGRESS_H
#define BENCH_PROGRESS_H

struct progress {
    int tty;
    int total;           /* configurations in the sweep */
    int index;           /* 1-based number of the current one */
    double t0_ms;
    double work_total;   /* all configurations that will run */
    double work_done;    /* finished configurations */
    double cfg_work;     /* the current configuration */
    long cfg_steps;
    long cfg_step;
    double last_draw_ms;
    char label[128];
};

void progress_begin(struct progress *p, int total, double work_total);
void progress_config_begin(struct progress *p, int index, const char *label, double work,
                           long steps);
/* After each timed step; redraws at most ten times a second. */
void progress_step(struct progress *p, long step);
/* Ends the current configuration with one result line (printed in both modes). */
void progress_config_end(struct progress *p, const char *line);
/* A note that must not be overwritten by the bar. */
void progress_note(struct progress *p, const char *line);
/* Clears the bar; returns the seconds since progress_begin. */
double progress_end(struct progress *p);

#endif
