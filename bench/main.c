/*
 * main.c — the cnnbench command line: validates every built backend, then
 * dispatches to a subcommand. This is the only place that prints errors
 * ("cnnbench: error: ...") and chooses the exit status:
 *   0    success
 *   1    failure (a file, a backend, a configuration of a sweep); for
 *        compare, a regression and nothing else
 *   2    bad command line; for compare also a missing or malformed input
 *   3    train, sweep: training diverged (the loss or a parameter became
 *        NaN or infinite); compare: runs of different machines or builds
 *   130  stopped by SIGINT (Ctrl-C), 143 by SIGTERM: 128 + the signal, as a
 *        shell reports it; finished results are kept
 *
 * Under a parallel launcher (mpirun, srun: docs/MPI.md) only train runs,
 * as every process of the job; rank 0 alone prints to stdout. A failure
 * that only some processes met is printed by each of them as one line
 * naming its rank and host, and ends the whole job (ranks_abort), so no
 * process waits forever for a failed one. Every other command refuses to
 * run as several copies.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends.h"
#include "cnnbench_config.h"
#include "commands.h"
#include "compare.h"
#include "error.h"
#include "interrupt.h"
#include "ranks.h"

static const char main_help[] =
    "Usage: cnnbench COMMAND [OPTIONS]\n"
    "\n"
    "Trains one small CNN (3x3 conv + ReLU + 2x2 max-pool, FC to 10 classes,\n"
    "softmax cross-entropy, SGD) with interchangeable backends and measures\n"
    "where the time goes.\n"
    "\n"
    "Commands:\n"
    "  train      train one configuration, print per-step loss and region times\n"
    "  sweep      run a cartesian sweep of configurations into results/<run-id>/\n"
    "  plotdata   reshape a run's CSV into plot-ready tables (used by plots/render.sh)\n"
    "  report     write REPORT.md for a run whose charts are rendered\n"
    "  compare    compare two runs: SAME, FASTER, SLOWER or UNCLEAR per configuration\n"
    "  list       show the backends in this build and whether they run here\n"
    "  version    show version and build settings\n"
    "\n"
    "'cnnbench COMMAND --help' explains each command. Charts: plots/render.sh RUN_DIR.\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 bad command line, 3 training diverged (the\n"
    "loss or a parameter became NaN or infinite), 130 stopped by Ctrl-C, 143 by SIGTERM.\n";

static void print_version(void)
{
    printf("cnnbench %s (%s build, %s; openmp %s, cuda %s)\n", CNN_VERSION, CNN_BUILDTYPE,
           CNN_C_COMPILER, CNN_HAVE_OMP ? "yes" : "no", CNN_HAVE_CUDA ? "yes" : "no");
}

/* list and version take no arguments but --help; anything else is a usage
 * error rather than silently ignored. */
static enum cli_outcome no_argument_command(const char *cmd, int argc, char **argv,
                                            void (*action)(void), const char *what)
{
    if (argc == 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
        printf("Usage: cnnbench %s\n\n%s\n", cmd, what);
        return CLI_DONE;
    }
    if (argc > 0) {
        cnn_fail(CNN_E_ARG, "%s takes no arguments, got '%s'", cmd, argv[0]);
        return CLI_USAGE;
    }
    action();
    return CLI_DONE;
}

/* The exit status of a command's outcome, after its message where it has one. */
static int report(enum cli_outcome out, const char *cmd)
{
    switch (out) {
    case CLI_DONE:
        return 0;
    case CLI_USAGE:
        fprintf(stderr, "cnnbench: error: %s\nTry 'cnnbench %s --help'.\n", cnn_last_error(),
                cmd);
        return CLI_EXIT_USAGE;
    case CLI_INTERRUPTED: {
        int sig = interrupt_flag ? (int)interrupt_flag : SIGINT;
        if (sig == SIGTERM)
            fprintf(stderr, "cnnbench: error: terminated by SIGTERM: %s\n", cnn_last_error());
        else
            fprintf(stderr, "cnnbench: error: %s\n", cnn_last_error());
        return CLI_EXIT_SIGNAL_BASE + sig;
    }
    case CLI_DIVERGED:
        fprintf(stderr, "cnnbench: error: %s\n", cnn_last_error());
        return CLI_EXIT_DIVERGED;
    case CLI_BAD_INPUT:
        fprintf(stderr, "cnnbench: error: %s\n", cnn_last_error());
        return CLI_EXIT_USAGE;
    case CLI_INCOMPARABLE:
        fprintf(stderr, "cnnbench: error: %s\n", cnn_last_error());
        return CLI_EXIT_INCOMPARABLE;
    case CLI_FAILED:
        break;
    }
    fprintf(stderr, "cnnbench: error: %s\n", cnn_last_error());
    return CLI_EXIT_FAILED;
}

