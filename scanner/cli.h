/**
 * \file
 * The `mxcensus` command line: subcommands, their options and --help texts,
 * and the exit statuses of the design (0 ok, 1 failed run, 2 bad usage,
 * 128+signal after SIGINT/SIGTERM).
 */
#ifndef MXC_SCANNER_CLI_H
#define MXC_SCANNER_CLI_H

/** Exit statuses. */
enum {
	MXC_EXIT_OK = 0,
	MXC_EXIT_FAILED = 1,
	MXC_EXIT_USAGE = 2,
};

/**
 * Run the command line.
 * @return the process exit status
 */
int mxc_cli_main(int argc, char **argv);

#endif
