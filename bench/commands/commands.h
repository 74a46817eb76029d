/*
 * commands.h — the subcommands main() dispatches to. Each takes the
 * arguments after its name and returns a cli_outcome; error messages wait in
 * cnn_last_error() for main to print.
 */
#ifndef BENCH_COMMANDS_H
#define BENCH_COMMANDS_H

#include "cli.h"

enum cli_outcome train_command(int argc, char **argv);
enum cli_outcome sweep_command(int argc, char **argv);
enum cli_outcome plotdata_command(int argc, char **argv);
enum cli_outcome report_command(int argc, char **argv);

#endif
