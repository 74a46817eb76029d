/* interrupt.c — the flag behind a graceful stop on SIGINT or SIGTERM. */
#include "interrupt.h"

#include <string.h>

volatile sig_atomic_t interrupt_flag = 0;

static void interrupt_handler(int sig)
{
    interrupt_flag = sig;
}

void interrupt_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = interrupt_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
