/*
 * commands.h — the subcommands main() dispatches to. Each takes the
 * arguments after its name and returns a cli_outcome; error messages wait in
 * cnn_last_error() for main to print.
 */
#ifndef BENCH_COMMANDS_H
#define BENCH_COMMANDS_H

#include "cli.h"
#include "ranks.h"

/* train runs as every process of a job (job, from ranks_init; a job of one
 * alone). *together is 1 when every process of the job returns this
 * outcome's kind from the same point, after the last collective: main may
 * then end every process normally, with rank 0 alone reporting; else a
 * failure must end the job (ranks_abort). */
enum cli_outcome train_command(int argc, char **argv, ranks *job, int *together);
enum cli_outcome sweep_command(int argc, char **argv);
enum cli_outcome plotdata_command(int argc, char **argv);
enum cli_outcome report_command(int argc, char **argv);

#endif
