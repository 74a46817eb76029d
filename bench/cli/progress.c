/* progress.c — a progress bar with ETA on a terminal, plain lines elsewhere. */
#include "progress.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "step.h"

enum { PROGRESS_BAR = 24 };

static void format_duration(char *buf, size_t len, double s)
{
    if (!(s >= 0) || s > 99 * 3600.0)
        snprintf(buf, len, "?");
    else if (s < 60)
        snprintf(buf, len, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, len, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(buf, len, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

void progress_begin(struct progress *p, int total, double work_total)
{
    memset(p, 0, sizeof *p);
    p->tty = isatty(STDERR_FILENO);
    p->total = total;
    p->work_total = work_total > 0 ? work_total : 1;
    p->t0_ms = cnn_now_ms();
}

void progress_config_begin(struct progress *p, int index, const char *label, double work,
                           long steps)
{
    p->index = index;
    p->cfg_work = work;
    p->cfg_steps = steps;
    p->cfg_step = 0;
    p->cfg_noise_pct = NAN;
    snprintf(p->label, sizeof p->label, "%s", label);
    p->last_draw_ms = 0;
    progress_step(p, 0);
}

static void clear_line(const struct progress *p)
{
    if (p->tty)
        fputs("\r\033[K", stderr);
}

static void draw(struct progress *p)
{
    double now = cnn_now_ms();
    double done = p->work_done + (p->cfg_steps > 0 ? p->cfg_work * p->cfg_step / p->cfg_steps : 0);
    double frac = done / p->work_total;
    if (frac > 1)
        frac = 1;
    double elapsed = (now - p->t0_ms) / 1e3;
    char el[16], eta[16];
    format_duration(el, sizeof el, elapsed);
    format_duration(eta, sizeof eta, frac > 0.001 ? elapsed * (1 - frac) / frac : -1);
    char bar[PROGRESS_BAR + 1];
    int fill = (int)(frac * PROGRESS_BAR + 0.5);
    for (int i = 0; i < PROGRESS_BAR; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[PROGRESS_BAR] = '\0';
    char noise[32] = "";
    if (!isnan(p->cfg_noise_pct))
        snprintf(noise, sizeof noise, " noise ±%.1f%%", p->cfg_noise_pct);
    fprintf(stderr, "\r[%s] %3.0f%% %d/%d %s step %ld/%ld%s  %s, ETA %s\033[K", bar, 100 * frac,
            p->index, p->total, p->label, p->cfg_step, p->cfg_steps, noise, el, eta);
    fflush(stderr);
    p->last_draw_ms = now;
}

void progress_step(struct progress *p, long step)
{
    p->cfg_step = step;
    if (!p->tty)
        return;
    if (cnn_now_ms() - p->last_draw_ms >= 100 || step == p->cfg_steps)
        draw(p);
}

void progress_noise(struct progress *p, double noise_pct)
{
    p->cfg_noise_pct = noise_pct;
}

void progress_config_end(struct progress *p, const char *line)
{
    p->work_done += p->cfg_work;
    clear_line(p);
    fprintf(stderr, "[%d/%d] %s\n", p->index, p->total, line);
    fflush(stderr);
}

double progress_end(struct progress *p)
{
    clear_line(p);
    fflush(stderr);
    return (cnn_now_ms() - p->t0_ms) / 1e3;
}
