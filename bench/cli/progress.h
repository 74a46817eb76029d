/*
 * progress.h — what a sweep shows while it runs, on stderr. On a terminal a
 * single redrawn line: bar, configurations done, the current configuration
 * and step, elapsed time and an ETA; otherwise (a log file, CI) one plain
 * line per finished configuration and no control characters.
 *
 * The ETA weighs each configuration by its floating-point work (steps x
 * FLOP per step) and extrapolates the time spent on the work done so far;
 * backends differ in speed, so it firms up as the sweep goes. With
 * --max-noise a configuration's steps are a cap it may stop well short of,
 * so the bar then also shows the noise reached, and the ETA is an upper
 * bound.
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
    double cfg_noise_pct;  /* the current configuration's last noise check; NaN: none */
    double last_draw_ms;
    char label[128];
};

void progress_begin(struct progress *p, int total, double work_total);
void progress_config_begin(struct progress *p, int index, const char *label, double work,
                           long steps);
/* After each timed step; redraws at most ten times a second. */
void progress_step(struct progress *p, long step);
/* After each noise check of adaptive sampling (run.h). */
void progress_noise(struct progress *p, double noise_pct);
/* Ends the current configuration with its result line (printed in both modes;
 * an unstable configuration's says so, and why, on a second line). */
void progress_config_end(struct progress *p, const char *line);
/* Clears the bar; returns the seconds since progress_begin. */
double progress_end(struct progress *p);

#endif
