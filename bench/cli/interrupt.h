/*
 * interrupt.h — Ctrl-C (SIGINT) or SIGTERM during a run. The handler only
 * stores the signal's number in a volatile sig_atomic_t (SEI CERT SIG31-C);
 * training loops check it between steps, so every finished step and
 * configuration is kept, and main() exits 128 + that number, as a shell
 * reports a process the signal ended (130, 143). The handler resets itself:
 * a second signal ends the process at once.
 */
#ifndef BENCH_INTERRUPT_H
#define BENCH_INTERRUPT_H

#include <signal.h>

/* 0, or the number of the signal that asked the run to stop. */
extern volatile sig_atomic_t interrupt_flag;

void interrupt_install(void);

#endif