/* The exit status of an outcome without its message (a process that is not
 * the one to report it). */
static int exit_status(enum cli_outcome out)
{
    switch (out) {
    case CLI_DONE: return 0;
    case CLI_USAGE: case CLI_BAD_INPUT: return CLI_EXIT_USAGE;
    case CLI_INTERRUPTED: return CLI_EXIT_SIGNAL_BASE + (interrupt_flag ? (int)interrupt_flag
                                                                        : SIGINT);
    case CLI_DIVERGED: return CLI_EXIT_DIVERGED;
    case CLI_INCOMPARABLE: return CLI_EXIT_INCOMPARABLE;
    case CLI_FAILED: break;
    }
    return CLI_EXIT_FAILED;
}

/* train as every process of the job its launcher started (a job of one
 * without a launcher). */
static int train_main(int argc, char **argv)
{
    ranks *job = NULL;
    if (ranks_init(&argc, &argv, &job) != CNN_OK) {
        fprintf(stderr, "cnnbench: error: %s\n", cnn_last_error());
        ranks_abort(CLI_EXIT_FAILED);
    }
    const struct ranks_info *info = ranks_info(job);
    /* every process runs the same code; the others' lines would repeat rank 0's */
    if (info->rank != 0 && !freopen("/dev/null", "w", stdout)) {
        fprintf(stderr, "cnnbench: error: rank %d of %d: cannot silence its output\n",
                info->rank, info->size);
        ranks_abort(CLI_EXIT_FAILED);
    }
    int together = 0;
    enum cli_outcome out = train_command(argc - 2, argv + 2, job, &together);
    if (info->size > 1 && out != CLI_DONE && !together) {
        /* this process failed alone: say who and where (the name MPI gives
         * a host on Linux), then end every process */
        char host[256] = "unknown host";
        if (gethostname(host, sizeof host) != 0)
            snprintf(host, sizeof host, "unknown host");
        host[sizeof host - 1] = '\0';
        fprintf(stderr, "cnnbench: error: rank %d of %d (%s): %s\n", info->rank, info->size,
                host, cnn_last_error());
        fflush(stderr);
        ranks_abort(exit_status(out));
    }
    int status = info->rank == 0 ? report(out, "train") : exit_status(out);
    ranks_finalize(job);
    return status;
}

int main(int argc, char **argv)
{
    if (backends_validate_all() != CNN_OK) {
        fprintf(stderr, "cnnbench: error: %s\n", cnn_last_error());
        return CLI_EXIT_FAILED;
    }
    if (argc < 2) {
        fputs(main_help, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "train"))
        return train_main(argc, argv);
    const char *variable = NULL;
    int copies = ranks_launcher_size(&variable);
    if (copies > 1) {
        fprintf(stderr, "cnnbench: error: %s runs as one process, but a parallel launcher "
                "started %d (%s); only train runs as the processes of mpirun or srun "
                "(docs/MPI.md)\n", cmd, copies, variable);
        return CLI_EXIT_FAILED;
    }
    enum cli_outcome out;
    if (!strcmp(cmd, "sweep")) {
        out = sweep_command(argc - 2, argv + 2);
    } else if (!strcmp(cmd, "plotdata")) {
        out = plotdata_command(argc - 2, argv + 2);
    } else if (!strcmp(cmd, "report")) {
        out = report_command(argc - 2, argv + 2);
    } else if (!strcmp(cmd, "compare")) {
        out = compare_command(argc - 2, argv + 2);
    } else if (!strcmp(cmd, "list")) {
        out = no_argument_command(cmd, argc - 2, argv + 2, backends_print,
                                  "Shows the backends in this build and whether they run here.");
    } else if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        out = no_argument_command(cmd, argc - 2, argv + 2, print_version,
                                  "Shows the version and the build settings.");
    } else if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        fputs(main_help, stdout);
        return 0;
    } else {
        fprintf(stderr, "cnnbench: error: unknown command '%s'\n\n%s", cmd, main_help);
        return CLI_EXIT_USAGE;
    }

    return report(out, cmd);
}
