/*
 * interrupt.h — Ctrl-C during a run. The handler only sets a volatile
 * sig_atomic_t flag (SEI CERT SIG31-C); training loops check it between
 * steps, so every finished step and configuration is kept. The handler
 * resets itself: a second Ctrl-C ends the process at once.
 */
#ifndef BENCH_INTERRUPT_H
#define BENCH_INTERRUPT_H

#include <signal.h>

extern volatile sig_atomic_t interrupt_flag;

void interrupt_install(void);

#endif
